"""Dataset folders: finding the four files, checking they fit, checksums."""

import gzip
import hashlib
import os
import shutil

import pytest

import idxfiles
from idxfiles import (BAD_FOLDERS, NAMES, gz, images, labels, write,
                      write_folder)
from speedrun import dataset, idx
from speedrun.dataset import (PACKAGED_DIR, DatasetError, load_dataset,
                              read_checksums)
from speedrun.idx import IdxError

# Debian's dataset-fashion-mnist package installs Fashion-MNIST here.
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def load_error(folder, **options):
    with pytest.raises((IdxError, DatasetError)) as caught:
        load_dataset(folder, **options)
    return caught.value


# A valid tiny folder

def test_load_tiny_folder_reads_all_four_files(tmp_path):
    folder = write_folder(tmp_path)
    data = load_dataset(folder)
    assert (data.rows, data.cols, data.pixels) == (3, 2, 6)
    assert data.train_images.data == idxfiles.pixels(2)
    assert data.train_labels.data == bytes([0, 1])
    assert (data.test_images.count, data.test_count) == (25, 20)
    assert not data.verified and data.warnings == []
    assert data.describe()["validation"] == 5


def test_load_gzip_and_dot_spelling_are_found(tmp_path):
    for role, blob in idxfiles.good_files().items():
        name = NAMES[role].replace("-idx", ".idx") + ".gz"
        write(tmp_path / name, gz(blob))
    data = load_dataset(str(tmp_path))
    assert data.test_labels.data == bytes(idxfiles.cycle_labels(25))
    assert data.warnings == []


def test_load_gzip_content_without_gz_name(tmp_path):
    folder = write_folder(tmp_path)
    write(tmp_path / NAMES["train_images"], gz(images(2)))
    assert load_dataset(folder).train_images.data == idxfiles.pixels(2)


def test_load_raw_content_named_gz_warns(tmp_path):
    folder = write_folder(tmp_path, suffix=".gz")
    data = load_dataset(folder)
    assert len(data.warnings) == 4
    assert all("named .gz but holds uncompressed IDX data" in w
               for w in data.warnings)


# Every bad folder: a clear error naming the file at fault

@pytest.mark.parametrize("build, role, fragments",
                         [case[1:] for case in BAD_FOLDERS],
                         ids=[case[0] for case in BAD_FOLDERS])
def test_load_bad_folder_names_the_fault(tmp_path, build, role, fragments):
    folder = build(str(tmp_path))
    message = str(load_error(folder))
    for fragment in fragments:
        assert fragment in message
    if role is not None:
        assert os.path.join(folder, NAMES[role]) in message


def test_load_pairs_counted_in_the_test_part_too(tmp_path):
    folder = write_folder(tmp_path, test_labels=labels([1] * 24))
    message = str(load_error(folder))
    assert "holds 25 images but" in message and "holds 24 labels" in message


@pytest.mark.parametrize("dims", [(2, 0, 2), (0, 3, 2)])
def test_load_zero_sizes_in_test_images(tmp_path, dims):
    blob = idxfiles.idx_bytes(0x08, dims)
    folder = write_folder(tmp_path, test_images=blob,
                          test_labels=labels([0] * dims[0]))
    error = load_error(folder)
    assert isinstance(error, IdxError)
    assert error.path.endswith(NAMES["test_images"])
    assert "every size must be at least 1" in error.problem


def test_load_label_255_names_index_and_offset(tmp_path):
    folder = write_folder(tmp_path, test_labels=labels([0] * 20 + [255] * 5))
    error = load_error(folder)
    assert error.problem == ("label 255 at index 20 (byte offset 28) is "
                             "outside 0..9")


# Which file is read when several could be

def test_load_prefers_raw_file_over_its_gz_and_says_so(tmp_path):
    folder = write_folder(tmp_path)
    write(tmp_path / (NAMES["train_labels"] + ".gz"), gz(labels([5, 6])))
    data = load_dataset(folder)
    assert data.train_labels.data == bytes([0, 1])
    raw, packed = NAMES["train_labels"], NAMES["train_labels"] + ".gz"
    assert data.warnings == [
        f"{folder}: holds {raw} and {packed}; reading {raw} (order of "
        f"precedence: {raw}, train-labels.idx1-ubyte, {packed}, "
        f"train-labels.idx1-ubyte.gz)"]


