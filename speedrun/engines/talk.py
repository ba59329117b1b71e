"""The talk's trainer: softmax regression written with lists and loops.

This is the code the talk's claims are about, so it keeps the talk's
shape on purpose: one flat list of 7,840 weights (class-major, weight
``k * 784 + i`` links pixel i to class k), list comprehensions, pixels
read one byte at a time and the plain softmax formula

    p_k = e^(z_k) / (Σ_j e^(z_j) + 1e-10)

which raises ``OverflowError`` once a logit passes about 709.78: the
training loop reports that as divergence. Do not optimise this module;
``speedrun.engines.tuned`` is the fast twin.
"""

import math

NAME = "talk"
SUMMARY = "the talk's list code, unoptimised"
CLASSES = 10


def load_images(data, count, size):
    """*count* images of *size* bytes each -> lists of floats in [0, 1]."""
    images = []
    for n in range(count):
        images.append([data[n * size + i] / 255 for i in range(size)])
    return images


def load_labels(data, count):
    """*count* label bytes -> a list of ints 0..9."""
    return [data[n] for n in range(count)]


def make_weights(values):
    """The engine's weights from a flat class-major list of floats."""
    return list(values)


def weight_values(weights):
    """The weights as a flat class-major list of floats."""
    return list(weights)


def softmax(z):
    exps = [math.exp(v) for v in z]
    total = sum(exps) + 1e-10
    return [e / total for e in exps]


def forward(weights, x):
    size = len(x)
    z = [sum([weights[k * size + i] * x[i] for i in range(size)])
         for k in range(CLASSES)]
    return softmax(z)


def train(weights, images, labels, draws, lr):
    """One SGD step per index in *draws*; returns the summed MSE cost."""
    cost = 0.0
    for index in draws:
        x = images[index]
        size = len(x)
        y = [1.0 if k == labels[index] else 0.0 for k in range(CLASSES)]
        p = forward(weights, x)
        cost += sum([(p[k] - y[k]) ** 2 for k in range(CLASSES)]) / CLASSES
        for k in range(CLASSES):
            for i in range(size):
                weights[k * size + i] -= lr * (p[k] - y[k]) * x[i]
    return cost


def predict(weights, images, indices):
    """The predicted class (0..9) of each image named in *indices*."""
    predictions = []
    for index in indices:
        p = forward(weights, images[index])
        predictions.append(p.index(max(p)))
    return predictions
