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

Beside the rows: the memory the loaded training set holds per engine
and interpreter (from the load stage), the batch-size sweep of
numpy-batch with the batch size from which it overtakes the tuned
engine on PyPy, the 2-epoch accuracy runs, the claims and the targets
(``speedrun.targets``).
"""

import math
import os

from speedrun import claims, results, targets

STAGES = ("epoch", "infer", "load")
ENGINES = ("talk", "tuned", "numpy", "numpy-batch")
# The engines that do the talk's per-sample work, checked against its
# bits or within tolerance. numpy-batch (mini-batches) is a different
# algorithm, checked on its work (same data, initial weights and draws
# in order) and judged by its accuracy; its loading and inference are
# the numpy engine's code, so it is timed on the epoch alone.
PER_SAMPLE = ("talk", "tuned", "numpy")
BATCH_ENGINE = "numpy-batch"
STAGE_ENGINES = {"epoch": ENGINES, "infer": PER_SAMPLE, "load": PER_SAMPLE}
PIXELS = 784  # per MNIST image, for the memory per pixel
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
    engines = run["protocol"].get("engines", PER_SAMPLE)
    rows, sweep_rows = [], []
    for interp in run["interpreters"]:
        path = os.path.join(folder, interp["pyperf_file"])
        found = results.read_pyperf(path) if os.path.exists(path) else {}
        for stage in STAGES:
            for engine in STAGE_ENGINES[stage]:
                if engine in engines:
                    rows.append(build_row(
                        run, interp, stage, engine,
                        found.get(f"{stage}/{engine}", []), records))
        sweep_rows += _sweep_rows(run, interp, found, records)
    accuracy = gather_accuracy(folder, run)
    _judge_batch_rows(rows, accuracy)
    _add_ratios(run, rows)
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
        pypy_interpreter=_pypy_label(run), rows=rows, accuracy=accuracy,
        engines=run.get("engines"))
    summary["sweep"] = gather_sweep(run, sweep_rows, summary)
    summary["memory"] = gather_memory(folder, run)
    summary["claims"] = build_claims(summary)
    summary["targets"] = targets.build(summary)
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


def build_row(run, interp, stage, engine, runs, records, name=None):
    """One stage × engine × interpreter row from its pyperf runs.

    *name* is the benchmark's, when not ``<stage>/<engine>``.
    """
    label = interp["label"]
    name = name or f"{stage}/{engine}"
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
    if engine == BATCH_ENGINE:
        batches = {r.metadata.get("speedrun_batch") for r in runs}
        row["batch"] = batches.pop() if len(batches) == 1 else None
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


# -- Memory ----------------------------------------------------------------


def gather_memory(folder, run):
    """What the loaded training set held, per engine and interpreter.

    Returns ``{"images", "runs": [...]}`` or None when the run measured
    no memory. Each run has the interpreter's label, the engine, and
    either ``held_bytes`` with ``bytes_per_pixel`` (and the two growths
    and the peak it was taken from) or ``status`` "failed".
    """
    images = run["protocol"].get("memory_images")
    if not images:
        return None
    data = _optional(folder, results.MEMORY, "memory-runs")
    found = []
    for item in (data or {}).get("runs", []):
        entry = {"interpreter": item["interpreter"],
                 "engine": item["engine"], "status": FAILED,
                 "held_bytes": None}
        measured = item.get("measured")
        if item["returncode"] == 0 and measured:
            pixels = measured["count"] * measured["pixels"]
            held = measured["held_bytes"]
            entry.update(
                status=OK, images=measured["count"], held_bytes=held,
                bytes_per_pixel=held / pixels if held is not None else None,
                resident_growth_bytes=measured["resident_growth_bytes"],
                malloc_growth_bytes=measured["malloc_growth_bytes"],
                peak_rss_bytes=measured["peak_rss_bytes"])
        found.append(entry)
    return {"images": images, "runs": found}


# -- numpy-batch: its accuracy and the batch-size sweep ---------------------


def _sweep_rows(run, interp, found, records):
    """The rows of the sweep, ``epoch/numpy-batch/B=<n>``, under *interp*."""
    sweep = run["protocol"].get("sweep")
    if not sweep or sweep.get("interpreter") != interp["label"]:
        return []
    planned = dict(run, protocol=dict(run["protocol"],
                                      processes=sweep["processes"]))
    rows = []
    for batch in sweep["batches"]:
        name = f"epoch/{BATCH_ENGINE}/B={batch}"
        row = build_row(planned, interp, "epoch", BATCH_ENGINE,
                        found.get(name, []), records, name)
        row["batch"] = batch
        row.pop("chunks", None)
        rows.append(row)
    return rows


def gather_sweep(run, rows, summary):
    """The sweep and where numpy-batch overtakes tuned on PyPy, or None.

    Each batch size's time per step is set against the tuned engine's
    on PyPy (same run): ``ratio`` is tuned's time / numpy-batch's, above
    1 where numpy-batch is faster, with its 95 % interval. The crossover
    is the smallest batch size from which numpy-batch is faster at that
    size and at every larger size of the sweep.
    """
    sweep = run["protocol"].get("sweep")
    if not sweep:
        return None
    tuned = next((r for r in summary["rows"] if r["benchmark"] ==
                  "epoch/tuned" and r["interpreter"] ==
                  summary["pypy_interpreter"]), None)
    result = {"interpreter": sweep.get("interpreter"),
              "against": "epoch/tuned on PyPy",
              "batches": sweep["batches"], "count": sweep["count"],
              "rows": rows, "crossover": None, "status": OK,
              "reason": None}
    if sweep.get("interpreter") is None:
        result.update(status=MISSING, reason="no CPython with NumPy in "
                                             "this run")
        return result
    if tuned is None or not usable(tuned):
        result.update(status=NOT_RUN, reason="no usable tuned epoch row "
                                             "on PyPy to set it against")
        return result
    result["tuned_seconds"] = tuned["warm"]["mean"]
    for row in rows:
        if usable(row):
            row["vs_tuned"] = _ratio(tuned, row, f"sweep-B{row['batch']}")
    result["crossover"] = crossover(rows)
    return result


def _ratio(base, row, name, resamples=RATIO_RESAMPLES):
    """``base``'s warm time / *row*'s, with a 95 % interval."""
    ratio = base["warm"]["mean"] / row["warm"]["mean"]
    interval = claims.ratio_interval(base["process_means"],
                                     row["process_means"], name, resamples)
    return {"ratio": ratio,
            "ci_low": interval[0] if interval else None,
            "ci_high": interval[1] if interval else None,
            "significant": bool(interval) and not (
                interval[0] <= 1.0 <= interval[1])}


def crossover(rows):
    """The batch from which every larger one is faster, or None.

    Returns ``{"batch", "ratio", "significant"}`` for the row found.
    """
    measured = sorted((r for r in rows if r.get("vs_tuned")),
                      key=lambda r: r["batch"])
    found = None
    for row in reversed(measured):
        if row["vs_tuned"]["ratio"] <= 1.0:
            break
        found = row
    if found is None:
        return None
    return {"batch": found["batch"], "ratio": found["vs_tuned"]["ratio"],
            "significant": found["vs_tuned"]["significant"]}


def _judge_batch_rows(rows, accuracy):
    """numpy-batch's epoch rows: its accuracy beside, invalid off band."""
    batch = (accuracy or {}).get("batch")
    for row in rows:
        if row["engine"] != BATCH_ENGINE or row["stage"] != "epoch":
            continue
        row["accuracy"] = batch
        if batch and batch["status"] == "outside the band":
            row.update(status=INVALID, reason=(
                f"its validation accuracy {batch['mean']:.2f} % is "
                f"{batch['difference']:+.2f} points from the per-sample "
                f"engine's, outside ±{batch['band']:g}; no speed is "
                f"reported"))


