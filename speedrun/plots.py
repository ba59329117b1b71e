"""PNG charts of a training run and of a bench run, via matplotlib.

    python -m speedrun.plots results/<run id>     the bench charts again
    python -m speedrun.plots --runs A.json B.json --out curves.png
                                                  several training runs

matplotlib is optional: importing this module never imports it, and each
drawing function raises ``ImportError`` with the install command when it
is missing, so a caller can keep its tables and say how to get the
charts. Figures are drawn on the non-interactive Agg canvas, without
pyplot's global state, and written as PNG files.

The numbers come from ``speedrun.chartdata``; the functions here only
draw them: they compute no figure, time nothing and print nothing (the
command line at the bottom prints the paths it wrote).
"""

import argparse
import glob
import math
import os
import sys

from speedrun import chartdata, results

INSTALL_HINT = "python -m pip install matplotlib"
DPI = 110
BENCH_CHARTS = ("stages.png", "warmup.png", "scaling.png", "sweep.png")
SCALING_SUMMARIES = "*/summary.json"  # bench runs at other sizes, below


def run_charts(run, dataset, folder):
    """Learning curve and error analysis of one finished run.

    Writes ``<engine>-learning-curve.png``, ``<engine>-confusion.png`` and
    ``<engine>-misclassified.png`` into *folder* (which must exist) and
    returns their paths. Raises ``ImportError`` without matplotlib.
    """
    require_matplotlib()
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


# -- Bench charts ------------------------------------------------------


def write_bench_charts(results_dir, summary=None):
    """Draw the charts of the bench run in *results_dir*; ``[(title, path)]``.

    *summary* defaults to the folder's ``summary.json`` (a folder without
    one may still hold a scaling run). Writes ``stages.png``,
    ``warmup.png`` when the epoch rows have chunk times, ``sweep.png``
    when the run has numpy-batch's batch-size sweep, and
    ``scaling.png``: from the bench runs kept in sub-folders when there
    are two sizes or more (see ``scaling_summaries``), else from the
    chunk times of this run's epoch. Raises ``ImportError`` naming the
    install command when matplotlib is missing, before writing anything.
    """
    require_matplotlib()
    path = os.path.join(results_dir, results.SUMMARY)
    if summary is None and os.path.exists(path):
        summary = results.read(path, "summary")
    sizes = scaling_summaries(results_dir)
    if summary is None and not sizes:
        raise results.ResultError(results_dir, "no summary.json, nor bench "
                                               "runs in sub-folders: not a "
                                               "results folder of a bench")
    charts = []
    if summary is not None:
        charts += _run_bench_charts(results_dir, summary)
    growth = None
    if len(sizes) > 1:
        growth = chartdata.scaling(sizes)
    elif summary is not None:
        growth = chartdata.chunk_scaling(summary)
    if growth and growth["panels"]:
        path = os.path.join(results_dir, BENCH_CHARTS[2])
        charts.append(("Scaling", scaling_chart(growth, path)))
    return charts


def _run_bench_charts(results_dir, summary):
    charts = []
    stages = chartdata.stage_chart(summary)
    if stages["panels"]:
        path = os.path.join(results_dir, BENCH_CHARTS[0])
        charts.append(("Time per stage", stage_chart(stages, path)))
    warmup = chartdata.warmup_curve(summary)
    if warmup["series"]:
        path = os.path.join(results_dir, BENCH_CHARTS[1])
        charts.append(("JIT warm-up", warmup_chart(warmup, path)))
    sweep = chartdata.sweep_chart(summary)
    if sweep:
        path = os.path.join(results_dir, BENCH_CHARTS[3])
        charts.append(("numpy-batch by batch size", sweep_chart(sweep,
                                                                path)))
    return charts


def charts_markdown(results_dir, summary=None):
    """The ``## Charts`` section of REPORT.md, as a list of lines.

    Images are linked by file name, relative to *results_dir* where
    REPORT.md lives. Without matplotlib the section says so and how to
    get the charts; the rest of the report does not depend on it.
    """
    lines = ["## Charts", ""]
    try:
        charts = write_bench_charts(results_dir, summary)
    except ImportError as exc:
        folder = os.path.normpath(results_dir)
        return lines + [
            f"No charts: {exc}. Then draw them with "
            f"`python -m speedrun.report {folder}`.", ""]
    if not charts:
        return lines + ["No chart: the run has no usable figures.", ""]
    for title, path in charts:
        lines += [f"![{title}]({os.path.basename(path)})", ""]
    return lines


def scaling_summaries(results_dir):
    """The summaries of bench runs kept in sub-folders of *results_dir*.

    A scaling run keeps one ordinary bench run per size in its own
    sub-folder (``<results_dir>/<size>/summary.json``).
    """
    paths = sorted(glob.glob(os.path.join(results_dir, SCALING_SUMMARIES)))
    return [results.read(path, "summary") for path in paths]


