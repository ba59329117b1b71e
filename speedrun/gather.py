"""Gather a bench run's raw files into rows, claims and ``summary.json``.

Reads what ``nox -s bench`` left in ``results/<run id>/`` (see
``speedrun.results``) and returns one dict: a row per stage, engine and
interpreter with its figures, the claims with their verdicts, and the
facts of the run (machine, interpreters, NumPy and its BLAS, dataset
checksums, commit, profile, protocol). Figures are pyperf's values,
seconds per item (per training step or per image):

    warm   all values after each process's warmups: the steady state
    cold   the first warmup of each process: a fresh interpreter, for
           PyPy a JIT that has compiled nothing yet

A stage total is the warm figure times the stage's full size (60,000
steps, 10,000 images, 60,000 images); it is marked extrapolated when
fewer items were timed. This module runs no engine and prints nothing;
it works on a folder copied from another machine.
"""

import math
import os

from speedrun import claims, results

STAGES = ("epoch", "infer", "load")
# The engines that do the talk's per-sample work and so can be checked
# against its bits or within tolerance.
# TODO: numpy-batch trains on mini-batches, a different computation whose
# weights cannot pass the per-sample equal-work check; it is left out of
# the bench until it has a reference of its own.
ENGINES = ("talk", "tuned", "numpy")
FULL_ITEMS = {"epoch": 60000, "infer": 10000, "load": 60000}
ITEM = {"epoch": "step", "infer": "image", "load": "image"}
CHUNK_STEPS = 500

# pyperf's own limits for an unstable benchmark
UNSTABLE_STDEV = 0.10  # std dev at or above 10 % of the mean
UNSTABLE_SPREAD = 0.50  # min or max at least 50 % away from the mean
SHORT_VALUE = 0.001  # one timed call under 1 ms (seconds)
RATIO_RESAMPLES = 2000  # table ratios; the claims use claims.RESAMPLES

OK = "ok"
INCOMPLETE = "incomplete"  # fewer processes than planned; figures kept
INVALID = "invalid"
FAILED = "failed"
MISSING = "missing"
NOT_RUN = "not run"


def gather(folder):
    """The summary dict of the run in *folder*.

    Raises ``results.ResultError`` naming the file when a file is
    corrupt, of another format or of an unknown version.
    """
    run = results.read(os.path.join(folder, results.RUN), "run")
    records = _optional(folder, results.PROCESSES, "processes")
    records = records["processes"] if records else []
    rows = []
    for interp in run["interpreters"]:
        path = os.path.join(folder, interp["pyperf_file"])
        found = results.read_pyperf(path) if os.path.exists(path) else {}
        for stage in STAGES:
            for engine in ENGINES:
                rows.append(build_row(run, interp, stage, engine,
                                      found.get(f"{stage}/{engine}", []),
                                      records))
    _add_ratios(run, rows)
    accuracy = gather_accuracy(folder, run)
    summary = results.document(
        "summary", run_id=run["run_id"], status=run["status"],
        results_root=run.get("results_root"),
        stopped=run.get("stopped"), profile=run["profile"],
        protocol=run["protocol"], command=run.get("command"),
        started=run.get("started"), finished=run.get("finished"),
        machine=run.get("machine"), commit=run.get("commit"),
        dataset=run.get("dataset"), interpreters=run["interpreters"],
        missing=run.get("missing", []),
        reference_interpreter=_reference_label(run),
        pypy_interpreter=_pypy_label(run), rows=rows, accuracy=accuracy)
    summary["claims"] = build_claims(summary)
    return summary


def write_summary(folder, summary):
    results.write(os.path.join(folder, results.SUMMARY), summary)


def _optional(folder, name, kind):
    path = os.path.join(folder, name)
    return results.read(path, kind) if os.path.exists(path) else None


def _reference_label(run):
    """The CPython the ratios are taken against: the first one listed."""
    labels = [i["label"] for i in run["interpreters"]
              if i["probe"]["implementation"] == "cpython"]
    return labels[0] if labels else None


def _pypy_label(run):
    labels = [i["label"] for i in run["interpreters"]
              if i["probe"]["implementation"] == "pypy"]
    return labels[0] if labels else None


# -- Rows ----------------------------------------------------------------


