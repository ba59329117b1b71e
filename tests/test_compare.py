"""``speedrun compare`` on synthetic pyperf files and results folders.

The files are written here in pyperf's JSON format 1.0 (benchmarks ->
runs -> values), with a seeded generator: each "process" is a run of a
few values around a chosen mean with a chosen relative spread, so a test
states the slowdown or the noise it injects.
"""

import gzip
import json
import pathlib
import random
import shutil
import subprocess
import sys

import pytest

from speedrun import cli, compare

MACHINE = {"hostname": "bench-a", "cpu_model_name": "Test CPU @ 2.0GHz",
           "cpu_count": 2}
EPOCH = {"epoch/talk": 86.0, "epoch/tuned": 13.0, "load/talk": 150e-6,
         "load/tuned": 50e-6}


def processes(rng, mean, count=6, values=3, spread=0.02):
    """*count* runs of *values* values around *mean* (seconds)."""
    return [[mean * rng.gauss(1.0, spread) for _ in range(values)]
            for _ in range(count)]


def pyperf_document(benchmarks, metadata=None):
    """A pyperf 1.0 document: name -> list of per-process value lists."""
    suite = dict(MACHINE, python_implementation="cpython")
    suite.update(metadata or {})
    document = {"version": "1.0", "metadata": suite, "benchmarks": []}
    for name, runs in benchmarks.items():
        calibration = {"metadata": {"loops": 1}, "warmups": [[1, 1.0]]}
        workers = [{"warmups": [[1, values[0] * 1.5]], "values": values}
                   for values in runs]
        document["benchmarks"].append({
            "metadata": {"name": name, "unit": "second", "loops": 1},
            "runs": [calibration] + workers})
    return document


def write_pyperf(path, benchmarks, metadata=None):
    path.write_text(json.dumps(pyperf_document(benchmarks, metadata)))
    return str(path)


def suite(rng, means=EPOCH, slow=None, factor=1.0, **shape):
    """Benchmarks around *means*, with *slow* multiplied by *factor*."""
    return {name: processes(rng, mean * (factor if name == slow else 1.0),
                            **shape)
            for name, mean in means.items()}


def run_compare(capsys, *args):
    code = cli.main(["compare", "--format", "plain", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def rng():
    return random.Random(11)


def test_compare_unchanged_exits_ok(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    new = write_pyperf(tmp_path / "new.json", suite(rng))

    code, out, err = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_OK, out
    assert err == ""
    assert "epoch/tuned" in out and "regressed (>" not in out


def test_compare_slowed_engine_exits_regressed(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="epoch/tuned", factor=1.5))

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_REGRESSED
    line = next(l for l in out.splitlines() if l.startswith("epoch/tuned"))
    assert "slower" in line and "regressed" in line
    assert "regressed" not in next(
        l for l in out.splitlines() if l.startswith("epoch/talk "))


def test_compare_slowdown_under_threshold_passes(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="epoch/tuned", factor=1.5))

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "60%")

    assert code == compare.EXIT_OK
    assert "1.5" in out  # still reported as slower, just not gated


def test_compare_without_gate_exits_ok_on_slowdown(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="load/talk", factor=3.0))

    code, out, _ = run_compare(capsys, base, new)

    assert code == compare.EXIT_OK
    assert "3.0" in out and "slower" in out


def test_compare_tiny_noisy_change_not_significant(tmp_path, rng, capsys):
    noisy = {"spread": 0.08, "count": 12}
    base = write_pyperf(tmp_path / "base.json", suite(rng, **noisy))
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="epoch/talk", factor=1.01, **noisy))

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_OK
    line = next(l for l in out.splitlines() if l.startswith("epoch/talk "))
    assert "not significant" in line


def test_compare_noisy_large_change_is_inconclusive(tmp_path, capsys):
    # Two processes of wildly different speed on each side: the mean is
    # 30 % slower, but nothing says the next run would be.
    base = write_pyperf(tmp_path / "base.json",
                        {"epoch/talk": [[50.0], [150.0], [60.0], [140.0]]})
    new = write_pyperf(tmp_path / "new.json",
                       {"epoch/talk": [[65.0], [195.0], [78.0], [182.0]]})

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_INCONCLUSIVE
    assert "not significant" in out and "inconclusive" in out


