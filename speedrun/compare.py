"""``speedrun compare BASE NEW``: did anything get slower, do the claims hold?

BASE and NEW are each a results folder written by ``nox -s bench``
(``summary.json`` beside one pyperf JSON file per interpreter) or a
single pyperf JSON file (format version 1.0). Benchmarks are matched by
interpreter and name (``epoch/talk`` under ``pypy``); two single files
are matched by name alone. The figures are pyperf's values after the
warmups (the warm, steady-state figures), seconds per item.

For each figure the table shows both means, the change in % and a 95 %
confidence interval of the ratio NEW / BASE, from a bootstrap over the
per-process means (``speedrun.claims``: each pyperf worker process is
one independent sample). The bootstrap needs neither equal sample
counts nor normality, and it is seeded, so the same files always give
the same table. A side with fewer than ``MIN_PROCESSES`` processes is
resampled over its single values instead, which understates the noise
between processes: the ``n`` column says which was used.

Results from different machines (hostname, CPU model or CPU count
differ) are not compared by absolute times, which mostly measure the
machines, but by ratios measured inside each run: each interpreter
against the reference CPython and each engine against the talk's code,
stage by stage.

Exit status (``EXIT_*`` below): 0 when nothing is wrong, 1 for an error
(a missing, corrupt or unknown-version file; one ``ERROR:`` line names
it), 2 for a command-line mistake (argparse). With ``--fail-on PCT``
the gate adds, the first that applies winning:

    6  a row or a claim of NEW is invalid: an engine's result did not
       match the reference, so its speed means nothing
    4  a claim that held in BASE no longer holds in NEW
    3  a figure got slower by more than PCT and the change is
       significant (its 95 % interval lies wholly above 1)
    5  inconclusive: a figure got slower by more than PCT but the
       change is not significant, a figure or claim of BASE is missing
       from NEW, or a claim that held is now inconclusive

Wrong results outrank claims, and a claim outranks a regression, so a
caller who tolerates exit 3 (and 4) on a noisy machine still hears about
what it does not tolerate.

This module reads result files only: it runs no engine and no
benchmark, and it needs neither pyperf nor NumPy (rich is optional).
The cold figures (first call of each fresh process) are not compared.
"""

import argparse
import math
import os
import random
import sys

from speedrun import claims, results

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REGRESSED = 3
EXIT_CLAIM = 4
EXIT_INCONCLUSIVE = 5
EXIT_INVALID = 6

RESAMPLES = 2000  # per table row; the claims themselves use more
MIN_PROCESSES = 3  # fewer process means than this: resample the values
# TODO: with 3 to 5 processes a side (the quick profile) the percentile
# bootstrap interval is too narrow, as it never looks past the few means
# it has; a Student-t interval would be wider. Kept to the claims' method
# so that a row and a claim are judged alike; the --fail-on threshold
# keeps small, falsely "significant" changes from failing the gate.
UNSTABLE = 0.10  # std dev at or above 10 % of the mean (pyperf's limit)
MACHINE_KEYS = ("hostname", "cpu_model_name", "cpu_count")
REFERENCE_INTERPRETER = "cpython"  # for folders: the run's own reference
REFERENCE_ENGINE = "talk"
USABLE_ROWS = ("ok", "incomplete")  # rows of summary.json with figures


class CompareError(Exception):
    """A result file cannot be compared; the message names the file."""


# -- Reading result files ---------------------------------------------


class Figure:
    """One benchmark's warm timings under one interpreter.

    *runs* holds the values of each worker process (seconds per item for
    pyperf's ``second`` unit); calibration runs without values are left
    out by the reader.
    """

    def __init__(self, name, unit, runs):
        self.name, self.unit = name, unit
        self.values = [v for run in runs for v in run]
        self.processes = len(runs)
        if self.processes >= MIN_PROCESSES:
            self.samples = [claims.mean(run) for run in runs]
            self.basis = "p"
        else:
            self.samples = list(self.values)
            self.basis = "v"
        self.mean = claims.mean(self.samples)
        self.stdev = _stdev(self.values)

    @property
    def unstable(self):
        return self.stdev >= UNSTABLE * abs(self.mean) > 0

    def count(self):
        """``12p`` for 12 process means, ``5v`` for 5 pooled values."""
        return f"{len(self.samples)}{self.basis}"


