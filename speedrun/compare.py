"""``speedrun compare BASE NEW``: did anything get slower, do the claims hold?

BASE and NEW are each a results folder written by ``nox -s bench``
(``summary.json`` beside one pyperf JSON file per interpreter) or a
single pyperf JSON file (``.json`` or ``.json.gz``, format version 1.0).
Benchmarks are matched by interpreter and name (``epoch/talk`` under
``pypy``); two single files are matched by name alone.

For each figure the table shows both means, the change in % and a 95 %
confidence interval of the ratio NEW / BASE, from a bootstrap over the
per-process means (each pyperf worker process is one independent
sample). The bootstrap needs no equal sample counts and no normality;
its generator is seeded, so the same files always give the same table.
A side with fewer than ``MIN_PROCESSES`` processes is resampled over its
single values instead, which understates the noise between processes:
the ``n`` column says which was used.

Results from different machines (hostname, CPU model or CPU count
differ) are not compared by absolute times, which mostly measure the
machines, but by ratios measured inside each run: each interpreter
against CPython and each engine against the talk's code, stage by stage.

Exit status (``EXIT_*`` below): 0 when nothing is wrong, 1 for an error
(a missing, corrupt or unknown-version file; one ``ERROR:`` line names
it), 2 for a command-line mistake (argparse). With ``--fail-on PCT``
the gate adds, the first that applies winning:

    4  a claim that held in BASE no longer holds in NEW, or a claim row
       of NEW is invalid (its engine's result did not match)
    3  a figure got slower by more than PCT and the change is
       significant (its 95 % interval lies wholly above 1)
    5  inconclusive: a figure got slower by more than PCT but the
       change is not significant, a figure or claim of BASE is missing
       from NEW, or a claim that held is now inconclusive

A claim outranks a regression so that a caller who tolerates exit 3 on
a noisy machine still hears about a claim that flipped.

This module reads result files only: it runs no engine and no
benchmark, and it needs neither pyperf nor NumPy (rich is optional).
"""

import argparse
import gzip
import json
import math
import os
import random
import sys

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REGRESSED = 3
EXIT_CLAIM = 4
EXIT_INCONCLUSIVE = 5

PYPERF_VERSION = "1.0"  # the only pyperf JSON format version read here
SUMMARY = "summary.json"
CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20240406  # fixed: the same files always give the same intervals
MIN_PROCESSES = 3  # fewer process means than this: resample the values
UNSTABLE = 0.10  # std dev at or above 10 % of the mean (pyperf's limit)
MACHINE_KEYS = ("hostname", "cpu_model_name", "cpu_count")
REFERENCE_INTERPRETER = "cpython"
REFERENCE_ENGINE = "talk"
HELD = "reproduced"  # the claim verdict that means "the claim holds"
INVALID = "invalid"


class CompareError(Exception):
    """A result file cannot be compared; the message names the file."""


# -- Reading result files ---------------------------------------------


class Figure:
    """One benchmark's timings under one interpreter.

    *runs* holds the values of each worker process (seconds per item for
    pyperf's ``second`` unit); calibration runs without values are left
    out by the reader.
    """

    def __init__(self, name, unit, runs):
        self.name, self.unit = name, unit
        self.values = [v for run in runs for v in run]
        self.processes = len(runs)
        if self.processes >= MIN_PROCESSES:
            self.samples = [sum(run) / len(run) for run in runs]
            self.basis = "p"
        else:
            self.samples = list(self.values)
            self.basis = "v"
        self.mean = sum(self.samples) / len(self.samples)
        self.stdev = _stdev(self.values)

    @property
    def unstable(self):
        return self.stdev >= UNSTABLE * abs(self.mean) > 0

    def count(self):
        """``12p`` for 12 process means, ``5v`` for 5 pooled values."""
        return f"{len(self.samples)}{self.basis}"


