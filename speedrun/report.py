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
95 % interval of the ratio includes 1. Memory is in MiB.

Beside the stage and claims tables, REPORT.md has the targets of the
engines, numpy-batch (a different algorithm: its accuracy, its
batch-size sweep), the memory the training set holds, what makes each
engine fast (from the engine modules' docstrings, as recorded by the
run), JIT warm-up, accuracy, protocol and environment. A scaling run
gets a short REPORT.md of its own (``write_scaling_report``).
"""

import argparse
import os
import sys

from speedrun import chartdata, claims, gather, plots, results, targets

STAGE_TITLES = {
    "epoch": "One epoch of training (training steps only; the talk's "
             "accuracy checks are left out)",
    "infer": "Inference on the t10k images",
    "load": "Loading the training images from IDX bytes",
}
VERDICT_STYLE = {claims.REPRODUCED: "green", claims.NOT_REPRODUCED: "red",
                 claims.INCONCLUSIVE: "yellow", claims.INVALID: "red",
                 claims.NOT_MEASURED: "dim", claims.NO_FIGURE: "dim",
                 targets.MET: "green", targets.NOT_MET: "red",
                 targets.UNCLEAR: "yellow", targets.REPORTED: ""}
MIB = 2 ** 20
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


def ratio_text(vs, words=("faster", "slower")):
    """``15.23× faster`` / ``1.20× slower``; flags a non-significant one."""
    ratio = vs["ratio"]
    if ratio >= 1.0:
        text = f"{ratio:.2f}× {words[0]}"
    else:
        text = f"{1.0 / ratio:.2f}× {words[1]}"
    if vs.get("ci_low") is not None and not vs["significant"]:
        text += " (not significant)"
    return text


def engine_label(engine, batch=None):
    """An engine's name in tables; numpy-batch says what it is."""
    if engine != gather.BATCH_ENGINE:
        return engine
    size = f"B={batch}, " if batch else ""
    return f"{engine} ({size}different algorithm)"


def mib(count):
    return "—" if count is None else f"{count / MIB:,.0f}"


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
    side = band_side(claim)
    if side:
        note = f"{side}. {note}".strip()
    return [claim["claim"], claim_figure(claim["talk"], unit),
            claim_figure(claim["measured"], unit), interval, band,
            claim["verdict"], note]


def band_side(claim):
    """Which side of its band a claim that was not reproduced fell on."""
    if claim["verdict"] != claims.NOT_REPRODUCED or not claim["band"]:
        return ""
    low, high = claim["band"]
    if claim["ci_low"] is not None and claim["ci_low"] > high:
        return f"the whole interval lies above {claim_figure(high, claim['unit'])}"
    if claim["ci_high"] is not None and claim["ci_high"] < low:
        return f"the whole interval lies below {claim_figure(low, claim['unit'])}"
    return ""


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
    engine = engine_label(row["engine"], row.get("batch"))
    if not gather.usable(row):
        return [engine, name, "—", "—", "—", "—", "—",
                f"{row['status']}: {row['reason']}"]
    total = f"{row['stage_seconds']:.2f}"
    if row["extrapolated"]:
        total += "*"
    ratio = "1.00 (reference)" if row["interpreter"] == reference else "—"
    if row.get("vs_reference") and row["interpreter"] != reference:
        ratio = ratio_text(row["vs_reference"])
    rss = mib(row.get("maxrss_bytes"))
    notes = []
    if row["engine"] == gather.BATCH_ENGINE:
        notes.append(batch_accuracy_note(row.get("accuracy")) + ".")
    if row["status"] == gather.INCOMPLETE:
        notes.append(row["reason"])
    if row.get("unstable"):
        notes.append("unstable: " + "; ".join(row["unstable"]))
    cold = mean_std(row["cold"]) if row.get("cold") else "—"
    return [engine, name, mean_std(row["warm"]), cold, total, ratio,
            rss, " ".join(notes)]


