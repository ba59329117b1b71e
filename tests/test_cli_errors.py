"""``speedrun train`` on bad input, tried as a new user would: one
``ERROR:`` line on stderr, exit status 1, never a traceback.

Each case runs the command line in a child process of the interpreter
running the tests (CPython or PyPy) on a tiny folder holding one fault.
"""

import gzip
import os
import shutil
import subprocess
import sys

import pytest

import idxfiles
import speedrun
from speedrun.dataset import PACKAGED_DIR
from conftest import engine_params
from idxfiles import BAD_FOLDERS, NAMES, gz, write, write_folder

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(
    speedrun.__file__)))
QUICK = ["--train-limit", "10", "--epochs", "1"]

# Runs the command line with the packaged MNIST replaced by a copy, so
# that the copy can be damaged while the real packaged files stay intact.
WITH_PACKAGED_COPY = (
    "import sys\n"
    "import speedrun.dataset\n"
    "speedrun.dataset.PACKAGED_DIR = sys.argv.pop(1)\n"
    "from speedrun.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def speedrun_cli(*args, prefix=("-m", "speedrun")):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [SOURCE_ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run([sys.executable, *prefix, *args],
                          capture_output=True, text=True, cwd=SOURCE_ROOT,
                          env=env, timeout=300)


def the_error_line(done):
    """The single stderr line of a run that failed as it should."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ERROR: "), done.stderr
    assert done.returncode == 1, done.stderr
    return lines[0]


def test_cli_tiny_valid_folder_trains(tmp_path):
    done = speedrun_cli("train", "--data", write_folder(tmp_path), *QUICK)
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr
    assert "validation accuracy:" in done.stdout


@pytest.mark.parametrize("build, role, fragments",
                         [case[1:] for case in BAD_FOLDERS],
                         ids=[case[0] for case in BAD_FOLDERS])
def test_cli_bad_folder_one_error_line(tmp_path, build, role, fragments):
    folder = build(str(tmp_path))
    line = the_error_line(speedrun_cli("train", "--data", folder, *QUICK))
    for fragment in fragments:
        assert fragment in line
    if role is not None:
        assert os.path.join(folder, NAMES[role]) in line


def test_cli_missing_folder(tmp_path):
    folder = str(tmp_path / "absent")
    line = the_error_line(speedrun_cli("train", "--data", folder, *QUICK))
    assert line == (f"ERROR: {folder}: no such folder (expected a folder "
                    f"holding the four IDX files)")


def test_cli_file_given_as_data_folder(tmp_path):
    path = write(tmp_path / "train-images-idx3-ubyte.gz",
                 gz(idxfiles.images(2)))
    line = the_error_line(speedrun_cli("train", "--data", path, *QUICK))
    assert "is a file, not a folder" in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode (the "
                           "unreadable file is tested in test_dataset.py)")
def test_cli_unreadable_file(tmp_path):
    folder = write_folder(tmp_path)
    locked = os.path.join(folder, NAMES["train_images"])
    os.chmod(locked, 0)
    try:
        line = the_error_line(speedrun_cli("train", "--data", folder, *QUICK))
    finally:
        os.chmod(locked, 0o600)
    assert locked in line and "Permission denied" in line


def test_cli_gzip_content_without_gz_name_trains(tmp_path):
    folder = write_folder(tmp_path)
    write(tmp_path / NAMES["train_images"], gz(idxfiles.images(2)))
    done = speedrun_cli("train", "--data", folder, *QUICK, "--quiet")
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_cli_raw_content_named_gz_warns_and_trains(tmp_path):
    folder = write_folder(tmp_path, suffix=".gz")
    done = speedrun_cli("train", "--data", folder, *QUICK, "--quiet")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 4
    assert all(line.startswith("WARNING: ") and "named .gz" in line
               for line in lines)


def test_cli_five_test_images_train_without_traceback(tmp_path):
    folder = write_folder(tmp_path, test_images=idxfiles.images(5),
                          test_labels=idxfiles.labels([1, 2, 3, 4, 5]))
    done = speedrun_cli("train", "--data", folder, *QUICK)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0


# Numbers gone wrong: divergence

@pytest.mark.parametrize("engine", engine_params())
def test_cli_lr_50_reports_divergence(tmp_path, engine):
    # Every pixel 255 in 10 × 10 images: a logit passes exp's range at
    # the second step whatever the draws.
    folder = write_folder(
        tmp_path,
        train_images=idxfiles.images(4, 10, 10, payload=b"\xff" * 400),
        train_labels=idxfiles.labels([0, 1, 2, 3]),
        test_images=idxfiles.images(25, 10, 10, payload=b"\xff" * 2500))
    line = the_error_line(speedrun_cli(
        "train", "--data", folder, "--engine", engine, "--lr", "50",
        *QUICK))
    # numpy-batch updates once per batch, so it names the batch's steps.
    where = "steps 1..10" if engine == "numpy-batch" else "step 2"
    assert f"diverged in epoch 1, {where}, at learning rate 50" in line


# The packaged copy altered on disk (a copy stands in for it)

@pytest.fixture
def packaged_copy(tmp_path):
    copy = str(tmp_path / "mnist")
    shutil.copytree(PACKAGED_DIR, copy)
    return copy


def cli_on_packaged_copy(copy):
    return speedrun_cli(copy, "train", *QUICK,
                        prefix=("-c", WITH_PACKAGED_COPY))


def test_cli_packaged_content_byte_changed(packaged_copy):
    path = os.path.join(packaged_copy, "t10k-labels-idx1-ubyte.gz")
    with gzip.open(path, "rb") as stream:
        content = bytearray(stream.read())
    content[100] = (content[100] + 1) % 10
    write(path, gz(bytes(content)))
    line = the_error_line(cli_on_packaged_copy(packaged_copy))
    assert line.startswith(f"ERROR: {path}: SHA-256 of the content is")
    assert "git checkout -- speedrun/data/mnist" in line


def test_cli_packaged_gzip_byte_changed(packaged_copy):
    path = os.path.join(packaged_copy, "train-labels-idx1-ubyte.gz")
    with open(path, "rb") as stream:
        packed = bytearray(stream.read())
    packed[len(packed) // 2] ^= 0x55
    write(path, bytes(packed))
    line = the_error_line(cli_on_packaged_copy(packaged_copy))
    assert line.startswith(f"ERROR: {path}: gzip data is")
    assert "git checkout -- speedrun/data/mnist" in line
