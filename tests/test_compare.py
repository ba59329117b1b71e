"""``speedrun compare`` on synthetic pyperf files and results folders.

The files are written here in pyperf's JSON format 1.0 (benchmarks ->
runs -> values), with a seeded generator: each "process" is a run of a
few values around a chosen mean with a chosen relative spread, so a test
states the slowdown or the noise it injects.
"""

import gzip
import json
import random
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
    suite = dict(MACHINE, python_implementation="cpython", **(metadata or {}))
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


def test_compare_reads_gzip_and_writes_markdown(tmp_path, rng, capsys):
    base = tmp_path / "base.json.gz"
    with gzip.open(base, "wt", encoding="utf-8") as stream:
        json.dump(pyperf_document(suite(rng)), stream)
    new = write_pyperf(tmp_path / "new.json",
                       suite(rng, slow="epoch/talk", factor=1.3))
    summary = tmp_path / "compare.md"

    code, _, _ = run_compare(capsys, str(base), new, "--fail-on", "10%",
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