def batch_accuracy_note(accuracy, short=False):
    """numpy-batch's 2-epoch accuracy against the per-sample engine's."""
    if not accuracy or "mean" not in accuracy:
        reason = (accuracy or {}).get("reason") or "no run was made"
        return "accuracy not measured" if short else \
            f"accuracy not measured: {reason}"
    if short:
        return (f"accuracy {accuracy['mean']:.2f} % "
                f"({accuracy['difference']:+.2f} pts)")
    return (f"validation accuracy {accuracy['mean']:.2f} % against "
            f"{accuracy['per_sample_mean']:.2f} % for the per-sample "
            f"engine ({accuracy['difference']:+.2f} points; allowed "
            f"±{accuracy['band']:g}): {accuracy['status']}")


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
    out += targets_section(summary)
    out += list(charts)
    for stage in gather.STAGES:
        out += [f"## {STAGE_TITLES[stage]}", ""]
        out += markdown_table(stage_headers(stage),
                              stage_rows(summary, stage))
        out += ["", *stage_footnotes(summary, stage), ""]
    out += batch_section(summary)
    out += memory_section(summary)
    out += engines_section(summary)
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


# -- Targets, numpy-batch, memory, engines --------------------------------

TARGET_HEADERS = ["Target", "Measured", "95 % CI", "Threshold", "Status",
                  "Note"]


def target_figure(value, unit):
    if value is None:
        return "—"
    if unit == "µs":
        return f"{value:.1f} µs"
    if unit == "batch":
        return f"B = {value}"
    return f"{value:.2f}×"


def target_cells(target):
    unit = target["unit"]
    interval = "—"
    if target["ci_low"] is not None:
        interval = (f"{target_figure(target['ci_low'], unit)} – "
                    f"{target_figure(target['ci_high'], unit)}")
    threshold = "—"
    if target["threshold"] is not None:
        sign = "≥" if target["at_least"] else "≤"
        threshold = f"{sign} {target_figure(target['threshold'], unit)}"
    return [target["target"], target_figure(target["measured"], unit),
            interval, threshold, target["status"], target["reason"] or ""]


def targets_section(summary):
    found = summary.get("targets")
    if not found:
        return []
    return ["## Targets of the engines", "",
            *markdown_table(TARGET_HEADERS, [target_cells(t)
                                             for t in found]), "",
            "Ratios are times per item of the first row named over the "
            "second's, measured in this run; *met* means the whole 95 % "
            "interval is on the right side of the threshold, *unclear* "
            "that it straddles it.", ""]


def batch_section(summary):
    """numpy-batch: what it is, how it is checked, accuracy, the sweep."""
    accuracy = (summary.get("accuracy") or {}).get("batch")
    sweep = summary.get("sweep")
    timed = any(r["engine"] == gather.BATCH_ENGINE for r in summary["rows"])
    if not timed and sweep is None:
        return []
    band = claims.BATCH_ACCURACY_BAND
    lines = [
        "## numpy-batch: a different algorithm", "",
        "numpy-batch updates the weights once per mini-batch of B draws, "
        "by the sum of the per-sample updates scored with the weights at "
        "the batch's start. Its weights are not the talk's to any "
        "tolerance, so the weights check of the other engines does not "
        "apply to it (at B = 1, where it is the per-sample algorithm, it "
        "is held to that tolerance). Every timed call is checked on the "
        "work instead: the same data, the same initial weights and the "
        "same draws, handed over in the same order. Its accuracy stands "
        "beside its time: the mean validation accuracy of real 2-epoch "
        f"runs must lie within ±{band:g} percentage point of the "
        f"per-sample tuned engine's over the same seeds, or its rows are "
        f"marked invalid.", ""]
    lines += batch_accuracy_lines(
        accuracy, (summary.get("accuracy") or {}).get("runs", []), summary)
    lines += sweep_lines(summary, sweep)
    return lines


