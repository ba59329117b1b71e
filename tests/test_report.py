"""Gathering, tables and result files, on synthetic runs; the run's plan.

No benchmark runs here: folders come from ``tests/benchfiles.py``. The
plan and the folder handling of ``speedrun.benchrun`` are tested with
made-up interpreters; ``tests/test_bench.py`` runs the real scripts.
"""

import io
import json
import os
import sys

import pytest

from benchfiles import (PROBES, chunk_record, failed_check_record,
                        make_run_folder)
from speedrun import benchrun, gather, report, results


@pytest.fixture
def run_folder(tmp_path):
    return make_run_folder(str(tmp_path / "20260101-000000-quick"))


def row(summary, label, name):
    return next(r for r in summary["rows"]
                if r["interpreter"] == label and r["benchmark"] == name)


# -- Gathering ------------------------------------------------------------


def test_rows_have_warm_cold_and_stage_totals(run_folder):
    summary = gather.gather(run_folder)
    talk = row(summary, "cpython", "epoch/talk")
    assert talk["status"] == gather.OK
    assert talk["warm"]["mean"] == pytest.approx(900e-6, rel=0.03)
    assert talk["cold"]["mean"] == pytest.approx(1.5 * 900e-6, rel=0.03)
    assert talk["stage_seconds"] == pytest.approx(
        60000 * talk["warm"]["mean"])
    assert talk["extrapolated"] is True
    assert talk["maxrss_bytes"] >= 100 * 2 ** 20
    assert len(talk["process_means"]) == 3


def test_ratio_against_the_reference_cpython(run_folder):
    summary = gather.gather(run_folder)
    pypy = row(summary, "pypy", "epoch/talk")
    assert pypy["vs_reference"]["ratio"] == pytest.approx(15.0, rel=0.05)
    assert pypy["vs_reference"]["significant"] is True
    assert "vs_reference" in row(summary, "cpython", "epoch/talk")


def test_short_calls_and_spread_are_flagged_unstable(tmp_path):
    from benchfiles import TIMES
    times = {label: dict(values) for label, values in TIMES.items()}
    times["cpython"]["load/numpy"] = 1e-9  # 5,000 images in 5 µs
    summary = gather.gather(make_run_folder(str(tmp_path / "r"), times))
    notes = row(summary, "cpython", "load/numpy")["unstable"]
    assert any("under 1 ms" in note for note in notes)
    assert row(summary, "cpython", "epoch/talk")["unstable"] == []


def test_fewer_processes_than_planned_is_incomplete(tmp_path):
    folder = make_run_folder(str(tmp_path / "r"), status="incomplete",
                             stopped="stopped by the user",
                             processes={("pypy", "load/talk"): 1,
                                        ("pypy", "load/numpy"): 0})
    summary = gather.gather(folder)
    partial = row(summary, "pypy", "load/talk")
    assert partial["status"] == gather.INCOMPLETE
    assert "1 of 3" in partial["reason"]
    assert "a single process: no confidence interval" in \
        partial["unstable"]
    assert row(summary, "pypy", "load/numpy")["status"] == gather.NOT_RUN


def test_check_failure_marks_the_row_invalid_without_speed(tmp_path):
    records = [failed_check_record("cpython", "infer/tuned")]
    summary = gather.gather(make_run_folder(str(tmp_path / "r"),
                                            records=records))
    bad = row(summary, "cpython", "infer/tuned")
    assert bad["status"] == gather.INVALID
    assert "warm" not in bad
    text = report.render_markdown(summary)
    assert "invalid: result differs from the reference" in text


def test_missing_numpy_is_a_visible_row(tmp_path):
    probes = json.loads(json.dumps(PROBES))
    probes["pypy"]["engines"] = ["talk", "tuned"]
    folder = make_run_folder(str(tmp_path / "r"), missing=[{
        "kind": "engine", "name": "numpy under pypy",
        "interpreter": "pypy", "engine": "numpy",
        "message": "NumPy did not install under pypy; install it with "
                   "pip"}])
    run = results.read(os.path.join(folder, results.RUN), "run")
    run["interpreters"][1]["probe"] = probes["pypy"]
    results.write(os.path.join(folder, results.RUN), run)
    summary = gather.gather(folder)
    numpy = row(summary, "pypy", "epoch/numpy")
    assert numpy["status"] == gather.MISSING
    assert "install it with pip" in report.render_markdown(summary)


