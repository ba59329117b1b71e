"""The targets of the engines: verdicts on made-up figures and on a run."""

import pytest

from benchfiles import add_batch_and_memory, make_run_folder
from speedrun import gather, targets


def by_id(summary):
    return {t["id"]: t for t in summary["targets"]}


@pytest.mark.parametrize("target_id, measured, interval, expected", [
    ("tuned_vs_talk_epoch", 9.0, (8.0, 10.0), targets.MET),
    ("tuned_vs_talk_epoch", 7.5, (6.5, 8.5), targets.UNCLEAR),
    ("tuned_vs_talk_epoch", 6.0, (5.5, 6.5), targets.NOT_MET),
    ("numpy_step", 11.0, (10.5, 11.5), targets.MET),
    ("numpy_step", 12.0, (11.5, 12.5), targets.UNCLEAR),
    ("numpy_step", 13.0, (12.5, 13.5), targets.NOT_MET),
    ("tuned_pypy_vs_numpy_epoch", 0.9, None, targets.MET),
    ("tuned_vs_talk_load_pypy", 0.9, None, targets.NOT_MET),
])
def test_verdict_weighs_the_interval_against_the_threshold(
        target_id, measured, interval, expected):
    target = targets.TARGETS[target_id]
    assert targets.verdict(target, measured, interval) == expected


def test_targets_of_a_synthetic_run(tmp_path):
    folder = add_batch_and_memory(make_run_folder(str(tmp_path / "r")))
    found = by_id(gather.gather(folder))
    assert list(found) == list(targets.TARGETS)
    epoch = found["tuned_vs_talk_epoch"]
    assert epoch["measured"] == pytest.approx(900 / 100, rel=0.03)
    assert epoch["status"] == targets.MET
    assert epoch["rows"] == ["epoch/talk (cpython)", "epoch/tuned (cpython)"]
    pure = found["tuned_pypy_vs_numpy_epoch"]
    assert pure["measured"] == pytest.approx(18 / 15, rel=0.03)
    assert pure["status"] == targets.NOT_MET
    step = found["numpy_step"]
    assert step["measured"] == pytest.approx(15.0, rel=0.03)
    assert step["status"] == targets.NOT_MET
    assert found["tuned_vs_talk_load_pypy"]["status"] == targets.UNCLEAR
    crossover = found["numpy_batch_crossover"]
    assert (crossover["measured"], crossover["status"]) == (4,
                                                           targets.REPORTED)


def test_targets_without_pypy_are_not_measured(tmp_path):
    folder = make_run_folder(str(tmp_path / "r"), labels=("cpython",))
    found = by_id(gather.gather(folder))
    assert found["tuned_pypy_vs_numpy_epoch"]["status"] == \
        targets.NOT_MEASURED
    assert found["tuned_vs_talk_epoch"]["status"] == targets.MET
    assert found["numpy_batch_crossover"]["reason"] == \
        "no batch-size sweep in this run"


def test_crossover_never_reached_is_reported_with_the_largest_batch(
        tmp_path):
    slow = {1: 90e-6, 8: 60e-6, 128: 30e-6}  # tuned on PyPy: 18 µs
    folder = add_batch_and_memory(make_run_folder(str(tmp_path / "r")),
                                  sweep_times=slow)
    crossover = by_id(gather.gather(folder))["numpy_batch_crossover"]
    assert crossover["measured"] is None
    assert crossover["status"] == targets.REPORTED
    assert "up to a batch of 128" in crossover["reason"]