def batch_accuracy_lines(accuracy, per_sample, summary):
    """numpy-batch's accuracy per seed beside the tuned engine's."""
    if not accuracy or not accuracy.get("runs"):
        return [f"Accuracy: {batch_accuracy_note(accuracy)}.", ""]
    tuned = {r["seed"]: r["validation_accuracy"] for r in per_sample}
    table = []
    for run in accuracy["runs"]:
        theirs = tuned.get(run["seed"])
        table.append([run["seed"], f"{run['validation_accuracy']:.2f} %",
                      "—" if theirs is None else f"{theirs:.2f} %"])
    names = interpreter_names(summary)
    where = names.get(accuracy.get("interpreter"), accuracy.get("interpreter"))
    return [f"Validation accuracy after 2 epochs (numpy-batch on {where}):",
            "",
            *markdown_table(["Seed", "numpy-batch", "tuned (per-sample)"],
                            table), "",
            batch_accuracy_note(accuracy) + ".", ""]


def sweep_lines(summary, sweep):
    if not sweep:
        return []
    names = interpreter_names(summary)
    where = names.get(sweep["interpreter"], sweep["interpreter"])
    lines = [f"### Batch-size sweep on {where or 'CPython'}", ""]
    if sweep["status"] != gather.OK:
        return lines + [f"Not measured: {sweep['reason']}.", ""]
    pypy = names.get(summary["pypy_interpreter"], "PyPy")
    tuned = micro(sweep["tuned_seconds"])
    table = []
    for row in sweep["rows"]:
        if not gather.usable(row):
            table.append([row["batch"], "—", "—",
                          f"{row['status']}: {row['reason']}"])
            continue
        vs = row.get("vs_tuned")
        table.append([row["batch"], mean_std(row["warm"]),
                      ratio_text(vs) if vs else "—",
                      (row.get("check") or {}).get("method", "")])
    lines += markdown_table(
        ["Batch size", "Warm [µs/step]", f"vs tuned on {pypy}",
         "Check"], table)
    lines += ["", f"{sweep['count']:,} draws per value; tuned on {pypy}: "
                  f"{tuned} µs/step in this run. " + crossover_text(sweep),
              ""]
    return lines


def crossover_text(sweep):
    found = sweep.get("crossover")
    if found is None:
        return (f"numpy-batch did not overtake tuned on PyPy at any batch "
                f"size up to {max(sweep['batches'])}.")
    note = "" if found["significant"] else " (not significant)"
    return (f"numpy-batch overtakes tuned on PyPy from a batch of "
            f"**{found['batch']}**, where it is {found['ratio']:.2f}× "
            f"faster per step{note}, and stays faster at every larger "
            f"size of the sweep.")


MEMORY_HEADERS = ["Engine", "Interpreter", "Training set held [MiB]",
                  "Bytes per pixel", "vs talk", "Peak RSS [MiB]"]


def memory_rows(summary, short=False):
    memory = summary.get("memory")
    if not memory:
        return []
    names = interpreter_names(summary, short)
    held = {(r["interpreter"], r["engine"]): r["held_bytes"]
            for r in memory["runs"]}
    table = []
    for run in sorted(memory["runs"], key=lambda r: (
            gather.ENGINES.index(r["engine"]), r["interpreter"])):
        name = names.get(run["interpreter"], run["interpreter"])
        if run["status"] != gather.OK or run["held_bytes"] is None:
            table.append([run["engine"], name, "—", "—", "—",
                          "—"])
            continue
        talk = held.get((run["interpreter"], "talk"))
        versus = "—"
        if run["engine"] == "talk":
            versus = "1.00 (reference)"
        elif talk:
            versus = ratio_text({"ratio": talk / run["held_bytes"]},
                                ("smaller", "larger"))
        table.append([run["engine"], name, mib(run["held_bytes"]),
                      f"{run['bytes_per_pixel']:.1f}", versus,
                      mib(run["peak_rss_bytes"])])
    return table