def test_chunk_curves_cold_first_call_warm_after_warmups(tmp_path):
    spans = [[0.05, 0.01, 0.01], [0.01, 0.01, 0.01], [0.01, 0.01, 0.01]]
    folder = make_run_folder(str(tmp_path / "r"), records=[
        chunk_record("pypy", "epoch/talk", spans)])
    curve = row(gather.gather(folder), "pypy", "epoch/talk")["chunks"]
    assert curve["processes"] == 1
    assert curve["cold_us_per_step"] == pytest.approx([100.0, 20.0, 20.0])
    assert curve["warm_us_per_step"] == pytest.approx([20.0, 20.0, 20.0])


# -- Rendering ----------------------------------------------------------------


def test_markdown_report_has_units_ratios_and_claims(run_folder):
    text = report.render_markdown(gather.gather(run_folder))
    assert "Warm [µs/step]" in text and "Full epoch [s]" in text
    assert "× faster" in text and "1.00 (reference)" in text
    assert "pypy_vs_cpython_epoch" not in text  # people read the words
    assert "about 15× faster than CPython" in text
    assert "compare_to results/20260101-000000-quick/cpython.json" in text
    assert "training steps only" in text


def test_incomplete_run_is_said_in_the_report(tmp_path):
    folder = make_run_folder(str(tmp_path / "r"), status="incomplete",
                             stopped="stopped by the user after 5 "
                                     "benchmark processes")
    text = report.render_markdown(gather.gather(folder))
    assert "**This run is incomplete (stopped by the user" in text


def test_regenerate_writes_summary_and_report(run_folder):
    out = io.StringIO()
    summary = report.regenerate(run_folder, stream=out)
    written = results.read(os.path.join(run_folder, results.SUMMARY),
                           "summary")
    assert written["claims"] == json.loads(json.dumps(summary["claims"]))
    assert os.path.exists(os.path.join(run_folder, results.REPORT))
    assert "The talk's claims" in out.getvalue()
    assert not [n for n in os.listdir(run_folder) if n.startswith(".tmp")]


def test_tables_fall_back_to_plain_text_without_rich(run_folder,
                                                     monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.console", None)
    out = io.StringIO()
    report.print_tables(gather.gather(run_folder), out)
    assert "| Engine | Interpreter |" in out.getvalue()


# -- Bad files ---------------------------------------------------------------


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    ('{"format": "speedrun-run", "version": 99}', "format version 99"),
    ('{"format": "something-else", "version": 1}', "not a speedrun run"),
    ("\xff\xfe", "not"),
])
def test_report_names_a_corrupt_run_file(run_folder, content, problem,
                                         capsys):
    path = os.path.join(run_folder, results.RUN)
    with open(path, "w", encoding="latin-1") as stream:
        stream.write(content)
    assert report.main([run_folder]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"ERROR: {path}: ")
    assert problem in error
    assert error.count("\n") == 1


@pytest.mark.parametrize("content, problem", [
    ('{"version": "1.0", "benchmarks": [', "not valid JSON"),
    ('{"version": "0.9", "benchmarks": []}', "format version '0.9'"),
    ('{"benchmarks": 3}', "not a pyperf JSON file"),
    ('{"version": "1.0", "benchmarks": [{"metadata": {"name": "x"}, '
     '"runs": [{"values": [-1]}]}]}', "positive numbers"),
])
def test_report_names_a_corrupt_pyperf_file(run_folder, content, problem,
                                            capsys):
    path = os.path.join(run_folder, "pypy.json")
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(content)
    assert report.main([run_folder]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"ERROR: {path}: ") and problem in error


def test_report_of_a_missing_folder_is_one_error_line(tmp_path, capsys):
    assert report.main([str(tmp_path / "nothing")]) == 1
    assert capsys.readouterr().err.startswith("ERROR: ")


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / "x.json")
    results.write(path, results.document("processes", processes=[]))

    class Boom:
        pass
    with pytest.raises(TypeError):
        results.write(path, results.document("processes", processes=[
            Boom()]))
    assert results.read(path, "processes")["processes"] == []
    assert os.listdir(str(tmp_path)) == ["x.json"]


# -- The plan of a run -------------------------------------------------------


def interpreters(*labels):
    found = [(label, f"/venv/{label}/bin/python", PROBES[label])
             for label in labels]
    return benchrun.label_interpreters(found)


def test_processes_alternate_interpreters_and_engines():
    tasks = benchrun.stage_tasks(interpreters("cpython", "pypy"), "epoch",
                                 2)
    order = [(t.index, t.engine, t.interp.label) for t in tasks]
    assert order[:4] == [(0, "talk", "cpython"), (0, "talk", "pypy"),
                         (0, "tuned", "cpython"), (0, "tuned", "pypy")]
    assert len(tasks) == 2 * 3 * 2


