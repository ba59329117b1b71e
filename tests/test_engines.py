"""The three engines: one interface, the same numbers.

Kernels are checked on tiny inputs against a reference written here from
the formulas of the talk (``math.fsum`` sums, so the reference is the
more exact one): logits z_k = Σ_i w_ki·x_i, p = e^z / (Σ e^z + 1e-10),
cost Σ_k (p_k − y_k)² / 10, update w_ki −= lr · x_i · (p_k − y_k).
``talk`` and ``tuned`` must agree bit for bit; the reference and
``numpy`` within ``KERNEL_TOLERANCE``.
"""

import ast
import math
import os
import sys

import pytest
from conftest import engine_params, sparse_to_dense

import speedrun.engines as engines_package
from speedrun.engines import (ENGINES, EngineUnavailable, available_engines,
                              get_engine)

INTERFACE = ["NAME", "SUMMARY", "load_images", "load_labels", "make_weights",
             "weight_values", "softmax", "train", "predict"]
CLASSES = 10
# Kernels on a handful of values: a few roundings of 1e-16 at most.
KERNEL_TOLERANCE = 1e-13
ENGINE_FILES = {
    name: os.path.join(os.path.dirname(engines_package.__file__),
                       module.rsplit(".", 1)[1] + ".py")
    for name, module in ENGINES.items()
}


def public_definitions(path):
    """Top-level public names of a module file, in source order.

    Read from the source, not imported, so the NumPy engine is checked
    even where NumPy is missing.
    """
    with open(path, encoding="utf-8") as stream:
        tree = ast.parse(stream.read(), filename=path)
    names = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names[node.name] = [arg.arg for arg in node.args.args]
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = None
    return {name: args for name, args in names.items()
            if not name.startswith("_")}


@pytest.mark.parametrize("name", sorted(ENGINE_FILES))
def test_engine_defines_interface_in_order(name):
    defined = public_definitions(ENGINE_FILES[name])
    assert [n for n in defined if n in INTERFACE] == INTERFACE


def test_engines_interface_functions_take_same_arguments():
    reference = public_definitions(ENGINE_FILES["talk"])
    for name, path in ENGINE_FILES.items():
        defined = public_definitions(path)
        for function in INTERFACE:
            assert defined[function] == reference[function], (name, function)


@pytest.mark.parametrize("name", engine_params())
def test_engine_name_matches_registry(name):
    engine = get_engine(name)
    assert engine.NAME == name
    assert engine.SUMMARY


def test_get_engine_unknown_name_lists_choices():
    with pytest.raises(EngineUnavailable, match="talk, tuned, numpy"):
        get_engine("fortran")


def test_numpy_engine_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)  # import fails
    numpy_engines = [name for name in ENGINES if name.startswith("numpy")]
    for name in numpy_engines:
        monkeypatch.delitem(sys.modules, ENGINES[name], raising=False)
    for name in numpy_engines:
        with pytest.raises(EngineUnavailable, match="pip install numpy"):
            get_engine(name)
    assert available_engines() == ["talk", "tuned"]


def dense(name, images, size):
    """Any engine's loaded images as lists of floats, 0.0 included.

    ``tuned`` keeps ``(indices, values)`` of the non-zero pixels.
    """
    if name == "numpy":
        return images.tolist()
    if name == "tuned":
        return sparse_to_dense(images, size)
    return [list(image) for image in images]


@pytest.mark.parametrize("name", engine_params())
def test_load_images_scales_bytes_exactly(name, mnist):
    engine = get_engine(name)
    count, size = 20, mnist.pixels
    data = mnist.train_images.data
    loaded = dense(name, engine.load_images(data, count, size), size)
    expected = [[data[n * size + i] / 255 for i in range(size)]
                for n in range(count)]
    assert loaded == expected
    assert max(max(row) for row in loaded) == 1.0


@pytest.mark.parametrize("name", engine_params())
def test_load_labels_reads_first_labels(name, mnist):
    engine = get_engine(name)
    labels = engine.load_labels(mnist.train_labels.data, 8)
    assert [int(label) for label in labels] == [5, 0, 4, 1, 9, 2, 1, 3]


@pytest.mark.parametrize("name", engine_params())
def test_weights_round_trip_exactly(name, rng):
    engine = get_engine(name)
    values = [rng.uniform(-1, 1) for _ in range(CLASSES * 7 - 1)] + [-0.0]
    back = engine.weight_values(engine.make_weights(values))
    assert back == values
    assert math.copysign(1.0, back[-1]) == -1.0


def reference_softmax(z):
    exps = [math.exp(v) for v in z]
    total = math.fsum(exps) + 1e-10
    return [e / total for e in exps]


@pytest.mark.parametrize("name", engine_params())
def test_softmax_matches_reference(name, rng):
    engine = get_engine(name)
    for _ in range(50):
        z = [rng.uniform(-30.0, 30.0) for _ in range(CLASSES)]
        p = [float(v) for v in engine.softmax(z)]
        assert p == pytest.approx(reference_softmax(z), abs=KERNEL_TOLERANCE)
        assert math.fsum(p) == pytest.approx(1.0, abs=1e-9)


