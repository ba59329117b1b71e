"""Find the four MNIST-format files, check them and split the test set.

A dataset folder holds four IDX files under either common spelling,
compressed or not:

    train-images-idx3-ubyte   60,000 images, 28 × 28 unsigned bytes
    train-labels-idx1-ubyte   60,000 labels, 0..9
    t10k-images-idx3-ubyte    10,000 images
    t10k-labels-idx1-ubyte    10,000 labels

(``train-images.idx3-ubyte`` and a trailing ``.gz`` are accepted too, so
the files of MNIST and of Fashion-MNIST load as downloaded.) When a folder
holds more than one of these names for a file, the first in the order
``x-idx3-ubyte``, ``x.idx3-ubyte``, ``x-idx3-ubyte.gz``,
``x.idx3-ubyte.gz`` is read (an uncompressed file wins over its ``.gz``,
which ``gunzip -k`` leaves behind) and a warning names the others.

As in the talk, the first 8,000 t10k images are the *test part*, used to
monitor training, and the last 2,000 the *validation part*, used once at
the end. The copy of MNIST shipped in ``speedrun/data/mnist`` is checked
against its published SHA-256 sums; another folder is only checked for
format and reported with its own sums, unless sums are passed in.

This module does not turn bytes into pixels: each engine does that in its
own way, and that is what the load benchmark times.
"""

import os

from speedrun.idx import MAGIC_IMAGES, MAGIC_LABELS, IdxError, read_idx

PACKAGED_DIR = os.path.join(os.path.dirname(__file__), "data", "mnist")
CHECKSUMS_FILE = "SHA256SUMS"
RESTORE_HINT = ("restore it with `git checkout -- speedrun/data/mnist` in a "
                "source checkout, or reinstall speedrun")
CLASSES = 10
VALIDATION_FRACTION = 5  # the last fifth of t10k is the validation part

ROLES = (
    ("train_images", "train-images", "idx3-ubyte", MAGIC_IMAGES),
    ("train_labels", "train-labels", "idx1-ubyte", MAGIC_LABELS),
    ("test_images", "t10k-images", "idx3-ubyte", MAGIC_IMAGES),
    ("test_labels", "t10k-labels", "idx1-ubyte", MAGIC_LABELS),
)


class DatasetError(Exception):
    """A dataset folder is missing a file or its files do not fit."""


def candidate_names(stem, kind):
    """The names a file may have, in the order of precedence."""
    return [f"{stem}-{kind}", f"{stem}.{kind}",
            f"{stem}-{kind}.gz", f"{stem}.{kind}.gz"]


def find_files(folder, warnings=None):
    """Map each role (``train_images``…) to the file that plays it.

    When several names are present for one role, the first regular file
    among the candidates wins and a message naming the others is appended
    to *warnings*.
    """
    names = _list_folder(folder)
    found = {}
    for role, stem, kind, _ in ROLES:
        candidates = candidate_names(stem, kind)
        present = [name for name in candidates if name in names]
        files = [name for name in present
                 if os.path.isfile(os.path.join(folder, name))]
        if not present:
            raise DatasetError(
                f"{folder}: no {stem}-{kind} file (looked for "
                f"{', '.join(candidates)}); {_folder_content(names)}"
            )
        if not files:
            _not_a_file(os.path.join(folder, present[0]))
        if len(present) > 1 and warnings is not None:
            warnings.append(
                f"{folder}: holds {' and '.join(present)}; reading "
                f"{files[0]} (order of precedence: {', '.join(candidates)})"
            )
        found[role] = os.path.join(folder, files[0])
    return found


def _list_folder(folder):
    if not os.path.exists(folder):
        raise DatasetError(f"{folder}: no such folder (expected a folder "
                           f"holding the four IDX files)")
    if not os.path.isdir(folder):
        raise DatasetError(f"{folder}: is a file, not a folder (expected a "
                           f"folder holding the four IDX files)")
    try:
        return set(os.listdir(folder))
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot list the folder "
                           f"({exc.strerror})") from None


def _folder_content(names):
    if not names:
        return "the folder is empty"
    shown = sorted(names)[:8]
    more = f" and {len(names) - len(shown)} more" if len(names) > 8 else ""
    return f"the folder holds {', '.join(shown)}{more}"


def _not_a_file(path):
    # A folder, a broken link or a named pipe (which would block the read
    # forever) in a file's place is named rather than opened.
    hint = ""
    if os.path.isdir(path):
        what = "a folder"
        inner = os.path.join(path, os.path.basename(path))
        if os.path.isfile(inner) or os.path.isfile(inner + ".gz"):
            hint = " (it holds the file itself: move that up one level)"
    elif os.path.islink(path) and not os.path.exists(path):
        what = "a broken symbolic link"
    else:
        what = "not a regular file"
    raise DatasetError(f"{path}: is {what}, expected an IDX file{hint}")


def read_checksums(folder=None):
    """The SHA-256 sums listed in *folder*/SHA256SUMS, by file stem.

    *folder* defaults to the packaged MNIST. The stem is the name of the
    uncompressed file; sums are of the uncompressed content.
    """
    folder = PACKAGED_DIR if folder is None else folder
    path = os.path.join(folder, CHECKSUMS_FILE)
    sums = {}
    try:
        with open(path, encoding="ascii") as stream:
            lines = stream.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the checksums ({exc})") \
            from None
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or len(fields[0]) != 64:
            raise DatasetError(
                f"{path}: line {number}: expected '<64 hex digits>  <file "
                f"name>', found {line[:80]!r}"
            )
        sums[fields[1].lstrip("*")] = fields[0].lower()
    return sums


