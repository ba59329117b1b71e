"""The fast paths of the engines give the results of the plain ones.

- ``tuned`` keeps ``(indices, values)`` of the non-zero pixels. Both of
  its loaders (C-level iterators, used on CPython; a loop for PyPy's
  JIT) are run here on whatever interpreter runs the tests, and must
  give exactly the talk's pixels; its unrolled kernels must give the
  talk's bits on images with no zero pixel, or only zeros.
- ``numpy`` is float64 throughout and stays within ``TOLERANCE`` of the
  talk's weights on real MNIST.
- ``numpy-batch`` has the engines' interface; a batch of one is the
  per-sample algorithm, and a batch adds up the talk's per-sample
  updates scored with the weights at the batch's start (checked against
  a reference written here with ``math.fsum``), in the order drawn.
"""

import gc
import math
import random

import pytest
from conftest import sparse_to_dense

from speedrun.engines import ENGINES, get_engine, talk, tuned
from speedrun.training import initial_weights

CLASSES = 10
PIXELS = 784  # 28 × 28 bytes per MNIST image
TOLERANCE = 1e-12  # max abs weight difference, float64 engines vs talk


@pytest.fixture
def np():
    return pytest.importorskip("numpy", reason="NumPy engines need NumPy")


def edge_images(size):
    """Blank, saturated, ends-only and every-byte images of *size* ≥ 2."""
    blank = bytes(size)
    full = bytes([255]) * size
    ends = bytes([7]) + bytes(size - 2) + bytes([255])
    every = bytes(b % 256 for b in range(1, size + 1))
    return blank + full + ends + every


LOADERS = [tuned._load_by_iterators, tuned._load_by_loop, tuned.load_images]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
def test_tuned_loader_gives_talks_pixels_on_mnist(loader, mnist):
    data = mnist.train_images.data
    count = 12
    loaded = loader(data, count, PIXELS)
    assert sparse_to_dense(loaded, PIXELS) == talk.load_images(data, count, PIXELS)
    for indices, values in loaded:
        assert list(indices) == sorted(indices) and 0.0 not in values
        assert all(type(i) is int for i in indices)
        assert all(type(v) is float for v in values)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("size", [2, 28, PIXELS])
def test_tuned_loader_gives_talks_pixels_on_edge_images(loader, size):
    data = edge_images(size) + b"trailing bytes are ignored"
    loaded = loader(data, 4, size)
    assert len(loaded) == 4
    assert sparse_to_dense(loaded, size) == talk.load_images(data, 4, size)
    assert [len(part) for part in loaded[0]] == [0, 0]


@pytest.mark.parametrize("enabled", [True, False])
def test_tuned_loader_leaves_collector_as_found(enabled, mnist):
    was_enabled = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        tuned.load_images(mnist.train_images.data, 3, PIXELS)
        assert gc.isenabled() == enabled
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


def train_both(engine, values, data, labels, count, size, draws, lr):
    weights = engine.make_weights(values)
    cost = engine.train(weights, engine.load_images(data, count, size),
                        engine.load_labels(labels, count), draws, lr)
    return engine.weight_values(weights), cost


def test_tuned_same_bits_as_talk_on_dense_and_blank_images(rng):
    size = 28
    data = edge_images(size) + bytes(rng.randrange(1, 256)
                                     for _ in range(size * 4))
    labels = bytes([3, 1, 4, 1, 5, 9, 2, 6])
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
    draws = [rng.randrange(8) for _ in range(60)]
    expected = train_both(talk, values, data, labels, 8, size, draws, 0.01)
    found = train_both(tuned, values, data, labels, 8, size, draws, 0.01)
    assert found == expected
    assert found[0] != values


def test_tuned_predict_same_as_talk(mnist, rng):
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * PIXELS)]
    data = mnist.test_images.data
    chosen = [0, 5, 17, 3, 99]
    expected = talk.predict(talk.make_weights(values),
                            talk.load_images(data, 100, PIXELS), chosen)
    found = tuned.predict(tuned.make_weights(values),
                          tuned.load_images(data, 100, PIXELS), chosen)
    assert found == expected