def test_softmax_talk_and_tuned_same_bits(rng):
    talk, tuned = get_engine("talk"), get_engine("tuned")
    for _ in range(200):
        z = [rng.uniform(-50.0, 50.0) for _ in range(CLASSES)]
        assert tuned.softmax(z) == talk.softmax(z)


def test_softmax_talk_overflows_like_the_talk():
    with pytest.raises(OverflowError):
        get_engine("talk").softmax([1000.0] + [0.0] * 9)


@pytest.mark.parametrize("name", engine_params(["tuned", "numpy"]))
def test_softmax_large_logit_is_shifted(name):
    p = [float(v) for v in get_engine(name).softmax([1000.0] + [0.0] * 9)]
    # e^0 / (e^0 + 1e-10) after the shift, and e^-1000 is 0.0
    assert p == pytest.approx([1.0] + [0.0] * 9, abs=1e-9)
    assert p[1:] == [0.0] * 9


def tiny_set(rng, count=6, size=12):
    """*count* images of *size* random bytes (a third of them zero)."""
    data = bytes(rng.choice([0, 0, 0, 1, 17, 128, 200, 255, rng.randrange(256)])
                 for _ in range(count * size))
    labels = bytes(rng.randrange(CLASSES) for _ in range(count))
    return data, labels, count, size


def reference_train(values, data, labels, size, draws, lr):
    """The talk's SGD on flat class-major *values*; returns (values, cost)."""
    weights = list(values)
    cost = 0.0
    for index in draws:
        x = [data[index * size + i] / 255 for i in range(size)]
        z = [math.fsum(weights[k * size + i] * x[i] for i in range(size))
             for k in range(CLASSES)]
        p = reference_softmax(z)
        d = [p[k] - (1.0 if k == labels[index] else 0.0)
             for k in range(CLASSES)]
        cost += math.fsum(v * v for v in d) / CLASSES
        for k in range(CLASSES):
            for i in range(size):
                weights[k * size + i] -= lr * x[i] * d[k]
    return weights, cost


def engine_train(name, values, data, labels, count, size, draws, lr):
    engine = get_engine(name)
    weights = engine.make_weights(values)
    cost = engine.train(weights, engine.load_images(data, count, size),
                        engine.load_labels(labels, count), draws, lr)
    return engine.weight_values(weights), cost


@pytest.mark.parametrize("name", engine_params())
def test_train_matches_reference(name, rng):
    data, labels, count, size = tiny_set(rng)
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
    draws = [rng.randrange(count) for _ in range(25)]
    lr = 0.05  # large, so that the updates show in every weight
    expected, expected_cost = reference_train(values, data, labels, size,
                                              draws, lr)
    weights, cost = engine_train(name, values, data, labels, count, size,
                                 draws, lr)
    assert weights == pytest.approx(expected, abs=KERNEL_TOLERANCE)
    assert cost == pytest.approx(expected_cost, abs=KERNEL_TOLERANCE)
    assert weights != values


def test_train_talk_and_tuned_same_bits(rng):
    for _ in range(5):
        data, labels, count, size = tiny_set(rng, count=8, size=30)
        values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
        draws = [rng.randrange(count) for _ in range(40)]
        talk = engine_train("talk", values, data, labels, count, size,
                            draws, 0.01)
        tuned = engine_train("tuned", values, data, labels, count, size,
                             draws, 0.01)
        assert tuned == talk


@pytest.mark.parametrize("name", engine_params())
def test_train_on_blank_image_changes_no_weight(name, rng):
    size = 16
    values = [rng.uniform(-0.1, 0.1) for _ in range(CLASSES * size)]
    weights, cost = engine_train(name, values, bytes(size), bytes([3]), 1,
                                 size, [0, 0], 0.5)
    assert weights == values
    # Blank image: every logit is 0, p_k = 1/(10 + 1e-10) for all k.
    p = 1 / (CLASSES + 1e-10)
    assert cost == pytest.approx(2 * ((1 - p) ** 2 + 9 * p * p) / CLASSES,
                                 rel=1e-12)


@pytest.mark.parametrize("name", engine_params())
def test_train_overflow_raises_overflow_error(name):
    size = 20
    values = [40.0] * (CLASSES * size)  # every logit 800, past exp's 709.78
    with pytest.raises(OverflowError):
        engine_train(name, values, bytes([255]) * size, bytes([1]), 1, size,
                     [0], 1.0)


@pytest.mark.parametrize("name", engine_params())
def test_predict_matches_reference_argmax(name, mnist_slice, small_run):
    engine = get_engine(name)
    values = small_run("tuned").weights
    size = mnist_slice.pixels
    data = mnist_slice.test_images.data
    indices = list(range(0, 1000, 7))
    images = engine.load_images(data, 1000, size)
    found = engine.predict(engine.make_weights(values), images, indices)
    expected = []
    for index in indices:
        x = [data[index * size + i] / 255 for i in range(size)]
        z = [math.fsum(values[k * size + i] * x[i] for i in range(size))
             for k in range(CLASSES)]
        expected.append(z.index(max(z)))
    assert list(found) == expected
