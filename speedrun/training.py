"""The training loop shared by every engine: draws, monitoring, history.

A run is fixed by its seed. ``random.Random(seed)`` draws the 7,840
initial weights (uniform in [-0.1, 0.1), class-major), then, at the start
of each epoch, the training indices of that epoch (with replacement).
Monitoring draws its 5 % samples of the test part from a second generator,
``random.Random(f"monitor-{seed}")``, so the training draws are the same
whether or not anything is monitored. Every engine and interpreter
therefore sees the same numbers.

Times are taken with ``time.perf_counter`` around the engine calls only:
the epoch figure covers the training steps, monitoring is timed apart,
and nothing of the display runs between the two clocks. This module
returns numbers and never prints; ``on_chunk`` lets a front end draw
progress between chunks.
"""

import hashlib
import math
import random
import struct
import sys
import time

from speedrun.dataset import CLASSES

LEARNING_RATE = 0.002
EPOCHS = 2
CHUNK = 500  # steps between two monitoring points, as in the talk
MONITOR_FRACTION = 20  # monitor on 1/20 = 5 % of the test part


class Diverged(Exception):
    """Training left the range of float64 (overflow or not a number)."""

    def __init__(self, epoch, first_step, last_step, lr, reason):
        steps = (f"step {first_step}" if first_step == last_step
                 else f"steps {first_step}..{last_step}")
        super().__init__(
            f"training diverged in epoch {epoch}, {steps}, at learning "
            f"rate {lr:g}: {reason}; "
            f"try a smaller --lr (the talk used {LEARNING_RATE})"
        )
        self.epoch = epoch
        self.first_step = first_step
        self.last_step = last_step


def initial_weights(rng, count):
    """*count* floats uniform in [-0.1, 0.1), drawn from *rng* in order."""
    return [-0.1 + 0.2 * rng.random() for _ in range(count)]


def draw_indices(rng, population, steps):
    """The training indices of one epoch: *steps* draws with replacement."""
    return [rng.randrange(population) for _ in range(steps)]


def fingerprint(values):
    """A short hex digest of a list of floats, exact to the bit."""
    packed = struct.pack(f">{len(values)}d", *values)
    return hashlib.sha256(packed).hexdigest()[:16]


def interpreter():
    """What runs this code: implementation, version and executable."""
    impl = sys.implementation
    info = {
        "implementation": impl.name,
        "python_version": ".".join(map(str, sys.version_info[:3])),
        "executable": sys.executable,
    }
    if impl.name == "pypy":
        info["pypy_version"] = ".".join(map(str, impl.version[:3]))
    return info


class Data:
    """A dataset turned into one engine's representation.

    ``train_images``/``train_labels`` hold the training set; ``test_images``
    and ``test_labels`` hold all of t10k, whose first ``test_count`` images
    are the test part and the rest the validation part.
    """

    def __init__(self, engine, dataset, train_count=None):
        arrays = dataset.train_images, dataset.train_labels
        count = dataset.train_images.count
        if train_count is not None:
            count = min(count, train_count)
        size = dataset.pixels
        self.train_images = engine.load_images(arrays[0].data, count, size)
        self.train_labels = engine.load_labels(arrays[1].data, count)
        total = dataset.test_images.count
        self.test_images = engine.load_images(
            dataset.test_images.data, total, size)
        self.test_labels = engine.load_labels(dataset.test_labels.data, total)
        self.train_count = count
        self.test_count = dataset.test_count
        self.total_test = total
        self.size = size

    def validation_indices(self):
        return range(self.test_count, self.total_test)


def accuracy(engine, weights, data, indices):
    """Percentage of the images named in *indices* predicted right."""
    indices = list(indices)
    predictions = engine.predict(weights, data.test_images, indices)
    right = sum(1 for i, p in zip(indices, predictions)
                if p == data.test_labels[i])
    return 100.0 * right / len(indices), predictions


class Run:
    """The outcome of ``train_run``: weights, history, times, predictions."""

    def __init__(self, engine, seed, lr, epochs, steps):
        self.engine = engine.NAME
        self.seed, self.lr, self.epochs, self.steps = seed, lr, epochs, steps
        self.history = []
        self.stage_seconds = {"load": 0.0, "epochs": [], "monitor": 0.0,
                              "infer": 0.0}
        self.weights = None
        self.validation_accuracy = None
        self.validation_predictions = []
        self.validation_labels = []

    @property
    def weights_fingerprint(self):
        return fingerprint(self.weights)

    def confusion(self):
        """10 × 10 counts: ``matrix[label][prediction]``."""
        matrix = [[0] * CLASSES for _ in range(CLASSES)]
        for label, guess in zip(self.validation_labels,
                                self.validation_predictions):
            matrix[label][guess] += 1
        return matrix

    def to_dict(self):
        return {
            "engine": self.engine,
            "seed": self.seed,
            "lr": self.lr,
            "epochs": self.epochs,
            "steps_per_epoch": self.steps,
            "validation_accuracy": self.validation_accuracy,
            "weights_fingerprint": self.weights_fingerprint,
            "stage_seconds": self.stage_seconds,
            "history": self.history,
            "confusion": self.confusion(),
            "interpreter": interpreter(),
        }


