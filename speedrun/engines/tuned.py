"""The talk's trainer in the fastest pure Python we know, same results.

Same algorithm, same draws and, in the normal range, the same bits as
``speedrun.engines.talk``. What makes it fast:

- Images are stored sparsely: ``(indices, values)`` of the non-zero
  pixels only (about 19 % of MNIST's). A zero pixel adds ``w * 0.0`` to
  a logit and changes no weight, so skipping it changes no result bit.
- Weights are 10 rows of 784 floats, so the inner loops index one list.
- Logits use ``sum(map(mul, ...))``: the C-level loop keeps the
  left-to-right order of the talk's ``sum([...])``.
- The update folds ``lr * (p_k - y_k)`` into one factor per class, which
  is exactly how the talk's expression is evaluated.

``softmax`` uses the talk's formula while it is representable and a
shifted one outside it, so ``[1000, 0, 0]`` gives ``[1, 0, 0]``;
``train`` keeps the talk's overflow (``OverflowError``) so that
divergence is detected at the same step as in the talk's code.
Standard library only.
"""

import math
from operator import mul

NAME = "tuned"
SUMMARY = "pure Python, sparse pixels, same bits as talk"
CLASSES = 10


def load_images(data, count, size):
    """*count* images of *size* bytes -> ``(indices, values)`` pairs.

    ``indices`` are the positions of the non-zero pixels, ``values``
    those pixels as floats in (0, 1].
    """
    scale = [b / 255 for b in range(256)]
    images = []
    for start in range(0, count * size, size):
        row = data[start:start + size]
        indices = [i for i, b in enumerate(row) if b]
        images.append((indices, [scale[row[i]] for i in indices]))
    return images


def load_labels(data, count):
    return list(data[:count])


def make_weights(values):
    size = len(values) // CLASSES
    return [list(values[k * size:(k + 1) * size]) for k in range(CLASSES)]


def weight_values(weights):
    return [w for row in weights for w in row]


def softmax(z):
    top = max(z)
    if -700.0 < top < 700.0:
        exps = [math.exp(v) for v in z]
    else:
        exps = [math.exp(v - top) for v in z]
    total = sum(exps) + 1e-10
    return [e / total for e in exps]


def logits(weights, image):
    indices, values = image
    return [sum(map(mul, map(row.__getitem__, indices), values))
            for row in weights]


def train(weights, images, labels, draws, lr):
    """One SGD step per index in *draws*; returns the summed MSE cost."""
    exp = math.exp
    cost = 0.0
    for index in draws:
        image = images[index]
        indices, values = image
        exps = [exp(v) for v in logits(weights, image)]
        total = sum(exps) + 1e-10
        label = labels[index]
        diffs = [e / total for e in exps]
        diffs[label] -= 1.0
        cost += sum([d * d for d in diffs]) / CLASSES
        for row, d in zip(weights, diffs):
            g = lr * d
            for i, v in zip(indices, values):
                row[i] -= g * v
    return cost


def predict(weights, images, indices):
    predictions = []
    for index in indices:
        z = logits(weights, images[index])
        predictions.append(z.index(max(z)))
    return predictions