def test_compare_unequal_sample_counts(tmp_path, rng):
    base = compare.load(write_pyperf(
        tmp_path / "base.json",
        {"epoch/talk": processes(rng, 86.0, count=20, values=3)}))
    new = compare.load(write_pyperf(
        tmp_path / "new.json",
        {"epoch/talk": processes(rng, 86.0 * 1.2, count=3, values=5)}))

    report = compare.compare(base, new)
    row = report.rows[0]

    assert row.base.terms[0][0].count() == "20p"
    assert row.new.terms[0][0].count() == "3p"
    low, high = row.interval
    assert 1.0 < low < 1.2 < high
    assert compare.gate(report, 10.0)[0] == compare.EXIT_REGRESSED


def test_compare_single_process_pools_values(tmp_path, rng):
    base = compare.load(write_pyperf(
        tmp_path / "base.json",
        {"epoch/talk": processes(rng, 86.0, count=1, values=6)}))
    new = compare.load(write_pyperf(
        tmp_path / "new.json",
        {"epoch/talk": processes(rng, 86.0, count=2, values=4)}))

    row = compare.compare(base, new).rows[0]

    assert row.base.terms[0][0].count() == "6v"
    assert row.new.terms[0][0].count() == "8v"
    assert row.interval is not None


def test_compare_one_value_is_too_few(tmp_path):
    base = compare.load(write_pyperf(tmp_path / "b.json", {"x": [[1.0]]}))
    new = compare.load(write_pyperf(tmp_path / "n.json", {"x": [[2.0]]}))

    report = compare.compare(base, new)

    assert report.rows[0].interval is None
    assert compare.gate(report, 10.0)[0] == compare.EXIT_INCONCLUSIVE


def test_compare_missing_benchmark_is_inconclusive(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    means = {k: v for k, v in EPOCH.items() if k != "load/tuned"}
    new = write_pyperf(tmp_path / "new.json", suite(rng, means))

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_INCONCLUSIVE
    assert "missing in NEW" in out


def test_compare_other_machine_compares_ratios(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    faster = {name: mean / 2 for name, mean in EPOCH.items()}
    new = write_pyperf(tmp_path / "new.json", suite(rng, faster),
                       {"hostname": "bench-b"})

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_OK, out
    assert "Different machines (hostname differ)" in out
    assert "epoch/tuned ÷ epoch/talk" in out
    assert "-50" not in out  # the machine's speed-up is no engine's


def test_compare_other_machine_catches_slowed_engine(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    faster = {name: mean / 2 for name, mean in EPOCH.items()}
    new = write_pyperf(
        tmp_path / "new.json",
        suite(rng, faster, slow="load/tuned", factor=1.5),
        {"cpu_model_name": "Other CPU", "cpu_count": 8})

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_REGRESSED
    assert "cpu_model_name, cpu_count differ" in out
    line = next(l for l in out.splitlines() if l.startswith("load/tuned"))
    assert "regressed" in line


@pytest.mark.parametrize("content, problem", [
    ('{"version": "1.0", "benchmarks": [', "not valid JSON"),
    ('{"version": "0.7", "benchmarks": []}', "format version '0.7'"),
    ('{"results": []}', "not a pyperf JSON file"),
    ('{"version": "1.0", "benchmarks": []}', "holds no benchmark"),
    ('{"version": "1.0", "benchmarks": [{"metadata": {"name": "x"}, '
     '"runs": [{"values": ["fast"]}]}]}', "positive numbers"),
    ('{"version": "1.0", "benchmarks": [{"metadata": {}, "runs": []}]}',
     "has no name"),
])
def test_compare_bad_file_is_one_error_line(tmp_path, rng, capsys, content,
                                             problem):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    bad = tmp_path / "bad.json"
    bad.write_text(content)

    code, out, err = run_compare(capsys, base, str(bad), "--fail-on", "10%")

    assert code == compare.EXIT_ERROR
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"ERROR: {bad}: ")
    assert problem in err


def test_compare_reads_gzip_compressed_pyperf_files(tmp_path, rng, capsys):
    # pyperf writes .json.gz when asked; compressed or not is read from
    # the content, and a file cut short is one error line.
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    packed = tmp_path / "new.json.gz"
    packed.write_bytes(gzip.compress(
        json.dumps(pyperf_document(suite(rng))).encode()))

    code, out, err = run_compare(capsys, base, str(packed))
    assert code == compare.EXIT_OK and err == ""
    assert "epoch/tuned" in out

    packed.write_bytes(packed.read_bytes()[:-20])
    code, _, err = run_compare(capsys, base, str(packed))
    assert code == compare.EXIT_ERROR
    assert err.startswith(f"ERROR: {packed}: gzip data is damaged")


def test_compare_missing_file_is_one_error_line(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))

    code, _, err = run_compare(capsys, base, str(tmp_path / "nope.json"))

    assert code == compare.EXIT_ERROR
    assert err == f"ERROR: {tmp_path / 'nope.json'}: no such file or folder\n"


def test_compare_bad_threshold_is_one_error_line(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))

    code, _, err = run_compare(capsys, base, base, "--fail-on", "lots")

    assert code == compare.EXIT_ERROR
    assert err.startswith("ERROR: --fail-on: ") and err.count("\n") == 1