class ResultSet:
    """Figures keyed by ``(interpreter, name)``, machine facts, claims."""

    def __init__(self, path, kind, figures, machine, claims=()):
        self.path, self.kind = path, kind
        self.figures, self.machine = figures, machine
        self.claims = list(claims)

    def describe_machine(self):
        """``host, CPU model, N CPUs`` from the metadata, as known."""
        host, model, count = (self.machine.get(k) for k in MACHINE_KEYS)
        parts = [str(host or "unknown host"), str(model or "unknown CPU")]
        if count is not None:
            parts.append(f"{count} CPUs")
        return ", ".join(parts)


def load(path):
    """A results folder or a pyperf JSON file, as a ``ResultSet``."""
    if os.path.isdir(path):
        return load_folder(path)
    if not os.path.exists(path):
        raise CompareError(f"{path}: no such file or folder")
    figures, machine, interpreter = read_pyperf(path)
    keyed = {(None, name): fig for name, fig in figures.items()}
    return ResultSet(path, "pyperf", keyed, machine)


def load_folder(path):
    """``summary.json`` and the pyperf files of a ``nox -s bench`` run."""
    # TODO: results folders are read once the results format of
    # ``nox -s bench`` is settled; until then only pyperf files compare.
    raise CompareError(f"{path}: results folders are not supported yet")


def read_pyperf(path):
    """Figures by name, machine metadata and interpreter of one file."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(
            data.get("benchmarks"), list):
        raise CompareError(f"{path}: not a pyperf JSON file "
                           f"(no 'benchmarks' list at the top)")
    version = data.get("version")
    if version != PYPERF_VERSION:
        raise CompareError(
            f"{path}: pyperf JSON format version {version!r}, expected "
            f"{PYPERF_VERSION!r}; rewrite it with a recent pyperf: "
            f"python -m pyperf convert --stdout {path}")
    suite = _metadata(path, data, "the file")
    figures, machine = {}, dict(suite)
    for index, bench in enumerate(data["benchmarks"]):
        figure, metadata = _read_benchmark(path, index, bench, suite)
        if figure.name in figures:
            raise CompareError(f"{path}: benchmark {figure.name!r} "
                               f"appears twice")
        figures[figure.name] = figure
        for key, value in metadata.items():
            machine.setdefault(key, value)
    if not figures:
        raise CompareError(f"{path}: the file holds no benchmark")
    return figures, machine, machine.get("python_implementation")


def _read_benchmark(path, index, bench, suite):
    where = f"benchmark #{index}"
    if not isinstance(bench, dict) or not isinstance(bench.get("runs"),
                                                     list):
        raise CompareError(f"{path}: {where} has no 'runs' list")
    metadata = dict(suite, **_metadata(path, bench, where))
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise CompareError(f"{path}: {where} has no name in its metadata")
    runs = []
    for number, run in enumerate(bench["runs"]):
        values = run.get("values", []) if isinstance(run, dict) else None
        if not isinstance(values, list) or not all(
                _is_time(v) for v in values):
            raise CompareError(
                f"{path}: benchmark {name!r} run #{number}: 'values' "
                f"must be a list of positive numbers")
        if values:
            runs.append(values)
    if not runs:
        raise CompareError(f"{path}: benchmark {name!r} has no values "
                           f"(only calibration or warmup runs)")
    return Figure(name, metadata.get("unit", "second"), runs), metadata


def _metadata(path, holder, where):
    metadata = holder.get("metadata", {})
    if not isinstance(metadata, dict):
        raise CompareError(f"{path}: metadata of {where} is not an object")
    return metadata


def _is_time(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def read_json(path):
    """The parsed JSON of *path* (gzip-compressed when it ends in .gz)."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                return json.load(stream)
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path}: not valid JSON (line {exc.lineno}, "
                           f"column {exc.colno}: {exc.msg})") from None
    except (UnicodeDecodeError, EOFError) as exc:
        raise CompareError(f"{path}: not a text JSON file ({exc})") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CompareError(f"{path}: cannot read ({reason})") from None


# -- Statistics -------------------------------------------------------


def _stdev(values):
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
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
        value = 1.0
        for fig, power in self.terms:
            pick = rng.choices(fig.samples, k=len(fig.samples))
            value *= (sum(pick) / len(pick)) ** power
        return value

    def judgeable(self):
        return all(len(fig.samples) >= 2 for fig, _ in self.terms)