def test_load_prefers_dash_spelling_over_dot_and_says_so(tmp_path):
    folder = write_folder(tmp_path)
    write(tmp_path / "t10k-labels.idx1-ubyte", labels([9] * 25))
    data = load_dataset(folder)
    assert data.test_labels.path.endswith("t10k-labels-idx1-ubyte")
    assert len(data.warnings) == 1
    assert "reading t10k-labels-idx1-ubyte" in data.warnings[0]


def test_load_skips_a_folder_when_a_file_is_there_too(tmp_path):
    folder = write_folder(tmp_path, train_labels=None)
    os.makedirs(tmp_path / NAMES["train_labels"])
    write(tmp_path / (NAMES["train_labels"] + ".gz"), gz(labels([0, 1])))
    data = load_dataset(folder)
    assert data.train_labels.path.endswith(".gz")
    assert len(data.warnings) == 1


def test_load_folder_holding_the_file_says_move_it_up(tmp_path):
    folder = write_folder(tmp_path, train_images=None)
    inner = tmp_path / NAMES["train_images"]
    os.makedirs(inner)
    write(inner / NAMES["train_images"], images(2))
    message = str(load_error(folder))
    assert "is a folder" in message and "move that up one level" in message


def test_load_broken_link_is_named(tmp_path):
    folder = write_folder(tmp_path, test_images=None)
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / NAMES["test_images"]))
    assert "is a broken symbolic link" in str(load_error(folder))


