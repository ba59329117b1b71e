"""The training loop: seeds, draws, history, stage times and divergence.

Runs use the MNIST slice of ``conftest`` (2,000 training images, 800 test
and 200 validation images) and 500 draws per epoch, so each costs about a
second with the talk's engine on CPython and much less with ``tuned``.
"""

import json
import math
import random
import re

import pytest
from conftest import EPOCHS, SEED, STEPS, engine_params

from speedrun.dataset import CLASSES
from speedrun.engines import get_engine
from speedrun.training import (CHUNK, Data, Diverged, draw_indices,
                               fingerprint, initial_weights, interpreter,
                               train_run)

WEIGHTS = CLASSES * 784


def test_initial_weights_uniform_in_range():
    values = initial_weights(random.Random(SEED), WEIGHTS)
    assert len(values) == WEIGHTS
    assert all(-0.1 <= v < 0.1 for v in values)
    assert -0.1 + 1e-3 > min(values) and max(values) > 0.1 - 1e-3
    assert abs(math.fsum(values) / WEIGHTS) < 0.01  # mean near 0


def test_same_seed_same_weights_and_draws():
    first, second = random.Random(SEED), random.Random(SEED)
    assert initial_weights(first, WEIGHTS) == initial_weights(second, WEIGHTS)
    assert draw_indices(first, 60000, 1000) == draw_indices(second, 60000,
                                                            1000)


def test_different_seeds_different_weights_and_draws():
    first, second = random.Random(SEED), random.Random(SEED + 1)
    assert initial_weights(first, WEIGHTS) != initial_weights(second, WEIGHTS)
    assert draw_indices(first, 60000, 1000) != draw_indices(second, 60000,
                                                            1000)


def test_draws_cover_population_with_replacement():
    draws = draw_indices(random.Random(SEED), 50, 2000)
    assert set(draws) == set(range(50))


def test_fingerprint_sees_every_bit():
    values = initial_weights(random.Random(SEED), 100)
    base = fingerprint(values)
    assert re.fullmatch(r"[0-9a-f]{16}", base)
    assert fingerprint(list(values)) == base
    nudged = list(values)
    nudged[57] = math.nextafter(nudged[57], 1.0)
    assert fingerprint(nudged) != base
    assert fingerprint([0.0]) != fingerprint([-0.0])


def test_interpreter_names_implementation_and_version():
    info = interpreter()
    assert info["implementation"] in ("cpython", "pypy")
    assert re.fullmatch(r"3\.\d+\.\d+", info["python_version"])
    assert ("pypy_version" in info) == (info["implementation"] == "pypy")


def test_data_slices_test_part_and_validation_part(mnist_slice):
    data = Data(get_engine("tuned"), mnist_slice, train_count=300)
    assert data.train_count == 300 and len(data.train_images) == 300
    assert (data.test_count, data.total_test) == (800, 1000)
    assert list(data.validation_indices()) == list(range(800, 1000))


def test_run_same_seed_same_weights(small_run, mnist_slice):
    again = train_run(get_engine("tuned"), mnist_slice, seed=SEED,
                      epochs=EPOCHS, steps=STEPS)
    assert again.weights == small_run("tuned").weights
    assert again.history == small_run("tuned").history


def test_run_different_seed_different_weights(small_run):
    assert (small_run("tuned", SEED + 1).weights_fingerprint
            != small_run("tuned").weights_fingerprint)


def test_run_without_monitoring_trains_the_same(small_run, mnist_slice):
    # Monitoring has its own generator, so it cannot shift the draws.
    quiet = train_run(get_engine("tuned"), mnist_slice, seed=SEED,
                      epochs=EPOCHS, steps=STEPS, monitor=False)
    assert quiet.weights == small_run("tuned").weights
    assert quiet.history == []
    assert quiet.stage_seconds["monitor"] == 0.0


@pytest.mark.parametrize("name", engine_params())
def test_history_one_point_per_chunk(name, small_run):
    history = small_run(name).history
    assert [(p["epoch"], p["step"]) for p in history] == [
        (epoch, step) for epoch in range(1, EPOCHS + 1)
        for step in range(CHUNK, STEPS + 1, CHUNK)]
    for point in history:
        assert 0.0 <= point["accuracy"] <= 100.0
        # 40 of the 800 test-part images: a multiple of 2.5 %
        assert (point["accuracy"] / 2.5).is_integer()
        # MSE of a probability vector against a one-hot: at most 2 / 10
        assert math.isfinite(point["cost"]) and 0.0 < point["cost"] <= 0.2