def _add_ratios(run, rows):
    """Each row's speed against the reference CPython's, same row."""
    reference = _reference_label(run)
    by_key = {(r["interpreter"], r["benchmark"]): r for r in rows}
    for row in rows:
        base = by_key.get((reference, row["benchmark"]))
        if not (usable(row) and base and usable(base)):
            continue
        row["vs_reference"] = _ratio(
            base, row, f"{row['interpreter']}-{row['benchmark']}")


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
    for engine in ("talk", "tuned", BATCH_ENGINE):
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
    summary["batch"] = _batch_accuracy(plan, summary["runs"], [
        _accuracy_run(r) for r in found.get(BATCH_ENGINE, [])])
    return summary


def _batch_accuracy(plan, per_sample, runs):
    """numpy-batch's 2-epoch accuracy against the per-sample engine's.

    Compared over the seeds both ran: the difference of the means must
    lie within ``claims.BATCH_ACCURACY_BAND`` percentage points.
    """
    band = claims.BATCH_ACCURACY_BAND
    batch_plan = plan.get("batch") or {}
    result = {"engine": BATCH_ENGINE, "band": band,
              "interpreter": batch_plan.get("interpreter"), "runs": runs,
              "status": "not measured",
              "reason": batch_plan.get("reason") or "no 2-epoch run of "
                                                    "numpy-batch was made"}
    theirs = {r["seed"]: r["validation_accuracy"] for r in per_sample}
    mine = {r["seed"]: r["validation_accuracy"] for r in runs}
    seeds = sorted(set(theirs) & set(mine))
    if not seeds:
        return result
    mean = claims.mean([mine[s] for s in seeds])
    base = claims.mean([theirs[s] for s in seeds])
    within = abs(mean - base) <= band
    result.update(seeds=seeds, mean=mean, per_sample_mean=base,
                  difference=mean - base, reason=None,
                  status="within the band" if within
                  else "outside the band")
    return result


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