def memory_section(summary):
    memory = summary.get("memory")
    if not memory:
        return []
    lines = ["## Memory", "",
             f"What the first {memory['images']:,} training images hold "
             f"once converted, each engine and interpreter measured in a "
             f"fresh process: the larger of the growth of the resident "
             f"set and the growth of malloc'd memory across the "
             f"conversion, garbage collected before each reading (each "
             f"growth misses memory of its own kind). Peak RSS is that "
             f"process's, reading the dataset included; the stage tables "
             f"give the peak of each benchmark process.", ""]
    lines += markdown_table(MEMORY_HEADERS, memory_rows(summary))
    sentences = memory_sentences(summary)
    return lines + ["", *sentences, ""] if sentences else lines + [""]


def memory_sentences(summary):
    """What a list of floats costs against an array, from the figures."""
    runs = {(r["interpreter"], r["engine"]): r
            for r in (summary.get("memory") or {}).get("runs", [])
            if r["status"] == gather.OK and r["held_bytes"]}
    names = interpreter_names(summary, short=True)
    cpython, pypy = summary["reference_interpreter"], \
        summary["pypy_interpreter"]
    talk, array = runs.get((cpython, "talk")), runs.get((cpython, "numpy"))
    lines = []
    if talk and array:
        lines.append(
            f"On {names[cpython]} the talk's list of floats costs "
            f"{talk['bytes_per_pixel']:.1f} bytes a pixel (a pointer, "
            f"and a float object of its own for each pixel) against "
            f"{array['bytes_per_pixel']:.1f} for NumPy's float64 array: "
            f"{mib(talk['held_bytes'])} MiB for the training set against "
            f"{mib(array['held_bytes'])}, "
            f"{talk['held_bytes'] / array['held_bytes']:.1f}× as much.")
    talk_pypy = runs.get((pypy, "talk"))
    if talk_pypy:
        lines.append(
            f"On {names[pypy]} the same lists cost "
            f"{talk_pypy['bytes_per_pixel']:.1f} bytes a pixel "
            f"({mib(talk_pypy['held_bytes'])} MiB): a list holding only "
            f"floats stores them unboxed, as an array does.")
    lines += tuned_memory_sentence(runs, names, cpython, pypy, summary)
    return lines


def tuned_memory_sentence(runs, names, cpython, pypy, summary):
    """What the tuned loader saves, and what its epoch does meanwhile."""
    parts = []
    for label in (cpython, pypy):
        tuned, talk = runs.get((label, "tuned")), runs.get((label, "talk"))
        if tuned and talk:
            parts.append(f"{mib(tuned['held_bytes'])} MiB on "
                         f"{names[label]} "
                         f"({talk['held_bytes'] / tuned['held_bytes']:.1f}"
                         f"× less than the talk's lists)")
    if not parts:
        return []
    epoch = next((t for t in summary.get("targets", [])
                  if t["id"] == "tuned_vs_talk_epoch"), None)
    faster = ""
    if epoch and epoch["measured"]:
        faster = (f", while its epoch runs {epoch['measured']:.2f}× "
                  f"faster than the talk's on CPython")
    return [f"What the loader can do about it: the tuned loader keeps only "
            f"the non-zero pixels, {' and '.join(parts)}{faster}."]


def engines_section(summary):
    notes = summary.get("engines")
    if not notes:
        return []
    lines = ["## What makes each engine fast", "",
             "From each engine module's docstring, where the details "
             "are (`speedrun/engines/`):", ""]
    for engine in gather.ENGINES:
        points = (notes.get(engine) or {}).get("points") or []
        if points:
            lines.append(f"- **{engine}**: " + " ".join(
                p.replace("``", "`") for p in points))
    return lines + [""]


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
        "row invalid. numpy-batch is checked on its work and its "
        "accuracy instead (see its section).",
        "- Warm: the values after the warmups; cold: the first warmup of "
        "each fresh process.",
        f"- BLAS threads in every benchmark process: "
        f"{blas_environment(p)}.", ""]


def blas_environment(protocol):
    found = protocol.get("environment")
    if not found:
        return "not set by the bench (this run predates the setting)"
    return ", ".join(f"`{name}={value}`" for name, value in found.items())


