"""Tables of a bench run: in the terminal (rich) and in ``REPORT.md``.

    python -m speedrun.report results/<run id>

gathers the folder again (``speedrun.gather``), rewrites ``summary.json``
and ``REPORT.md``, and prints the stage and claims tables. It reads
result files only: no engine runs, and neither NumPy nor pyperf is
needed; rich is used when installed, plain text otherwise.

Figures are warm means ± std dev in µs per item (per training step or
per image); the cold figure is the first call of each fresh process.
Ratios compare each row with the same row under the reference CPython,
worded "N.NN× faster" or "slower", with "not significant" where the
95 % interval of the ratio includes 1.
"""

import argparse
import os
import sys

from speedrun import claims, gather, plots, results

STAGE_TITLES = {
    "epoch": "One epoch of training (training steps only; the talk's "
             "accuracy checks are left out)",
    "infer": "Inference on the t10k images",
    "load": "Loading the training images from IDX bytes",
}
VERDICT_STYLE = {claims.REPRODUCED: "green", claims.NOT_REPRODUCED: "red",
                 claims.INCONCLUSIVE: "yellow", claims.INVALID: "red",
                 claims.NOT_MEASURED: "dim", claims.NO_FIGURE: "dim"}
CHUNKS_SHOWN = (1, 2, 3, 4, 5, 10, 20, 40, 80, 120)
TERMINAL_WIDTH = 150  # when printing to a file or a pipe


# -- Cells ----------------------------------------------------------------


def micro(seconds):
    """Seconds as µs with 3 significant digits, no unit."""
    value = seconds * 1e6
    for limit, digits in ((100, 0), (10, 1), (1, 2)):
        if value >= limit:
            return f"{value:.{digits}f}"
    return f"{value:.3f}"


def plural(count, word):
    ending = "es" if word.endswith("s") else "s"
    return f"{count} {word}{'' if count == 1 else ending}"


def mean_std(figure):
    return f"{micro(figure['mean'])} ± {micro(figure['stdev'])}"


def ratio_text(vs):
    """``15.23× faster`` / ``1.20× slower``; flags a non-significant one."""
    ratio = vs["ratio"]
    if ratio >= 1.0:
        text = f"{ratio:.2f}× faster"
    else:
        text = f"{1.0 / ratio:.2f}× slower"
    if vs["ci_low"] is not None and not vs["significant"]:
        text += " (not significant)"
    return text


def claim_figure(value, unit):
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:.2f}×"


def claim_cells(claim):
    """Claim, talk, measured, 95 % CI, band, verdict, note."""
    unit = claim["unit"]
    interval = "—"
    if claim["ci_low"] is not None:
        interval = (f"{claim_figure(claim['ci_low'], unit)} – "
                    f"{claim_figure(claim['ci_high'], unit)}")
    band = "—"
    if claim["band"]:
        band = (f"{claim_figure(claim['band'][0], unit)} – "
                f"{claim_figure(claim['band'][1], unit)}")
    note = claim.get("reason") or ""
    if (claim["id"] == "pypy_pure_vs_numpy_epoch" and claim.get("engine")
            and claim["measured"] is not None):
        note = f"faster pure engine: {claim['engine']}. {note}".strip()
    if claim.get("fingerprint_check"):
        note = (f"talk weights vs {claim.get('engine')}: "
                f"{claim['fingerprint_check']}. {note}").strip()
    return [claim["claim"], claim_figure(claim["talk"], unit),
            claim_figure(claim["measured"], unit), interval, band,
            claim["verdict"], note]


CLAIM_HEADERS = ["Claim", "Talk", "Measured", "95 % CI", "Holds within",
                 "Verdict", "Note"]


def interpreter_names(summary, short=False):
    """Label -> ``CPython 3.11.7`` / ``PyPy 7.3.11 (3.9.16)``."""
    names = {}
    for interp in summary["interpreters"]:
        probe = interp["probe"]
        if probe["implementation"] == "pypy":
            names[interp["label"]] = f"PyPy {probe.get('pypy_version')}"
            if not short:
                names[interp["label"]] += f" ({probe['python_version']})"
        elif probe["implementation"] == "cpython":
            names[interp["label"]] = f"CPython {probe['python_version']}"
        else:
            names[interp["label"]] = (f"{probe['implementation']} "
                                      f"{probe['python_version']}")
    return names


