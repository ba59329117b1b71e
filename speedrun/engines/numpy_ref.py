"""The NumPy reference: the talk's algorithm, one sample at a time.

Same draws and same initial weights as ``speedrun.engines.talk``, in
float64 throughout (float32 input is converted). Results agree with the
talk's code within floating-point tolerance, not bit for bit: the matrix
product adds the 784 terms of a logit in its own order.

What makes it fast: a step is ten NumPy calls on preallocated buffers
and no Python loop over pixels or classes. Each image is viewed as a
1 × 784 matrix, so ``z = x Wᵀ`` and the rank-one update ``g xᵀ`` are
both BLAS products written into buffers (no ``np.outer`` temporary),
and ``W -= step`` works in place. The ten exponentials are summed by
Python's ``sum`` on a list, cheaper than ``ndarray.sum`` for ten
numbers; the probabilities, p − y and lr · (p − y) take turns in one
buffer. Labels are a list, which hands out plain ints faster than an
array. Skipping zero pixels does not pay here: gathering and
scattering the non-zero columns costs more than the dense products it
saves. Nor does keeping the pixels as bytes: the float64 copy costs 8
bytes a pixel (376 MB for the training set), converting a row at each
step about 1 µs.

A logit beyond what ``exp`` can represent raises ``OverflowError``, as
the talk's code does (NumPy is told to raise on overflow).

Imports NumPy, so importing this module fails where NumPy is missing;
``speedrun.engines.get_engine`` turns that into a clear message.
"""

import numpy as np

NAME = "numpy"
SUMMARY = "NumPy reference, float64, per-sample"
CLASSES = 10


def load_images(data, count, size):
    """*count* images of *size* bytes -> float64 array (count, size)."""
    raw = np.frombuffer(data, dtype=np.uint8, count=count * size)
    return raw.reshape(count, size) / 255.0


def load_labels(data, count):
    """*count* label bytes -> a list of ints 0..9."""
    return list(data[:count])


def make_weights(values):
    weights = np.array(values, dtype=np.float64)
    return weights.reshape(CLASSES, -1)


def weight_values(weights):
    return weights.ravel().tolist()


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    top = z.max()
    if -700.0 < top < 700.0:
        exps = np.exp(z)
    else:
        exps = np.exp(z - top)
    return exps / (exps.sum() + 1e-10)


def _as_rows(images):
    """Images as float64 (count, 1, size): each a 1 × size matrix view."""
    images = np.asarray(images, dtype=np.float64)
    return images.reshape(len(images), 1, -1)


def train(weights, images, labels, draws, lr):
    """One SGD step per index in *draws*; returns the summed MSE cost."""
    rows = _as_rows(images)
    dot, exp = np.dot, np.exp
    columns = weights.T
    z = np.empty((1, CLASSES))
    p = np.empty((1, CLASSES))
    flat, column = p[0], p.T  # views of p: written once, seen by all
    step = np.empty_like(weights)
    cost = 0.0
    try:
        with np.errstate(over="raise"):
            for index in draws:
                x = rows[index]
                dot(x, columns, out=z)
                exp(z, out=p)
                p /= sum(flat.tolist()) + 1e-10
                flat[labels[index]] -= 1.0
                cost += dot(flat, flat)
                p *= lr
                dot(column, x, out=step)
                weights -= step
    except FloatingPointError as exc:
        raise OverflowError(f"math range error: {exc}") from None
    return float(cost) / CLASSES


def predict(weights, images, indices):
    images = np.asarray(images, dtype=np.float64)
    chosen = images[np.asarray(list(indices), dtype=np.intp)]
    return (chosen @ weights.T).argmax(axis=1).tolist()