def test_compare_writes_markdown(tmp_path, rng, capsys):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="epoch/talk", factor=1.3))
    summary = tmp_path / "compare.md"

    code, _, _ = run_compare(capsys, base, new, "--fail-on", "10%",
                             "--markdown", str(summary))

    text = summary.read_text(encoding="utf-8")
    assert code == compare.EXIT_REGRESSED
    assert "| Benchmark | Unit |" in text
    assert "| epoch/talk | s |" in text and "regressed" in text


def test_parse_threshold_accepts_percent_forms():
    assert compare.parse_threshold("10%") == 10.0
    assert compare.parse_threshold(" 2.5 % ") == 2.5
    assert compare.parse_threshold("0") == 0.0
    assert compare.parse_threshold(None) is None
    for bad in ("-5%", "inf", "ten"):
        with pytest.raises(compare.CompareError):
            compare.parse_threshold(bad)


def test_synthetic_files_are_valid_pyperf(tmp_path, rng):
    pyperf = pytest.importorskip("pyperf")
    path = write_pyperf(tmp_path / "base.json", suite(rng))

    loaded = pyperf.BenchmarkSuite.load(path)

    assert sorted(loaded.get_benchmark_names()) == sorted(EPOCH)
    mean = loaded.get_benchmark("epoch/talk").mean()
    assert mean == pytest.approx(
        compare.load(path).figures[(None, "epoch/talk")].mean)


def test_compare_runs_as_module(tmp_path, rng):
    base = write_pyperf(tmp_path / "base.json", suite(rng))
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="epoch/tuned", factor=2.0))

    done = subprocess.run(
        [sys.executable, "-m", "speedrun", "compare", base, new,
         "--fail-on", "10%", "--format", "markdown"],
        capture_output=True, text=True, timeout=120)

    assert done.returncode == compare.EXIT_REGRESSED, done.stderr
    assert "| epoch/tuned | s |" in done.stdout


# -- Results folders of ``nox -s bench`` -------------------------------

HELD = {"id": "pypy_vs_cpython_epoch", "label": "PyPy vs CPython, epoch",
        "talk": 15.0, "unit": "×", "measured": 14.2, "ci_low": 13.1,
        "ci_high": 15.4, "verdict": "reproduced"}
STAGE_MEANS = {"epoch/talk": 900e-6, "epoch/tuned": 80e-6,
               "infer/talk": 380e-6}
SPEEDUP = {"cpython": 1.0, "pypy": 1 / 15}


def folder_runs(rng, slow=None, factor=1.0, labels=("cpython", "pypy"),
                speed=1.0):
    """Per-interpreter benchmarks; (label, name) *slow* gets *factor*."""
    found = {}
    for label in labels:
        found[label] = {}
        for name, mean in STAGE_MEANS.items():
            scale = SPEEDUP[label] * speed
            if (label, name) == slow:
                scale *= factor
            found[label][name] = processes(rng, mean * scale)
    return found


