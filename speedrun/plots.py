"""PNG charts of a training run (and, later, of a bench), via matplotlib.

matplotlib is optional: importing this module never imports it, and each
drawing function raises ``ImportError`` with the install command when it
is missing, so a caller can keep its tables and say how to get the
charts. Figures are drawn on the non-interactive Agg canvas, without
pyplot's global state, and written as PNG files.

The numbers come from ``speedrun.chartdata``; this module only draws
them and does not compute, print or time anything.
"""

import os

from speedrun import chartdata

INSTALL_HINT = "python -m pip install matplotlib"
DPI = 110


def run_charts(run, dataset, folder):
    """Learning curve and error analysis of one finished run.

    Writes ``<engine>-learning-curve.png``, ``<engine>-confusion.png`` and
    ``<engine>-misclassified.png`` into *folder* (which must exist) and
    returns their paths. Raises ``ImportError`` without matplotlib.
    """
    _require_matplotlib()
    stem = os.path.join(folder, run.engine)
    return [
        learning_curve_chart([run], f"{stem}-learning-curve.png"),
        confusion_chart(run.confusion(), f"{stem}-confusion.png",
                        f"{run.engine} engine"),
        gallery_chart(run, dataset, f"{stem}-misclassified.png"),
    ]


def learning_curves_from_files(json_paths, path):
    """One learning-curve figure from several ``train --json`` files."""
    records = [chartdata.load_run_file(p) for p in json_paths]
    return learning_curve_chart(records, path)


def learning_curve_chart(runs, path):
    """Accuracy (top) and cost (bottom) against training steps.

    *runs* are ``Run`` objects or ``train --json`` dicts; each becomes
    one line per panel, named in the legend. Returns *path*.
    """
    data = chartdata.learning_curve(runs)
    figure = _figure(9, 6.5)
    top, bottom = figure.subplots(2, 1, sharex=True)
    styles = ["-", "--", ":", "-."]
    for n, series in enumerate(data["series"]):
        style = styles[n % len(styles)]
        top.plot(series["steps"], series["accuracy"], style,
                 label=series["label"])
        bottom.plot(series["steps"], series["cost"], style,
                    label=series["label"])
    for step in data["epoch_ends"]:
        for axes in (top, bottom):
            axes.axvline(step, color="grey", linewidth=0.8, linestyle=":")
    top.set_ylabel(_wrap(data["accuracy_label"]))
    bottom.set_ylabel(_wrap(data["cost_label"]))
    bottom.set_xlabel(data["x_label"])
    top.legend(loc="lower right", fontsize="small")
    for axes in (top, bottom):
        axes.grid(True, alpha=0.3)
    figure.suptitle(data["title"])
    return _save(figure, path)


def confusion_chart(matrix, path, subject=""):
    """Heat map of the mistakes, beside a bar chart of the worst pairs.

    Cells hold counts; colour shows the off-diagonal counts only, so the
    mistakes stand out against the (much larger) diagonal of hits.
    """
    data = chartdata.confusion(matrix)
    figure = _figure(12, 5.5)
    heat, bars = figure.subplots(1, 2, width_ratios=[1.25, 1])
    _heat_map(figure, heat, data)
    _pair_bars(bars, data["pairs"])
    share = 100.0 * data["wrong"] / data["total"] if data["total"] else 0.0
    title = (f"Confusions on the validation part: {data['wrong']} of "
             f"{data['total']} images wrong ({share:.2f} %)")
    figure.suptitle(f"{title}, {subject}" if subject else title)
    return _save(figure, path)


def _heat_map(figure, axes, data):
    size = len(data["classes"])
    errors = [[float("nan") if c is None else c for c in row]
              for row in data["errors"]]
    image = axes.imshow(errors, cmap="Reds", vmin=0)
    figure.colorbar(image, ax=axes, shrink=0.8,
                    label="images (off-diagonal mistakes)")
    darkest = max([c for row in data["errors"] for c in row if c] or [1])
    for label in range(size):
        for guess in range(size):
            count = data["counts"][label][guess]
            hit = label == guess
            axes.text(guess, label, str(count), ha="center", va="center",
                      fontsize=7, fontweight="bold" if hit else "normal",
                      color=_ink(count, hit, darkest))
    axes.set_xticks(data["classes"])
    axes.set_yticks(data["classes"])
    axes.set_yticklabels([f"{k} ({r:.0f} %)" if r is not None else str(k)
                          for k, r in zip(data["classes"], data["recall"])],
                         fontsize=8)
    axes.set_xlabel("predicted digit")
    axes.set_ylabel("true label (recall %)")
    axes.set_title("counts (diagonal in bold: right)", fontsize="medium")


def _ink(count, hit, darkest):
    """Text colour that stays readable on the cell's shade of red."""
    if hit:
        return "black"
    if not count:
        return "lightgrey"
    return "white" if count > 0.6 * darkest else "black"


def _pair_bars(axes, pairs):
    if not pairs:
        axes.text(0.5, 0.5, "no mistakes", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
        return
    names = [f"{label} taken for {guess}" for label, guess, _ in pairs]
    counts = [n for _, _, n in pairs]
    positions = list(range(len(pairs)))
    axes.barh(positions, counts, color="tab:red")
    axes.set_yticks(positions)
    axes.set_yticklabels(names)
    axes.invert_yaxis()
    axes.set_xlabel("images")
    axes.set_title("most-confused pairs (label taken for prediction)",
                   fontsize="medium")
    axes.grid(True, axis="x", alpha=0.3)


def gallery_chart(run, dataset, path, limit=chartdata.GALLERY_SIZE,
                  columns=8):
    """The first *limit* misclassified validation digits, in order."""
    entries, wrong = chartdata.misclassified(run, dataset, limit)
    rows = max(1, -(-len(entries) // columns))
    figure = _figure(1.45 * columns, 1.55 * rows + 0.6)
    grid = figure.subplots(rows, columns, squeeze=False)
    for n, axes in enumerate(ax for row in grid for ax in row):
        axes.set_axis_off()
        if n >= len(entries):
            continue
        entry = entries[n]
        axes.imshow(entry["pixels"], cmap="gray_r", vmin=0, vmax=255)
        axes.set_title(f"label {entry['label']}, "
                       f"predicted {entry['prediction']}", fontsize=7.5)
    figure.suptitle(f"Misclassified validation digits: first "
                    f"{len(entries)} of {wrong} ({run.engine} engine)")
    return _save(figure, path)


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401 (only checks that it is there)
    except ImportError:
        raise ImportError(
            f"matplotlib is not installed; install it with: "
            f"{INSTALL_HINT}") from None


def _figure(width, height):
    """A figure of *width* × *height* inches on an Agg canvas."""
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path):
    figure.savefig(path, format="png")
    return path


def _wrap(text, width=34):
    """Break a long axis title on spaces so it fits beside the axes."""
    words, lines = text.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return "\n".join(lines)