# NumPy, per sample ----------------------------------------------------

def test_numpy_is_float64_throughout(np):
    reference = get_engine("numpy")
    images = reference.load_images(edge_images(6), 4, 6)
    weights = reference.make_weights(np.arange(60, dtype=np.float32))
    assert images.dtype == np.float64 and images.shape == (4, 6)
    assert weights.dtype == np.float64
    assert images[1].tolist() == [1.0] * 6
    labels = reference.load_labels(bytes([9, 0, 3]), 3)
    assert labels == [9, 0, 3] and all(type(k) is int for k in labels)


def test_numpy_within_tolerance_of_talk_on_mnist(np, mnist):
    reference = get_engine("numpy")
    generator = random.Random(7)
    values = initial_weights(generator, CLASSES * PIXELS)
    count = 200
    draws = [generator.randrange(count) for _ in range(300)]
    data, labels = mnist.train_images.data, mnist.train_labels.data
    expected, expected_cost = train_both(talk, values, data, labels, count,
                                         PIXELS, draws, 0.002)
    found, cost = train_both(reference, values, data, labels, count,
                             PIXELS, draws, 0.002)
    assert max(abs(a - b) for a, b in zip(found, expected)) <= TOLERANCE
    assert type(cost) is float
    assert cost == pytest.approx(expected_cost, rel=TOLERANCE)


# NumPy, mini-batches --------------------------------------------------

@pytest.fixture
def batch(np):
    return get_engine("numpy-batch")


def tiny_set(rng, count=6, size=12):
    """*count* images of *size* bytes, a third zero, and their labels."""
    data = bytes(rng.choice([0, 0, 0, 1, 17, 128, 255, rng.randrange(256)])
                 for _ in range(count * size))
    labels = bytes(rng.randrange(CLASSES) for _ in range(count))
    return data, labels, count, size


def reference_batches(values, data, labels, size, draws, lr, batch):
    """Summed per-sample updates at each batch's start weights; cost."""
    weights = list(values)
    cost = 0.0
    for first in range(0, len(draws), batch):
        step = [0.0] * len(weights)
        for index in draws[first:first + batch]:
            x = [data[index * size + i] / 255 for i in range(size)]
            z = [math.fsum(weights[k * size + i] * x[i] for i in range(size))
                 for k in range(CLASSES)]
            exps = [math.exp(v) for v in z]
            total = math.fsum(exps) + 1e-10
            d = [e / total - (k == labels[index]) for k, e in enumerate(exps)]
            cost += math.fsum(v * v for v in d) / CLASSES
            for k in range(CLASSES):
                for i in range(size):
                    step[k * size + i] += lr * d[k] * x[i]
        weights = [w - s for w, s in zip(weights, step)]
    return weights, cost


def batch_train(engine, values, data, labels, count, size, draws, lr, n):
    weights = engine.make_weights(values)
    cost = engine.train_batches(weights, engine.load_images(data, count, size),
                                engine.load_labels(labels, count), draws,
                                lr, n)
    return engine.weight_values(weights), cost


def test_numpy_batch_is_registered_with_the_interface(batch):
    assert ENGINES["numpy-batch"] == "speedrun.engines.numpy_batch"
    assert batch.NAME == "numpy-batch"
    assert isinstance(batch.BATCH, int) and batch.BATCH >= 1
    assert f"mini-batches of {batch.BATCH}" in batch.SUMMARY
    for name in ("load_images", "load_labels", "make_weights",
                 "weight_values", "softmax", "train", "predict"):
        assert callable(getattr(batch, name))


@pytest.mark.parametrize("size", [1, 3, 5])
def test_numpy_batch_sums_per_sample_updates(batch, rng, size):
    data, labels, count, pixels = tiny_set(rng)
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * pixels)]
    draws = [rng.randrange(count) for _ in range(13)]
    expected, expected_cost = reference_batches(values, data, labels, pixels,
                                                draws, 0.05, size)
    found, cost = batch_train(batch, values, data, labels, count, pixels,
                              draws, 0.05, size)
    assert found == pytest.approx(expected, abs=TOLERANCE)
    assert cost == pytest.approx(expected_cost, abs=TOLERANCE)