def write_folder(path, interpreters, claims=(HELD,), machine=None,
                 states=None, profile="quick", status="complete"):
    """A results folder as ``nox -s bench`` leaves it, for compare.

    *states* maps ``(label, name)`` to the status of a row without
    figures (``"invalid"``, ``"missing"``...).
    """
    from speedrun import results

    path.mkdir()
    rows, listed = [], []
    for label, benchmarks in interpreters.items():
        write_pyperf(path / f"{label}.json", benchmarks,
                     {"python_implementation": label})
        listed.append({"label": label, "pyperf_file": f"{label}.json"})
        for name in benchmarks:
            state = (states or {}).get((label, name), "ok")
            rows.append({"interpreter": label, "benchmark": name,
                         "status": state,
                         "reason": None if state == "ok"
                         else f"{name} {state} under {label}"})
    host = dict(machine or {})
    summary = results.document(
        "summary", run_id=path.name, profile=profile, status=status,
        interpreters=listed, rows=rows,
        claims=[dict(c) for c in claims], reference_interpreter="cpython",
        machine={"hostname": host.get("hostname", "bench-a"),
                 "cpu_model": host.get("cpu_model", "Test CPU"),
                 "cpu_count": host.get("cpu_count", 2)})
    results.write(str(path / "summary.json"), summary)
    return str(path)


def flipped(claim, verdict, measured):
    return dict(claim, verdict=verdict, measured=measured,
                ci_low=measured * 0.9, ci_high=measured * 1.1)


def test_folders_unchanged_exit_ok(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng))

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_OK, out
    assert "epoch/tuned (pypy)" in out
    assert "PyPy vs CPython, epoch" in out and "holds" in out


def test_folders_slowed_engine_exits_regressed(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(
        rng, slow=("pypy", "epoch/tuned"), factor=1.4))

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_REGRESSED
    line = next(l for l in out.splitlines()
                if l.startswith("epoch/tuned (pypy)"))
    assert "regressed" in line
    assert "regressed (" not in next(
        l for l in out.splitlines() if l.startswith("epoch/tuned (cpy"))


def test_folders_flipped_claim_exits_claim(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng), claims=[
        flipped(HELD, "not reproduced", 9.0)])

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_CLAIM
    assert "no longer holds" in out


def test_folders_claim_outranks_regression(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(
        tmp_path / "new",
        folder_runs(rng, slow=("pypy", "epoch/talk"), factor=1.7),
        claims=[flipped(HELD, "not reproduced", 8.8)])

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_CLAIM
    assert "regressed (" in out  # the regression is still shown


def test_folders_inconclusive_claim_exits_inconclusive(tmp_path, rng,
                                                       capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng), claims=[
        flipped(HELD, "inconclusive", 12.5)])

    code, _, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_INCONCLUSIVE


def test_folders_invalid_row_exits_invalid(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng),
                       states={("pypy", "infer/talk"): "invalid"})

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_INVALID
    assert "infer/talk (pypy): invalid in NEW" in out


def test_folders_invalid_claim_outranks_flipped_claim(tmp_path, rng,
                                                      capsys):
    accuracy = dict(HELD, id="validation_accuracy", label="accuracy")
    base = write_folder(tmp_path / "base", folder_runs(rng),
                        claims=[HELD, accuracy])
    new = write_folder(tmp_path / "new", folder_runs(rng), claims=[
        flipped(HELD, "not reproduced", 9.0),
        dict(accuracy, verdict="invalid", reason="weights differ")])

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_INVALID
    assert "claim validation_accuracy: invalid in NEW (weights differ)" \
        in out
    assert "claim pypy_vs_cpython_epoch: no longer holds" in out


def test_folders_without_pypy_are_inconclusive(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(
        tmp_path / "new", folder_runs(rng, labels=("cpython",)),
        claims=[dict(HELD, verdict="not measured", measured=None,
                     ci_low=None, ci_high=None)])

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_INCONCLUSIVE
    assert "epoch/talk (pypy)" in out and "missing in NEW" in out


def test_folders_other_machine_compare_ratios(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng, speed=0.4),
                       machine={"hostname": "runner-7"})

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_OK, out
    assert "Different machines (hostname differ)" in out
    assert "epoch/talk: pypy ÷ cpython" in out
    assert "epoch/tuned ÷ epoch/talk (pypy)" in out