class ResultSet:
    """Figures keyed by ``(interpreter, name)``, machine facts, claims.

    ``states`` holds the rows of a results folder that have no figures,
    by label: ``(status, reason)``, e.g. ``("invalid", "result differs
    from the reference ...")``.
    """

    def __init__(self, path, kind, figures, machine, claim_entries=(),
                 states=None, reference=REFERENCE_INTERPRETER, run=None):
        self.path, self.kind = path, kind
        self.figures, self.machine = figures, machine
        self.claims = list(claim_entries)  # summary.json's claims list
        self.states = states or {}
        self.reference = reference
        self.run = run or {}  # profile and status of a bench run

    def describe_machine(self):
        """``host, CPU model, N CPUs`` from the metadata, as known."""
        host, model, count = (self.machine.get(k) for k in MACHINE_KEYS)
        parts = [str(host or "unknown host"), str(model or "unknown CPU")]
        if count is not None:
            parts.append(f"{count} CPUs")
        return ", ".join(parts)


def load(path):
    """A results folder or a pyperf JSON file, as a ``ResultSet``."""
    try:
        if os.path.isdir(path):
            return load_folder(path)
        if not os.path.exists(path):
            raise CompareError(f"{path}: no such file or folder")
        return load_pyperf(path)
    except results.ResultError as exc:
        raise CompareError(str(exc)) from None


def load_pyperf(path):
    """One pyperf JSON file; its benchmarks keyed by name alone."""
    benchmarks = results.read_pyperf(path)
    figures, machine = {}, {}
    for name, runs in benchmarks.items():
        if not runs:
            raise CompareError(f"{path}: benchmark {name!r} has no values "
                               f"(only calibration or warmup runs)")
        metadata = runs[0].metadata
        figures[(None, name)] = Figure(name, metadata.get("unit", "second"),
                                       [run.values for run in runs])
        for key in MACHINE_KEYS:
            if machine.get(key) is None:
                machine[key] = metadata.get(key)
    if not figures:
        raise CompareError(f"{path}: the file holds no benchmark")
    return ResultSet(path, "pyperf", figures, machine)


def load_folder(path):
    """``summary.json`` and the pyperf files of a ``nox -s bench`` run."""
    summary_path = os.path.join(path, results.SUMMARY)
    if not os.path.exists(summary_path):
        raise CompareError(f"{path}: no {results.SUMMARY} in this folder; "
                           f"gather the run first: nox -s report -- {path}")
    summary = results.read(summary_path, "summary")
    try:
        return _folder_results(path, summary)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CompareError(f"{summary_path}: malformed summary (missing or "
                           f"odd field {exc})") from None


def _folder_results(path, summary):
    figures, states = {}, {}
    for interp in summary["interpreters"]:
        pyperf_path = os.path.join(path, interp["pyperf_file"])
        if not os.path.exists(pyperf_path):
            continue
        for name, runs in results.read_pyperf(pyperf_path).items():
            if runs:
                figures[(interp["label"], name)] = Figure(
                    name, "second", [run.values for run in runs])
    for row in summary["rows"]:
        key = (row["interpreter"], row["benchmark"])
        if row["status"] not in USABLE_ROWS:
            figures.pop(key, None)
            states[_label(key)] = (row["status"], row.get("reason"))
    machine = summary.get("machine") or {}
    machine = {"hostname": machine.get("hostname"),
               "cpu_model_name": machine.get("cpu_model"),
               "cpu_count": machine.get("cpu_count")}
    return ResultSet(path, "results folder", figures, machine,
                     summary["claims"], states,
                     summary.get("reference_interpreter")
                     or REFERENCE_INTERPRETER,
                     {"profile": summary.get("profile"),
                      "status": summary.get("status")})


# -- Statistics -------------------------------------------------------


def _stdev(values):
    if len(values) < 2:
        return 0.0
    mean = claims.mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values)
                     / (len(values) - 1))