def test_history_partial_last_chunk(mnist_slice):
    steps = []
    run = train_run(get_engine("tuned"), mnist_slice, seed=SEED, epochs=2,
                    steps=1200, on_chunk=lambda r, e, s: steps.append((e, s)))
    expected = [(e, s) for e in (1, 2) for s in (500, 1000, 1200)]
    assert [(p["epoch"], p["step"]) for p in run.history] == expected
    assert steps == expected


def test_history_learns(small_run):
    history = small_run("tuned").history
    assert history[-1]["accuracy"] > history[0]["accuracy"]
    assert history[-1]["cost"] < history[0]["cost"]


@pytest.mark.parametrize("name", engine_params())
def test_stage_seconds_shape(name, small_run):
    seconds = small_run(name).stage_seconds
    assert sorted(seconds) == ["epochs", "infer", "load", "monitor"]
    assert len(seconds["epochs"]) == EPOCHS
    for value in seconds["epochs"] + [seconds[k] for k in
                                      ("load", "infer", "monitor")]:
        assert isinstance(value, float) and value > 0.0


def test_steps_default_to_training_set_size(mnist_slice):
    tiny = train_run(get_engine("tuned"), mnist_slice, seed=SEED, epochs=1,
                     monitor=False)
    assert tiny.steps == 2000


def test_validation_accuracy_counts_predictions(small_run, mnist_slice):
    run = small_run("tuned")
    labels = list(mnist_slice.test_labels.data[800:1000])
    assert run.validation_labels == labels
    right = sum(p == y for p, y in zip(run.validation_predictions, labels))
    assert run.validation_accuracy == 100.0 * right / 200
    assert 50.0 < run.validation_accuracy <= 100.0


def test_confusion_counts_every_validation_image(small_run):
    run = small_run("tuned")
    matrix = run.confusion()
    assert len(matrix) == CLASSES and all(len(r) == CLASSES for r in matrix)
    assert sum(map(sum, matrix)) == 200
    diagonal = sum(matrix[k][k] for k in range(CLASSES))
    assert 100.0 * diagonal / 200 == run.validation_accuracy


def test_to_dict_is_json_with_the_issue_fields(small_run):
    payload = json.loads(json.dumps(small_run("talk").to_dict()))
    for key in ("validation_accuracy", "weights_fingerprint", "history",
                "stage_seconds", "engine", "interpreter"):
        assert key in payload
    assert payload["engine"] == "talk"
    assert payload["weights_fingerprint"] == small_run(
        "talk").weights_fingerprint
    assert payload["steps_per_epoch"] == STEPS


@pytest.mark.parametrize("name", engine_params())
def test_large_learning_rate_diverges(name, mnist_slice):
    # lr 50 overflows exp() within the first chunk of 500 steps.
    with pytest.raises(Diverged, match=r"--lr") as caught:
        train_run(get_engine(name), mnist_slice, seed=SEED, epochs=1,
                  lr=50.0, steps=4 * CHUNK)
    error = caught.value
    assert error.epoch == 1
    # The chunk is replayed to name the step (the batch, for numpy-batch).
    batch = getattr(get_engine(name), "BATCH", 1)
    assert 1 <= error.first_step <= CHUNK
    assert error.last_step - error.first_step + 1 == batch
    assert error.run.history == []  # the partial run is kept for the caller


class FailingEngine:
    """``tuned``, except that one call of ``train`` goes wrong."""

    def __init__(self, fail_on_call, failure):
        self.tuned = get_engine("tuned")
        self.fail_on_call, self.failure = fail_on_call, failure
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.tuned, name)

    def train(self, weights, images, labels, draws, lr):
        self.calls += 1
        cost = self.tuned.train(weights, images, labels, draws, lr)
        if self.calls == self.fail_on_call:
            if self.failure == "overflow":
                raise OverflowError("math range error")
            return float("nan")
        return cost


@pytest.mark.parametrize("failure", ["overflow", "nan"])
def test_diverged_later_names_steps_and_keeps_history(failure, mnist_slice):
    # Chunks per epoch: 500, 500, 200; the 5th call is epoch 2, 501..1000.
    # Replayed, the chunk does not fail again, so the whole chunk is named.
    engine = FailingEngine(5, failure)
    with pytest.raises(Diverged) as caught:
        train_run(engine, mnist_slice, seed=SEED, epochs=3, steps=1200)
    error = caught.value
    assert (error.epoch, error.first_step, error.last_step) == (2, 501, 1000)
    assert "cost became nan" in str(error) or failure == "overflow"
    assert [(p["epoch"], p["step"]) for p in error.run.history] == [
        (1, 500), (1, 1000), (1, 1200), (2, 500)]
    assert len(error.run.stage_seconds["epochs"]) == 1