def test_folders_of_other_profiles_say_so(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng), profile="full")
    new = write_folder(tmp_path / "new", folder_runs(rng),
                       status="incomplete")

    code, out, _ = run_compare(capsys, base, new)

    assert code == compare.EXIT_OK
    assert "Profiles differ (BASE full, NEW quick)" in out
    assert "NEW run is incomplete" in out


@pytest.mark.parametrize("content, problem", [
    ("{", "not valid JSON"),
    ('{"format": "speedrun-summary", "version": 99}', "format version 99"),
    ('{"format": "speedrun-run", "version": 1}', "not a speedrun summary"),
    ('{"format": "speedrun-summary", "version": 1}', "malformed summary"),
])
def test_folder_bad_summary_is_one_error_line(tmp_path, rng, capsys,
                                              content, problem):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng))
    (tmp_path / "new" / "summary.json").write_text(content)

    code, out, err = run_compare(capsys, base, new)

    assert code == compare.EXIT_ERROR and out == ""
    assert err.startswith(f"ERROR: {new}/summary.json: ")
    assert err.count("\n") == 1 and problem in err


def test_folder_corrupt_pyperf_file_is_one_error_line(tmp_path, rng,
                                                      capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_folder(tmp_path / "new", folder_runs(rng))
    (tmp_path / "new" / "pypy.json").write_text('{"version": "1.0", "ben')

    code, _, err = run_compare(capsys, base, new)

    assert code == compare.EXIT_ERROR
    assert err.startswith(f"ERROR: {new}/pypy.json: not valid JSON")


def test_folder_without_summary_says_how_to_gather(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    (tmp_path / "new").mkdir()

    code, _, err = run_compare(capsys, base, str(tmp_path / "new"))

    assert code == compare.EXIT_ERROR
    assert "no summary.json" in err and "nox -s report --" in err


def test_folder_against_file_is_refused(tmp_path, rng, capsys):
    base = write_folder(tmp_path / "base", folder_runs(rng))
    new = write_pyperf(tmp_path / "new.json", suite(rng))

    code, _, err = run_compare(capsys, base, new)

    assert code == compare.EXIT_ERROR
    assert err.startswith(f"ERROR: {new}: a pyperf ")


# -- A real run of ``nox -s bench``, with a slowdown injected ----------


def real_run():
    """The first results folder kept under results/ (the reference run)."""
    root = pathlib.Path(__file__).resolve().parent.parent / "results"
    found = sorted(p.parent for p in root.glob("*/summary.json"))
    if not found:
        pytest.skip("no results/<run id>/summary.json to compare")
    return found[0]


def regathered_copy(source, target, slow=None, factor=1.0):
    """*source* copied to *target*, *slow* = (file, name) scaled, and
    summary.json gathered again from the raw files."""
    from speedrun import gather

    shutil.copytree(source, target,
                    ignore=shutil.ignore_patterns("logs", "tmp", "*.md"))
    if slow:
        path = target / slow[0]
        document = json.loads(path.read_text(encoding="utf-8"))
        for bench in document["benchmarks"]:
            if bench.get("metadata", {}).get("name") == slow[1]:
                for run in bench["runs"]:
                    run["values"] = [v * factor
                                     for v in run.get("values", [])]
        path.write_text(json.dumps(document), encoding="utf-8")
    gather.write_summary(str(target), gather.gather(str(target)))
    return str(target)


def test_real_run_against_itself_exits_ok(tmp_path, capsys):
    source = real_run()
    base = regathered_copy(source, tmp_path / "base")
    new = regathered_copy(source, tmp_path / "new")

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_OK, out
    assert "epoch/talk (cpython)" in out


def test_real_run_slowed_engine_exits_regressed(tmp_path, capsys):
    source = real_run()
    base = regathered_copy(source, tmp_path / "base")
    new = regathered_copy(source, tmp_path / "new",
                          slow=("cpython.json", "epoch/tuned"), factor=1.5)

    code, out, _ = run_compare(capsys, base, new, "--fail-on", "10%")

    assert code == compare.EXIT_REGRESSED, out
    line = next(l for l in out.splitlines()
                if l.startswith("epoch/tuned (cpython)"))
    assert "1.50× slower" in line and "regressed" in line