def blas_cell(numpy):
    """NumPy's BLAS as built, and as loaded with its thread count."""
    if not numpy or not numpy.get("blas"):
        return "—"
    text = f"{numpy['blas'].get('name')} {numpy['blas'].get('version')}"
    loaded = numpy.get("runtime") or []
    if loaded:
        text += "; loaded: " + ", ".join(
            f"{pool.get('internal_api')} {pool.get('version')}, "
            f"{plural(pool.get('num_threads') or 0, 'thread')}"
            for pool in loaded)
    return text


def environment_section(summary):
    lines = ["## Interpreters and machine", ""]
    table = []
    names = interpreter_names(summary)
    for interp in summary["interpreters"]:
        probe = interp["probe"]
        numpy = probe.get("numpy")
        blas = blas_cell(numpy)
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
    """The stage, memory, sweep, target and claims tables, with rich.

    The terminal tables are the short form of REPORT.md: notes are
    reduced to a word, and the missing pieces follow as lines. Without
    rich the whole of REPORT.md is printed instead.
    """
    try:
        from rich.console import Console
    except ImportError:
        print(render_markdown(summary), file=stream or sys.stdout)
        return
    console = Console(file=stream)
    if not console.is_terminal:
        console = Console(file=stream, width=TERMINAL_WIDTH)
    for line in status_lines(summary):
        console.print(_escape(line.replace("`", "")))
    _print_stages(console, summary)
    _print_sweep(console, summary)
    _print_memory(console, summary)
    _print_targets(console, summary)
    _print_claims(console, summary)
    for item in summary["missing"]:
        console.print(_escape(f"missing: {item['name']}: "
                              f"{item['message']}"), style="yellow")
    flagged = [r for r in summary["rows"] if r.get("unstable")]
    if flagged:
        console.print(f"{len(flagged)} figure(s) unstable; REPORT.md says "
                      f"what to rerun.", style="yellow")


def _escape(text):
    from rich.markup import escape
    return escape(str(text))


def _table(title, headers, left=("Engine", "Interpreter", "Note")):
    from rich.table import Table
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(_escape(header), justify="left" if header in left
                         else "right")
    return table


def _styled(text, status):
    style = VERDICT_STYLE.get(status, "")
    return f"[{style}]{_escape(text)}[/]" if style else _escape(text)


def _print_stages(console, summary):
    names = interpreter_names(summary, short=True)
    for stage in gather.STAGES:
        table = _table(STAGE_TITLES[stage], stage_headers(stage))
        for row in ordered_rows(summary, stage):
            cells = row_cells(row, names, summary["reference_interpreter"])
            cells[-1] = short_note(row)
            table.add_row(*map(_escape, cells))
        for item in summary["missing"]:
            if item.get("kind") == "interpreter":
                table.add_row("all", _escape(item["name"]), *["—"] * 5,
                              "not found (see below)", style="yellow")
        console.print(table)
        for note in stage_footnotes(summary, stage)[:1]:
            console.print(note.replace("\\*", "*"), style="dim")


def _print_sweep(console, summary):
    sweep = summary.get("sweep")
    if not sweep or sweep["status"] != gather.OK:
        return
    pypy = interpreter_names(summary, short=True).get(
        summary["pypy_interpreter"], "PyPy")
    table = _table(f"numpy-batch (a different algorithm) by batch size, "
                   f"{sweep['count']:,} draws", ["Batch size",
                                                 "Warm [µs/step]",
                                                 f"vs tuned on {pypy}"])
    for row in sweep["rows"]:
        vs = row.get("vs_tuned")
        table.add_row(str(row["batch"]), _escape(
            mean_std(row["warm"]) if gather.usable(row) else row["status"]),
            _escape(ratio_text(vs) if vs else "—"))
    console.print(table)
    console.print(_escape(crossover_text(sweep).replace("**", "")),
                  style="dim")


