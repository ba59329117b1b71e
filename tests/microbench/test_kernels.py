"""Kernel micro-benchmarks: the hot inner pieces of every engine.

Four kernels, each a benchmark group so that the engines stand side by
side in pytest-benchmark's table:

    softmax    the engine's ``softmax`` on 10 logits
    forward    ``predict`` on one image: 10 logits of 784 pixels, arg max
    sgd-step   ``train`` on a single draw: forward, cost, 7,840 updates
    load-1000  ``load_images`` on 1,000 × 784 bytes of real MNIST

Inputs are the shipped t10k images, so sparse-pixel engines see real
sparsity. Every engine listed in ``speedrun.engines.ENGINES`` is run;
one that does not import here (NumPy on a bare PyPy) is skipped with
the reason. The ordinary test run passes ``--benchmark-disable``: each
kernel then runs once, the result checks still apply and the statistics
checks are skipped. These are sanity checks on what pytest-benchmark
recorded, never a speed threshold. Timing budgets are pytest-benchmark's
own (``--benchmark-max-time`` and friends); its ``auto`` warm-up warms
PyPy's JIT up before the measured rounds and leaves CPython alone.

Not here: whole epochs and the interpreter-against-interpreter claims,
which are pyperf's job in ``bench/``.
"""

import math
import random

import pytest

from speedrun.dataset import PACKAGED_DIR, find_files
from speedrun.engines import ENGINES, EngineUnavailable, get_engine
from speedrun.idx import MAGIC_IMAGES, MAGIC_LABELS, read_idx
from speedrun.training import LEARNING_RATE, initial_weights

pytest.importorskip("pytest_benchmark",
                    reason="pytest-benchmark is not installed: "
                           "python -m pip install -r requirements/tests.txt")

PIXELS = 784  # 28 × 28 bytes per image
CLASSES = 10
LOAD_COUNT = 1000  # images parsed by one load-1000 call
LOGITS = [0.3, -1.2, 2.5, 0.0, -0.7, 1.1, 4.0, -3.3, 0.9, 0.05]


@pytest.fixture(scope="module")
def mnist():
    """Bytes and labels of the first LOAD_COUNT shipped t10k images."""
    paths = find_files(PACKAGED_DIR)
    images = read_idx(paths["test_images"], MAGIC_IMAGES)
    labels = read_idx(paths["test_labels"], MAGIC_LABELS)
    return images.data[:LOAD_COUNT * PIXELS], labels.data[:LOAD_COUNT]


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    try:
        return get_engine(request.param)
    except EngineUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def model(engine, mnist):
    """Engine-native (weights, images, labels) for 10 images, seed 0."""
    data, labels = mnist
    values = initial_weights(random.Random(0), CLASSES * PIXELS)
    return (engine.make_weights(values),
            engine.load_images(data, CLASSES, PIXELS),
            engine.load_labels(labels, CLASSES))


def tag(benchmark, engine, items):
    """Record engine and items per call, for per-item figures later."""
    benchmark.extra_info["engine"] = engine.NAME
    benchmark.extra_info["items"] = items


def check_stats(benchmark):
    """What pytest-benchmark measured is a real sample, when it measured."""
    if not benchmark.enabled:
        return
    stats = benchmark.stats.stats
    assert stats.rounds >= 1
    assert 0 < stats.min <= stats.median <= stats.max
    assert stats.stddev >= 0


@pytest.mark.benchmark(group="softmax")
def test_softmax_kernel(benchmark, engine):
    tag(benchmark, engine, 1)
    probabilities = [float(p) for p in benchmark(engine.softmax, LOGITS)]

    assert math.isclose(sum(probabilities), 1.0, rel_tol=1e-9)
    assert probabilities.index(max(probabilities)) == 6
    check_stats(benchmark)


@pytest.mark.benchmark(group="forward")
def test_forward_kernel(benchmark, engine, model):
    weights, images, labels = model
    tag(benchmark, engine, 1)
    predicted = benchmark(engine.predict, weights, images, [0])

    assert len(predicted) == 1 and 0 <= predicted[0] < CLASSES
    check_stats(benchmark)


@pytest.mark.benchmark(group="sgd-step")
def test_sgd_step_kernel(benchmark, engine, model):
    weights, images, labels = model
    before = engine.weight_values(weights)
    tag(benchmark, engine, 1)
    cost = benchmark(engine.train, weights, images, labels, [0],
                     LEARNING_RATE)

    # Repeated steps on one image only move it toward its label.
    assert 0.0 <= cost < 1.0
    assert engine.weight_values(weights) != before
    check_stats(benchmark)


@pytest.mark.benchmark(group="load-1000")
def test_load_1000_kernel(benchmark, engine, mnist):
    data, _ = mnist
    tag(benchmark, engine, LOAD_COUNT)
    images = benchmark(engine.load_images, data, LOAD_COUNT, PIXELS)

    assert len(images) == LOAD_COUNT
    check_stats(benchmark)
