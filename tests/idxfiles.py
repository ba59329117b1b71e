"""Tiny IDX files, good and bad, written into a test's temporary folder.

The standard images are 3 rows × 2 columns (rows ≠ columns, so a
transposition shows) and their pixels include the bytes 0x00, 0xFF,
0x1A, 0x0D, 0x0A and 0x80, which a text-mode read or a signed-byte
decode would mangle.
"""

import gzip
import os
import struct

from speedrun.dataset import ROLES

ROWS, COLS = 3, 2
TRICKY_BYTES = bytes([0x00, 0xFF, 0x1A, 0x0D, 0x0A, 0x80])
NAMES = {role: f"{stem}-{kind}" for role, stem, kind, _ in ROLES}


def idx_bytes(type_code, dims, payload=b""):
    """An IDX file: zero bytes, type, dimension count, sizes, payload."""
    header = bytes([0, 0, type_code, len(dims)])
    return header + struct.pack(f">{len(dims)}I", *dims) + payload


def pixels(count, rows=ROWS, cols=COLS):
    """*count* images' worth of bytes cycling through TRICKY_BYTES."""
    size = count * rows * cols
    return bytes(TRICKY_BYTES[(i + i // 7) % 6] for i in range(size))


def images(count, rows=ROWS, cols=COLS, payload=None):
    """An idx3 file of unsigned bytes whose header says *count* images."""
    if payload is None:
        payload = pixels(count, rows, cols)
    return idx_bytes(0x08, (count, rows, cols), payload)


def labels(values):
    """An idx1 file of unsigned-byte labels."""
    return idx_bytes(0x08, (len(values),), bytes(values))


def cycle_labels(count):
    return [i % 10 for i in range(count)]


def gz(blob):
    return gzip.compress(blob, mtime=0)


def write(path, blob):
    with open(path, "wb") as stream:
        stream.write(blob)
    return str(path)


def good_files(train=2, test=25, rows=ROWS, cols=COLS):
    """The four files of a tiny valid dataset, by role."""
    return {
        "train_images": images(train, rows, cols),
        "train_labels": labels(cycle_labels(train)),
        "test_images": images(test, rows, cols),
        "test_labels": labels(cycle_labels(test)),
    }


def write_folder(folder, suffix="", **replace):
    """Write a tiny dataset into *folder*, with some files *replace*d.

    ``replace`` maps a role to the bytes to write instead, or to None to
    leave that file out; *suffix* (e.g. ``".gz"``) is added to every name
    without compressing anything.
    """
    os.makedirs(folder, exist_ok=True)
    files = good_files()
    files.update(replace)
    for role, blob in files.items():
        if blob is not None:
            write(os.path.join(folder, NAMES[role] + suffix), blob)
    return str(folder)


def put(role, blob, name=None):
    """A folder builder: the tiny dataset with *role*'s file replaced by
    *blob* (written under *name* when given, e.g. with ``.gz``)."""
    def build(folder):
        write_folder(folder, **{role: None})
        write(os.path.join(folder, name or NAMES[role]), blob)
        return folder
    return build


def mkdir_in_place(role):
    def build(folder):
        write_folder(folder, **{role: None})
        os.makedirs(os.path.join(folder, NAMES[role]))
        return folder
    return build


def float32_images(count, rows=ROWS, cols=COLS):
    values = [n / 7 for n in range(count * rows * cols)]
    payload = struct.pack(f">{len(values)}f", *values)
    return idx_bytes(0x0D, (count, rows, cols), payload)


HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title>"
             b"</head><body>Not Found</body></html>\n")


def _wide_pixels(count):
    return bytes(b for p in pixels(count) for b in (0, p))


# (id, folder builder, the role whose file is at fault or None, fragments
# the message must hold). Each folder holds one fault and is otherwise
# the valid tiny dataset, so the error can only come from that fault.
BAD_FOLDERS = [
    ("truncated-payload", put("train_images", images(3, payload=pixels(2))),
     "train_images", ["payload is truncated", "18 bytes", "found 12"]),
    ("two-bytes-per-pixel",
     put("train_images", images(2, payload=_wide_pixels(2))),
     "train_images", ["12 extra bytes", "found 24"]),
    ("ten-byte-file", put("test_images", images(2)[:10]), "test_images",
     ["needs a 16-byte IDX header (images), has 10 bytes"]),
    ("empty-file", put("train_labels", b""), "train_labels", ["is empty"]),
    ("html-page-as-gz",
     put("train_images", HTML_PAGE, NAMES["train_images"] + ".gz"),
     "train_images", ["HTML page", "fetch the file again"]),
    ("text-file", put("test_labels", b"404: Not Found\n"), "test_labels",
     ["text file", "404: Not Found"]),
    ("gzip-cut-short",
     put("train_images", gz(images(2))[:-8],
         NAMES["train_images"] + ".gz"),
     "train_images", ["gzip data is truncated"]),
    ("labels-for-images", put("train_images", labels([1, 2])),
     "train_images",
     ["expected magic 0x00000803 (images), found 0x00000801 (labels)"]),
    ("images-for-labels", put("test_labels", images(25)), "test_labels",
     ["expected magic 0x00000801 (labels), found 0x00000803 (images)"]),
    ("labels-with-two-dims",
     put("train_labels", idx_bytes(0x08, (2, 1), b"\x01\x02")),
     "train_labels", ["expected magic 0x00000801", "found 0x00000802"]),
    ("three-images-two-labels", put("train_images", images(3)), None,
     [NAMES["train_images"], NAMES["train_labels"], "holds 3 images",
      "holds 2 labels"]),
    ("float32-images", put("train_images", float32_images(2)),
     "train_images", ["unsupported IDX type 0x0D (float32)"]),
    ("label-out-of-range", put("train_labels", labels([3, 10])),
     "train_labels", ["label 10 at index 1", "outside 0..9"]),
    ("zero-images", put("test_images", images(0)), "test_images",
     ["holds 0 images"]),
    ("zero-columns", put("train_images", images(2, cols=0)), "train_images",
     ["2 images of 3 × 0 pixels"]),
    ("transposed-test-images", put("test_images", images(25, 2, 3)), None,
     ["3 × 2", "2 × 3", "must match"]),
    ("too-few-test-images",
     lambda folder: write_folder(folder, test_images=images(4),
                                 test_labels=labels([1, 2, 3, 4])),
     "test_images", ["holds 4 images", "needs at least 5"]),
    ("missing-file", lambda folder: write_folder(folder, test_labels=None),
     None, ["no t10k-labels-idx1-ubyte file", "the folder holds"]),
    ("folder-in-a-files-place", mkdir_in_place("train_labels"),
     "train_labels", ["is a folder"]),
]
