"""The talk's trainer in the fastest pure Python we know, same results.

Same algorithm, same draws and, in the normal range, the same bits as
``speedrun.engines.talk``. What makes it fast:

- Images are stored sparsely: ``(indices, values)`` of the non-zero
  pixels only (about 19 % of MNIST's). A zero pixel adds ``w * 0.0`` to
  a logit and changes no weight, so skipping it changes no result bit.
- The ten classes are unrolled: one pass over an image's non-zero
  pixels feeds ten local accumulators (and, for the update, ten rows of
  784 weights), so the loop overhead is paid once per pixel instead of
  ten times. Each logit is still summed in pixel order, as in the talk.
- The update folds ``lr * (p_k - y_k)`` into one factor per class, which
  is exactly how the talk's expression is evaluated.
- Loading never turns a zero byte into a float. On CPython C-level
  iterators do the work (``bytes.translate`` drops the zeros, a 256-entry
  table hands out one shared float per byte value, ``itertools.compress``
  the positions) with the cyclic collector paused; on PyPy a plain loop,
  which the JIT compiles, fills preallocated arrays and jumps over runs
  of zeros with ``bytes.find``. Both keep 16 bytes or less per non-zero
  pixel (the talk's lists of floats: about 32 bytes a pixel on CPython,
  zeros included, and 8 on PyPy).

``softmax`` uses the talk's formula while it is representable and a
shifted one outside it, so ``[1000, 0, 0]`` gives ``[1, 0, 0]``;
``train`` keeps the talk's overflow (``OverflowError``) so that
divergence is detected at the same step as in the talk's code.
Standard library only; it does not keep a dense copy of any image.
"""

import gc
import math
import sys
from array import array
from itertools import compress, cycle

NAME = "tuned"
SUMMARY = "pure Python, sparse pixels, unrolled classes, same bits as talk"
CLASSES = 10  # the unrolled kernels below name the ten rows one by one
SCALE = [b / 255 for b in range(256)]  # byte -> pixel, as the talk divides
NONZERO = bytes([0]) + bytes([1]) * 255  # translate table: pixel -> 0 or 1
SLAB = 1000  # images per slice on CPython: bounds the temporary lists
ON_PYPY = sys.implementation.name == "pypy"


def load_images(data, count, size):
    """*count* images of *size* bytes -> ``(indices, values)`` pairs.

    ``indices`` are the positions (0..size-1) of the non-zero pixels in
    increasing order, ``values`` those pixels as floats in (0, 1]: lists
    on CPython, arrays (``H`` and ``d``, 2 + 8 bytes a pixel) on PyPy.
    """
    if ON_PYPY:
        return _load_by_loop(data, count, size)
    # The lists built here hold only numbers and cannot form cycles;
    # without the pause the collector would walk them over and over as
    # they pile up, which costs about as much as building them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_by_iterators(data, count, size)
    finally:
        if was_enabled:
            gc.enable()


def _load_by_iterators(data, count, size):
    """CPython: every per-pixel step runs in C, per image only slicing."""
    images = []
    for first in range(0, count, SLAB):
        block = data[first * size:min(first + SLAB, count) * size]
        values = list(map(SCALE.__getitem__, block.translate(None, b"\0")))
        indices = list(compress(cycle(range(size)), block))
        end = 0
        for start in range(0, len(block), size):
            begin = end
            end += size - block.count(0, start, start + size)
            images.append((indices[begin:end], values[begin:end]))
    return images


def _load_by_loop(data, count, size):
    """PyPy: a loop for the JIT, jumping over runs of zeros with find."""
    block = data[:count * size]
    find = block.translate(NONZERO).find
    code = "H" if size <= 1 << 16 else "q"
    images = []
    for start in range(0, count * size, size):
        stop = start + size
        n = size - block.count(0, start, stop)
        indices, values = array(code, [0]) * n, array("d", [0.0]) * n
        j, p = 0, find(1, start, stop)
        while j < n:
            b = block[p]
            if b:
                indices[j], values[j] = p - start, SCALE[b]
                j += 1
                p += 1
            else:
                p = find(1, p, stop)
        images.append((indices, values))
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
    """The ten logits of one image, each summed in pixel order."""
    r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 = weights
    indices, values = image
    z0 = z1 = z2 = z3 = z4 = z5 = z6 = z7 = z8 = z9 = 0.0
    for i, v in zip(indices, values):
        z0 += r0[i] * v
        z1 += r1[i] * v
        z2 += r2[i] * v
        z3 += r3[i] * v
        z4 += r4[i] * v
        z5 += r5[i] * v
        z6 += r6[i] * v
        z7 += r7[i] * v
        z8 += r8[i] * v
        z9 += r9[i] * v
    return [z0, z1, z2, z3, z4, z5, z6, z7, z8, z9]


def train(weights, images, labels, draws, lr):
    """One SGD step per index in *draws*; returns the summed MSE cost.

    The loop of ``logits`` is written out again here: called as a
    function, PyPy's JIT compiled the step 40 % slower for some seeds.
    """
    exp = math.exp
    r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 = weights
    cost = 0.0
    for index in draws:
        indices, values = images[index]
        z0 = z1 = z2 = z3 = z4 = z5 = z6 = z7 = z8 = z9 = 0.0
        for i, v in zip(indices, values):
            z0 += r0[i] * v
            z1 += r1[i] * v
            z2 += r2[i] * v
            z3 += r3[i] * v
            z4 += r4[i] * v
            z5 += r5[i] * v
            z6 += r6[i] * v
            z7 += r7[i] * v
            z8 += r8[i] * v
            z9 += r9[i] * v
        exps = [exp(z0), exp(z1), exp(z2), exp(z3), exp(z4),
                exp(z5), exp(z6), exp(z7), exp(z8), exp(z9)]
        total = sum(exps) + 1e-10
        diffs = [e / total for e in exps]
        diffs[labels[index]] -= 1.0
        cost += sum([d * d for d in diffs]) / CLASSES
        g0, g1, g2, g3, g4, g5, g6, g7, g8, g9 = [lr * d for d in diffs]
        for i, v in zip(indices, values):
            r0[i] -= g0 * v
            r1[i] -= g1 * v
            r2[i] -= g2 * v
            r3[i] -= g3 * v
            r4[i] -= g4 * v
            r5[i] -= g5 * v
            r6[i] -= g6 * v
            r7[i] -= g7 * v
            r8[i] -= g8 * v
            r9[i] -= g9 * v
    return cost


def predict(weights, images, indices):
    predictions = []
    for index in indices:
        z = logits(weights, images[index])
        predictions.append(z.index(max(z)))
    return predictions