def build_row(run, interp, stage, engine, runs, records):
    """One stage × engine × interpreter row from its pyperf runs."""
    label = interp["label"]
    name = f"{stage}/{engine}"
    protocol = run["protocol"]
    count = protocol["counts"][stage]
    row = {"stage": stage, "engine": engine, "benchmark": name,
           "interpreter": label, "item": ITEM[stage], "items": count,
           "full_items": FULL_ITEMS[stage],
           "extrapolated": count < FULL_ITEMS[stage],
           "planned_processes": protocol["processes"],
           "processes": len(runs), "status": OK, "reason": None}
    mine = [r for r in records
            if r["interpreter"] == label and r["benchmark"] == name]
    if engine not in interp["probe"].get("engines", ENGINES):
        row.update(status=MISSING, reason=_missing_reason(run, label,
                                                          engine))
        return row
    failed = [r for r in mine if r["status"] == "check failed"]
    if failed:
        row.update(status=INVALID, reason=_check_detail(failed[0]))
        return row
    if runs:
        row.update(figures(runs))
        row["stage_seconds"] = row["warm"]["mean"] * FULL_ITEMS[stage]
        row["unstable"] = unstable(row, runs, count)
        row["check"] = _check_summary(mine)
    if len(runs) < protocol["processes"]:
        crashed = [r for r in mine if r["status"] == "failed"]
        if not runs and crashed:
            row.update(status=FAILED, reason=(
                f"the benchmark process failed (exit status "
                f"{crashed[0]['returncode']}); see {crashed[0]['log']}"))
        elif not runs:
            row.update(status=NOT_RUN, reason="not run: the run stopped "
                                              "before this row")
        else:
            row.update(status=INCOMPLETE, reason=(
                f"{len(runs)} of {protocol['processes']} processes "
                f"finished"))
    if stage == "epoch":
        row["chunks"] = chunk_curves(mine, protocol["warmups"])
    return row


def _missing_reason(run, label, engine):
    for item in run.get("missing", []):
        if item.get("interpreter") == label and item.get("engine") == engine:
            return item["message"]
    return f"engine {engine!r} does not import under {label}"


def _check_detail(record):
    check = (record.get("record") or {}).get("check") or {}
    return (f"result differs from the reference "
            f"({check.get('detail', 'no detail recorded')}); no speed is "
            f"reported")


def _check_summary(records):
    checks = [(r.get("record") or {}).get("check") for r in records]
    checks = [c for c in checks if c]
    if not checks:
        return None
    return {"method": checks[0]["method"], "ok": all(c["ok"] for c in
                                                     checks),
            "detail": checks[-1]["detail"], "processes": len(checks)}


def stats(samples):
    """Mean, sample std dev, min, max and median of *samples*."""
    n = len(samples)
    mean = sum(samples) / n
    spread = 0.0
    if n > 1:
        spread = math.sqrt(sum((v - mean) ** 2 for v in samples) / (n - 1))
    ordered = sorted(samples)
    middle = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    return {"mean": mean, "stdev": spread, "min": ordered[0],
            "max": ordered[-1], "median": middle, "n": n}


def figures(runs):
    """The warm and cold figures of a row, per item, in seconds."""
    values = [v for run in runs for v in run.values]
    firsts = [run.warmups[0] for run in runs if run.warmups]
    warm = stats(values)
    return {
        "values": len(values), "warm": warm,
        "cold": stats(firsts) if firsts else None,
        "process_means": [run.mean for run in runs],
        "maxrss_bytes": _maxrss(runs),
    }


def _maxrss(runs):
    found = [run.metadata.get("mem_max_rss") for run in runs]
    found = [value for value in found if isinstance(value, int)]
    return max(found) if found else None


def unstable(row, runs, count):
    """pyperf's warnings for a row, each a sentence; [] when stable."""
    warm = row["warm"]
    mean = warm["mean"]
    notes = []
    if warm["stdev"] >= UNSTABLE_STDEV * mean:
        notes.append(f"std dev is {100 * warm['stdev'] / mean:.0f} % of "
                     f"the mean")
    spread = max(warm["max"] - mean, mean - warm["min"])
    if spread >= UNSTABLE_SPREAD * mean:
        notes.append(f"a value lies {100 * spread / mean:.0f} % from the "
                     f"mean")
    if warm["min"] * count < SHORT_VALUE:
        notes.append(f"a timed call took {1e3 * warm['min'] * count:.2f} "
                     f"ms, under 1 ms")
    if len(runs) < 2:
        notes.append("a single process: no confidence interval")
    return notes