def train_run(engine, dataset, seed=0, epochs=EPOCHS, lr=LEARNING_RATE,
              steps=None, monitor=True, on_chunk=None):
    """Train *engine* on *dataset* and return a ``Run``.

    *steps* is the number of draws per epoch (default: the size of the
    training set, 60,000 for MNIST). ``on_chunk(run, epoch, step)`` is
    called after every chunk of 500 steps, outside the timed code.
    Raises ``Diverged`` when the weights leave float64's range.
    """
    start = time.perf_counter()
    data = Data(engine, dataset)
    load_seconds = time.perf_counter() - start
    steps = data.train_count if steps is None else steps
    run = Run(engine, seed, lr, epochs, steps)
    run.stage_seconds["load"] = load_seconds

    rng = random.Random(seed)
    monitor_rng = random.Random(f"monitor-{seed}")
    weights = engine.make_weights(
        initial_weights(rng, CLASSES * data.size))
    try:
        _epochs(run, engine, weights, data, rng, monitor_rng, monitor,
                on_chunk)
    except Diverged as exc:
        exc.run = run  # what was computed before, for the caller to keep
        raise

    start = time.perf_counter()
    score, predictions = accuracy(engine, weights, data,
                                  data.validation_indices())
    run.stage_seconds["infer"] = time.perf_counter() - start
    run.validation_accuracy = score
    run.validation_predictions = predictions
    run.validation_labels = [data.test_labels[i]
                             for i in data.validation_indices()]
    run.weights = engine.weight_values(weights)
    _check_finite(run.weights, epochs, steps, steps, lr)
    return run


def _epochs(run, engine, weights, data, rng, monitor_rng, monitor,
            on_chunk):
    steps, lr = run.steps, run.lr
    for epoch in range(1, run.epochs + 1):
        draws = draw_indices(rng, data.train_count, steps)
        seconds = 0.0
        for first in range(0, steps, CHUNK):
            chunk = draws[first:first + CHUNK]
            elapsed, cost = _train_chunk(engine, weights, data, chunk, lr,
                                         epoch, first)
            seconds += elapsed
            if monitor:
                _monitor(run, engine, weights, data, monitor_rng, epoch,
                         first + len(chunk), cost / len(chunk))
            if on_chunk is not None:
                on_chunk(run, epoch, first + len(chunk))
        run.stage_seconds["epochs"].append(seconds)


def _train_chunk(engine, weights, data, chunk, lr, epoch, first):
    # The weights before the chunk, kept (outside the clock) so that a
    # chunk that diverges can be replayed to name the step at fault.
    before = engine.weight_values(weights)
    start = time.perf_counter()
    try:
        cost = engine.train(weights, data.train_images, data.train_labels,
                            chunk, lr)
    except OverflowError:
        cost = math.inf
    seconds = time.perf_counter() - start
    if not math.isfinite(cost):
        low, high = _diverging_steps(engine, before, data, chunk, lr)
        raise Diverged(epoch, first + low, first + high, lr,
                       "a logit overflowed exp() in the softmax"
                       if cost == math.inf else f"the cost became {cost}")
    return seconds, cost


def _diverging_steps(engine, values, data, chunk, lr):
    """Replay *chunk* from *values*; the steps (1-based) where it fails.

    Engines that update once per batch are replayed batch by batch, so
    the answer is that batch's steps; the others give one step.
    """
    weights = engine.make_weights(values)
    group = getattr(engine, "BATCH", 1)
    for low in range(0, len(chunk), group):
        part = chunk[low:low + group]
        try:
            cost = engine.train(weights, data.train_images,
                                data.train_labels, part, lr)
        except OverflowError:
            cost = math.inf
        if not math.isfinite(cost):
            return low + 1, low + len(part)
    return 1, len(chunk)


def _monitor(run, engine, weights, data, rng, epoch, step, cost):
    sample = rng.sample(range(data.test_count),
                        max(1, data.test_count // MONITOR_FRACTION))
    start = time.perf_counter()
    score, _ = accuracy(engine, weights, data, sample)
    run.stage_seconds["monitor"] += time.perf_counter() - start
    run.history.append({"epoch": epoch, "step": step, "accuracy": score,
                        "cost": cost})


def _check_finite(values, epoch, first, last, lr):
    if not all(map(math.isfinite, values)):
        raise Diverged(epoch, first, last, lr, "a weight is not finite")