class Dataset:
    """The four arrays of an MNIST-format folder, checked and split.

    Attributes are ``speedrun.idx.IdxArray`` objects: ``train_images``,
    ``train_labels``, ``test_images`` and ``test_labels``. Images are
    ``rows × cols`` unsigned bytes each; labels are bytes 0..9.
    """

    def __init__(self, folder, arrays, verified, warnings=()):
        self.folder = folder
        self.verified = verified
        self.folder_warnings = list(warnings)
        for role, array in arrays.items():
            setattr(self, role, array)
        self.rows, self.cols = self.train_images.dims[1:]
        self.pixels = self.rows * self.cols
        self.test_count = self.test_images.count * 4 // VALIDATION_FRACTION

    @property
    def warnings(self):
        """What was odd but readable, one sentence each."""
        arrays = [getattr(self, role) for role, *_ in ROLES]
        return self.folder_warnings + [w for a in arrays for w in a.warnings]

    def checksums(self):
        """SHA-256 of each uncompressed file, by file name."""
        return {os.path.basename(getattr(self, role).path): getattr(
            self, role).sha256 for role, *_ in ROLES}

    def describe(self):
        return {
            "folder": self.folder,
            "packaged": self.folder == PACKAGED_DIR,
            "verified": self.verified,
            "train": self.train_images.count,
            "test": self.test_count,
            "validation": self.test_images.count - self.test_count,
            "shape": [self.rows, self.cols],
            "sha256": self.checksums(),
        }


def load_dataset(folder=None, verify=True, checksums=None):
    """Read and check the dataset in *folder* (default: the packaged MNIST).

    The packaged copy is verified against its SHA256SUMS; any folder is
    verified against *checksums* (file stem -> SHA-256 hex digest of the
    uncompressed file) when given. *verify* false skips both. Raises
    ``IdxError`` for a file that is not the IDX data it should be and
    ``DatasetError`` when the files do not fit together or a sum differs.
    """
    folder = PACKAGED_DIR if folder is None else os.path.abspath(folder)
    packaged = folder == PACKAGED_DIR
    try:
        if verify and checksums is None and packaged:
            checksums = read_checksums(folder)
        verify = verify and checksums is not None
        arrays, warnings = _read_folder(folder)
    except (IdxError, DatasetError) as exc:
        if verify and packaged:
            raise DatasetError(f"{exc}; the packaged copy of MNIST is "
                               f"damaged: {RESTORE_HINT}") from None
        raise

    if verify:
        _verify(arrays, checksums, packaged)
    _check_images(arrays["train_images"])
    _check_images(arrays["test_images"])
    _check_pairs(arrays)
    _check_labels(arrays["train_labels"])
    _check_labels(arrays["test_labels"])
    return Dataset(folder, arrays, verify, warnings)


def _read_folder(folder):
    warnings = []
    files = find_files(folder, warnings)
    arrays = {role: read_idx(files[role], expect_magic=magic)
              for role, _, _, magic in ROLES}
    return arrays, warnings


def _check_images(array):
    count, rows, cols = array.dims
    if count == 0 or rows == 0 or cols == 0:
        raise IdxError(
            array.path,
            f"holds {count} images of {rows} × {cols} pixels (sizes at "
            f"offsets 4, 8, 12); every size must be at least 1",
        )


def _check_labels(array):
    if array.data and max(array.data) >= CLASSES:
        index = next(i for i, b in enumerate(array.data) if b >= CLASSES)
        raise IdxError(
            array.path,
            f"label {array.data[index]} at index {index} (byte offset "
            f"{8 + index}) is outside 0..{CLASSES - 1}",
        )


def _check_pairs(arrays):
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.count != labels.count:
            raise DatasetError(
                f"{images.path} holds {images.count} images but "
                f"{labels.path} holds {labels.count} labels; "
                f"they must pair one to one"
            )
    train, test = arrays["train_images"], arrays["test_images"]
    if train.dims[1:] != test.dims[1:]:
        raise DatasetError(
            f"{train.path} has images of {train.dims[1]} × {train.dims[2]} "
            f"pixels but {test.path} has {test.dims[1]} × {test.dims[2]}; "
            f"they must match (rows × columns)"
        )
    if test.count < VALIDATION_FRACTION:
        raise DatasetError(
            f"{test.path} holds {test.count} images; the test/validation "
            f"split needs at least {VALIDATION_FRACTION}"
        )


def _verify(arrays, sums, packaged):
    hint = RESTORE_HINT if packaged else "fetch the file again"
    for array in arrays.values():
        name = os.path.basename(array.path)
        stem = name[:-3] if name.endswith(".gz") else name
        expected = sums.get(stem)
        if expected is None:
            raise DatasetError(f"{array.path}: no published SHA-256 for "
                               f"{stem} (the sums list {', '.join(sums)})")
        if array.sha256 != expected:
            raise DatasetError(
                f"{array.path}: SHA-256 of the content is {array.sha256}, "
                f"expected the published {expected}; the file was altered: "
                f"{hint}"
            )
