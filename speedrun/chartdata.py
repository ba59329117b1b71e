"""The numbers behind each chart, as plain lists and dicts.

Every chart ``speedrun.plots`` draws is first built here as data: series
with their labels, axis titles with units, counts. Tests check these, not
pixels. This module imports no matplotlib and runs on a bare interpreter;
it draws nothing, prints nothing and times nothing.

Two sources feed it. A training run reaches it either as a live
``speedrun.training.Run`` or as the dict ``speedrun train --json`` wrote;
``run_record`` turns both into the same dict. A bench run reaches it as
the summary ``speedrun.gather`` builds from ``results/<run id>/``: its
rows (stage × engine × interpreter, figures in seconds per item), its
chunk curves and its claims.
"""

import json
import math

from speedrun import gather
from speedrun.display import most_confused
from speedrun.training import CHUNK, interpreter

GALLERY_SIZE = 32  # misclassified digits shown by default
PAIRS_SHOWN = 10  # most-confused pairs in the bar chart

ACCURACY_AXIS = "accuracy on a 5 % sample of the test part (%)"
COST_AXIS = f"cost (mean squared error per draw, over {CHUNK} draws)"
STEPS_AXIS = "training steps (draws, counted across epochs)"


class ChartDataError(Exception):
    """A result file that cannot be charted; the message names it."""


