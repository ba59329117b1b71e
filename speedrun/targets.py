"""The speed targets the engines were written to meet, and their verdicts.

The talk's claims (``speedrun.claims``) are about the talk's code; the
targets below are about ours: each engine at its best, so that the
comparison is fair to both sides. Each is a ratio or a time measured in
one bench run, on this machine:

    tuned_pypy_vs_numpy_epoch   tuned on PyPy takes at most the time per
                                step of numpy on CPython (≤ 1.00×)
    tuned_vs_talk_epoch         tuned is at least 7× faster than talk,
                                both on CPython
    tuned_vs_talk_load_cpython  the tuned loader is at least 5× faster
                                than the talk's on CPython
    tuned_vs_talk_load_pypy     ... and faster than it on PyPy (> 1×)
    numpy_step                  numpy takes at most 12 µs per step on
                                CPython
    numpy_batch_crossover       the batch size from which numpy-batch on
                                CPython overtakes tuned on PyPy: a figure
                                to report, not a threshold

A target is *met* when the whole 95 % interval of its figure lies on
the right side of the threshold, *not met* when it lies wholly on the
wrong side, and *unclear* when it straddles the threshold. Without an
interval (a single process) the point decides and the entry says so.
This module reads a gathered summary and returns numbers; it runs and
prints nothing.
"""

from speedrun import claims

MET = "met"
NOT_MET = "not met"
UNCLEAR = "unclear"
NOT_MEASURED = "not measured"
REPORTED = "reported"


class Target:
    """One target: what it asks, the figure's unit, the threshold."""

    def __init__(self, target_id, text, unit, threshold, at_least):
        self.id = target_id
        self.text = text
        self.unit = unit
        self.threshold = threshold
        self.at_least = at_least  # the figure must reach the threshold


TARGETS = {t.id: t for t in (
    Target("tuned_pypy_vs_numpy_epoch", "tuned on PyPy: an epoch in no "
           "more time than numpy on CPython (tuned's time / numpy's)",
           "×", 1.0, at_least=False),
    Target("tuned_vs_talk_epoch", "tuned at least 7× faster than talk on "
           "CPython, one epoch", "×", 7.0, at_least=True),
    Target("tuned_vs_talk_load_cpython", "tuned loader at least 5× faster "
           "than talk's on CPython", "×", 5.0, at_least=True),
    Target("tuned_vs_talk_load_pypy", "tuned loader faster than talk's on "
           "PyPy", "×", 1.0, at_least=True),
    Target("numpy_step", "numpy at most 12 µs per training step on "
           "CPython", "µs", 12.0, at_least=False),
    Target("numpy_batch_crossover", "the batch size from which "
           "numpy-batch on CPython overtakes tuned on PyPy", "batch",
           None, at_least=False),
)}


def build(summary):
    """The ``targets`` list of summary.json, in the order above."""
    rows = {(r["interpreter"], r["benchmark"]): r for r in summary["rows"]}
    cpython = summary["reference_interpreter"]
    pypy = summary["pypy_interpreter"]

    def row(label, name):
        return rows.get((label, name))

    return [
        ratio("tuned_pypy_vs_numpy_epoch", row(pypy, "epoch/tuned"),
              row(cpython, "epoch/numpy")),
        ratio("tuned_vs_talk_epoch", row(cpython, "epoch/talk"),
              row(cpython, "epoch/tuned")),
        ratio("tuned_vs_talk_load_cpython", row(cpython, "load/talk"),
              row(cpython, "load/tuned")),
        ratio("tuned_vs_talk_load_pypy", row(pypy, "load/talk"),
              row(pypy, "load/tuned")),
        step_time("numpy_step", row(cpython, "epoch/numpy")),
        batch_crossover(summary.get("sweep")),
    ]


def entry(target_id, measured=None, interval=None, status=None, **extra):
    target = TARGETS[target_id]
    low, high = interval if interval is not None else (None, None)
    result = {"id": target_id, "target": target.text, "unit": target.unit,
              "threshold": target.threshold, "at_least": target.at_least,
              "measured": measured, "ci_low": low, "ci_high": high,
              "status": status or verdict(target, measured, interval),
              "reason": None}
    result.update(extra)
    return result


def verdict(target, measured, interval):
    """Met, not met or unclear, as the module docstring defines them."""
    low, high = interval if interval is not None else (measured, measured)
    good = (low >= target.threshold) if target.at_least else (
        high <= target.threshold)
    bad = (high < target.threshold) if target.at_least else (
        low > target.threshold)
    return MET if good else NOT_MET if bad else UNCLEAR


def _unusable(target_id, *rows):
    for row in rows:
        if row is None:
            return entry(target_id, status=NOT_MEASURED,
                         reason="a row it needs is not in this run")
        if row["status"] not in ("ok", "incomplete") or "warm" not in row:
            return entry(target_id, status=NOT_MEASURED, reason=(
                f"{row['benchmark']} under {row['interpreter']}: "
                f"{row['reason'] or row['status']}"))
    return None


def ratio(target_id, numerator, denominator):
    """numerator's time / denominator's, with its bootstrap interval."""
    blocked = _unusable(target_id, numerator, denominator)
    if blocked:
        return blocked
    measured = numerator["warm"]["mean"] / denominator["warm"]["mean"]
    interval = claims.ratio_interval(numerator["process_means"],
                                     denominator["process_means"],
                                     f"target-{target_id}")
    return entry(target_id, measured, interval, rows=[
        f"{r['benchmark']} ({r['interpreter']})"
        for r in (numerator, denominator)], reason=None if interval else
        "fewer than 2 processes on a side: judged on the point")


def step_time(target_id, row):
    """A row's warm time per step in µs, with its bootstrap interval."""
    blocked = _unusable(target_id, row)
    if blocked:
        return blocked
    means = [1e6 * m for m in row["process_means"]]
    interval = claims.mean_interval(means, f"target-{target_id}")
    return entry(target_id, 1e6 * row["warm"]["mean"], interval,
                 rows=[f"{row['benchmark']} ({row['interpreter']})"],
                 reason=None if interval else
                 "a single process: judged on the point")


def batch_crossover(sweep):
    """The sweep's crossover batch size, or why there is none."""
    target_id = "numpy_batch_crossover"
    if not sweep:
        return entry(target_id, status=NOT_MEASURED,
                     reason="no batch-size sweep in this run")
    if sweep["status"] != "ok":
        return entry(target_id, status=NOT_MEASURED, reason=sweep["reason"])
    found = sweep["crossover"]
    largest = max(sweep["batches"])
    if found is None:
        return entry(target_id, status=REPORTED, reason=(
            f"numpy-batch did not overtake tuned on PyPy up to a batch of "
            f"{largest}"))
    note = "" if found["significant"] else " (not significant)"
    return entry(target_id, found["batch"], status=REPORTED,
                 ratio=found["ratio"], reason=(
                     f"at a batch of {found['batch']} numpy-batch is "
                     f"{found['ratio']:.2f}× faster per step than tuned on "
                     f"PyPy{note}, and faster at every larger batch size of "
                     f"the sweep"))