class Quantity:
    """A product of figure means, each raised to +1 or -1.

    One figure alone is an absolute time; ``a / b`` is a ratio measured
    inside one run, such as PyPy's epoch time over CPython's.
    """

    def __init__(self, terms):
        self.terms = terms  # [(Figure, +1 or -1), ...]

    @property
    def value(self):
        return _product(fig.mean ** power for fig, power in self.terms)

    @property
    def unstable(self):
        return any(fig.unstable for fig, _ in self.terms)

    def resampled(self, rng):
        """The quantity over one bootstrap resample of every figure."""
        return _product(
            claims.mean(rng.choices(fig.samples, k=len(fig.samples)))
            ** power for fig, power in self.terms)

    def judgeable(self):
        return all(len(fig.samples) >= 2 for fig, _ in self.terms)


def _product(numbers):
    result = 1.0
    for n in numbers:
        result *= n
    return result


def ratio_interval(base, new, name, resamples=RESAMPLES):
    """95 % percentile bootstrap interval of ``new.value / base.value``.

    *base* and *new* are ``Quantity`` objects; every figure is resampled
    at its own size, so the sample counts may differ. Two absolute times
    go through ``claims.ratio_interval``, as the claims do; ratios of
    ratios (four figures) are resampled here the same way. Returns
    ``(low, high)``, or ``None`` when a figure has under 2 samples.
    """
    if not (base.judgeable() and new.judgeable()):
        return None
    if len(base.terms) == len(new.terms) == 1:
        return claims.ratio_interval(new.terms[0][0].samples,
                                     base.terms[0][0].samples, name,
                                     resamples)
    rng = random.Random(f"{claims.SEED}-{name}")
    ratios = sorted(new.resampled(rng) / base.resampled(rng)
                    for _ in range(resamples))
    tail = (1.0 - claims.CONFIDENCE) / 2
    last = resamples - 1
    return ratios[int(tail * last)], ratios[int(round((1.0 - tail) * last))]


# -- Comparing --------------------------------------------------------


class Row:
    """One line of the figures table: a quantity in BASE and in NEW."""

    def __init__(self, label, base, new, state=None):
        self.label = label
        self.base, self.new = base, new  # Quantity, or None when absent
        self.state = state  # (status, reason) of a NEW row without figures
        self.interval = None
        if base is not None and new is not None:
            self.interval = ratio_interval(base, new, label)
        self.gate = ""

    @property
    def ratio(self):
        return self.new.value / self.base.value

    @property
    def change(self):
        """NEW against BASE in %: positive is slower."""
        return 100.0 * (self.ratio - 1.0)

    @property
    def significant(self):
        low, high = self.interval or (1.0, 1.0)
        return low > 1.0 or high < 1.0


class ClaimRow:
    """One claim of the talk in BASE and in NEW, and what changed."""

    def __init__(self, claim_id, base, new):
        self.id, self.base, self.new = claim_id, base, new
        self.status = _claim_status(base, new)

    @property
    def change(self):
        """NEW's measured figure against BASE's in %, or None."""
        figures = [(c or {}).get("measured") for c in (self.base, self.new)]
        if not all(_is_number(f) for f in figures) or figures[0] == 0:
            return None
        return 100.0 * (figures[1] / figures[0] - 1.0)


def _claim_status(base, new):
    held = base is not None and base.get("verdict") == claims.REPRODUCED
    if new is None:
        return "missing in NEW" if held else "not in NEW"
    verdict = new.get("verdict")
    if verdict == claims.INVALID:
        return "invalid"
    if base is None:
        return "new in NEW"
    if verdict == claims.REPRODUCED:
        return "holds" if held else "now holds"
    if held:
        return "no longer holds" if verdict == claims.NOT_REPRODUCED \
            else "inconclusive"
    return "unchanged"


class Report:
    """BASE against NEW: the figure rows, the claim rows, how compared."""

    def __init__(self, base, new, mode, differences, rows, claim_rows):
        self.base, self.new, self.mode = base, new, mode
        self.differences = differences  # machine keys that differ
        self.rows, self.claims = rows, claim_rows

    def invalid(self):
        """Labels and reasons of NEW's rows whose check failed."""
        return [(label, reason) for label, (status, reason)
                in self.new.states.items() if status == claims.INVALID]