def _print_memory(console, summary):
    lines = memory_rows(summary, short=True)
    if not lines:
        return
    table = _table(f"Memory: the first {summary['memory']['images']:,} "
                   f"training images, converted", MEMORY_HEADERS)
    for cells in lines:
        table.add_row(*map(_escape, cells))
    console.print(table)
    for sentence in memory_sentences(summary):
        console.print(_escape(sentence), style="dim")


def _print_targets(console, summary):
    found = summary.get("targets")
    if not found:
        return
    table = _table("Targets of the engines", TARGET_HEADERS[:-1],
                   left=("Target",))
    for target in found:
        cells = [_escape(c) for c in target_cells(target)[:-1]]
        cells[4] = _styled(target["status"], target["status"])
        table.add_row(*cells)
    console.print(table)
    for target in found:
        if target["reason"] and target["status"] != targets.NOT_MEASURED:
            console.print(_escape(target["reason"]), style="dim")


def _print_claims(console, summary):
    table = _table("The talk's claims", CLAIM_HEADERS[:-1], left=(
        "Claim",))
    for claim in summary["claims"]:
        cells = [_escape(c) for c in claim_cells(claim)[:-1]]
        cells[0] = _escape(claim["label"])
        cells[5] = _styled(claim["verdict"], claim["verdict"])
        table.add_row(*cells)
    console.print(table)
    for claim in summary["claims"]:
        note = claim_cells(claim)[-1]
        if note and claim["verdict"] != claims.NOT_MEASURED:
            console.print(_escape(f"{claim['label']}: {note}"), style="dim")


def short_note(row):
    """A row's note in a word or two, for the terminal table."""
    if not gather.usable(row):
        return row["status"]
    words = []
    if row["engine"] == gather.BATCH_ENGINE:
        words.append(batch_accuracy_note(row.get("accuracy"), short=True))
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


def write_scaling_report(folder, stopped=None):
    """REPORT.md of a scaling run: its sizes, the chart, the slopes.

    *folder* holds one bench run per size in sub-folders; the chart is
    drawn from their summaries (``plots.write_bench_charts``).
    """
    summaries = sorted(plots.scaling_summaries(folder), key=lambda s: [
        s["protocol"]["counts"][stage] for stage in gather.STAGES])
    out = [f"# speedrun bench: scaling run "
           f"{os.path.basename(os.path.normpath(folder))}", ""]
    if stopped:
        out += [f"**This run is incomplete ({stopped}).** The sizes "
                f"below finished; run it again for all of them.", ""]
    table = [[f"{s['protocol']['counts']['epoch']:,}",
              f"{s['protocol']['counts']['infer']:,}",
              f"{s['protocol']['counts']['load']:,}", s["status"],
              f"[REPORT.md]({s['run_id'].split('/')[-1]}/REPORT.md)"]
             for s in summaries]
    out += markdown_table(["Epoch steps", "Inference images",
                           "Loaded images", "Status", "Run"], table)
    out += ["", "Each size is a whole bench run (reference, checks, "
                "interleaved interpreters); the chart fits the first call "
                "of each fresh process, on log-log axes.", ""]
    out += plots.charts_markdown(folder)
    out += slope_lines(summaries)
    results.write_text(os.path.join(folder, results.REPORT),
                       "\n".join(out) + "\n")


def slope_lines(summaries):
    """The fitted exponent of each stage, engine and interpreter."""
    if len(summaries) < 2:
        return ["Fewer than two sizes finished: no slope.", ""]
    data = chartdata.scaling(summaries)
    table = [[panel["stage"], line["engine"], line["interpreter"],
              f"{line['slope']:.2f}",
              ", ".join(f"{n:,}: {t:.3g} s" for n, t in zip(
                  line["work"], line["seconds"]))]
             for panel in data["panels"] for line in panel["series"]]
    return ["## Slopes", "", "Time ≈ a × work^slope; 1.00 means the time "
            "grows in proportion to the work.", "",
            *markdown_table(["Stage", "Engine", "Interpreter", "Slope",
                             "First call at each size"], table), ""]


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