def stage_headers(stage):
    item = gather.ITEM[stage]
    total = {"epoch": "Full epoch [s]", "infer": "10,000 images [s]",
             "load": "60,000 images [s]"}[stage]
    return ["Engine", "Interpreter", f"Warm [µs/{item}]",
            f"Cold [µs/{item}]", total, "vs CPython", "Peak RSS [MiB]",
            "Note"]


def stage_rows(summary, stage):
    """The cells of one stage table, missing interpreters included."""
    names = interpreter_names(summary)
    reference = summary["reference_interpreter"]
    lines = [row_cells(row, names, reference)
             for row in ordered_rows(summary, stage)]
    for item in summary["missing"]:
        if item.get("kind") == "interpreter":
            lines.append(["all", item["name"], "—", "—", "—", "—", "—",
                          f"not found: {item['message']}"])
    return lines


def ordered_rows(summary, stage):
    """A stage's rows, engine by engine, interpreters in run order."""
    return [row for engine in gather.ENGINES for row in summary["rows"]
            if row["stage"] == stage and row["engine"] == engine]


def row_cells(row, names, reference):
    name = names.get(row["interpreter"], row["interpreter"])
    if not gather.usable(row):
        return [row["engine"], name, "—", "—", "—", "—", "—",
                f"{row['status']}: {row['reason']}"]
    total = f"{row['stage_seconds']:.2f}"
    if row["extrapolated"]:
        total += "*"
    ratio = "1.00 (reference)" if row["interpreter"] == reference else "—"
    if row.get("vs_reference") and row["interpreter"] != reference:
        ratio = ratio_text(row["vs_reference"])
    rss = "—"
    if row.get("maxrss_bytes"):
        rss = f"{row['maxrss_bytes'] / 2 ** 20:.0f}"
    notes = []
    if row["status"] == gather.INCOMPLETE:
        notes.append(row["reason"])
    if row.get("unstable"):
        notes.append("unstable: " + "; ".join(row["unstable"]))
    cold = mean_std(row["cold"]) if row.get("cold") else "—"
    return [row["engine"], name, mean_std(row["warm"]), cold, total, ratio,
            rss, " ".join(notes)]


# -- Markdown -------------------------------------------------------------


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |",
             "| " + " | ".join("---" for _ in headers) + " |"]
    for cells in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|")
                                       for c in cells) + " |")
    return lines


def render_markdown(summary, charts=()):
    """The whole ``REPORT.md`` as one string; *charts* are Markdown lines."""
    out = [f"# speedrun bench: run {summary['run_id']}", ""]
    out += status_lines(summary) + [""]
    out += ["## Claims", ""]
    out += markdown_table(CLAIM_HEADERS,
                          [claim_cells(c) for c in summary["claims"]])
    out += ["", *claim_rules(), ""]
    out += list(charts)
    for stage in gather.STAGES:
        out += [f"## {STAGE_TITLES[stage]}", ""]
        out += markdown_table(stage_headers(stage),
                              stage_rows(summary, stage))
        out += ["", *stage_footnotes(summary, stage), ""]
    out += warmup_section(summary)
    out += accuracy_section(summary)
    out += unstable_section(summary)
    out += protocol_section(summary)
    out += environment_section(summary)
    out += reproduce_section(summary)
    return "\n".join(out) + "\n"


def status_lines(summary):
    protocol = summary["protocol"]
    lines = [f"Profile `{summary['profile']}`, started "
             f"{summary.get('started') or '?'}, finished "
             f"{summary.get('finished') or '—'}; "
             f"{plural(protocol['processes'], 'process')} × "
             f"({plural(protocol['warmups'], 'warmup')} + "
             f"{plural(protocol['values'], 'value')}) per row, "
             f"interleaved across interpreters."]
    if summary["status"] != "complete":
        why = summary.get("stopped") or "the run did not finish"
        lines += ["", f"**This run is incomplete ({why}).** Finished rows "
                      f"are kept; rows marked *not run* or *incomplete* "
                      f"lack processes. Run the benchmarks again for a "
                      f"complete result."]
    return lines