def compare(base, new, mode="auto"):
    """Compare two ``ResultSet`` objects; *mode* auto, absolute or ratios.

    ``auto`` compares absolute times on one machine and ratios across
    machines.
    """
    if base.kind != new.kind:
        raise CompareError(
            f"{new.path}: a {new.kind} cannot be compared with the "
            f"{base.kind} {base.path}; give two of the same kind")
    differences = machine_differences(base, new)
    if mode == "auto":
        mode = "ratios" if differences else "absolute"
    pick = _absolute if mode == "absolute" else _ratios
    rows = _rows(pick(base), pick(new), new.states)
    return Report(base, new, mode, differences, rows,
                  _claim_rows(base.claims, new.claims))


def machine_differences(base, new):
    """The machine metadata keys known in both sets whose values differ."""
    return [key for key in MACHINE_KEYS
            if base.machine.get(key) is not None
            and new.machine.get(key) is not None
            and base.machine[key] != new.machine[key]]


def _absolute(found):
    return {_label(key): Quantity([(found.figures[key], 1)])
            for key in sorted(found.figures, key=_sort_key)}


def _label(key):
    interpreter, name = key
    return name if interpreter is None else f"{name} ({interpreter})"


def _sort_key(key):
    interpreter, name = key
    return name, interpreter or ""


def _ratios(found):
    """Ratios inside one run: each interpreter against the reference
    CPython, then each engine against the talk's code, stage by stage."""
    figures, cpython = found.figures, found.reference
    versus_cpython, versus_talk = {}, {}
    for key in sorted(figures, key=_sort_key):
        interpreter, name = key
        fig = figures[key]
        reference = figures.get((cpython, name))
        if interpreter not in (None, cpython) and reference:
            versus_cpython[f"{name}: {interpreter} ÷ {cpython}"] = Quantity(
                [(fig, 1), (reference, -1)])
        stage, _, engine = name.rpartition("/")
        talk = figures.get((interpreter, f"{stage}/{REFERENCE_ENGINE}"))
        if stage and engine != REFERENCE_ENGINE and talk:
            where = f" ({interpreter})" if interpreter else ""
            versus_talk[f"{name} ÷ {stage}/{REFERENCE_ENGINE}{where}"] = \
                Quantity([(fig, 1), (talk, -1)])
    return dict(versus_cpython, **versus_talk)


def _rows(base, new, states):
    labels = list(base) + [label for label in new if label not in base]
    return [Row(label, base.get(label), new.get(label), states.get(label))
            for label in labels]


def _claim_rows(base, new):
    base_by_id = {c.get("id"): c for c in base}
    new_by_id = {c.get("id"): c for c in new}
    ids = list(base_by_id) + [i for i in new_by_id if i not in base_by_id]
    return [ClaimRow(i, base_by_id.get(i), new_by_id.get(i)) for i in ids]


# -- The gate ---------------------------------------------------------


def parse_threshold(text):
    """``"10%"``, ``"10 %"`` or ``"10"`` -> 10.0 (percent slower)."""
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("%").strip())
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value >= 0):
        raise CompareError(f"--fail-on: expected a percentage such as "
                           f"10%, got {text!r}")
    return value


def gate(report, threshold):
    """The exit status for *threshold* (%) and every finding, worst first.

    Marks each row's ``gate`` field ("regressed", "inconclusive",
    "missing in NEW"...) on the way.
    """
    found = {EXIT_INVALID: [], EXIT_CLAIM: [], EXIT_REGRESSED: [],
             EXIT_INCONCLUSIVE: []}
    for label, reason in report.invalid():
        found[EXIT_INVALID].append(f"{label}: invalid in NEW ({reason})")
    for row in report.rows:
        code = _row_gate(row, threshold)
        if code:
            found[code].append(f"{row.label}: {row.gate}")
    for claim in report.claims:
        if claim.status == "invalid":
            found[EXIT_INVALID].append(f"claim {claim.id}: invalid in NEW "
                                       f"({claim.new.get('reason')})")
        elif claim.status == "no longer holds":
            found[EXIT_CLAIM].append(f"claim {claim.id}: {claim.status}")
        elif claim.status in ("inconclusive", "missing in NEW"):
            # e.g. PyPy missing from NEW: its claims are "not measured"
            found[EXIT_INCONCLUSIVE].append(
                f"claim {claim.id}: {claim.status}")
    if not any(row.base and row.new for row in report.rows):
        found[EXIT_INCONCLUSIVE].append("no figure could be compared")
    order = (EXIT_INVALID, EXIT_CLAIM, EXIT_REGRESSED, EXIT_INCONCLUSIVE)
    reasons = [reason for code in order for reason in found[code]]
    code = next((code for code in order if found[code]), EXIT_OK)
    return code, reasons