def test_load_named_pipe_is_refused_not_read(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    folder = write_folder(tmp_path, test_labels=None)
    os.mkfifo(str(tmp_path / NAMES["test_labels"]))
    assert "is not a regular file" in str(load_error(folder))


# The folder itself

def test_load_missing_folder(tmp_path):
    folder = str(tmp_path / "absent")
    assert str(load_error(folder)).startswith(f"{folder}: no such folder")


def test_load_file_given_as_folder(tmp_path):
    path = write(tmp_path / "train-images-idx3-ubyte.gz", gz(images(2)))
    assert str(load_error(path)).startswith(f"{path}: is a file, not a")


def test_load_empty_folder_says_empty(tmp_path):
    assert "the folder is empty" in str(load_error(str(tmp_path)))


def test_load_missing_file_lists_what_is_there(tmp_path):
    folder = write_folder(tmp_path, train_images=None)
    write(tmp_path / "train-images-idx3-ubyte (1).gz", gz(images(2)))
    message = str(load_error(folder))
    assert "no train-images-idx3-ubyte file" in message
    assert "train-images-idx3-ubyte (1).gz" in message


def test_load_unreadable_file_is_named(tmp_path, monkeypatch):
    # Root reads any file whatever its mode, so refuse the open instead.
    folder = write_folder(tmp_path)
    real_open = open
    locked = os.path.join(folder, NAMES["test_images"])

    def refuse(path, *args, **kwargs):
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(idx, "open", refuse, raising=False)
    error = load_error(folder)
    assert str(error) == f"{locked}: cannot read the file (Permission denied)"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_load_unreadable_mode_is_named(tmp_path):
    folder = write_folder(tmp_path)
    locked = os.path.join(folder, NAMES["train_labels"])
    os.chmod(locked, 0)
    try:
        message = str(load_error(folder))
    finally:
        os.chmod(locked, 0o600)
    assert locked in message and "Permission denied" in message


# Checksums: the packaged copy, and any folder given its sums

def tiny_sums():
    return {name: hashlib.sha256(blob).hexdigest() for name, blob in (
        (NAMES[role], blob) for role, blob in idxfiles.good_files().items())}


def test_load_with_checksums_verifies_any_folder(tmp_path):
    folder = write_folder(tmp_path)
    assert load_dataset(folder, checksums=tiny_sums()).verified


def test_load_with_checksums_names_the_altered_file(tmp_path):
    folder = write_folder(tmp_path, train_labels=labels([1, 1]))
    message = str(load_error(folder, checksums=tiny_sums()))
    assert message.startswith(os.path.join(folder, NAMES["train_labels"]))
    assert "the file was altered: fetch the file again" in message


def test_load_with_checksums_missing_a_file(tmp_path):
    folder = write_folder(tmp_path)
    sums = tiny_sums()
    del sums[NAMES["test_labels"]]
    assert "no published SHA-256 for t10k-labels" in str(
        load_error(folder, checksums=sums))


def test_load_verify_false_skips_checksums(tmp_path):
    folder = write_folder(tmp_path, train_labels=labels([1, 1]))
    assert not load_dataset(folder, verify=False,
                            checksums=tiny_sums()).verified


def test_load_packaged_is_verified():
    data = load_dataset()
    assert data.verified and data.warnings == []
    assert data.describe()["packaged"]
    assert (data.train_images.count, data.test_count, data.pixels) == (
        60000, 8000, 784)
    sums = read_checksums()
    assert sorted(data.checksums().values()) == sorted(sums.values())


@pytest.fixture
def packaged_copy(tmp_path, monkeypatch):
    """A copy of the packaged MNIST that stands in for it (the real
    packaged files are never touched)."""
    copy = str(tmp_path / "mnist")
    shutil.copytree(PACKAGED_DIR, copy)
    monkeypatch.setattr(dataset, "PACKAGED_DIR", copy)
    return copy


def restore_hint_in(message):
    return "git checkout -- speedrun/data/mnist" in message


def test_load_packaged_with_one_content_byte_changed(packaged_copy):
    path = os.path.join(packaged_copy, "t10k-labels-idx1-ubyte.gz")
    with gzip.open(path, "rb") as stream:
        content = bytearray(stream.read())
    content[100] = (content[100] + 1) % 10  # still a valid label
    write(path, gz(bytes(content)))
    error = load_error(None)
    assert isinstance(error, DatasetError)
    assert str(error).startswith(f"{path}: SHA-256 of the content is")
    assert "the file was altered" in str(error)
    assert restore_hint_in(str(error))


def test_load_packaged_with_one_gzip_byte_changed(packaged_copy):
    path = os.path.join(packaged_copy, "t10k-labels-idx1-ubyte.gz")
    with open(path, "rb") as stream:
        packed = bytearray(stream.read())
    packed[len(packed) // 2] ^= 0x55
    write(path, bytes(packed))
    message = str(load_error(None))
    assert message.startswith(f"{path}: gzip data is")
    assert "the packaged copy of MNIST is damaged" in message
    assert restore_hint_in(message)


def test_load_packaged_with_a_file_missing(packaged_copy):
    os.remove(os.path.join(packaged_copy, "train-labels-idx1-ubyte.gz"))
    message = str(load_error(None))
    assert "no train-labels-idx1-ubyte file" in message
    assert restore_hint_in(message)


def test_load_packaged_with_sums_file_edited(packaged_copy):
    write(os.path.join(packaged_copy, "SHA256SUMS"), b"not a sum\n")
    message = str(load_error(None))
    assert "SHA256SUMS: line 1: expected" in message
    assert restore_hint_in(message)


def test_load_packaged_with_sums_file_missing(packaged_copy):
    os.remove(os.path.join(packaged_copy, "SHA256SUMS"))
    message = str(load_error(None))
    assert "cannot read the checksums" in message
    assert restore_hint_in(message)


# Fashion-MNIST, from Debian's dataset-fashion-mnist package

@pytest.mark.skipif(not os.path.isdir(FASHION_DIR),
                    reason=f"no Fashion-MNIST in {FASHION_DIR} (Debian: "
                           f"apt-get install dataset-fashion-mnist)")
def test_load_fashion_mnist_from_debian():
    data = load_dataset(FASHION_DIR)
    assert (data.train_images.count, data.test_images.count) == (60000, 10000)
    assert (data.rows, data.cols) == (28, 28)
    assert set(data.train_labels.data) == set(range(10))
    assert not data.verified and data.warnings == []
    assert set(data.checksums().values()).isdisjoint(read_checksums().values())