def claim_rules():
    low, high = claims.about(15.0)
    return [
        f"A claim of \"about X\" holds within ±{100 * claims.ABOUT:.0f} % "
        f"of X (15× gives {low:g}–{high:g}×); the accuracy within "
        f"±{claims.ACCURACY_BAND:g} percentage point. *Reproduced*: the "
        f"whole 95 % interval lies inside that band; *not reproduced*: "
        f"wholly outside; *inconclusive*: it straddles an edge. Intervals "
        f"are percentile bootstraps over per-process means "
        f"({claims.RESAMPLES:,} resamples, seeded). The 20 % claim is read "
        f"as pure Python taking 1.20× NumPy's time per step; a figure "
        f"under 1 means pure Python on PyPy was faster than NumPy on "
        f"CPython."]


def stage_footnotes(summary, stage):
    counts = summary["protocol"]["counts"]
    notes = []
    if counts[stage] < gather.FULL_ITEMS[stage]:
        notes.append(f"\\* extrapolated from {counts[stage]:,} timed "
                     f"{gather.ITEM[stage]}s per value to "
                     f"{gather.FULL_ITEMS[stage]:,}.")
    if stage == "epoch":
        notes.append("Timed: the SGD steps alone, in the trainer's chunks "
                     "of 500 draws; the accuracy checks the talk ran "
                     "between chunks (monitoring) are not part of it.")
    return notes


def warmup_section(summary):
    lines = ["## JIT warm-up through the first epoch", "",
             "Time per step of each 500-step chunk in the first call of "
             "every fresh process (cold), µs per step, mean over "
             "processes; the last column is the warm mean.", ""]
    names = interpreter_names(summary)
    rows, width = [], 0
    for row in summary["rows"]:
        curve = (row.get("chunks") or {}).get("cold_us_per_step") or []
        if row["stage"] != "epoch" or not curve or not gather.usable(row):
            continue
        width = max(width, len(curve))
        rows.append((row, curve))
    shown = [n for n in CHUNKS_SHOWN if n <= width]
    table = []
    for row, curve in rows:
        cells = [row["engine"], names.get(row["interpreter"],
                                          row["interpreter"])]
        cells += [micro(curve[n - 1] / 1e6) if n <= len(curve) else "—"
                  for n in shown]
        cells.append(micro(row["warm"]["mean"]))
        table.append(cells)
    if not table:
        return lines + ["No epoch row has chunk times.", ""]
    headers = ["Engine", "Interpreter"] + [f"chunk {n}" for n in shown]
    return lines + markdown_table(headers + ["warm"], table) + [""]


def accuracy_section(summary):
    accuracy = summary.get("accuracy")
    lines = ["## Validation accuracy after 2 epochs", ""]
    if not accuracy or not accuracy["runs"]:
        reason = (accuracy or {}).get("reason") or "no run was made"
        return lines + [f"Not measured: {reason}.", ""]
    names = interpreter_names(summary)
    where = names.get(accuracy["interpreter"], accuracy["interpreter"])
    lines.append(f"Engine `{accuracy['engine']}` under {where}, learning "
                 f"rate 0.002, 60,000 draws per epoch, validated on the "
                 f"last 2,000 t10k images.")
    lines.append("")
    table = [[r["seed"], f"{r['validation_accuracy']:.2f} %",
              r["weights_fingerprint"]] for r in accuracy["runs"]]
    table += [[f"{r['seed']} (talk engine)",
               f"{r['validation_accuracy']:.2f} %",
               r["weights_fingerprint"]] for r in accuracy["talk_runs"]]
    lines += markdown_table(["Seed", "Validation accuracy",
                             "Weights fingerprint"], table)
    check = accuracy["fingerprint_check"]
    lines += ["", f"Talk engine against the measured engine: "
                  f"{check['status']} ({check['detail']}).", ""]
    return lines


