"""The claims: bands, bootstrap intervals and verdicts, on made-up numbers.

Every figure here is synthetic (``tests/benchfiles.py``); nothing is
timed, so these tests say nothing about speed and run in milliseconds.
"""

import pytest

from benchfiles import TIMES, failed_check_record, make_run_folder
from speedrun import claims, gather


def claim(summary, claim_id):
    return next(c for c in summary["claims"] if c["id"] == claim_id)


def test_about_band_is_twenty_percent_either_side():
    assert claims.about(15.0) == pytest.approx((12.0, 18.0))
    assert claims.CLAIMS["pypy_vs_cpython_epoch"].band == pytest.approx(
        (12.0, 18.0))
    assert claims.CLAIMS["pypy_pure_vs_numpy_epoch"].band == pytest.approx(
        (0.96, 1.44))
    assert claims.CLAIMS["validation_accuracy"].band == pytest.approx(
        (92.95, 94.95))


@pytest.mark.parametrize("interval, expected", [
    ((13.0, 17.0), claims.REPRODUCED),
    ((12.0, 18.0), claims.REPRODUCED),
    ((18.5, 25.0), claims.NOT_REPRODUCED),
    ((5.0, 11.9), claims.NOT_REPRODUCED),
    ((11.0, 13.0), claims.INCONCLUSIVE),
    ((10.0, 20.0), claims.INCONCLUSIVE),
    (None, claims.INCONCLUSIVE),
])
def test_verdict_weighs_the_whole_interval(interval, expected):
    assert claims.verdict((12.0, 18.0), interval) == expected


def test_verdict_without_a_figure_is_no_figure():
    assert claims.verdict(None, (1.0, 2.0)) == claims.NO_FIGURE


def test_ratio_interval_is_seeded_and_brackets_the_ratio():
    slow = [10.0, 10.4, 9.8, 10.1]
    fast = [1.0, 1.1, 0.95]  # unequal sample counts are fine
    first = claims.ratio_interval(slow, fast, "x")
    assert first == claims.ratio_interval(slow, fast, "x")
    low, high = first
    point = claims.mean(slow) / claims.mean(fast)
    assert low <= point <= high
    assert high / low < 1.3


def test_ratio_interval_differs_between_claim_ids():
    slow, fast = [10.0, 10.4, 9.8, 10.1], [1.0, 1.1, 0.95]
    assert claims.ratio_interval(slow, fast, "a") != claims.ratio_interval(
        slow, fast, "b")


def test_ratio_interval_needs_two_processes_a_side():
    assert claims.ratio_interval([1.0], [1.0, 2.0], "x") is None
    assert claims.mean_interval([93.0], "x") is None


def test_mean_interval_of_identical_samples_is_a_point():
    assert claims.mean_interval([94.0, 94.0, 94.0], "x") == (94.0, 94.0)


def test_wide_interval_is_inconclusive():
    noisy = [1.0, 30.0, 2.0, 25.0]
    interval = claims.ratio_interval(noisy, [1.0, 1.0], "x")
    assert claims.verdict(claims.about(15.0), interval) == \
        claims.INCONCLUSIVE


def test_gathered_claims_from_synthetic_run(tmp_path):
    summary = gather.gather(make_run_folder(str(tmp_path / "run")))
    speed = claim(summary, "pypy_vs_cpython_epoch")
    assert speed["measured"] == pytest.approx(900 / 60, rel=0.05)
    assert speed["verdict"] == claims.REPRODUCED
    assert speed["ci_low"] <= speed["measured"] <= speed["ci_high"]
    assert speed["samples"] == [3, 3]


def test_pure_python_claim_takes_the_faster_engine(tmp_path):
    summary = gather.gather(make_run_folder(str(tmp_path / "run")))
    best = claim(summary, "pypy_pure_vs_numpy_epoch")
    talk = claim(summary, "pypy_pure_vs_numpy_epoch_talk")
    tuned = claim(summary, "pypy_pure_vs_numpy_epoch_tuned")
    assert best["engine"] == "tuned"
    assert best["measured"] == tuned["measured"]
    assert tuned["measured"] == pytest.approx(18 / 15, rel=0.05)
    assert talk["measured"] == pytest.approx(60 / 15, rel=0.05)
    assert talk["verdict"] == claims.NOT_REPRODUCED


def test_claim_far_from_the_talk_is_not_reproduced(tmp_path):
    times = {label: dict(values) for label, values in TIMES.items()}
    times["pypy"]["epoch/talk"] = 900e-6 / 40  # 40× instead of 15×
    summary = gather.gather(make_run_folder(str(tmp_path / "run"), times))
    assert claim(summary, "pypy_vs_cpython_epoch")["verdict"] == \
        claims.NOT_REPRODUCED


def test_invalid_row_makes_the_claim_invalid(tmp_path):
    records = [failed_check_record("pypy", "epoch/talk")]
    folder = make_run_folder(str(tmp_path / "run"), records=records)
    summary = gather.gather(folder)
    speed = claim(summary, "pypy_vs_cpython_epoch")
    assert speed["verdict"] == claims.INVALID
    assert speed["measured"] is None
    assert "reference bb" in speed["reason"]


def test_missing_pypy_marks_its_claims_not_measured(tmp_path):
    message = "pypy3 is not on PATH; install it with apt-get"
    folder = make_run_folder(
        str(tmp_path / "run"), labels=("cpython",), talk_accuracy=(),
        missing=[{"kind": "interpreter", "name": "pypy3",
                  "message": message}])
    summary = gather.gather(folder)
    for claim_id in ("pypy_vs_cpython_epoch", "pypy_pure_vs_numpy_epoch",
                     "pypy_vs_cpython_load"):
        found = claim(summary, claim_id)
        assert found["verdict"] == claims.NOT_MEASURED
        assert found["reason"] == message


def test_accuracy_claim_is_the_mean_over_seeds(tmp_path):
    summary = gather.gather(make_run_folder(str(tmp_path / "run")))
    accuracy = claim(summary, "validation_accuracy")
    assert accuracy["measured"] == pytest.approx((94.05 + 93.75 + 94.1) / 3)
    assert accuracy["verdict"] == claims.REPRODUCED
    assert accuracy["fingerprint_check"] == "identical"


def test_accuracy_claim_invalid_when_talk_weights_differ(tmp_path):
    folder = make_run_folder(str(tmp_path / "run"))
    from benchfiles import accuracy_document
    from speedrun import results
    results.write(str(tmp_path / "run" / "accuracy-talk.json"),
                  accuracy_document("talk", [94.05], {0: "different"}))
    accuracy = claim(gather.gather(folder), "validation_accuracy")
    assert accuracy["verdict"] == claims.INVALID


def test_accuracy_claim_not_measured_without_runs(tmp_path):
    folder = make_run_folder(str(tmp_path / "run"), accuracy=(),
                             talk_accuracy=())
    accuracy = claim(gather.gather(folder), "validation_accuracy")
    assert accuracy["verdict"] == claims.NOT_MEASURED


def test_claims_entries_have_the_summary_fields(tmp_path):
    summary = gather.gather(make_run_folder(str(tmp_path / "run")))
    ids = [c["id"] for c in summary["claims"]]
    for wanted in ("pypy_vs_cpython_epoch", "pypy_pure_vs_numpy_epoch",
                   "validation_accuracy"):
        assert wanted in ids
    for entry in summary["claims"]:
        assert {"id", "talk", "measured", "ci_low", "ci_high",
                "verdict"} <= set(entry)