def _product(numbers):
    result = 1.0
    for n in numbers:
        result *= n
    return result


def ratio_interval(base, new, rng, resamples=RESAMPLES):
    """Percentile bootstrap interval of ``new.value / base.value``.

    *base* and *new* are ``Quantity`` objects; every figure is resampled
    on its own, so the sample counts may differ. Returns ``(low, high)``
    at ``CONFIDENCE``, or ``None`` when a figure has under 2 samples.
    """
    if not (base.judgeable() and new.judgeable()):
        return None
    ratios = sorted(new.resampled(rng) / base.resampled(rng)
                    for _ in range(resamples))
    tail = (1.0 - CONFIDENCE) / 2
    low = ratios[int(tail * resamples)]
    high = ratios[min(resamples - 1, int((1.0 - tail) * resamples))]
    return low, high


# -- Comparing --------------------------------------------------------


class Row:
    """One line of the figures table: a quantity in BASE and in NEW."""

    def __init__(self, label, base, new, rng):
        self.label = label
        self.base, self.new = base, new  # Quantity, or None when absent
        self.interval = None
        if base is not None and new is not None:
            self.interval = ratio_interval(base, new, rng)
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


def _claim_status(base, new):
    held = base is not None and base.get("verdict") == HELD
    if new is None:
        return "missing in NEW" if base is not None else "unknown"
    verdict = new.get("verdict")
    if verdict == INVALID:
        return "invalid"
    if base is None:
        return "new"
    if verdict == HELD:
        return "holds" if held else "now holds"
    if held:
        return "no longer holds" if verdict == "not reproduced" \
            else "inconclusive"
    return "unchanged"


class Report:
    """BASE against NEW: the figure rows, the claim rows, how compared."""

    def __init__(self, base, new, mode, differences, rows, claims):
        self.base, self.new, self.mode = base, new, mode
        self.differences = differences  # machine keys that differ
        self.rows, self.claims = rows, claims


def compare(base, new, mode="auto"):
    """Compare two ``ResultSet`` objects; *mode* auto, absolute or ratios.

    ``auto`` compares absolute times on one machine and ratios across
    machines.
    """
    if base.kind != new.kind:
        raise CompareError(
            f"{new.path}: a {new.kind} result cannot be compared with the "
            f"{base.kind} result {base.path}; give two of the same kind")
    differences = machine_differences(base, new)
    if mode == "auto":
        mode = "ratios" if differences else "absolute"
    rng = random.Random(SEED)
    if mode == "absolute":
        rows = _rows(_absolute(base), _absolute(new), rng)
    else:
        rows = _rows(_ratios(base), _ratios(new), rng)
    claims = _claim_rows(base.claims, new.claims)
    return Report(base, new, mode, differences, rows, claims)


def machine_differences(base, new):
    """The machine metadata keys known in both sets whose values differ."""
    return [key for key in MACHINE_KEYS
            if base.machine.get(key) is not None
            and new.machine.get(key) is not None
            and base.machine[key] != new.machine[key]]


def _absolute(results):
    return {_label(key): Quantity([(fig, 1)])
            for key, fig in sorted(results.figures.items(),
                                   key=lambda item: _sort_key(item[0]))}


def _label(key):
    interpreter, name = key
    return name if interpreter is None else f"{name} ({interpreter})"


def _sort_key(key):
    interpreter, name = key
    return name, interpreter or ""


def _ratios(results):
    """Ratios inside one run: interpreter against CPython, engine
    against the talk's code, stage by stage."""
    figures, ratios = results.figures, {}
    for key in sorted(figures, key=_sort_key):
        interpreter, name = key
        fig = figures[key]
        reference = figures.get((REFERENCE_INTERPRETER, name))
        if interpreter not in (None, REFERENCE_INTERPRETER) and reference:
            ratios[f"{name}: {interpreter} ÷ {REFERENCE_INTERPRETER}"] = \
                Quantity([(fig, 1), (reference, -1)])
        stage, _, engine = name.rpartition("/")
        talk = figures.get((interpreter, f"{stage}/{REFERENCE_ENGINE}"))
        if stage and engine != REFERENCE_ENGINE and talk:
            where = f" ({interpreter})" if interpreter else ""
            ratios[f"{name} ÷ {stage}/{REFERENCE_ENGINE}{where}"] = \
                Quantity([(fig, 1), (talk, -1)])
    return ratios