def unstable_section(summary):
    flagged = [r for r in summary["rows"] if r.get("unstable")]
    if not flagged:
        return ["## Stability", "", "No figure crossed pyperf's "
                "instability limits.", ""]
    names = interpreter_names(summary)
    lines = ["## Unstable figures", ""]
    for row in flagged:
        lines.append(f"- {row['benchmark']} under "
                     f"{names.get(row['interpreter'], row['interpreter'])}"
                     f": {'; '.join(row['unstable'])}.")
    lines += ["", "Rerun on a quiet machine with more processes (e.g. "
                  "`nox -s bench -- --processes 10`), or a larger profile "
                  "for calls under 1 ms; `python -m pyperf system tune` "
                  "reduces system noise.", ""]
    return lines


def protocol_section(summary):
    p = summary["protocol"]
    counts = p["counts"]
    return [
        "## Protocol", "",
        f"- Every row: {p['processes']} worker processes, each "
        f"{plural(p['warmups'], 'warmup')} then "
        f"{plural(p['values'], 'value')}, "
        f"`--loops={p['loops']}` (no calibration), the same for every "
        f"interpreter; pyperf's `inner_loops` makes each value per item.",
        f"- Items per value: {counts['epoch']:,} training steps, "
        f"{counts['infer']:,} t10k images, {counts['load']:,} training "
        f"images; seed {p['seed']}, learning rate {p['lr']}.",
        "- One pyperf process at a time, interpreters alternating "
        "(CPython, PyPy, CPython, …) and engines interleaved within a "
        "stage, so that drift of the machine falls on both sides of a "
        "ratio.",
        "- Every timed call is checked against the reference run "
        "(weights fingerprint or predictions for talk and tuned where "
        "sum() rounds each addition; within 1e-9 per weight and 0.1 % of "
        "predictions elsewhere, NumPy included); a mismatch marks the "
        "row invalid.",
        "- Warm: the values after the warmups; cold: the first warmup of "
        "each fresh process.", ""]


def environment_section(summary):
    lines = ["## Interpreters and machine", ""]
    table = []
    names = interpreter_names(summary)
    for interp in summary["interpreters"]:
        probe = interp["probe"]
        numpy = probe.get("numpy")
        blas = "—"
        if numpy and numpy.get("blas"):
            blas = (f"{numpy['blas'].get('name')} "
                    f"{numpy['blas'].get('version')}")
        exact = ("bit-identical to the reference" if probe.get("plain_sum")
                 else "within tolerance (compensated sum())")
        table.append([interp["label"], names[interp["label"]],
                      probe.get("executable"),
                      numpy["version"] if numpy else "not installed", blas,
                      exact])
    lines += markdown_table(["Label", "Interpreter", "Executable", "NumPy",
                             "BLAS", "talk/tuned expected"], table)
    for item in summary["missing"]:
        lines.append(f"\nMissing: {item['name']}: {item['message']}")
    machine = summary.get("machine") or {}
    commit = summary.get("commit") or {}
    lines += ["", f"- Machine: {machine.get('cpu_model', '?')}, "
                  f"{machine.get('cpu_count', '?')} CPUs, "
                  f"{machine.get('memory_gib', '?')} GiB, "
                  f"{machine.get('platform', '?')}; load average at start "
                  f"{machine.get('load_average', '?')}.",
              f"- Commit: {commit.get('id', 'unknown')}"
              f"{' (with uncommitted changes)' if commit.get('dirty') else ''}."]
    dataset = summary.get("dataset") or {}
    for name, digest in sorted((dataset.get("sha256") or {}).items()):
        lines.append(f"- `{name}` SHA-256 `{digest}`")
    return lines + [""]


def reproduce_section(summary):
    run_id = summary["run_id"]
    folder = f"{summary.get('results_root') or 'results'}/{run_id}"
    files = [f"{folder}/{i['pyperf_file']}"
             for i in summary["interpreters"]]
    lines = ["## Reproduce", "", "    " + (summary.get("command") or
                                         "nox -s bench"), ""]
    if len(files) >= 2:
        lines += ["Raw results:", "",
                  f"    python -m pyperf compare_to {' '.join(files)}", ""]
    lines += ["Tables again from the files:", "",
              f"    python -m speedrun.report {folder}", ""]
    return lines


