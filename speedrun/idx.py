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
        size = 1
        for dim in self.dims[1:]:
            size *= dim
        return size


def read_idx(path, expect_magic=None):
    """Read the IDX file at *path*, raw or gzip-compressed.

    *expect_magic*, when given, is the magic number the caller needs
    (``MAGIC_IMAGES`` or ``MAGIC_LABELS``); any other raises ``IdxError``.
    """
    with open(path, "rb") as stream:
        blob = stream.read()
    return parse_idx(blob, path, expect_magic)


def parse_idx(blob, path="<bytes>", expect_magic=None):
    """Parse the bytes of an IDX file; *path* is only used in messages."""
    warnings = []
    if blob[:2] == GZIP_MAGIC:
        blob = _gunzip(blob, path)
    elif str(path).endswith(".gz") and blob[:2] == b"\x00\x00":
        warnings.append(
            f"{path}: named .gz but holds uncompressed IDX data; read as is"
        )
    type_code, dims, offset = _parse_header(blob, path)
    if expect_magic is not None:
        _check_magic(path, (type_code << 8) | len(dims), expect_magic)
    _check_length(blob, path, type_code, dims, offset)
    digest = hashlib.sha256(blob).hexdigest()
    return IdxArray(path, type_code, dims, blob[offset:], digest, warnings)


def _gunzip(blob, path):
    try:
        return gzip.decompress(blob)
    except EOFError:
        raise IdxError(
            path,
            "gzip data is truncated (the stream ends before its trailer); "
            "the download was probably cut short: fetch the file again",
        ) from None
    except (OSError, zlib.error) as exc:
        raise IdxError(path, f"gzip data is corrupt ({exc})") from None


def _parse_header(blob, path):
    if not blob:
        raise IdxError(path, "file is empty; an IDX file needs a header")
    if _looks_like_html(blob):
        raise IdxError(
            path,
            "this is an HTML page, not IDX data (a failed download?); "
            "fetch the file again",
        )
    if len(blob) < 4:
        raise IdxError(
            path, f"needs at least a 4-byte IDX header, has {len(blob)} bytes"
        )
    if blob[0] != 0 or blob[1] != 0:
        found = struct.unpack(">I", blob[:4])[0]
        raise IdxError(
            path,
            f"not IDX data: expected two zero bytes at offset 0, found "
            f"magic 0x{found:08X}",
        )
    type_code, ndims = blob[2], blob[3]
    if type_code not in TYPES:
        raise IdxError(
            path, f"unknown IDX type byte 0x{type_code:02X} at offset 2"
        )
    if not 1 <= ndims <= _MAX_DIMS:
        raise IdxError(
            path, f"expected 1 to {_MAX_DIMS} dimensions at offset 3, "
            f"found {ndims}"
        )
    offset = 4 + 4 * ndims
    if len(blob) < offset:
        raise IdxError(
            path,
            f"needs a {offset}-byte header for {ndims} dimensions, "
            f"has {len(blob)} bytes",
        )
    dims = struct.unpack(f">{ndims}I", blob[4:offset])
    return type_code, dims, offset


def _looks_like_html(blob):
    head = blob[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head"))


def _check_magic(path, magic, expected):
    if magic == expected:
        return
    want = MAGIC_NAMES.get(expected, "?")
    found = MAGIC_NAMES.get(magic)
    found_text = f" ({found})" if found else ""
    raise IdxError(
        path,
        f"expected magic 0x{expected:08X} ({want}), "
        f"found 0x{magic:08X}{found_text}",
    )


def _check_length(blob, path, type_code, dims, offset):
    width = TYPES[type_code][1]
    values = 1
    for dim in dims:
        values *= dim
    expected = values * width
    found = len(blob) - offset
    if found == expected:
        return
    shape = " × ".join(str(dim) for dim in dims)
    what = "is truncated" if found < expected else "has extra bytes"
    raise IdxError(
        path,
        f"payload {what}: header promises {shape} values of {width} byte(s) "
        f"= {expected} bytes after the {offset}-byte header, found {found}",
    )


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