def test_plan_skips_engines_an_interpreter_lacks():
    interps = interpreters("cpython", "pypy")
    interps[1].probe = dict(interps[1].probe, engines=["talk", "tuned"])
    tasks = benchrun.stage_tasks(interps, "infer", 1)
    assert ("numpy", "pypy") not in [(t.engine, t.interp.label)
                                     for t in tasks]


def test_plan_starts_with_the_reference_and_runs_accuracy_on_pypy():
    interps = interpreters("cpython", "pypy")
    protocol = benchrun.protocol_of(benchrun.build_parser().parse_args(
        ["--quick"]))
    tasks = benchrun.make_plan(interps, protocol, "quick")
    assert tasks[0].kind == "reference" and tasks[0].interp.label == "pypy"
    runs = [t for t in tasks if t.kind == "accuracy"]
    assert [(t.engine, t.interp.label) for t in runs] == [
        ("tuned", "pypy"), ("talk", "pypy")]
    assert all(t.estimate > 0 for t in tasks)


def test_labels_stay_unique_for_two_cpythons():
    other = dict(PROBES["cpython"], python_version="3.12.1")
    found = [("a", "/a", PROBES["cpython"]), ("b", "/b", other)]
    labels = [i.label for i in benchrun.label_interpreters(found)]
    assert labels == ["cpython3.11", "cpython3.12"]


def test_run_folders_are_never_reused(tmp_path):
    first = benchrun.new_run_folder(str(tmp_path), "quick")
    second = benchrun.new_run_folder(str(tmp_path), "quick")
    assert first[0] != second[0]
    assert os.path.isdir(os.path.join(second[1], results.LOGS))


def test_unwritable_results_folder_fails_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(benchrun.UserError, match="--results DIR"):
        benchrun.new_run_folder(str(blocker / "results"), "quick")


def test_full_disk_fails_before_any_work(tmp_path, monkeypatch):
    class Usage:
        free = 10 * 2 ** 20
    monkeypatch.setattr(benchrun.shutil, "disk_usage", lambda p: Usage)
    with pytest.raises(benchrun.UserError, match="only 10 MiB free"):
        benchrun.new_run_folder(str(tmp_path), "quick")


def test_bad_option_values_are_user_errors():
    args = benchrun.build_parser().parse_args(["--values", "0"])
    with pytest.raises(benchrun.UserError):
        benchrun.protocol_of(args)
    with pytest.raises(benchrun.UserError):
        benchrun.split_pairs(["nonsense"], "--interpreter")


def test_interrupted_run_keeps_rows_and_is_marked(tmp_path):
    folder = make_run_folder(str(tmp_path / "r"), status="running")
    run = results.read(os.path.join(folder, results.RUN), "run")
    os.mkdir(os.path.join(folder, "tmp"))
    summary = benchrun.finish(folder, run, "stopped by the user after 3 "
                                           "benchmark processes")
    assert summary["status"] == "incomplete"
    assert not os.path.exists(os.path.join(folder, "tmp"))
    written = results.read(os.path.join(folder, results.SUMMARY), "summary")
    assert written["status"] == "incomplete"
    assert row(written, "pypy", "epoch/talk")["status"] == gather.OK
    with open(os.path.join(folder, results.REPORT), encoding="utf-8") as f:
        assert "This run is incomplete" in f.read()


def test_clock_uses_measured_durations_once_known():
    interps = interpreters("cpython")
    tasks = benchrun.stage_tasks(interps, "load", 2)
    for task in tasks:
        task.estimate = 1.0
    clock = benchrun.Clock(tasks)
    clock.finished(tasks[0], 4.0)
    assert clock.left(tasks[1:]) == pytest.approx(4.0 + 4.0 + 4.0 * 2
                                                  + 4.0)


def test_merge_pyperf_appends_runs_atomically(tmp_path):
    pyperf = pytest.importorskip("pyperf")
    from benchfiles import process_values, pyperf_document
    paths = []
    for n in range(2):
        path = str(tmp_path / f"{n}.json")
        with open(path, "w") as stream:
            json.dump(pyperf_document({"epoch/talk": process_values(
                1e-4, 1)}, "cpython"), stream)
        paths.append(path)
    target = str(tmp_path / "cpython.json")
    for path in paths:
        benchrun.merge_pyperf(target, path)
    suite = pyperf.BenchmarkSuite.load(target)
    assert suite.get_benchmark("epoch/talk").get_nrun() == 2
    assert len(results.read_pyperf(target)["epoch/talk"]) == 2
