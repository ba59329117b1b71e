"""The shipped MNIST is the real one, and the package runs on Python 3.9.

Known facts come from the dataset's own documentation (see
``speedrun/data/mnist/README.md``): first labels, class counts and the
MD5 sums its authors published for the decompressed files. The MD5 check
rebuilds each file from the parsed header and payload, so it also checks
that the reader kept every byte.
"""

import ast
import hashlib
import os
import subprocess
import sys

import pytest
from idxfiles import idx_bytes

import speedrun
from speedrun.dataset import PACKAGED_DIR, read_checksums

PUBLISHED_MD5 = {
    "train_images": "6bbc9ace898e44ae57da46a324031adb",
    "train_labels": "a25bea736e30d166cdddb491f175f624",
    "test_images": "2646ac647ad5339dbf082846283269ea",
    "test_labels": "27ae3e4e09519cfbb04c329615203637",
}
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
SHIPPED = ["README.md", "SHA256SUMS", "t10k-images-idx3-ubyte.gz",
           "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
           "train-labels-idx1-ubyte.gz"]
# What the core may not import (STYLE.md: the core runs on a bare PyPy).
FRONT_END_ONLY = {"numpy", "rich", "pyperf", "matplotlib", "nox", "pytest"}
CORE_MODULES = ["speedrun.idx", "speedrun.dataset", "speedrun.training",
                "speedrun.engines", "speedrun.engines.talk",
                "speedrun.engines.tuned"]


def counts(labels):
    tally = [0] * 10
    for label in labels:
        tally[label] += 1
    return tally


def test_mnist_first_labels_match_published(mnist):
    assert list(mnist.train_labels.data[:5]) == [5, 0, 4, 1, 9]
    assert list(mnist.test_labels.data[:5]) == [7, 2, 1, 0, 4]


def test_mnist_class_counts_match_published(mnist):
    assert counts(mnist.train_labels.data) == TRAIN_COUNTS
    assert counts(mnist.test_labels.data) == TEST_COUNTS


def test_mnist_shapes_and_split(mnist):
    assert mnist.train_images.dims == (60000, 28, 28)
    assert mnist.test_images.dims == (10000, 28, 28)
    assert mnist.pixels == 784
    assert mnist.test_count == 8000
    description = mnist.describe()
    assert (description["train"], description["test"],
            description["validation"]) == (60000, 8000, 2000)


def test_mnist_checksums_verified(mnist):
    assert mnist.verified
    listed = read_checksums()
    found = {name[:-3] if name.endswith(".gz") else name: digest
             for name, digest in mnist.checksums().items()}
    assert found == listed
    assert len(listed) == 4


@pytest.mark.parametrize("role", sorted(PUBLISHED_MD5))
def test_mnist_rebuilt_file_matches_published_md5(mnist, role):
    array = getattr(mnist, role)
    blob = idx_bytes(array.type_code, array.dims, array.data)
    digest = hashlib.md5(blob).hexdigest()
    assert digest == PUBLISHED_MD5[role]


def test_package_ships_data_and_licence_note():
    # Run against an installed copy, this checks the package data list.
    assert sorted(os.listdir(PACKAGED_DIR)) == SHIPPED
    with open(os.path.join(PACKAGED_DIR, "README.md"),
              encoding="utf-8") as stream:
        note = stream.read()
    assert "CC BY-SA 3.0" in note


def package_sources():
    root = os.path.dirname(os.path.abspath(speedrun.__file__))
    for folder, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def test_sources_parse_as_python_3_9():
    # feature_version catches 3.10+ syntax (match, parenthesised context
    # managers) even when the tests run on a newer interpreter.
    checked = 0
    for path in package_sources():
        with open(path, encoding="utf-8") as stream:
            ast.parse(stream.read(), filename=path, feature_version=(3, 9))
        checked += 1
    assert checked >= 8


def test_core_imports_no_front_end_library():
    code = (f"import sys\nimport {', '.join(CORE_MODULES)}\n"
            f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(speedrun.__file__)))
    done = subprocess.run([sys.executable, "-c", code], cwd=root,
                          capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert loaded & FRONT_END_ONLY == set()