def load_run_file(path):
    """The dict written by ``speedrun train --json FILE``.

    Raises ``ChartDataError`` naming *path* when the file is not JSON or
    lacks the fields a learning curve needs.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            record = json.load(stream)
    except ValueError as exc:
        raise ChartDataError(f"{path}: not a JSON file ({exc})") from None
    except OSError as exc:
        raise ChartDataError(f"{path}: cannot read ({exc.strerror or exc})"
                             ) from None
    missing = [key for key in ("engine", "history", "steps_per_epoch")
               if not isinstance(record, dict) or key not in record]
    if missing:
        raise ChartDataError(
            f"{path}: no {', '.join(missing)} field (expected the output "
            f"of speedrun train --json)")
    record.setdefault("source", path)
    return record


def run_record(run):
    """The fields the charts need, from a ``Run`` or its JSON dict."""
    if isinstance(run, dict):
        return run
    return {
        "engine": run.engine,
        "seed": run.seed,
        "lr": run.lr,
        "epochs": run.epochs,
        "steps_per_epoch": run.steps,
        "history": run.history,
        "validation_accuracy": run.validation_accuracy,
        "interpreter": interpreter(),
    }


def interpreter_label(info):
    """``CPython 3.11.7`` or ``PyPy 7.3.11`` from an interpreter dict."""
    if not info:
        return "unknown interpreter"
    if info.get("implementation") == "pypy":
        return f"PyPy {info.get('pypy_version', '?')}"
    name = info.get("implementation", "?")
    name = "CPython" if name == "cpython" else name
    return f"{name} {info.get('python_version', '?')}"


def run_label(record):
    """How a run is named in a legend: engine, interpreter, accuracy."""
    where = interpreter_label(record.get("interpreter"))
    label = f"{record['engine']} on {where}"
    score = record.get("validation_accuracy")
    if score is not None:
        label += f", validation {score:.2f} %"
    status = record.get("status")
    if status not in (None, "complete"):
        label += f" ({status})"
    return label


def learning_curve(runs):
    """Accuracy and cost per monitoring point, for one run or several.

    Returns ``{"title", "x_label", "accuracy_label", "cost_label",
    "series": [{"label", "steps", "accuracy", "cost"}], "epoch_ends"}``.
    ``steps`` counts draws across epochs, so epoch 2's step 500 is
    ``steps_per_epoch + 500``; ``epoch_ends`` are the step counts where an
    epoch ends, for the longest run. A run without history (monitoring
    off) gives an empty series, kept so the legend still names it.
    """
    records = [run_record(run) for run in runs]
    series = [_curve(record) for record in records]
    longest = max(records, key=lambda r: r["steps_per_epoch"]
                  * (r.get("epochs") or 1)) if records else None
    ends = []
    if longest is not None:
        per_epoch = longest["steps_per_epoch"]
        ends = [per_epoch * e for e in range(1, (longest.get("epochs") or 1))]
    title = "Learning curve"
    if len(records) == 1:
        title += f": {records[0]['engine']} engine"
        if records[0].get("seed") is not None:
            title += f", seed {records[0]['seed']}, lr {records[0]['lr']:g}"
    return {"title": title, "x_label": STEPS_AXIS,
            "accuracy_label": ACCURACY_AXIS, "cost_label": COST_AXIS,
            "series": series, "epoch_ends": ends}


def _curve(record):
    per_epoch = record["steps_per_epoch"]
    points = record["history"]
    return {
        "label": run_label(record),
        "steps": [(p["epoch"] - 1) * per_epoch + p["step"] for p in points],
        "accuracy": [p["accuracy"] for p in points],
        "cost": [p["cost"] for p in points],
    }


def confusion(matrix, pairs=PAIRS_SHOWN):
    """The heat map and the most-confused pairs of a 10 × 10 matrix.

    *matrix* is ``matrix[label][prediction]`` (counts). Returns
    ``{"counts", "errors", "recall", "classes", "total", "wrong",
    "pairs"}``: ``errors`` is *counts* with the diagonal set to ``None``
    (so the colour scale shows the mistakes, not the hits), ``recall`` the
    percentage of each label predicted right, ``pairs`` up to *pairs*
    ``(label, prediction, count)`` largest mistakes, largest first.
    """
    size = len(matrix)
    errors = [[None if label == guess else matrix[label][guess]
               for guess in range(size)] for label in range(size)]
    recall = []
    for label, row in enumerate(matrix):
        total = sum(row)
        recall.append(100.0 * row[label] / total if total else None)
    total = sum(map(sum, matrix))
    right = sum(matrix[k][k] for k in range(size))
    return {"counts": [list(row) for row in matrix], "errors": errors,
            "recall": recall, "classes": list(range(size)), "total": total,
            "wrong": total - right,
            "pairs": most_confused(matrix, count=pairs)}


def misclassified(run, dataset, limit=GALLERY_SIZE):
    """The first *limit* wrongly predicted validation digits, in order.

    Each entry is ``{"position", "index", "label", "prediction",
    "pixels"}``: *position* counts within the validation part, *index*
    within t10k (``dataset.test_count + position``), and *pixels* is
    ``rows`` lists of ``cols`` ints 0..255 (0 = background).
    Returns ``(entries, wrong)``, *wrong* being the count of all mistakes.
    """
    size, cols = dataset.pixels, dataset.cols
    data = dataset.test_images.data
    entries, wrong = [], 0
    pairs = zip(run.validation_labels, run.validation_predictions)
    for position, (label, guess) in enumerate(pairs):
        if label == guess:
            continue
        wrong += 1
        if len(entries) == limit:
            continue
        index = dataset.test_count + position
        flat = data[index * size:(index + 1) * size]
        entries.append({
            "position": position, "index": index, "label": label,
            "prediction": guess,
            "pixels": [list(flat[r:r + cols]) for r in range(0, size, cols)],
        })
    return entries, wrong


def fit_power_law(work, seconds):
    """Least-squares line through (log10 work, log10 seconds).

    Returns ``(slope, factor)`` with ``seconds ≈ factor × work ** slope``:
    a slope of 1.00 means the time grows in proportion to the work.
    Needs at least two distinct positive amounts of work.
    """
    points = [(math.log10(w), math.log10(s))
              for w, s in zip(work, seconds) if w > 0 and s > 0]
    if len({x for x, _ in points}) < 2:
        raise ValueError("a slope needs two or more distinct amounts "
                         f"of work, got {sorted(set(work))}")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, 10 ** (mean_y - slope * mean_x)


# -- Bench charts ----------------------------------------------------------

STAGE_ORDER = ("load", "epoch", "infer")  # the order a speedrun runs them
STAGE_NAMES = {"load": "Loading the training images", "epoch": "One epoch",
               "infer": "Inference on t10k"}

# The claims drawn as reference marks on the stage chart: claim id, stage,
# the engine whose PyPy bar the claim places, the engine of the CPython
# bar it is measured against, and whether the talk's figure divides that
# time (a speed-up) or multiplies it (a share of NumPy's time).
CLAIM_MARKS = (
    ("pypy_vs_cpython_epoch", "epoch", "talk", "talk", "divide"),
    ("pypy_pure_vs_numpy_epoch_talk", "epoch", "talk", "numpy", "multiply"),
    ("pypy_pure_vs_numpy_epoch_tuned", "epoch", "tuned", "numpy",
     "multiply"),
)


def interpreter_names(summary):
    """Bench labels -> ``CPython 3.11.7``, ``PyPy 7.3.11``, in run order."""
    return {interp["label"]: interpreter_label(interp.get("probe"))
            for interp in summary["interpreters"]}


def stage_chart(summary):
    """Time per stage, engine and interpreter, with the claims' marks.

    One panel per stage that has rows, in ``STAGE_ORDER``. Each panel
    holds ``engines`` (the x groups), their ``ticks`` (numpy-batch says
    its batch size and that it is another algorithm) and ``series``, one
    per interpreter:
    ``seconds`` and ``errors`` per engine (``None`` where the row has no
    usable figure), being the warm mean and std dev per item times the
    stage's full size (60,000 steps, 10,000 or 60,000 images). ``marks``
    place the talk's claims; ``missing`` says why a bar is absent.
    """
    names = interpreter_names(summary)
    claims = {c["id"]: c for c in summary.get("claims", [])}
    panels = []
    for stage in STAGE_ORDER:
        rows = {(r["interpreter"], r["engine"]): r
                for r in summary["rows"] if r["stage"] == stage}
        if rows:
            panels.append(_stage_panel(summary, stage, rows, names, claims))
    absent = [f"{m['name']}: {m['message']}" for m in summary.get(
        "missing", []) if m.get("kind") == "interpreter"]
    return {"title": f"Time per stage, bench run {summary['run_id']} "
                     f"(profile {summary['profile']})",
            "note": "bars: warm mean; error bars: ± std dev of the warm "
                    "values; log scale",
            "panels": panels, "absent": absent}


def _stage_panel(summary, stage, rows, names, claims):
    engines = [e for e in gather.ENGINES
               if any(engine == e for _, engine in rows)]
    series, missing = [], []
    for label in names:
        seconds, errors = [], []
        for engine in engines:
            row = rows.get((label, engine))
            usable = row is not None and gather.usable(row)
            full = row["full_items"] if usable else 0
            seconds.append(row["warm"]["mean"] * full if usable else None)
            errors.append(row["warm"]["stdev"] * full if usable else None)
            if not usable:
                status = row["status"] if row else "missing"
                missing.append(f"{engine} on {names[label]}: {status}")
        series.append({"interpreter": label, "label": names[label],
                       "seconds": seconds, "errors": errors})
    return {"stage": stage, "title": _stage_title(stage, rows),
            "y_label": "seconds for the whole stage (log scale)",
            "engines": engines, "series": series, "missing": missing,
            "ticks": [engine_tick(e, rows.values()) for e in engines],
            "marks": _claim_marks(summary, stage, rows, names, claims)}


def engine_name(row):
    """An engine's name in a legend: numpy-batch with its batch size."""
    if row["engine"] == gather.BATCH_ENGINE and row.get("batch"):
        return f"{row['engine']} (B={row['batch']})"
    return row["engine"]


