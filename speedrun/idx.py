"""Read IDX files, the format the MNIST files are stored in.

An IDX file is a big-endian header followed by a flat payload:

    offset 0  two zero bytes
    offset 2  type byte (0x08 = unsigned byte, the only type MNIST uses)
    offset 3  number of dimensions, d
    offset 4  d sizes, 4 bytes each (images: count, rows, columns)
    then      the values, row-major, product(sizes) × width(type) bytes

The reader knows the format only: it does not know what the files hold,
where they live or what their checksums are (see ``speedrun.dataset``).
Whether a file is gzip-compressed is decided by its first bytes, never by
its name. The payload is returned as ``bytes``; turning it into pixels is
the engines' work, because that is what the load benchmark times.

Every way a file can fail to be IDX data ends in ``IdxError``, whose
message names the file, the byte offset and what was expected against
what was found; files that are something else altogether (a web page
saved by a failed download, a ZIP archive) are named as such. Offsets in
a gzip-compressed file count bytes of its decompressed content.
"""

import gzip
import hashlib
import struct
import zlib

GZIP_MAGIC = b"\x1f\x8b"

#: IDX type byte -> (name, bytes per value, struct code)
TYPES = {
    0x08: ("unsigned byte", 1, "B"),
    0x09: ("signed byte", 1, "b"),
    0x0B: ("int16", 2, "h"),
    0x0C: ("int32", 4, "i"),
    0x0D: ("float32", 4, "f"),
    0x0E: ("float64", 8, "d"),
}

#: The magic numbers MNIST uses: 0x0801 labels (1 dimension), 0x0803 images.
MAGIC_LABELS = 0x00000801
MAGIC_IMAGES = 0x00000803
MAGIC_NAMES = {MAGIC_LABELS: "labels", MAGIC_IMAGES: "images"}

# An IDX file with d dimensions has 4 + 4·d header bytes; images need 16.
_MAX_DIMS = 8
# gzip inside gzip is read (with a warning) this many layers deep at most.
_MAX_GZIP_LAYERS = 3

# What a download gone wrong usually leaves instead of the data.
_ARCHIVES = (
    (b"PK\x03\x04", "a ZIP archive", "extract it first"),
    (b"BZh", "bzip2-compressed data", "decompress it with bunzip2 first"),
    (b"\xfd7zXZ\x00", "xz-compressed data", "decompress it with unxz first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it first"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data", "decompress it first"),
)
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<title", b"<!--",
           b"<script", b"<?xml")
_TEXT_BYTES = frozenset(b"\t\n\r") | frozenset(range(0x20, 0x7F))
_SNIFF = 512  # bytes looked at to recognise a web page or a text file


