"""Find the four MNIST-format files, check them and split the test set.

A dataset folder holds four IDX files under either common spelling,
compressed or not:

    train-images-idx3-ubyte   60,000 images, 28 × 28 unsigned bytes
    train-labels-idx1-ubyte   60,000 labels, 0..9
    t10k-images-idx3-ubyte    10,000 images
    t10k-labels-idx1-ubyte    10,000 labels

(``train-images.idx3-ubyte`` and a trailing ``.gz`` are accepted too.)
As in the talk, the first 8,000 t10k images are the *test part*, used to
monitor training, and the last 2,000 the *validation part*, used once at
the end. The copy of MNIST shipped in ``speedrun/data/mnist`` is checked
against its published SHA-256 sums; another folder is only checked for
format and reported with its own sums.

This module does not turn bytes into pixels: each engine does that in its
own way, and that is what the load benchmark times.
"""

import os

from speedrun.idx import MAGIC_IMAGES, MAGIC_LABELS, TYPES, IdxError, read_idx

PACKAGED_DIR = os.path.join(os.path.dirname(__file__), "data", "mnist")
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


def find_files(folder):
    """Map each role (``train_images``…) to the file that plays it."""
    if not os.path.isdir(folder):
        raise DatasetError(f"{folder}: not a folder (expected the four IDX files)")
    found = {}
    for role, stem, kind, _ in ROLES:
        candidates = [
            f"{stem}-{kind}", f"{stem}.{kind}",
            f"{stem}-{kind}.gz", f"{stem}.{kind}.gz",
        ]
        present = [name for name in candidates
                   if os.path.isfile(os.path.join(folder, name))]
        if not present:
            raise DatasetError(
                f"{folder}: no {stem}-{kind} file (looked for "
                f"{', '.join(candidates)})"
            )
        found[role] = os.path.join(folder, present[0])
    return found


def read_checksums(folder=PACKAGED_DIR):
    """The SHA-256 sums listed in *folder*/SHA256SUMS, by file stem."""
    sums = {}
    path = os.path.join(folder, "SHA256SUMS")
    with open(path, encoding="ascii") as stream:
        for line in stream:
            if line.strip():
                digest, name = line.split()
                sums[name.lstrip("*")] = digest
    return sums


class Dataset:
    """The four arrays of an MNIST-format folder, checked and split.

    Attributes are ``speedrun.idx.IdxArray`` objects: ``train_images``,
    ``train_labels``, ``test_images`` and ``test_labels``. Images are
    ``rows × cols`` unsigned bytes each; labels are bytes 0..9.
    """

    def __init__(self, folder, arrays, verified):
        self.folder = folder
        self.verified = verified
        for role, array in arrays.items():
            setattr(self, role, array)
        self.rows, self.cols = self.train_images.dims[1:]
        self.pixels = self.rows * self.cols
        self.test_count = self.test_images.count * 4 // VALIDATION_FRACTION

    @property
    def warnings(self):
        return [w for role, *_ in ROLES for w in getattr(self, role).warnings]

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


def load_dataset(folder=None, verify=True):
    """Read and check the dataset in *folder* (default: the packaged MNIST).

    Raises ``IdxError`` for a file that is not the IDX data it should be
    and ``DatasetError`` when the files do not fit together.
    """
    folder = PACKAGED_DIR if folder is None else os.path.abspath(folder)
    files = find_files(folder)
    arrays = {}
    for role, _, _, magic in ROLES:
        arrays[role] = read_idx(files[role], expect_magic=magic)
    _check_images(arrays["train_images"])
    _check_images(arrays["test_images"])
    _check_pairs(arrays)
    _check_labels(arrays["train_labels"])
    _check_labels(arrays["test_labels"])
    verified = False
    if verify and folder == PACKAGED_DIR:
        _verify_packaged(arrays)
        verified = True
    return Dataset(folder, arrays, verified)


def _check_images(array):
    if array.type_code != 0x08:
        raise IdxError(
            array.path,
            f"unsupported IDX type 0x{array.type_code:02X} "
            f"({_type_name(array.type_code)}); speedrun reads images of "
            f"unsigned bytes (type 0x08)",
        )
    if array.count == 0:
        raise IdxError(array.path, "holds no images")


def _check_labels(array):
    if array.type_code != 0x08:
        raise IdxError(
            array.path,
            f"unsupported IDX type 0x{array.type_code:02X} "
            f"({_type_name(array.type_code)}); labels must be unsigned bytes",
        )
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
            f"{train.path} has images of {train.dims[1:]} pixels but "
            f"{test.path} has {test.dims[1:]}; they must match"
        )
    if test.count < VALIDATION_FRACTION:
        raise DatasetError(
            f"{test.path} holds {test.count} images; the test/validation "
            f"split needs at least {VALIDATION_FRACTION}"
        )


def _verify_packaged(arrays):
    sums = read_checksums()
    for array in arrays.values():
        name = os.path.basename(array.path)
        stem = name[:-3] if name.endswith(".gz") else name
        expected = sums.get(stem)
        if array.sha256 != expected:
            raise DatasetError(
                f"{array.path}: SHA-256 {array.sha256} does not match the "
                f"published {expected}; the packaged file was altered. "
                f"Restore it with: git checkout -- speedrun/data/mnist"
            )


def _type_name(code):
    return TYPES[code][0] if code in TYPES else "unknown"