def _row_gate(row, threshold):
    if row.base is None:
        return None
    if row.new is None:
        status = row.state[0] if row.state else "missing"
        row.gate = f"{status} in NEW"
        # An invalid row is already counted, as a failed check.
        return None if status == claims.INVALID else EXIT_INCONCLUSIVE
    if row.change <= threshold:
        row.gate = "ok"
        return None
    if row.interval and row.interval[0] > 1.0:
        row.gate = f"regressed (> {threshold:g} %)"
        return EXIT_REGRESSED
    row.gate = f"inconclusive (> {threshold:g} %, not significant)"
    return EXIT_INCONCLUSIVE


# -- Tables -----------------------------------------------------------

MEANINGS = {
    EXIT_OK: "nothing regressed",
    EXIT_REGRESSED: "regressed",
    EXIT_CLAIM: "a claim no longer holds",
    EXIT_INVALID: "a result of NEW is invalid",
    EXIT_INCONCLUSIVE: "inconclusive",
}
TIME_SCALES = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def notes(report, threshold=None, code=None, reasons=()):
    """The lines printed above the tables: what was compared, and how."""
    lines = [f"BASE: {report.base.path} ({report.base.describe_machine()})",
             f"NEW:  {report.new.path} ({report.new.describe_machine()})"]
    if report.differences:
        lines.append(
            f"Different machines ({', '.join(report.differences)} differ): "
            f"compared by ratios measured inside each run, not by "
            f"absolute times.")
    elif report.mode == "ratios":
        lines.append("Compared by ratios measured inside each run "
                     "(--mode ratios).")
    lines += _run_notes(report.base, report.new)
    lines.append(
        f"Change = NEW / BASE - 1; {claims.CONFIDENCE:.0%} interval from a "
        f"bootstrap over per-process means (n: p = processes, v = single "
        f"values); 'slower' in a ratio row means the first figure lost "
        f"ground to the second.")
    if threshold is not None:
        lines.append(f"Gate --fail-on {threshold:g} %: exit {code} "
                     f"({MEANINGS[code]})"
                     + "".join(f"\n  - {r}" for r in reasons))
    return lines


def _run_notes(base, new):
    """Warnings about runs that differ in more than their code."""
    lines = []
    profiles = base.run.get("profile"), new.run.get("profile")
    if None not in profiles and profiles[0] != profiles[1]:
        lines.append(f"Profiles differ (BASE {profiles[0]}, NEW "
                     f"{profiles[1]}): figures are per item, but fewer "
                     f"items leave PyPy's JIT less time to settle.")
    for name, found in (("BASE", base), ("NEW", new)):
        status = found.run.get("status")
        if status not in (None, "complete"):
            lines.append(f"{name} run is {status}: some rows may be "
                         f"missing; rerun the bench to complete it.")
    return lines


def figure_table(report, threshold=None):
    """Header and rows (strings) of the figures table."""
    if report.mode == "absolute":
        header = ["Benchmark", "Unit", "BASE (mean ± std dev)",
                  "NEW (mean ± std dev)"]
    else:
        header = ["Ratio (time ÷ time)", "Unit", "BASE", "NEW"]
    header += ["Change (%)", f"{claims.CONFIDENCE:.0%} interval (%)",
               "n BASE/NEW", "Verdict"]
    if threshold is not None:
        header.append("Gate")
    rows = [_figure_cells(row, report.mode) + (
        [row.gate] if threshold is not None else [])
        for row in report.rows]
    geo = _geometric_mean(report.rows)
    if geo is not None:
        rows.append(["geometric mean", "", "", "",
                     f"{100 * (geo - 1):+.1f}", "", "", ""]
                    + ([""] if threshold is not None else []))
    return header, rows