def engine_tick(engine, rows):
    """An engine's label under its bars, on up to three short lines."""
    if engine != gather.BATCH_ENGINE:
        return engine
    batches = {r.get("batch") for r in rows if r["engine"] == engine}
    batches.discard(None)
    size = f"B={batches.pop()}, " if len(batches) == 1 else ""
    return f"{engine}\n({size}a different\nalgorithm)"


def _stage_title(stage, rows):
    row = next(iter(rows.values()))
    item, full, timed = gather.ITEM[stage], row["full_items"], row["items"]
    title = f"{STAGE_NAMES[stage]}: {full:,} {item}s"
    if timed < full:
        title += f"\n(extrapolated from {timed:,} timed)"
    return title


def _claim_marks(summary, stage, rows, names, claims):
    """Where each of the talk's claims puts a PyPy bar of *stage*."""
    cpython = summary.get("reference_interpreter")
    pypy = summary.get("pypy_interpreter")
    marks = []
    for claim_id, where, engine, base_engine, how in CLAIM_MARKS:
        claim = claims.get(claim_id)
        base = rows.get((cpython, base_engine))
        if (where != stage or claim is None or not claim.get("talk")
                or pypy is None or base is None or not gather.usable(base)):
            continue
        base_seconds = base["warm"]["mean"] * base["full_items"]
        band = claim.get("band") or [claim["talk"], claim["talk"]]
        low_band, high_band = band
        if how == "divide":
            value = base_seconds / claim["talk"]
            low, high = base_seconds / high_band, base_seconds / low_band
            words = (f"{engine} engine on PyPy {claim['talk']:g}× faster "
                     f"than on {names[cpython]} (band {low_band:g}–"
                     f"{high_band:g}×)")
        else:
            value = base_seconds * claim["talk"]
            low, high = base_seconds * low_band, base_seconds * high_band
            words = (f"{engine} engine on PyPy {claim['talk']:.2f}× the "
                     f"time of {base_engine} on {names[cpython]} (band "
                     f"{low_band:.2f}–{high_band:.2f}×)")
        marks.append({"claim": claim_id, "engine": engine,
                      "interpreter": pypy, "seconds": value,
                      "band": [low, high], "verdict": claim.get("verdict"),
                      "label": f"talk's claim: {words}: "
                               f"{claim.get('verdict')}"})
    return marks


