"""The numbers behind each chart, as plain lists and dicts.

Every chart ``speedrun.plots`` draws is first built here as data: series
with their labels, axis titles with units, counts. Tests check these, not
pixels. This module imports no matplotlib and runs on a bare interpreter;
it draws nothing and prints nothing.

A run reaches this module either as a live ``speedrun.training.Run`` or as
the dict ``speedrun train --json`` wrote; ``run_record`` turns both into
the same dict.
"""

import json

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
