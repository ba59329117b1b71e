"""The files of a bench run, written atomically and read back with checks.

``nox -s bench`` fills one folder, ``results/<run id>/``:

    run.json          the plan: profile, protocol, interpreters, missing
                      pieces, machine, commit, and whether the run ended
    <label>.json      raw pyperf results, one file per interpreter
                      (``cpython.json``, ``pypy.json``): usable with
                      ``python -m pyperf stats`` and ``compare_to``
    processes.json    one record per pyperf process: its checks against
                      the reference and the time of every 500-step chunk
    reference.json    the weights and predictions every engine is
                      checked against
    accuracy-*.json   the 2-epoch training runs behind the accuracy claim
                      and numpy-batch's accuracy, one file per engine
    memory.json       what the loaded training set holds in memory, per
                      engine and interpreter, each from a fresh process
    summary.json      all of the above gathered: rows, claims, machine
    REPORT.md         the same, for people
    logs/             what each benchmark process printed

Every speedrun file names its ``format`` and ``version``; a file of
another format or an unknown version is refused with a ``ResultError``
naming it. Files are written to a temporary name and renamed, so a run
stopped halfway never leaves half a file. Standard library only: the
bench scripts use this module on a bare PyPy too.
"""

import gzip
import json
import math
import os
import zlib

from speedrun import files

FORMAT_VERSION = 1
PYPERF_VERSION = "1.0"  # the pyperf JSON format read here

RUN = "run.json"
PROCESSES = "processes.json"
REFERENCE = "reference.json"
ACCURACY = "accuracy.json"
MEMORY = "memory.json"
SUMMARY = "summary.json"
REPORT = "REPORT.md"
LOGS = "logs"


class ResultError(Exception):
    """A result file that cannot be used; the message names the file."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def document(kind, **fields):
    """A speedrun file's content: ``format``, ``version``, then *fields*."""
    return {"format": f"speedrun-{kind}", "version": FORMAT_VERSION,
            **fields}


def write(path, payload):
    """Write *payload* (a ``document``) as JSON, atomically."""
    files.write_json(path, payload)


def write_text(path, text):
    """Write *text* to *path* through a temporary file, then rename."""
    files.write_text(path, text)


def read(path, kind):
    """The ``document`` of *kind* in *path*, its format and version checked."""
    data = _load(path)
    expected = f"speedrun-{kind}"
    found = data.get("format") if isinstance(data, dict) else None
    if found != expected:
        raise ResultError(path, f"not a speedrun {kind} file (format "
                                f"{found!r}, expected {expected!r})")
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise ResultError(
            path, f"format version {version!r} is unknown to this speedrun "
                  f"(it reads version {FORMAT_VERSION}); use the speedrun "
                  f"that wrote it, or run the benchmarks again")
    return data


def _load(path):
    """The JSON in *path*, gzip-compressed or not (pyperf writes both)."""
    try:
        with open(path, "rb") as stream:
            blob = stream.read()
        if blob[:2] == b"\x1f\x8b":
            blob = gzip.decompress(blob)
        return json.loads(blob.decode("utf-8"))
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ResultError(path, f"gzip data is damaged ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ResultError(path, f"not valid JSON (line {exc.lineno}, column "
                                f"{exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise ResultError(path, "not a text file (expected JSON)") from None
    except OSError as exc:
        raise ResultError(path, f"cannot read ({exc.strerror or exc})") \
            from None


class PyperfRun:
    """One pyperf worker process: its values, warmups and metadata.

    Values and warmups are per item (pyperf divides by ``inner_loops``),
    in the benchmark's unit, seconds here.
    """

    def __init__(self, values, warmups, metadata):
        self.values = values
        self.warmups = warmups
        self.metadata = metadata

    @property
    def mean(self):
        return sum(self.values) / len(self.values)


def read_pyperf(path):
    """The runs of each benchmark in a pyperf JSON file, by name.

    Reads pyperf's format 1.0 without pyperf: the suite's, the
    benchmark's and the run's metadata are merged into each run.
    Calibration runs (no values) are left out.
    """
    data = _load(path)
    if not isinstance(data, dict) or not isinstance(
            data.get("benchmarks"), list):
        raise ResultError(path, "not a pyperf JSON file (no 'benchmarks' "
                                "list at the top)")
    if data.get("version") != PYPERF_VERSION:
        raise ResultError(path, f"pyperf JSON format version "
                                f"{data.get('version')!r}, expected "
                                f"{PYPERF_VERSION!r}")
    suite = _metadata(path, data, "the file")
    benchmarks = {}
    for index, bench in enumerate(data["benchmarks"]):
        name, runs = _read_benchmark(path, index, bench, suite)
        if name in benchmarks:
            raise ResultError(path, f"benchmark {name!r} appears twice")
        benchmarks[name] = runs
    return benchmarks


def _read_benchmark(path, index, bench, suite):
    if not isinstance(bench, dict) or not isinstance(bench.get("runs"),
                                                     list):
        raise ResultError(path, f"benchmark #{index} has no 'runs' list")
    common = dict(suite, **_metadata(path, bench, f"benchmark #{index}"))
    name = common.get("name")
    if not isinstance(name, str) or not name:
        raise ResultError(path, f"benchmark #{index} has no name")
    runs = []
    for number, run in enumerate(bench["runs"]):
        where = f"benchmark {name!r}, run #{number}"
        if not isinstance(run, dict):
            raise ResultError(path, f"{where} is not an object")
        values = run.get("values", [])
        warmups = run.get("warmups", [])
        if not _times(values) or not isinstance(warmups, list) or not all(
                isinstance(w, list) and len(w) == 2 and _times(w[1:])
                for w in warmups):
            raise ResultError(path, f"{where}: values and warmups must be "
                                    f"positive numbers")
        if values:
            metadata = dict(common, **_metadata(path, run, where))
            runs.append(PyperfRun(values, [w[1] for w in warmups],
                                  metadata))
    return name, runs


def _metadata(path, holder, where):
    metadata = holder.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ResultError(path, f"the metadata of {where} is not an object")
    return metadata


def _times(values):
    return isinstance(values, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool)
        and math.isfinite(v) and v > 0 for v in values)
