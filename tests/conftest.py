"""Shared fixtures: small slices of the real MNIST and the other interpreter.

Loading all 60,000 training images takes seconds with the talk's engine
on CPython, so most tests train on a *slice*: a ``Dataset`` holding the
first images of the packaged MNIST, built in memory (no file is read
twice). The slice keeps MNIST's layout, so every engine and the training
loop run their real code on it.

Cross-interpreter tests need "the other interpreter": ``pypy3`` when the
tests run under CPython, a CPython ``python3`` when they run under PyPy.
``SPEEDRUN_OTHER_PYTHON`` names one explicitly (any interpreter, e.g. a
CPython 3.12 to exercise the tolerance fallback). When none is found the
tests skip, except on CI (``CI=true``), where a missing interpreter is a
failure.
"""

import json
import os
import random
import subprocess
import sys

import pytest
from idxfiles import NAMES, idx_bytes, write

from speedrun.dataset import Dataset, load_dataset
from speedrun.engines import EngineUnavailable, get_engine
from speedrun.idx import IdxArray
from speedrun.training import train_run

SLICE_TRAIN = 2000  # training images in the usual slice
SLICE_TEST = 1000  # t10k images: 800 test part, 200 validation part
SEED = 3
EPOCHS = 2
STEPS = 500  # draws per epoch: one monitoring chunk

# The engines that do the talk's per-sample work. numpy-batch averages
# mini-batches, a different computation: test_speed_engines.py checks it.
ENGINE_NAMES = ("talk", "tuned", "numpy")
ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def have_engine(name):
    try:
        get_engine(name)
    except EngineUnavailable:
        return False
    return True


def engine_params(names=ENGINE_NAMES):
    """*names* as pytest parameters; NumPy's skips where NumPy is missing."""
    return [
        pytest.param(name, marks=pytest.mark.skipif(
            not have_engine(name), reason=f"engine {name!r} unavailable "
            f"here (NumPy not installed)"))
        for name in names
    ]


def sparse_to_dense(images, size):
    """``tuned`` images, ``(indices, values)`` pairs, as lists of *size*
    floats with the zero pixels put back."""
    rows = []
    for indices, values in images:
        row = [0.0] * size
        for i, value in zip(indices, values):
            row[i] = value
        rows.append(row)
    return rows


def slice_dataset(dataset, train, test):
    """A ``Dataset`` of the first *train* training and *test* t10k images.

    The first four fifths of the *test* images are its test part and the
    last fifth its validation part, as for the full t10k.
    """
    arrays = {}
    for role, count in (("train_images", train), ("train_labels", train),
                        ("test_images", test), ("test_labels", test)):
        full = getattr(dataset, role)
        data = full.data[:count * full.item_size]
        dims = (count,) + full.dims[1:]
        arrays[role] = IdxArray(full.path, full.type_code, dims, data)
    return Dataset(dataset.folder, arrays, verified=False)


def write_idx_folder(dataset, folder):
    """Write *dataset*'s four arrays as raw IDX files into *folder*."""
    for role, name in NAMES.items():
        array = getattr(dataset, role)
        write(os.path.join(folder, name),
              idx_bytes(array.type_code, array.dims, array.data))
    return folder


@pytest.fixture(scope="session")
def mnist():
    """The packaged MNIST, checksums verified."""
    return load_dataset()


@pytest.fixture(scope="session")
def mnist_slice(mnist):
    """The first 2,000 training and 1,000 t10k images of MNIST."""
    return slice_dataset(mnist, SLICE_TRAIN, SLICE_TEST)


@pytest.fixture(scope="session")
def slice_folder(mnist_slice, tmp_path_factory):
    """``mnist_slice`` written as a dataset folder, for ``--data``."""
    folder = tmp_path_factory.mktemp("mnist-slice")
    return str(write_idx_folder(mnist_slice, str(folder)))


@pytest.fixture(scope="session")
def small_run(mnist_slice):
    """``small_run(engine_name, seed=SEED)``: a cached two-epoch run.

    Each epoch is 500 draws from the slice (one monitoring chunk), so a
    talk run costs about a second on CPython; runs are shared between
    tests, which must not change them.
    """
    cache = {}

    def run(name, seed=SEED):
        if (name, seed) not in cache:
            engine = get_engine(name)
            cache[name, seed] = train_run(engine, mnist_slice, seed=seed,
                                          epochs=EPOCHS, steps=STEPS)
        return cache[name, seed]
    return run