class IdxError(ValueError):
    """A file is not the IDX data it should be; the message names it."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class IdxArray:
    """The content of one IDX file: its type, its sizes and its payload.

    ``data`` holds ``product(dims)`` values of ``width`` bytes each,
    big-endian, in row-major order; ``sha256`` is the hex digest of the
    whole uncompressed file, header included.
    """

    def __init__(self, path, type_code, dims, data, sha256="", warnings=()):
        self.path = str(path)
        self.sha256 = sha256
        self.type_code = type_code
        self.dims = tuple(dims)
        self.data = data
        self.warnings = list(warnings)

    @property
    def magic(self):
        return (self.type_code << 8) | len(self.dims)

    @property
    def count(self):
        return self.dims[0]

    @property
    def item_size(self):
        """Values per record: 784 for 28 × 28 images, 1 for labels."""
        return _product(self.dims[1:])


def read_idx(path, expect_magic=None):
    """Read the IDX file at *path*, raw or gzip-compressed.

    *expect_magic*, when given, is the magic number the caller needs
    (``MAGIC_IMAGES`` or ``MAGIC_LABELS``); any other raises ``IdxError``,
    as does a file that cannot be read at all.
    """
    try:
        with open(path, "rb") as stream:
            blob = stream.read()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise IdxError(path, f"cannot read the file ({reason})") from None
    return parse_idx(blob, path, expect_magic)


def parse_idx(blob, path="<bytes>", expect_magic=None):
    """Parse the bytes of an IDX file; *path* is only used in messages."""
    warnings = []
    layers = 0
    while blob[:2] == GZIP_MAGIC:
        if layers == _MAX_GZIP_LAYERS:
            raise IdxError(path, f"gzip-compressed more than {layers} "
                                 f"times over; this is not an IDX file")
        blob = _gunzip(blob, path)
        layers += 1
    if layers > 1:
        warnings.append(f"{path}: gzip-compressed {layers} times over; "
                        f"read anyway")
    elif not layers and str(path).endswith(".gz") and blob[:2] == b"\0\0":
        warnings.append(
            f"{path}: named .gz but holds uncompressed IDX data; read as is"
        )

    what = "decompressed data" if layers else "file"
    type_code, dims, offset = _parse_header(blob, path, expect_magic, what)
    _check_length(blob, path, type_code, dims, offset, what)
    digest = hashlib.sha256(blob).hexdigest()
    return IdxArray(path, type_code, dims, blob[offset:], digest, warnings)


def _gunzip(blob, path):
    # TODO: no cap on the decompressed size; a crafted gzip bomb would
    # exhaust memory (MemoryError, not IdxError). Real IDX files are at
    # most ~50 MB, so a streaming read with a cap would fix it.
    try:
        return gzip.decompress(blob)
    except EOFError:
        raise IdxError(
            path,
            "gzip data is truncated (the stream ends before its trailer); "
            "the download was probably cut short: fetch the file again",
        ) from None
    except (OSError, zlib.error) as exc:
        raise IdxError(
            path, f"gzip data is corrupt ({exc}); fetch the file again"
        ) from None


def _parse_header(blob, path, expect_magic, what):
    _check_start(blob, path, expect_magic, what)
    type_code, ndims = blob[2], blob[3]
    if type_code not in TYPES:
        known = ", ".join(f"0x{code:02X}" for code in TYPES)
        raise IdxError(path, f"unknown IDX type byte 0x{type_code:02X} at "
                             f"offset 2 (known types: {known})")
    if not 1 <= ndims <= _MAX_DIMS:
        raise IdxError(path, f"expected 1 to {_MAX_DIMS} dimensions at "
                             f"offset 3, found {ndims}")
    offset = 4 + 4 * ndims
    if len(blob) < offset:
        raise IdxError(
            path,
            f"needs {_sized(offset)} header for {ndims} "
            f"dimension{'s' if ndims > 1 else ''}, has {len(blob)} bytes",
        )
    dims = struct.unpack(f">{ndims}I", blob[4:offset])
    return type_code, dims, offset


def _check_start(blob, path, expect_magic, what):
    """Refuse what is not IDX data, or not the IDX data expected, from
    its first bytes: empty, another format, another magic, too short."""
    need = 4 if expect_magic is None else 4 + 4 * (expect_magic & 0xFF)
    role = f" ({MAGIC_NAMES[expect_magic]})" if expect_magic in MAGIC_NAMES \
        else ""
    if not blob:
        raise IdxError(path, f"the {what} is empty; it needs "
                             f"{_sized(need)} IDX header{role}")
    foreign = _describe_foreign(blob)
    if foreign:
        raise IdxError(path, foreign)
    if expect_magic is not None and _valid_start(blob):
        _check_magic(path, blob, expect_magic)
    if len(blob) < need:
        raise IdxError(path, f"needs {_sized(need)} IDX header{role}, "
                             f"has {len(blob)} bytes")
    if blob[0] != 0 or blob[1] != 0:
        found = struct.unpack(">I", blob[:4])[0]
        raise IdxError(
            path,
            f"not IDX data: expected two zero bytes at offset 0, found "
            f"magic 0x{found:08X}",
        )


def _valid_start(blob):
    """Whether the first 4 bytes are a well-formed IDX magic number."""
    return (len(blob) >= 4 and blob[0] == 0 and blob[1] == 0
            and blob[2] in TYPES and 1 <= blob[3] <= _MAX_DIMS)


def _describe_foreign(blob):
    """What *blob* is when it is plainly not IDX data, else ``None``."""
    head = blob[:_SNIFF]
    for magic, name, advice in _ARCHIVES:
        if head.startswith(magic):
            return f"this is {name}, not IDX data; {advice}"
    markup = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if markup.startswith(_MARKUP):
        page = "an HTML page" if b"<html" in markup else "an XML document"
        return (f"this is {page}, not IDX data (a failed download?); "
                f"fetch the file again")
    if all(byte in _TEXT_BYTES for byte in head[:64]):
        first = head.splitlines()[0][:40].decode("ascii") if head.strip() \
            else ""
        return (f"this is a text file, not IDX data (it starts with "
                f"{first!r}); fetch the file again")
    return None


def _check_magic(path, blob, expected):
    type_code, ndims = blob[2], blob[3]
    magic = (type_code << 8) | ndims
    if magic == expected:
        return
    want_type, want_dims = expected >> 8, expected & 0xFF
    role = MAGIC_NAMES.get(expected, "data")
    if magic in MAGIC_NAMES:
        other = MAGIC_NAMES[magic]
        raise IdxError(
            path,
            f"expected magic 0x{expected:08X} ({role}), found "
            f"0x{magic:08X} ({other}); is this the {other} file?",
        )
    if ndims == want_dims:
        raise IdxError(
            path,
            f"unsupported IDX type 0x{type_code:02X} "
            f"({TYPES[type_code][0]}) at offset 2; {role} must be of type "
            f"0x{want_type:02X} ({TYPES[want_type][0]})",
        )
    shape, end = "", 4 + 4 * ndims
    if len(blob) >= end:
        shape = ": " + _shape(struct.unpack(f">{ndims}I", blob[4:end]))
    raise IdxError(
        path,
        f"expected magic 0x{expected:08X} ({role}, {want_dims} "
        f"dimension{'s' if want_dims > 1 else ''}), found 0x{magic:08X} "
        f"({ndims} dimensions at offset 3{shape})",
    )


def _check_length(blob, path, type_code, dims, offset, what):
    name, width, _ = TYPES[type_code]
    expected = _product(dims) * width
    found = len(blob) - offset
    if found == expected:
        return
    promise = (f"header promises {_shape(dims)} values of {width} byte(s) "
               f"= {expected} bytes after the {offset}-byte header")
    if found < expected:
        record = _product(dims[1:]) * width
        whole = found // record if record else 0
        raise IdxError(
            path,
            f"payload is truncated: {promise}, found {found} (the {what} "
            f"ends at offset {len(blob)}; {whole} of {dims[0]} records are "
            f"whole); the file was cut short: fetch or convert it again",
        )
    hint = ""
    if expected and found % expected == 0:
        times = found // expected
        hint = (f"; that is {times}× the promised size: were the values "
                f"written {times * width} bytes wide while the type byte at "
                f"offset 2 says {name}?")
    raise IdxError(
        path,
        f"payload has {found - expected} extra byte"
        f"{'s' if found - expected > 1 else ''}: {promise}, found "
        f"{found} (the values should end at offset {offset + expected})"
        f"{hint}",
    )


def _sized(count):
    """``"a 16-byte"``, ``"an 8-byte"``: the article that reads right."""
    article = "an" if str(count).startswith("8") or count in (11, 18) \
        else "a"
    return f"{article} {count}-byte"


def _product(sizes):
    total = 1
    for size in sizes:
        total *= size
    return total


def _shape(dims):
    return " × ".join(str(dim) for dim in dims)


def decode_values(array):
    """The values of *array* as a flat list of Python numbers.

    Unsigned bytes come back as ints 0..255 without copying through
    ``struct``; other types are decoded big-endian.
    """
    name, width, code = TYPES[array.type_code]
    if array.type_code == 0x08:
        return list(array.data)
    count = len(array.data) // width
    return list(struct.unpack(f">{count}{code}", array.data))