def stage_chart(data, path):
    """Grouped bars per stage panel, log scale, claims as marks."""
    panels = data["panels"]
    figure = _figure(4.6 * len(panels) + 1, 6.2)
    axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
    colours = Colours()
    for axes, panel in zip(axes_list, panels):
        _stage_bars(axes, panel, colours)
    handles, labels = [], []
    for axes in axes_list:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="outside lower center", ncols=1,
                  fontsize="small")
    notes = [data["note"]] + [f"not found: {a}" for a in data["absent"]]
    figure.suptitle(f"{data['title']}\n{'; '.join(notes)}",
                    fontsize="medium")
    return _save(figure, path)


def _stage_bars(axes, panel, colours):
    engines, series = panel["engines"], panel["series"]
    width = 0.8 / max(1, len(series))
    place = {}
    for n, line in enumerate(series):
        offset = (n - (len(series) - 1) / 2) * width
        for x, (engine, value, error) in enumerate(
                zip(engines, line["seconds"], line["errors"])):
            place[(engine, line["interpreter"])] = x + offset
            if value is None:
                axes.text(x + offset, 0.02, "no figure", rotation=90,
                          ha="center", va="bottom", fontsize=7,
                          transform=axes.get_xaxis_transform())
                continue
            axes.bar(x + offset, value, width, yerr=error, capsize=3,
                     color=colours[line["label"]], label=line["label"])
    _claim_marks(axes, panel["marks"], place)
    axes.set_yscale("log")
    _plain_log_ticks(axes.yaxis)
    axes.set_xlim(-0.5, len(engines) - 0.5)
    axes.set_xticks(range(len(engines)))
    axes.set_xticklabels(panel.get("ticks", engines))
    axes.set_xlabel("engine")
    axes.set_ylabel(panel["y_label"])
    axes.set_title(panel["title"], fontsize="medium")
    axes.grid(True, axis="y", which="both", alpha=0.3)


def _claim_marks(axes, marks, place):
    """Each claim: a white marker where it puts the bar, its band as bars."""
    shapes = ["D", "^", "v", "s"]
    for n, mark in enumerate(marks):
        x = place.get((mark["engine"], mark["interpreter"]))
        if x is None:
            continue
        low, high = mark["band"]
        centre = mark["seconds"]
        axes.errorbar([x], [centre], yerr=[[centre - low], [high - centre]],
                      fmt=shapes[n % len(shapes)], color="black",
                      markerfacecolor="white", capsize=6, label=mark["label"])


def warmup_chart(data, path):
    """Cold chunk times per step against steps, warm mean dotted."""
    figure = _figure(9, 6.5)
    axes = figure.subplots()
    colours = Colours()
    for line in data["series"]:
        name = f"{line['engine']} on {line['interpreter']}"
        colour = colours[name]
        axes.plot(line["steps"], line["us_per_step"], "-", marker=".",
                  color=colour, label=line["label"])
        axes.axhline(line["warm_us"], color=colour, linestyle=":",
                     linewidth=1)
    axes.set_yscale("log")
    _plain_log_ticks(axes.yaxis)
    axes.set_xlim(left=0)
    axes.set_xlabel(data["x_label"])
    axes.set_ylabel(data["y_label"])
    axes.grid(True, which="both", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, fontsize="small")
    figure.suptitle(f"{data['title']}\n{data['note']}", fontsize="medium")
    return _save(figure, path)


def sweep_chart(data, path):
    """Time per step by batch size, with the per-sample engines' lines."""
    figure = _figure(8, 5.5)
    axes = figure.subplots()
    axes.errorbar(data["batches"], data["us_per_step"], yerr=data["errors"],
                  fmt="-o", capsize=3, label="numpy-batch (a different "
                                             "algorithm)")
    for n, line in enumerate(data["lines"]):
        axes.axhline(line["us_per_step"], color=f"C{n + 1}",
                     linestyle="--", label=f"{line['label']}: "
                     f"{line['us_per_step']:.3g} µs")
    if data["crossover"] is not None:
        axes.axvline(data["crossover"], color="grey", linestyle=":",
                     label=f"faster than tuned on PyPy from B = "
                           f"{data['crossover']}")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(data["batches"])
    axes.set_xticklabels([str(b) for b in data["batches"]])
    _plain_log_ticks(axes.yaxis)
    axes.set_xlabel(data["x_label"])
    axes.set_ylabel(data["y_label"])
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.suptitle(data["title"], fontsize="medium")
    return _save(figure, path)