def chunk_curves(records, warmups):
    """Mean time per step of each 500-step chunk, cold and warm (µs).

    ``cold`` follows the first call of every fresh process, chunk by
    chunk: the JIT warm-up through the first epoch. ``warm`` averages
    the calls after the warmups.
    """
    cold, warm = [], []
    for record in records:
        calls = (record.get("record") or {}).get("calls") or []
        spans = [c.get("chunk_seconds") for c in calls]
        spans = [s for s in spans if s]
        if spans:
            cold.append(spans[0])
            warm.extend(spans[warmups:])
    return {"chunk_steps": CHUNK_STEPS, "processes": len(cold),
            "cold_us_per_step": _column_means(cold),
            "warm_us_per_step": _column_means(warm)}


def _column_means(series):
    if not series:
        return []
    width = min(len(s) for s in series)
    return [1e6 * sum(s[i] for s in series) / len(series) / CHUNK_STEPS
            for i in range(width)]


def _add_ratios(run, rows):
    """Each row's speed against the reference CPython's, same row."""
    reference = _reference_label(run)
    by_key = {(r["interpreter"], r["benchmark"]): r for r in rows}
    for row in rows:
        base = by_key.get((reference, row["benchmark"]))
        if not (usable(row) and base and usable(base)):
            continue
        ratio = base["warm"]["mean"] / row["warm"]["mean"]
        interval = claims.ratio_interval(
            base["process_means"], row["process_means"],
            f"{row['interpreter']}-{row['benchmark']}", RATIO_RESAMPLES)
        row["vs_reference"] = {
            "ratio": ratio,
            "ci_low": interval[0] if interval else None,
            "ci_high": interval[1] if interval else None,
            "significant": bool(interval) and not (
                interval[0] <= 1.0 <= interval[1])}


def usable(row):
    """Whether a row has figures that may be reported."""
    return row["status"] in (OK, INCOMPLETE) and "warm" in row


# -- Accuracy ------------------------------------------------------------


def gather_accuracy(folder, run):
    """The real 2-epoch runs behind the accuracy claim, or None."""
    plan = run["protocol"].get("accuracy")
    if not plan:
        return None
    found = {}
    for engine in ("talk", "tuned"):
        data = _optional(folder, f"accuracy-{engine}.json", "accuracy")
        if data:
            found[engine] = data["runs"]
    main = found.get(plan["engine"], [])
    summary = {"interpreter": plan.get("interpreter"),
               "engine": plan["engine"], "seeds": plan["seeds"],
               "epochs": plan["epochs"],
               "runs": [_accuracy_run(r) for r in main],
               "talk_runs": [_accuracy_run(r) for r in found.get("talk",
                                                                 [])],
               "status": plan.get("status", "not run"),
               "reason": plan.get("reason")}
    summary["fingerprint_check"] = _fingerprint_check(summary, plan)
    return summary


def _accuracy_run(run):
    return {"seed": run["seed"], "engine": run["engine"],
            "validation_accuracy": run["validation_accuracy"],
            "weights_fingerprint": run["weights_fingerprint"],
            "history": run.get("history", []),
            "interpreter": run.get("interpreter")}


def _fingerprint_check(summary, plan):
    """Whether the talk's own run gave the bits of the run measured."""
    talk = {r["seed"]: r["weights_fingerprint"] for r in
            summary["talk_runs"]}
    measured = {r["seed"]: r["weights_fingerprint"] for r in
                summary["runs"]}
    common = sorted(set(talk) & set(measured))
    if summary["engine"] == "talk":
        return {"status": "not needed", "detail": "the talk engine itself "
                                                  "was run"}
    if not common:
        return {"status": "not run", "detail": plan.get(
            "talk_note", "no talk-engine run to compare with")}
    same = all(talk[s] == measured[s] for s in common)
    exact = plan.get("plain_sum", True)
    detail = ", ".join(f"seed {s}: {talk[s]} / {measured[s]}"
                       for s in common)
    if same:
        return {"status": "identical", "detail": detail}
    return {"status": "differs" if exact else "differs (expected here)",
            "detail": detail}


# -- Claims --------------------------------------------------------------