def warmup_curve(summary):
    """Time per step of each 500-step chunk of a fresh process.

    One series per usable epoch row with chunk times: ``steps`` (the
    step count at each chunk's end), ``us_per_step`` (the first call of
    every fresh process, mean over processes, µs) and ``warm_us`` (the
    row's warm mean, µs per step) to show where the curve settles.
    """
    names = interpreter_names(summary)
    series = []
    for row in summary["rows"]:
        chunks = row.get("chunks") or {}
        cold = chunks.get("cold_us_per_step") or []
        if row["stage"] != "epoch" or not cold or not gather.usable(row):
            continue
        size = chunks.get("chunk_steps", CHUNK)
        series.append({
            "engine": row["engine"], "interpreter": row["interpreter"],
            "label": (f"{engine_name(row)} on {names[row['interpreter']]} "
                      f"({chunks.get('processes', '?')} processes)"),
            "steps": [size * (n + 1) for n in range(len(cold))],
            "us_per_step": list(cold),
            "warm_us": 1e6 * row["warm"]["mean"]})
    return {"title": "JIT warm-up: the first call of a fresh process, "
                     "chunk by chunk",
            "x_label": "training steps since the process started",
            "y_label": f"time per step, mean of each {CHUNK}-step chunk "
                       f"(µs, log scale)",
            "note": "solid: first call of each fresh process (cold); "
                    "dotted: warm mean of the same row",
            "series": series}


def sweep_chart(summary):
    """numpy-batch's time per step against its batch size, or None.

    ``batches`` and ``us_per_step`` (warm mean, µs) with ``errors`` (std
    dev) for the sizes with a usable figure; ``lines`` are the per-step
    times it is set against, measured in the same run: tuned on PyPy,
    and numpy (per-sample) on the CPython of the sweep. ``crossover`` is
    the batch size from which numpy-batch overtakes tuned on PyPy.
    """
    sweep = summary.get("sweep")
    if not sweep or sweep.get("status") != gather.OK:
        return None
    names = interpreter_names(summary)
    rows = [r for r in sweep["rows"] if gather.usable(r)]
    if not rows:
        return None
    lines = [{"label": f"tuned on {names[summary['pypy_interpreter']]}",
              "us_per_step": 1e6 * sweep["tuned_seconds"]}]
    numpy = next((r for r in summary["rows"] if r["benchmark"] ==
                  "epoch/numpy" and r["interpreter"] == sweep[
                      "interpreter"] and gather.usable(r)), None)
    if numpy is not None:
        lines.append({"label": f"numpy (per-sample) on "
                               f"{names[numpy['interpreter']]}",
                      "us_per_step": 1e6 * numpy["warm"]["mean"]})
    found = sweep.get("crossover")
    return {"title": f"numpy-batch on {names[sweep['interpreter']]}: time "
                     f"per step by batch size ({sweep['count']:,} draws "
                     f"per value)",
            "x_label": "batch size (draws per update, log scale)",
            "y_label": "time per step, warm mean (µs, log scale)",
            "batches": [r["batch"] for r in rows],
            "us_per_step": [1e6 * r["warm"]["mean"] for r in rows],
            "errors": [1e6 * r["warm"]["stdev"] for r in rows],
            "lines": lines, "crossover": found["batch"] if found else None}


def scaling_points(summaries):
    """Stage times at each amount of work, from several bench runs.

    *summaries* are bench runs that differ in their counts (steps,
    images). Returns ``{(stage, engine, interpreter name): {items:
    {"cold": seconds, "warm": seconds}}}``: the time of the first call of
    a fresh process (cold; the warm time when no warmup was recorded)
    and the steady-state time, both for *items* items.
    """
    points = {}
    for summary in summaries:
        names = interpreter_names(summary)
        for row in summary["rows"]:
            if not gather.usable(row):
                continue
            items = row["items"]
            warm = row["warm"]["mean"] * items
            cold = row["cold"]["mean"] * items if row.get("cold") else warm
            key = (row["stage"], row["engine"], names[row["interpreter"]])
            points.setdefault(key, {})[items] = {"cold": cold, "warm": warm}
    return points