def test_numpy_batch_of_one_is_the_per_sample_engine(batch, rng):
    data, labels, count, size = tiny_set(rng, count=8, size=20)
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
    draws = [rng.randrange(count) for _ in range(30)]
    expected, expected_cost = train_both(get_engine("numpy"), values, data,
                                         labels, count, size, draws, 0.05)
    found, cost = batch_train(batch, values, data, labels, count, size,
                              draws, 0.05, 1)
    assert found == pytest.approx(expected, abs=TOLERANCE)
    assert cost == pytest.approx(expected_cost, abs=TOLERANCE)


def test_numpy_batch_cuts_draws_in_order(batch, rng):
    data, labels, count, size = tiny_set(rng)
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
    draws = [4, 0, 0, 5, 2]
    images = batch.load_images(data, count, size)
    marks = batch.load_labels(labels, count)
    whole = batch.make_weights(values)
    whole_cost = batch.train_batches(whole, images, marks, draws, 0.1, 2)
    pieces = batch.make_weights(values)
    piece_cost = sum(batch.train_batches(pieces, images, marks, part, 0.1, 2)
                     for part in ([4, 0], [0, 5], [2]))
    assert batch.weight_values(whole) == batch.weight_values(pieces)
    assert whole_cost == pytest.approx(piece_cost, rel=1e-15)
    once = batch.make_weights(values)
    batch.train_batches(once, images, marks, draws, 0.1, 5)
    assert batch.weight_values(once) != batch.weight_values(whole)


def test_numpy_batch_train_reads_batch_constant(batch, rng, monkeypatch):
    data, labels, count, size = tiny_set(rng)
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
    draws = [rng.randrange(count) for _ in range(11)]
    monkeypatch.setattr(batch, "BATCH", 3)
    expected = batch_train(batch, values, data, labels, count, size, draws,
                           0.05, 3)
    assert train_both(batch, values, data, labels, count, size, draws,
                      0.05) == expected


def test_numpy_batch_converts_float32_images(batch, np):
    images64 = batch.load_images(edge_images(6), 4, 6)
    assert images64.dtype == np.float64
    labels = batch.load_labels(bytes([1, 2, 3, 4]), 4)
    start = [0.01 * k for k in range(60)]
    from32, from64 = batch.make_weights(start), batch.make_weights(start)
    images32 = images64.astype(np.float32)
    cost32 = batch.train(from32, images32, labels, [0, 1, 2, 3], 0.5)
    cost64 = batch.train(from64, images32.astype(np.float64), labels,
                         [0, 1, 2, 3], 0.5)
    assert from32.dtype == np.float64 and type(cost32) is float
    assert cost32 == cost64 and from32.tolist() == from64.tolist()


def test_numpy_batch_overflow_raises_overflow_error(batch):
    size = 20
    values = [40.0] * (CLASSES * size)  # every logit 800, past exp's 709.78
    with pytest.raises(OverflowError):
        batch_train(batch, values, bytes([255]) * size, bytes([1]), 1, size,
                    [0, 0], 1.0, 2)


def test_numpy_batch_rejects_empty_batches(batch):
    weights = batch.make_weights([0.0] * CLASSES)
    with pytest.raises(ValueError, match="at least 1, found 0"):
        batch.train_batches(weights, batch.load_images(bytes(1), 1, 1),
                            batch.load_labels(bytes(1), 1), [0], 0.1, 0)


def test_numpy_batch_learns_as_well_on_a_slice(batch, small_run):
    talk_run, batch_run = small_run("talk"), small_run("numpy-batch")
    assert batch_run.engine == "numpy-batch"
    assert abs(batch_run.validation_accuracy
               - talk_run.validation_accuracy) <= 1.0
    assert batch_run.weights != talk_run.weights