def scaling_chart(data, path):
    """Log-log time against work per stage (slopes in the legend), and
    below it how many times faster PyPy was at each amount of work."""
    panels = data["panels"]
    figure = _figure(max(8.0, 5.2 * len(panels)), 8.5)
    grid = figure.subplots(2, len(panels), squeeze=False,
                           height_ratios=[2, 1])
    # one colour per series above and per engine below: a shared cycle
    # would run out (ten colours) and paint two series alike
    colours, engine_colours = Colours(), Colours()
    for n, panel in enumerate(panels):
        top, bottom = grid[0][n], grid[1][n]
        _growth(top, panel, colours)
        _speedup_lines(bottom, panel, engine_colours)
    figure.suptitle(f"{data['title']}\npoints: measured; lines: "
                    f"least-squares fit on log-log axes", fontsize="medium")
    return _save(figure, path)


def _growth(axes, panel, colours):
    for line in panel["series"]:
        colour = colours[f"{line['engine']} on {line['interpreter']}"]
        axes.plot(line["work"], line["seconds"], "o", color=colour,
                  label=line["label"])
        ends = [line["work"][0], line["work"][-1]]
        axes.plot(ends, [line["factor"] * w ** line["slope"] for w in ends],
                  "-", color=colour, alpha=0.6)
    axes.set_xscale("log")
    axes.set_yscale("log")
    _work_ticks(axes, panel)
    _plain_log_ticks(axes.yaxis)
    axes.set_xlabel(panel["x_label"])
    axes.set_ylabel(panel["y_label"])
    axes.set_title(panel["title"], fontsize="medium")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="x-small")


def _speedup_lines(axes, panel, colours):
    if not panel["speedups"]:
        axes.text(0.5, 0.5, "no PyPy and CPython pair to compare",
                  ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    for line in panel["speedups"]:
        colour = colours[f"engine {line['engine']}"]
        axes.plot(line["work"], line["cold"], "-o", color=colour,
                  label=f"{line['engine']}, first call")
        axes.plot(line["work"], line["warm"], ":", color=colour,
                  label=f"{line['engine']}, warm")
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_yscale("log")
    _work_ticks(axes, panel)
    _plain_log_ticks(axes.yaxis)
    axes.set_xlabel(panel["x_label"])
    axes.set_ylabel(f"× faster on PyPy\n({panel['ratio_label']})",
                    fontsize="small")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="x-small")


def _work_ticks(axes, panel):
    """A tick at every amount of work measured, written 1,000."""
    from matplotlib.ticker import NullFormatter

    work = sorted({n for line in panel["series"] for n in line["work"]})
    axes.set_xticks(work)
    axes.set_xticklabels([f"{n:,}" for n in work], fontsize="small")
    axes.xaxis.set_minor_formatter(NullFormatter())


class Colours:
    """The same colour for the same name across the panels of a figure."""

    CYCLE = ("tab:blue", "tab:orange", "tab:green", "tab:purple",
             "tab:brown", "tab:pink", "tab:grey", "tab:olive", "tab:cyan",
             "tab:red")

    def __init__(self):
        self.given = {}

    def __getitem__(self, name):
        if name not in self.given:
            self.given[name] = self.CYCLE[len(self.given) % len(self.CYCLE)]
        return self.given[name]


def _plain_log_ticks(axis):
    """Tick labels like 0.5, 2, 10 instead of 10^x."""
    from matplotlib.ticker import FuncFormatter

    def major(value, _):
        return f"{value:g}"

    def minor(value, _):
        if value <= 0:
            return ""
        lead = round(value / 10 ** math.floor(math.log10(value)))
        return major(value, _) if lead in (2, 5) else ""

    axis.set_major_formatter(FuncFormatter(major))
    axis.set_minor_formatter(FuncFormatter(minor))


def require_matplotlib():
    """Raise ``ImportError`` naming the install command without matplotlib.

    Cheap enough to call before a long run, to warn early.
    """
    try:
        import matplotlib  # noqa: F401 (only checks that it is there)
    except ImportError:
        raise ImportError(
            f"matplotlib is not installed; install it with: "
            f"{INSTALL_HINT}") from None


def _figure(width, height):
    """A figure of *width* × *height* inches on an Agg canvas."""
    require_matplotlib()
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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m speedrun.plots",
        description="Draw the charts of a bench results folder, or the "
                    "learning curves of several speedrun train --json "
                    "files on one figure.")
    parser.add_argument("folder", nargs="?",
                        help="a results folder of nox -s bench")
    parser.add_argument("--runs", nargs="+", metavar="FILE",
                        help="speedrun train --json files to compare")
    parser.add_argument("--out", default="learning-curves.png",
                        help="PNG file for --runs (default: "
                             "learning-curves.png)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.folder is None) == (args.runs is None):
        parser.error("give either a results folder or --runs FILE...")
    try:
        if args.runs:
            paths = [learning_curves_from_files(args.runs, args.out)]
        else:
            paths = [p for _, p in write_bench_charts(args.folder)]
    except (ImportError, OSError, results.ResultError,
            chartdata.ChartDataError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