def _figure_cells(row, mode):
    unit, scale = _unit(row, mode)
    cells = [row.label, unit, _amount(row.base, scale, mode),
             _amount(row.new, scale, mode)]
    if row.base is None or row.new is None:
        verdict = "new in NEW"
        if row.new is None:
            verdict = f"{row.state[0] if row.state else 'missing'} in NEW"
        return cells + ["", "", _counts(row), verdict]
    if row.interval is None:
        interval, verdict = "", "too few samples"
    else:
        low, high = row.interval
        interval = f"{100 * (low - 1):+.1f} .. {100 * (high - 1):+.1f}"
        verdict = _words(row.ratio, row.significant)
    if row.base.unstable or row.new.unstable:
        verdict += " (unstable)"
    return cells + [f"{row.change:+.1f}", interval, _counts(row), verdict]


def _unit(row, mode):
    if mode != "absolute":
        return "×", 1.0
    fig = (row.base or row.new).terms[0][0]
    if fig.unit != "second":
        return fig.unit, 1.0
    for scale, name in TIME_SCALES:
        if fig.mean >= scale:
            return name, scale
    return TIME_SCALES[-1][1], TIME_SCALES[-1][0]


def _amount(quantity, scale, mode):
    if quantity is None:
        return "—"
    if mode != "absolute":
        return _digits(quantity.value, 4)
    fig = quantity.terms[0][0]
    return f"{_digits(fig.mean / scale, 4)} ± {_digits(fig.stdev / scale, 2)}"


def _digits(number, significant):
    """*number* to *significant* digits, never in exponent notation."""
    if number == 0 or not math.isfinite(number):
        return f"{number:g}"
    magnitude = math.floor(math.log10(abs(number)))
    return f"{number:.{max(0, significant - 1 - magnitude)}f}"


def _counts(row):
    def side(quantity):
        if quantity is None:
            return "—"
        return "·".join(fig.count() for fig, _ in quantity.terms)
    return f"{side(row.base)}/{side(row.new)}"


def _words(ratio, significant):
    if not significant:
        return "not significant"
    if ratio >= 1.0:
        return f"{ratio:.2f}× slower"
    return f"{1 / ratio:.2f}× faster"


def _geometric_mean(rows):
    ratios = [row.ratio for row in rows if row.base and row.new]
    if len(ratios) < 2:
        return None
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios))


def claims_table(report):
    """Header and rows (strings) of the claims table, or None."""
    if not report.claims:
        return None
    header = ["Claim", "Talk", "BASE measured [95 % CI]", "BASE verdict",
              "NEW measured [95 % CI]", "NEW verdict", "Change (%)",
              "Status"]
    rows = []
    for claim in report.claims:
        either = claim.base or claim.new or {}
        change = claim.change
        rows.append([str(either.get("label") or claim.id), _talk(either),
                     _measured(claim.base), _verdict(claim.base),
                     _measured(claim.new), _verdict(claim.new),
                     "" if change is None else f"{change:+.1f}",
                     claim.status])
    return header, rows


def _talk(claim):
    talk, unit = claim.get("talk"), claim.get("unit") or ""
    if not _is_number(talk):
        return "no figure"
    return f"{talk:g} {unit}".strip()


def _measured(claim):
    if claim is None or not _is_number(claim.get("measured")):
        return "—"
    text = f"{claim['measured']:.4g}"
    low, high = claim.get("ci_low"), claim.get("ci_high")
    if _is_number(low) and _is_number(high):
        text += f" [{low:.4g}, {high:.4g}]"
    return text


def _verdict(claim):
    return "—" if claim is None else str(claim.get("verdict", "?"))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def markdown(report, threshold=None, code=None, reasons=()):
    """The whole comparison as a Markdown document."""
    lines = ["## speedrun compare", ""]
    for note in notes(report, threshold, code, reasons):
        lines.append(note.replace("\n  - ", "\n- ") + "\n")
    tables = [figure_table(report, threshold)]
    claim_table = claims_table(report)
    if claim_table:
        tables.append(claim_table)
    for header, rows in tables:
        lines.append(_markdown_row(header))
        lines.append("|" + "|".join(
            " --- " if i == 0 else " ---: " for i in range(len(header)))
            + "|")
        lines.extend(_markdown_row(row) for row in rows)
        lines.append("")
    return "\n".join(lines)