@pytest.fixture
def rng():
    return random.Random(20240917)


# The other interpreter ------------------------------------------------

_PROBE = ("import json, sys; print(json.dumps({"
          "'implementation': sys.implementation.name, "
          "'version': list(sys.version_info[:3]), "
          "'executable': sys.executable}))")


def probe_interpreter(command):
    """Implementation, language version and path of *command*, or None."""
    try:
        done = subprocess.run([command, "-I", "-c", _PROBE],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    info = json.loads(done.stdout)
    info["command"] = command
    return info


def find_other_interpreter():
    """The first interpreter on PATH of the other implementation."""
    override = os.environ.get("SPEEDRUN_OTHER_PYTHON")
    if override:
        return probe_interpreter(override)
    name = "python3" if sys.implementation.name == "pypy" else "pypy3"
    ours = os.path.realpath(sys.executable)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(folder or ".", name)
        if not os.access(path, os.X_OK) or os.path.realpath(path) == ours:
            continue
        info = probe_interpreter(path)
        if info and info["implementation"] != sys.implementation.name:
            return info
    return None


def bit_exact_expected(version, other_version):
    """Whether the talk's code gives the same bits on both versions.

    Up to Python 3.11, ``sum()`` adds floats left to right, one rounding
    per addition, on CPython and PyPy alike. From 3.12 on, CPython's
    ``sum()`` uses compensated summation, so the talk's logits (and
    hence its weights) differ in the last bits.
    """
    return tuple(version[:2]) <= (3, 11) and tuple(other_version[:2]) <= (
        3, 11)


_other = []  # memo: [info or None], probed once per session


def other_interpreter_info():
    if not _other:
        _other.append(find_other_interpreter())
    return _other[0]


@pytest.fixture(scope="session")
def other_python():
    """The other interpreter's probe info; skips (fails on CI) if absent."""
    info = other_interpreter_info()
    if info is None:
        wanted = "python3" if sys.implementation.name == "pypy" else "pypy3"
        message = (f"no {wanted} found on PATH for the cross-interpreter "
                   f"check; install it (Debian: apt-get install pypy3) or "
                   f"name one in SPEEDRUN_OTHER_PYTHON")
        override = os.environ.get("SPEEDRUN_OTHER_PYTHON")
        if override:
            message = (f"SPEEDRUN_OTHER_PYTHON={override} does not run "
                       f"as a Python interpreter")
        if ON_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return info


@pytest.fixture
def run_other(other_python, tmp_path):
    """``run_other(args)``: run the other interpreter on this speedrun.

    The package under test is made importable through a symbolic link
    in a scratch folder, so the child runs the same source even when it
    lives in another interpreter's site-packages; ``-I``-like isolation
    is kept by dropping ``PYTHON*`` variables from the environment.
    """
    import speedrun

    link = tmp_path / "speedrun"
    link.symlink_to(os.path.dirname(os.path.abspath(speedrun.__file__)))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PYTHON")}

    def run(args):
        done = subprocess.run([other_python["command"], *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, (
            f"{other_python['command']} {' '.join(args)} exited "
            f"{done.returncode}:\n{done.stderr}")
        return done.stdout
    return run


def pytest_report_header(config):
    ours = sys.implementation.name, list(sys.version_info[:3])
    info = other_interpreter_info()
    if info is None:
        other = "none found (cross-interpreter tests skip; fail on CI)"
    else:
        exact = bit_exact_expected(ours[1], info["version"])
        other = (f"{info['implementation']} "
                 f"{'.'.join(map(str, info['version']))} "
                 f"({info['executable']}): talk weights expected "
                 f"{'bit-identical' if exact else 'within tolerance only'}")
    import speedrun

    where = os.path.dirname(os.path.abspath(speedrun.__file__))
    return [f"speedrun: from {where}",
            f"speedrun: this interpreter {ours[0]} "
            f"{'.'.join(map(str, ours[1]))}; other interpreter {other}"]