def build_claims(summary):
    """The ``claims`` list: each claim with its figure and verdict."""
    rows = {(r["interpreter"], r["benchmark"]): r for r in summary["rows"]}
    cpython = summary["reference_interpreter"]
    pypy = summary["pypy_interpreter"]

    def row(label, name):
        return rows.get((label, name))

    found = [
        speedup("pypy_vs_cpython_epoch", summary, row(cpython, "epoch/talk"),
                row(pypy, "epoch/talk")),
    ]
    numpy_row = row(cpython, "epoch/numpy")
    pure = {engine: ratio_claim(
        f"pypy_pure_vs_numpy_epoch_{engine}", summary,
        row(pypy, f"epoch/{engine}"), numpy_row, engine=engine)
        for engine in ("talk", "tuned")}
    best = min(pure.values(), key=lambda c: (c["measured"] is None,
                                             c["measured"] or 0.0))
    claim = claims.CLAIMS["pypy_pure_vs_numpy_epoch"]
    overall = dict(best, id=claim.id, claim=claim.text, label=claim.short,
                   measure=claim.measure)
    found += [overall, pure["talk"], pure["tuned"]]
    found.append(accuracy_claim(summary))
    for stage in ("load", "infer"):
        found.append(speedup(f"pypy_vs_cpython_{stage}", summary,
                             row(cpython, f"{stage}/talk"),
                             row(pypy, f"{stage}/talk")))
    return found


def speedup(claim_id, summary, cpython_row, pypy_row):
    """How many times faster PyPy is: CPython's time / PyPy's."""
    return ratio_claim(claim_id, summary, cpython_row, pypy_row,
                       engine="talk")


def ratio_claim(claim_id, summary, numerator, denominator, **extra):
    """A claim measured as mean(numerator row) / mean(denominator row)."""
    blocked = _blocked(summary, numerator, denominator)
    if blocked:
        status, reason = blocked
        return claims.entry(claim_id, status=status, reason=reason, **extra)
    measured = numerator["warm"]["mean"] / denominator["warm"]["mean"]
    interval = claims.ratio_interval(numerator["process_means"],
                                     denominator["process_means"], claim_id)
    reason = None
    if interval is None:
        reason = "fewer than 2 processes on a side: no interval"
    return claims.entry(
        claim_id, measured, interval, reason=reason,
        samples=[numerator["processes"], denominator["processes"]],
        rows=[f"{numerator['benchmark']} ({numerator['interpreter']})",
              f"{denominator['benchmark']} ({denominator['interpreter']})"],
        **extra)


def _blocked(summary, *rows):
    """``(status, reason)`` when a row behind a claim cannot be used."""
    for row in rows:
        if row is not None and row["status"] == INVALID:
            return claims.INVALID, f"{row['benchmark']} under " \
                                   f"{row['interpreter']}: {row['reason']}"
    for row in rows:
        if row is None or not usable(row):
            return claims.NOT_MEASURED, _why_missing(summary, row)
    return None


def _why_missing(summary, row):
    if row is None:
        needs = [m["message"] for m in summary["missing"]
                 if m.get("kind") == "interpreter"]
        if summary["pypy_interpreter"] is None:
            return needs[0] if needs else "no PyPy interpreter in this run"
        if summary["reference_interpreter"] is None:
            return "no CPython interpreter in this run"
        return "the row is missing"
    return f"{row['benchmark']} under {row['interpreter']}: " \
           f"{row['reason'] or row['status']}"


def accuracy_claim(summary):
    claim_id = "validation_accuracy"
    accuracy = summary["accuracy"]
    if not accuracy or not accuracy["runs"]:
        reason = (accuracy or {}).get("reason") or "no 2-epoch run was made"
        return claims.entry(claim_id, status=claims.NOT_MEASURED,
                            reason=reason)
    scores = [r["validation_accuracy"] for r in accuracy["runs"]]
    check = accuracy["fingerprint_check"]
    extra = {"engine": accuracy["engine"],
             "interpreter": accuracy["interpreter"], "samples": [len(scores)],
             "per_seed": {str(r["seed"]): r["validation_accuracy"]
                          for r in accuracy["runs"]},
             "fingerprint_check": check["status"]}
    if check["status"] == "differs":
        return claims.entry(claim_id, claims.mean(scores), status=
                            claims.INVALID, reason=(
                                f"the talk engine's weights differ from the "
                                f"{accuracy['engine']} engine's: "
                                f"{check['detail']}"), **extra)
    interval = claims.mean_interval(scores, claim_id)
    reason = None if interval else "a single seed: no interval"
    return claims.entry(claim_id, claims.mean(scores), interval,
                        reason=reason, **extra)
