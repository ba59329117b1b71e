"""The NumPy reference: the talk's algorithm, one sample at a time.

Same draws and same initial weights as ``speedrun.engines.talk``, in
float64 throughout (float32 input is converted). Results agree with the
talk's code within floating-point tolerance, not bit for bit: the matrix
product adds the 784 terms of a logit in its own order.

Per step: ``z = W @ x``, the talk's softmax, then ``W -= outer(g, x)``
into a preallocated buffer. A logit beyond what ``exp`` can represent
raises ``OverflowError``, as the talk's code does.

Imports NumPy, so importing this module fails where NumPy is missing;
``speedrun.engines.get_engine`` turns that into a clear message.
"""

import numpy as np

NAME = "numpy"
SUMMARY = "NumPy reference, float64, per-sample"
CLASSES = 10
EXP_LIMIT = 709.782712893384  # largest x with a finite e^x in float64


def load_images(data, count, size):
    """*count* images of *size* bytes -> float64 array (count, size)."""
    raw = np.frombuffer(data, dtype=np.uint8, count=count * size)
    return raw.reshape(count, size) / 255.0


def load_labels(data, count):
    return np.frombuffer(data, dtype=np.uint8, count=count).astype(np.intp)


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


def train(weights, images, labels, draws, lr):
    """One SGD step per index in *draws*; returns the summed MSE cost."""
    images = np.asarray(images, dtype=np.float64)
    step = np.empty_like(weights)
    z = np.empty(CLASSES)
    cost = 0.0
    for index in draws:
        x = images[index]
        np.dot(weights, x, out=z)
        if z.max() > EXP_LIMIT:
            raise OverflowError("math range error: a logit exceeds exp's range")
        p = np.exp(z)
        p /= p.sum() + 1e-10
        p[labels[index]] -= 1.0
        cost += float(p @ p) / CLASSES
        p *= lr
        np.multiply.outer(p, x, out=step)
        weights -= step
    return cost


def predict(weights, images, indices):
    images = np.asarray(images, dtype=np.float64)
    chosen = images[np.asarray(list(indices), dtype=np.intp)]
    return (chosen @ weights.T).argmax(axis=1).tolist()