def scaling(summaries):
    """Log-log panels of time against work, one per stage, with slopes.

    Each series is one engine on one interpreter, the first call of a
    fresh process at every amount of work, with the fitted exponent in
    its label (1.00: time grows in proportion to the work). Series with
    fewer than two amounts of work are left out and named in
    ``skipped``. ``speedups`` holds, per engine, how many times faster
    PyPy was than the reference CPython at each amount of work, first
    call (``cold``) and steady state (``warm``): where the ratio settles.
    """
    cpython, pypy = _compared(summaries)
    return _scaling_chart(scaling_points(summaries), cpython, pypy,
                          "Scaling: time against the amount of work "
                          "(one bench run per size)")


def chunk_points(summary):
    """Epoch times at growing step counts, from one run's chunk times.

    The time of the first *n* steps is the sum of the first chunks of a
    fresh process's first call (cold) or of the later calls (warm),
    taken at 500, 1,000, 2,000, 4,000... steps and at the last chunk:
    log-spaced, so that no stretch of the curve outweighs the others in
    the fit. Same shape as ``scaling_points``.
    """
    names = interpreter_names(summary)
    points = {}
    for row in summary["rows"]:
        chunks = row.get("chunks") or {}
        cold = chunks.get("cold_us_per_step") or []
        if row["stage"] != "epoch" or not cold or not gather.usable(row):
            continue
        size = chunks.get("chunk_steps", CHUNK)
        warm = chunks.get("warm_us_per_step") or []
        by_items = {}
        for n in _doublings(len(cold)):
            first = 1e-6 * size * sum(cold[:n])
            steady = 1e-6 * size * sum(warm[:n]) if len(warm) >= n else first
            by_items[n * size] = {"cold": first, "warm": steady}
        key = ("epoch", row["engine"], names[row["interpreter"]])
        points[key] = by_items
    return points


def _doublings(count):
    """1, 2, 4, ... up to *count*, and *count* itself."""
    picks, n = [], 1
    while n < count:
        picks.append(n)
        n *= 2
    return picks + [count] if count else picks


def chunk_scaling(summary):
    """``scaling`` for the epoch stage of a single run, from its chunks."""
    cpython, pypy = _compared([summary])
    return _scaling_chart(chunk_points(summary), cpython, pypy,
                          "Scaling within one epoch: the first n steps "
                          "of a fresh process")


def _scaling_chart(points, cpython, pypy, title):
    panels, skipped = [], []
    for stage in STAGE_ORDER:
        series = []
        for (where, engine, name), by_items in sorted(
                points.items(), key=_engine_order):
            if where != stage:
                continue
            work = sorted(by_items)
            if len(work) < 2:
                skipped.append(f"{stage}/{engine} on {name}")
                continue
            series.append(_fitted(engine, name, work, [
                by_items[n]["cold"] for n in work]))
        if series:
            item = gather.ITEM[stage]
            panels.append({
                "stage": stage, "title": STAGE_NAMES[stage],
                "x_label": f"work ({item}s, log scale)",
                "y_label": "seconds, first call of a fresh process "
                           "(log scale)",
                "ratio_label": f"{cpython} time / {pypy} time",
                "series": series,
                "speedups": _speedups(points, stage, cpython, pypy)})
    return {"title": title, "panels": panels, "skipped": skipped}


def _engine_order(item):
    (stage, engine, name), _ = item
    rank = gather.ENGINES.index(engine) if engine in gather.ENGINES else 99
    return stage, rank, engine, name


def _fitted(engine, name, work, seconds):
    slope, factor = fit_power_law(work, seconds)
    return {"engine": engine, "interpreter": name, "work": work,
            "seconds": seconds, "slope": slope, "factor": factor,
            "label": f"{engine} on {name}: slope {slope:.2f}"}


def _compared(summaries):
    """The names of the reference CPython and of PyPy, where present."""
    for summary in summaries:
        names = interpreter_names(summary)
        cpython = names.get(summary.get("reference_interpreter"))
        pypy = names.get(summary.get("pypy_interpreter"))
        if cpython and pypy:
            return cpython, pypy
    return None, None


def _speedups(points, stage, cpython, pypy):
    speedups = []
    for engine in gather.ENGINES:
        slow = points.get((stage, engine, cpython), {})
        fast = points.get((stage, engine, pypy), {})
        work = sorted(set(slow) & set(fast))
        if not work:
            continue
        speedups.append({
            "engine": engine, "work": work,
            "cold": [slow[n]["cold"] / fast[n]["cold"] for n in work],
            "warm": [slow[n]["warm"] / fast[n]["warm"] for n in work]})
    return speedups
