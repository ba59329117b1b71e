"""Equal work: every engine and interpreter computes the same training.

For one seed:

- ``tuned`` gives the same weights as ``talk``, bit for bit;
- ``numpy`` gives the same weights within ``NUMPY_TOLERANCE``: its
  matrix product adds a logit's 784 terms in its own order. Measured
  here: 9.7e-17 after these 1,000 steps, 2.5e-16 after 6,000 and
  1.1e-15 after two full epochs (120,000 steps, seed 0, both engines at
  94.05 % validation accuracy);
- all three reach the same validation accuracy within 0.1 point;
- ``talk`` under the other interpreter (``pypy3`` from CPython, CPython
  from PyPy) gives the same bits where both interpreters add floats in
  ``sum()`` the same way (Python ≤ 3.11), and the same weights within
  ``NUMPY_TOLERANCE`` otherwise (CPython 3.12 against 3.11: 2,418 of the
  7,840 weights differ, by 6.9e-17 at most); the test says which it
  checked, in the report header and in a warning.
"""

import json
import random
import sys
import warnings

import pytest
from conftest import EPOCHS, SEED, STEPS, bit_exact_expected, engine_params

from speedrun.training import draw_indices, fingerprint, initial_weights

NUMPY_TOLERANCE = 1e-12  # max abs weight difference after 1,000 steps
ACCURACY_POINTS = 0.1  # validation accuracy, percentage points

CHILD = """
import json, random, sys
from speedrun.dataset import load_dataset
from speedrun.engines import get_engine
from speedrun.training import (draw_indices, fingerprint, initial_weights,
                               interpreter, train_run)
folder, seed, epochs, steps = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(seed)
start = fingerprint(initial_weights(rng, 7840))
draws = fingerprint([float(i) for i in draw_indices(rng, 60000, 1000)])
run = train_run(get_engine("talk"), load_dataset(folder), seed=seed,
                epochs=epochs, steps=steps)
json.dump({"initial": start, "draws": draws, "weights": run.weights,
           "fingerprint": run.weights_fingerprint,
           "validation_accuracy": run.validation_accuracy,
           "interpreter": interpreter()}, sys.stdout)
"""


def max_difference(first, second):
    assert len(first) == len(second)
    return max(abs(a - b) for a, b in zip(first, second))


def test_tuned_same_bits_as_talk(small_run):
    talk, tuned = small_run("talk"), small_run("tuned")
    assert tuned.weights_fingerprint == talk.weights_fingerprint
    assert tuned.weights == talk.weights
    assert tuned.history == talk.history


@pytest.mark.parametrize("name", engine_params(["numpy"]))
def test_numpy_within_tolerance_of_talk(name, small_run):
    talk, other = small_run("talk"), small_run(name)
    assert max_difference(other.weights, talk.weights) <= NUMPY_TOLERANCE
    for mine, theirs in zip(other.history, talk.history):
        assert mine["cost"] == pytest.approx(theirs["cost"], abs=1e-12)


@pytest.mark.parametrize("name", engine_params(["tuned", "numpy"]))
def test_validation_accuracy_within_a_tenth_of_talk(name, small_run):
    talk, other = small_run("talk"), small_run(name)
    assert abs(other.validation_accuracy
               - talk.validation_accuracy) <= ACCURACY_POINTS


def test_seed_changes_every_engine_alike(small_run):
    assert (small_run("tuned", SEED + 1).weights_fingerprint
            != small_run("tuned").weights_fingerprint)


def expectation(other_python):
    ours = list(sys.version_info[:3])
    exact = bit_exact_expected(ours, other_python["version"])
    if not exact:
        warnings.warn(
            f"{other_python['implementation']} "
            f"{'.'.join(map(str, other_python['version']))} and "
            f"{sys.implementation.name} {'.'.join(map(str, ours))}: "
            f"sum() differs from 3.12 on, so talk's weights are compared "
            f"within {NUMPY_TOLERANCE:g}, not bit for bit", stacklevel=2)
    return exact


def test_talk_same_weights_on_other_interpreter(run_other, other_python,
                                                slice_folder, small_run):
    child = json.loads(run_other(["-c", CHILD, slice_folder, str(SEED),
                                  str(EPOCHS), str(STEPS)]))
    assert child["interpreter"]["executable"] != sys.executable
    rng = random.Random(SEED)
    assert child["initial"] == fingerprint(initial_weights(rng, 7840))
    assert child["draws"] == fingerprint(
        [float(i) for i in draw_indices(rng, 60000, 1000)])

    mine = small_run("talk")
    if expectation(other_python):
        assert child["fingerprint"] == mine.weights_fingerprint
        assert child["weights"] == mine.weights
    else:
        assert max_difference(child["weights"],
                              mine.weights) <= NUMPY_TOLERANCE
    assert abs(child["validation_accuracy"]
               - mine.validation_accuracy) <= ACCURACY_POINTS


def test_cli_fingerprint_same_on_other_interpreter(run_other, other_python,
                                                   slice_folder, small_run,
                                                   tmp_path):
    out = tmp_path / "other.json"
    run_other(["-m", "speedrun", "train", "--engine", "talk", "--epochs",
               str(EPOCHS), "--train-limit", str(STEPS), "--seed", str(SEED),
               "--data", slice_folder, "--json", str(out), "--quiet"])
    child = json.loads(out.read_text(encoding="utf-8"))
    mine = small_run("talk")  # the same images as in slice_folder
    assert child["engine"] == "talk"
    assert child["interpreter"]["implementation"] == other_python[
        "implementation"]
    if expectation(other_python):
        assert child["weights_fingerprint"] == mine.weights_fingerprint
    assert abs(child["validation_accuracy"]
               - mine.validation_accuracy) <= ACCURACY_POINTS
