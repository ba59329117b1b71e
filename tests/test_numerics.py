"""Numbers that must not go wrong silently: extreme logits, divergence,
and the NumPy reference's float64."""

import warnings

import pytest

import idxfiles
from conftest import engine_params, have_engine
from speedrun.dataset import load_dataset
from speedrun.engines import get_engine
from speedrun.training import Diverged, train_run

SHIFTED = ("tuned", "numpy")  # engines whose softmax shifts large logits
TOLERANCE = 1e-12  # two float64 softmaxes of the same logits


def softmax_quietly(name, z):
    """*name*'s softmax of *z* as floats; any warning fails the test."""
    engine = get_engine(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if name == "numpy":
            import numpy

            with numpy.errstate(all="warn", under="ignore"):  # the defaults
                return [float(p) for p in engine.softmax(z)]
        return [float(p) for p in engine.softmax(z)]


# 13. Extreme logits

@pytest.mark.parametrize("name", engine_params(SHIFTED))
def test_softmax_huge_logit_is_one_hot(name):
    p = softmax_quietly(name, [1000.0, 0.0, 0.0])
    assert p == pytest.approx([1.0, 0.0, 0.0], abs=1e-9)


@pytest.mark.parametrize("name", engine_params(SHIFTED))
def test_softmax_very_negative_equal_logits_are_uniform(name):
    p = softmax_quietly(name, [-1000.0, -1000.0])
    assert p == pytest.approx([0.5, 0.5], rel=1e-9)


EXTREMES = [[1000.0, 0.0, 0.0], [-1000.0, -1000.0], [1e4, -1e4],
            [-1e4, -1e4, 0.0], [709.7, 709.7], [699.9, 0.0],
            [-699.9, -699.9], [-700.0, -700.0], [0.0] * 10]


@pytest.mark.skipif(not have_engine("numpy"), reason="NumPy not installed")
@pytest.mark.parametrize("z", EXTREMES, ids=str)
def test_softmax_tuned_and_numpy_agree_on_extremes(z):
    tuned, reference = softmax_quietly("tuned", z), softmax_quietly("numpy", z)
    assert tuned == pytest.approx(reference, rel=TOLERANCE, abs=TOLERANCE)
    assert all(0.0 <= p <= 1.0 for p in tuned)


def test_softmax_talk_keeps_the_talks_overflow():
    with pytest.raises(OverflowError):
        get_engine("talk").softmax([1000.0, 0.0, 0.0])


# 14. A learning rate far too large

@pytest.fixture
def bright_folder(tmp_path):
    """10 × 10 images with every pixel 255: with lr 50 a logit passes
    exp's range (about 709.78) at the second step, whatever the draws."""
    full = idxfiles.images(4, 10, 10, payload=b"\xff" * 400)
    test = idxfiles.images(25, 10, 10, payload=b"\xff" * 2500)
    return idxfiles.write_folder(
        tmp_path, train_images=full,
        train_labels=idxfiles.labels([0, 1, 2, 3]), test_images=test)


@pytest.mark.parametrize("name", engine_params())
def test_train_lr_50_diverges_with_step_epoch_and_rate(name, bright_folder):
    data = load_dataset(bright_folder)
    with pytest.raises(Diverged) as caught:
        train_run(get_engine(name), data, seed=1, epochs=2, lr=50.0,
                  steps=10)
    error = caught.value
    assert error.epoch == 1
    assert 1 <= error.first_step <= error.last_step <= 10
    if not hasattr(get_engine(name), "BATCH"):  # one update per draw
        assert error.first_step == error.last_step
        assert (f"epoch 1, step {error.first_step}, at learning rate 50"
                in str(error))
    assert error.run.stage_seconds["epochs"] == []  # no NaN epoch timed
    assert error.run.history == []


@pytest.mark.parametrize("name", engine_params())
def test_train_small_lr_on_the_same_data_does_not_diverge(name,
                                                          bright_folder):
    run = train_run(get_engine(name), load_dataset(bright_folder), seed=1,
                    epochs=2, lr=0.002, steps=10)
    assert len(run.stage_seconds["epochs"]) == 2


# 15. The NumPy reference computes in float64

@pytest.fixture
def np():
    return pytest.importorskip("numpy", reason="the float64 checks need "
                                                "NumPy")


@pytest.fixture
def reference(np):
    return get_engine("numpy")


def test_numpy_weights_are_float64_from_float32(reference, np):
    values = np.linspace(-0.1, 0.1, 60, dtype=np.float32)
    weights = reference.make_weights(values)
    assert weights.dtype == np.float64 and weights.shape == (10, 6)


def test_numpy_images_load_as_float64(reference, np):
    images = reference.load_images(idxfiles.pixels(2), 2, 6)
    assert images.dtype == np.float64
    assert images[0].tolist() == [b / 255 for b in idxfiles.pixels(1)]


def test_numpy_softmax_of_float32_is_float64(reference, np):
    p = reference.softmax(np.array([1000.0, 0.0, 0.0], np.float32))
    assert p.dtype == np.float64


def test_numpy_train_converts_float32_images(reference, np):
    images64 = reference.load_images(idxfiles.pixels(4), 4, 6)
    images32 = images64.astype(np.float32)
    labels = reference.load_labels(bytes([1, 2, 3, 4]), 4)
    start = [0.01 * k for k in range(60)]
    from32 = reference.make_weights(start)
    from64 = reference.make_weights(start)
    draws = [0, 1, 2, 3]
    cost32 = reference.train(from32, images32, labels, draws, 0.5)
    cost64 = reference.train(from64, images32.astype(np.float64), labels,
                             draws, 0.5)
    assert from32.dtype == np.float64
    assert type(cost32) is float and cost32 == cost64
    assert from32.tolist() == from64.tolist()
    assert reference.predict(from32, images32, [0, 1, 2]) == \
        reference.predict(from64, images32.astype(np.float64), [0, 1, 2])