def _rows(base, new, rng):
    labels = list(base) + [label for label in new if label not in base]
    return [Row(label, base.get(label), new.get(label), rng)
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
    """The exit status for *threshold* (%) and the reasons behind it.

    Marks each row's ``gate`` field ("regressed", "inconclusive",
    "missing") on the way.
    """
    found = {EXIT_CLAIM: [], EXIT_REGRESSED: [], EXIT_INCONCLUSIVE: []}
    for row in report.rows:
        code = _row_gate(row, threshold)
        if code:
            found[code].append(f"{row.label}: {row.gate}")
    for claim in report.claims:
        if claim.status in ("no longer holds", "invalid"):
            found[EXIT_CLAIM].append(f"claim {claim.id}: {claim.status}")
        elif claim.status in ("inconclusive", "missing in NEW"):
            found[EXIT_INCONCLUSIVE].append(
                f"claim {claim.id}: {claim.status}")
    if not any(row.base and row.new for row in report.rows):
        found[EXIT_INCONCLUSIVE].append("no figure could be compared")
    for code in (EXIT_CLAIM, EXIT_REGRESSED, EXIT_INCONCLUSIVE):
        if found[code]:
            return code, found[code]
    return EXIT_OK, []


def _row_gate(row, threshold):
    if row.base is None:
        return None
    if row.new is None:
        row.gate = "missing in NEW"
        return EXIT_INCONCLUSIVE
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
    lines.append(
        f"Change = NEW / BASE - 1; {CONFIDENCE:.0%} interval from a "
        f"bootstrap over per-process means (n: p = processes, v = single "
        f"values); 'slower' in a ratio row means the first figure lost "
        f"ground to the second.")
    if threshold is not None:
        lines.append(f"Gate --fail-on {threshold:g} %: exit {code} "
                     f"({MEANINGS[code]})"
                     + "".join(f"\n  - {r}" for r in reasons))
    return lines


def figure_table(report, threshold=None):
    """Header and rows (strings) of the figures table."""
    if report.mode == "absolute":
        header = ["Benchmark", "Unit", "BASE (mean ± std dev)",
                  "NEW (mean ± std dev)"]
    else:
        header = ["Ratio (time ÷ time)", "Unit", "BASE", "NEW"]
    header += ["Change (%)", f"{CONFIDENCE:.0%} interval (%)",
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
        verdict = "missing in NEW" if row.new is None else "new in NEW"
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
        return f"{quantity.value:.4g}"
    fig = quantity.terms[0][0]
    return f"{fig.mean / scale:.4g} ± {fig.stdev / scale:.2g}"


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
              "NEW measured [95 % CI]", "NEW verdict", "Status"]
    rows = []
    for claim in report.claims:
        talk = (claim.base or claim.new or {}).get("talk", "")
        rows.append([str(claim.id), str(talk), _measured(claim.base),
                     _verdict(claim.base), _measured(claim.new),
                     _verdict(claim.new), claim.status])
    return header, rows


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
    claims = claims_table(report)
    if claims:
        tables.append(claims)
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
        table.add_column(name, justify="left" if index == 0 else "right")
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
  {EXIT_OK}  nothing regressed (always, without --fail-on)
  {EXIT_ERROR}  error: a missing, corrupt or unknown-version file
  2  command-line mistake
  {EXIT_CLAIM}  with --fail-on: a claim that held no longer holds, or a
     claim row is invalid
  {EXIT_REGRESSED}  with --fail-on: a figure got slower by more than PCT
     and the change is significant
  {EXIT_INCONCLUSIVE}  with --fail-on: slower by more than PCT but not
     significant, or a figure or claim missing from NEW
The first of 4, 3, 5 that applies is the exit status."""


def add_arguments(parser):
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("base", metavar="BASE",
                        help="results folder of nox -s bench, or a pyperf "
                             "JSON file (.json or .json.gz)")
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