def _markdown_row(cells):
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) \
        + " |"


def show(report, style, threshold=None, code=None, reasons=()):
    """Print the comparison: rich tables, plain text or Markdown."""
    if style == "markdown":
        print(markdown(report, threshold, code, reasons))
        return
    console = _rich_console() if style == "table" else None
    tables = [("Figures", figure_table(report, threshold)),
              ("Claims", claims_table(report))]
    for note in notes(report, threshold, code, reasons):
        print(note)
    for title, table in tables:
        if table is None:
            continue
        print()
        if console is None:
            from speedrun.display import plain_table
            print(title)
            print(plain_table(*table))
        else:
            console.print(_rich_table(title, *table))


def _rich_console():
    try:
        from rich.console import Console
    except ImportError:
        return None
    # Off a terminal (CI logs, pipes) rich would wrap at 80 columns.
    width = None if sys.stdout.isatty() else 160
    return Console(highlight=False, width=width)


def _rich_table(title, header, rows):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for index, name in enumerate(header):
        # The benchmark's name is what tells rows apart: never cut it;
        # a narrow terminal folds the figures instead.
        table.add_column(name, justify="left" if index == 0 else "right",
                         no_wrap=index == 0, overflow="fold")
    for row in rows:
        style = None
        if any(word in " ".join(row) for word in ("regressed", "no longer",
                                                  "invalid")):
            style = "bold red"
        table.add_row(*row, style=style)
    return table


# -- The command ------------------------------------------------------

HELP = "compare two bench results: regressions and the talk's claims"
EPILOG = f"""\
exit status:
  {EXIT_OK}  nothing regressed, or no --fail-on given
  {EXIT_ERROR}  error: a missing, corrupt or unknown-version file
  2  command-line mistake
  {EXIT_INVALID}  with --fail-on: a row or claim of NEW is invalid (an
     engine's result did not match the reference)
  {EXIT_CLAIM}  with --fail-on: a claim that held no longer holds
  {EXIT_REGRESSED}  with --fail-on: a figure got slower by more than PCT
     and the change is significant
  {EXIT_INCONCLUSIVE}  with --fail-on: slower by more than PCT but not
     significant, or a figure or claim missing from NEW
The first of 6, 4, 3, 5 that applies is the exit status."""


def add_arguments(parser):
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("base", metavar="BASE",
                        help="results folder of nox -s bench, or a pyperf "
                             "JSON file")
    parser.add_argument("new", metavar="NEW",
                        help="the same kind of result, to compare with BASE")
    parser.add_argument("--fail-on", metavar="PCT",
                        help="gate: exit non-zero when a figure got slower "
                             "by more than PCT (e.g. 10%%) and significantly, "
                             "or a claim stopped holding (see below)")
    parser.add_argument("--format", dest="style", default="table",
                        choices=("table", "plain", "markdown"),
                        help="rich table (plain text without rich), plain "
                             "text, or Markdown (default: table)")
    parser.add_argument("--markdown", metavar="FILE",
                        help="also write the comparison as Markdown to FILE")
    parser.add_argument("--mode", default="auto",
                        choices=("auto", "absolute", "ratios"),
                        help="absolute times or ratios inside each run "
                             "(default: auto, ratios across machines)")


def handler(args):
    """``speedrun compare``: show the comparison, return the exit status."""
    try:
        threshold = parse_threshold(args.fail_on)
        report = compare(load(args.base), load(args.new), args.mode)
    except CompareError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return EXIT_ERROR
    code, reasons = EXIT_OK, []
    if threshold is not None:
        code, reasons = gate(report, threshold)
    show(report, args.style, threshold, code, reasons)
    if args.markdown:
        try:
            with open(args.markdown, "w", encoding="utf-8") as stream:
                stream.write(markdown(report, threshold, code, reasons))
        except OSError as exc:
            print(f"ERROR: {args.markdown}: cannot write "
                  f"({exc.strerror or exc})", file=sys.stderr)
            return EXIT_ERROR
    return code


COMMAND = (HELP, add_arguments, handler)