# -- Terminal ------------------------------------------------------------


def print_tables(summary, stream=None):
    """The stage and claims tables, with rich when it is installed.

    The terminal tables are the short form of REPORT.md: notes are
    reduced to a word, and the missing pieces follow as lines.
    """
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:
        print(render_markdown(summary), file=stream or sys.stdout)
        return
    console = Console(file=stream)
    if not console.is_terminal:
        console = Console(file=stream, width=TERMINAL_WIDTH)
    for line in status_lines(summary):
        console.print(escape(line.replace("`", "")))
    names = interpreter_names(summary, short=True)
    for stage in gather.STAGES:
        table = Table(title=STAGE_TITLES[stage], title_justify="left")
        for header in stage_headers(stage):
            table.add_column(escape(header), justify="left" if header in (
                "Engine", "Interpreter", "Note") else "right")
        for row in ordered_rows(summary, stage):
            cells = row_cells(row, names, summary["reference_interpreter"])
            cells[-1] = short_note(row)
            table.add_row(*map(escape, cells))
        for item in summary["missing"]:
            if item.get("kind") == "interpreter":
                table.add_row("all", escape(item["name"]), *["—"] * 5,
                              "not found (see below)", style="yellow")
        console.print(table)
        for note in stage_footnotes(summary, stage)[:1]:
            console.print(note.replace("\\*", "*"), style="dim")
    table = Table(title="The talk's claims", title_justify="left")
    for header in CLAIM_HEADERS[:-1]:
        table.add_column(header)
    for claim in summary["claims"]:
        cells = [escape(c) for c in claim_cells(claim)[:-1]]
        cells[0] = escape(claim["label"])
        style = VERDICT_STYLE.get(claim["verdict"], "")
        cells[5] = f"[{style}]{cells[5]}[/]" if style else cells[5]
        table.add_row(*cells)
    console.print(table)
    for claim in summary["claims"]:
        note = claim_cells(claim)[-1]
        if note and claim["verdict"] != claims.NOT_MEASURED:
            console.print(escape(f"{claim['label']}: {note}"), style="dim")
    for item in summary["missing"]:
        console.print(escape(f"missing: {item['name']}: {item['message']}"),
                      style="yellow")
    flagged = [r for r in summary["rows"] if r.get("unstable")]
    if flagged:
        console.print(f"{len(flagged)} figure(s) unstable; REPORT.md says "
                      f"what to rerun.", style="yellow")


def short_note(row):
    """A row's note in a word or two, for the terminal table."""
    if not gather.usable(row):
        return row["status"]
    words = []
    if row["status"] == gather.INCOMPLETE:
        words.append(f"{row['processes']}/{row['planned_processes']} "
                     f"processes")
    if row.get("unstable"):
        words.append("unstable")
    return ", ".join(words)


def regenerate(folder, stream=None, quiet=False):
    """Gather *folder*, write summary.json and REPORT.md, print tables."""
    summary = gather.gather(folder)
    gather.write_summary(folder, summary)
    write_report(folder, summary)
    if not quiet:
        print_tables(summary, stream)
    return summary


def write_report(folder, summary):
    charts = plots.charts_markdown(folder, summary)
    results.write_text(os.path.join(folder, results.REPORT),
                       render_markdown(summary, charts))


def add_arguments(parser):
    parser.add_argument("folder", help="a results folder of nox -s bench")
    parser.add_argument("--quiet", action="store_true",
                        help="write the files, print no tables")


def handler(args):
    regenerate(args.folder, quiet=args.quiet)
    return 0


COMMAND = ("tables and REPORT.md of a bench results folder",
           add_arguments, handler)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m speedrun.report",
        description="Gather a bench results folder again and print its "
                    "tables.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return handler(args)
    except (results.ResultError, OSError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
