"""Gathering, tables and result files, on synthetic runs; the run's plan.

No benchmark runs here but one tiny ``--scaling`` run: folders come
from ``tests/benchfiles.py``. The plan and the folder handling of
``speedrun.benchrun`` are tested with made-up interpreters;
``tests/test_bench.py`` runs the real scripts.
"""

import io
import json
import os
import subprocess
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


# -- numpy-batch, the sweep, memory, engines -------------------------------


@pytest.fixture
def batch_folder(tmp_path):
    from benchfiles import add_batch_and_memory
    return add_batch_and_memory(make_run_folder(str(tmp_path / "b")))


def test_numpy_batch_is_an_epoch_row_labelled_with_its_accuracy(
        batch_folder):
    summary = gather.gather(batch_folder)
    names = {r["benchmark"] for r in summary["rows"]
             if r["engine"] == "numpy-batch"}
    assert names == {"epoch/numpy-batch"}  # load and infer are numpy's
    batch = row(summary, "cpython", "epoch/numpy-batch")
    assert batch["status"] == gather.OK and batch["batch"] == 32
    assert batch["accuracy"]["status"] == "within the band"
    assert batch["accuracy"]["difference"] == pytest.approx(
        (93.9 + 93.7 + 94.0 - 94.05 - 93.75 - 94.1) / 3)
    text = report.render_markdown(summary)
    assert "numpy-batch (B=32, different algorithm)" in text
    assert "does not apply to it" in text


def test_numpy_batch_off_the_accuracy_band_is_invalid(tmp_path):
    from benchfiles import add_batch_and_memory
    folder = add_batch_and_memory(make_run_folder(str(tmp_path / "b")),
                                  batch_accuracy=(91.0, 91.5, 92.0))
    summary = gather.gather(folder)
    batch = row(summary, "cpython", "epoch/numpy-batch")
    assert batch["status"] == gather.INVALID
    assert "outside ±1" in batch["reason"]
    assert "vs_reference" not in batch


def test_numpy_batch_without_accuracy_runs_keeps_its_time_and_says_so(
        tmp_path):
    from benchfiles import add_batch_and_memory
    folder = add_batch_and_memory(make_run_folder(str(tmp_path / "b")),
                                  batch_accuracy=())
    summary = gather.gather(folder)
    batch = row(summary, "pypy", "epoch/numpy-batch")
    assert batch["status"] == gather.OK
    assert report.short_note(batch) == "accuracy not measured"


def test_sweep_finds_the_batch_from_which_numpy_batch_overtakes(
        batch_folder):
    sweep = gather.gather(batch_folder)["sweep"]
    assert [r["batch"] for r in sweep["rows"]] == [1, 2, 4, 8, 16, 32, 128]
    assert sweep["tuned_seconds"] == pytest.approx(18e-6, rel=0.03)
    # tuned on PyPy takes 18 µs a step: B=4 (12 µs) is the first faster
    assert sweep["crossover"]["batch"] == 4
    assert sweep["crossover"]["ratio"] == pytest.approx(1.5, rel=0.03)
    text = report.render_markdown(gather.gather(batch_folder))
    assert "from a batch of **4**" in text


def test_crossover_needs_every_larger_batch_faster():
    def sweep_row(batch, ratio):
        return {"batch": batch, "vs_tuned": {"ratio": ratio,
                                             "significant": True}}
    rows = [sweep_row(1, 0.5), sweep_row(4, 1.2), sweep_row(8, 0.9),
            sweep_row(16, 1.5), sweep_row(32, 2.0)]
    assert gather.crossover(rows)["batch"] == 16
    assert gather.crossover([sweep_row(1, 0.5), sweep_row(2, 0.8)]) is None


def test_sweep_without_pypy_says_why(tmp_path):
    from benchfiles import add_batch_and_memory
    folder = add_batch_and_memory(make_run_folder(
        str(tmp_path / "b"), processes={("pypy", "epoch/tuned"): 0}))
    sweep = gather.gather(folder)["sweep"]
    assert sweep["status"] == gather.NOT_RUN and sweep["crossover"] is None
    assert "tuned epoch row on PyPy" in sweep["reason"]


def test_memory_table_and_sentences_come_from_the_figures(batch_folder):
    summary = gather.gather(batch_folder)
    runs = {(r["interpreter"], r["engine"]): r
            for r in summary["memory"]["runs"]}
    talk = runs[("cpython", "talk")]
    assert talk["bytes_per_pixel"] == pytest.approx(
        1830 * 2 ** 20 / (60000 * 784))
    text = report.render_markdown(summary)
    assert "| talk | CPython 3.11.7 | 1,830 | 40.8 | 1.00 (reference) |" \
        in text
    assert "12.80× smaller" in text  # tuned: 1,830 / 143 MiB
    assert "40.8 bytes a pixel" in text and "5.1× as much" in text
    assert "On PyPy 7.3.11 the same lists cost 8.0 bytes a pixel" in text


def test_memory_of_a_failed_process_is_a_visible_row(tmp_path):
    from benchfiles import add_batch_and_memory
    folder = add_batch_and_memory(make_run_folder(str(tmp_path / "b")))
    path = os.path.join(folder, results.MEMORY)
    data = results.read(path, "memory-runs")
    data["runs"][0].update(returncode=1, measured=None)
    results.write(path, data)
    summary = gather.gather(folder)
    assert summary["memory"]["runs"][0]["status"] == gather.FAILED
    assert ["talk", "CPython 3.11.7", "—", "—", "—", "—"] in \
        report.memory_rows(summary)


def test_engine_notes_become_a_section_with_markdown_code(batch_folder):
    text = report.render_markdown(gather.gather(batch_folder))
    assert "## What makes each engine fast" in text
    assert ("- **tuned**: Images are stored sparsely: `(indices, values)`. "
            "The ten classes are unrolled.") in text


def test_targets_reach_the_report_and_the_terminal(batch_folder):
    summary = gather.gather(batch_folder)
    text = report.render_markdown(summary)
    assert "## Targets of the engines" in text
    assert "| B = 4 |" in text
    out = io.StringIO()
    report.print_tables(summary, out)
    shown = out.getvalue()
    for title in ("Targets of the engines", "Memory: the first 60,000",
                  "numpy-batch (a different algorithm) by batch size"):
        assert title in shown


def test_protocol_section_names_the_blas_threads(batch_folder):
    text = report.render_markdown(gather.gather(batch_folder))
    assert "BLAS threads in every benchmark process: " \
           "`OPENBLAS_NUM_THREADS=1`" in text


# -- The plan: sweep, memory, accuracy, options --------------------------------


def quick_protocol(*options):
    return benchrun.protocol_of(benchrun.build_parser().parse_args(
        ["--quick", *options]))


def test_plan_adds_sweep_batch_accuracy_and_memory():
    interps = interpreters("cpython", "pypy")
    for interp in interps:
        interp.probe = dict(interp.probe, engines=list(gather.ENGINES))
    tasks = benchrun.make_plan(interps, quick_protocol(), "quick")
    sweep = [t for t in tasks if t.kind == "sweep"]
    assert {t.interp.label for t in sweep} == {"cpython"}
    assert [t.batch for t in sweep[:7]] == [1, 2, 4, 8, 16, 32, 128]
    assert len(sweep) == 2 * 7 and sweep[0].benchmark == \
        "epoch/numpy-batch/B=1"
    accuracy = [(t.engine, t.interp.label) for t in tasks
                if t.kind == "accuracy"]
    assert ("numpy-batch", "cpython") in accuracy
    memory = [(t.engine, t.interp.label) for t in tasks
              if t.kind == "memory"]
    assert len(memory) == 6 and ("numpy-batch", "cpython") not in memory
    staged = {(t.stage, t.engine) for t in tasks if t.kind == "bench"}
    assert ("epoch", "numpy-batch") in staged
    assert ("load", "numpy-batch") not in staged
    assert ("infer", "numpy-batch") not in staged


def test_protocol_sets_blas_threads_for_every_benchmark():
    assert quick_protocol()["environment"] == {
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1"}
    assert set(quick_protocol("--blas-threads", "2")["environment"]
               .values()) == {"2"}
    with pytest.raises(benchrun.UserError):
        quick_protocol("--blas-threads", "0")


def test_engines_option_keeps_the_bench_order_and_refuses_unknown():
    assert quick_protocol("--engines", "numpy,tuned")["engines"] == [
        "tuned", "numpy"]
    assert quick_protocol("--engines", "tuned")["sweep"] is None
    with pytest.raises(benchrun.UserError, match="choose among"):
        quick_protocol("--engines", "fortran")


def test_sizes_of_a_scaling_run():
    assert benchrun.parse_sizes("500/100/200,1000/200/400") == [
        {"epoch": 500, "infer": 100, "load": 200},
        {"epoch": 1000, "infer": 200, "load": 400}]
    for bad in ("500/100", "500/100/x,1/1/1", "0/1/1,1/1/1", "1/1/1"):
        with pytest.raises(benchrun.UserError, match="--sizes"):
            benchrun.parse_sizes(bad)


def test_runner_hands_blas_threads_and_batch_to_pyperf(tmp_path,
                                                       monkeypatch):
    interps = interpreters("cpython")
    protocol = quick_protocol()
    run = {"protocol": protocol}
    os.mkdir(str(tmp_path / "tmp"))
    args = benchrun.build_parser().parse_args([])
    task = benchrun.Task("sweep", interps[0], "epoch", "numpy-batch",
                         extra={"batch": 8})
    runner = benchrun.Runner(args, str(tmp_path), run, interps, [task])
    seen = {}

    def spawn(task, command):
        seen["command"], seen["env"] = command, runner.env
        return 1
    monkeypatch.setattr(runner, "spawn", spawn)
    runner.run_sweep(task)
    command = seen["command"]
    assert command[command.index("--batch") + 1] == "8"
    assert command[command.index("--inherit-environ") + 1] == \
        "OPENBLAS_NUM_THREADS,MKL_NUM_THREADS,OMP_NUM_THREADS"
    assert seen["env"]["OMP_NUM_THREADS"] == "1"
    assert runner.records[0]["benchmark"] == "epoch/numpy-batch/B=8"


def test_fast_points_take_the_gist_of_each_docstring():
    bullets = ("Fast twin.\n\nWhat makes it fast:\n\n- Sparse: skip "
               "zeros. More words.\n- Unrolled\n  classes. Detail.\n\n"
               "Other paragraph.")
    assert benchrun.fast_points(bullets) == ["Sparse: skip zeros.",
                                             "Unrolled classes."]
    paragraph = "NumPy.\n\nWhat makes it fast: ten calls per step. Rest."
    assert benchrun.fast_points(paragraph) == ["Ten calls per step."]
    assert benchrun.fast_points("The talk's code.\n\nMore.") == [
        "The talk's code."]


def test_engine_notes_cover_every_engine_without_importing_them():
    notes = benchrun.engine_notes()
    assert set(notes) == set(gather.ENGINES)
    assert all(notes[name]["points"] for name in notes)
    assert len(notes["tuned"]["points"]) >= 2


# -- Scaling ----------------------------------------------------------------


def test_scaling_report_lists_sizes_in_order_with_slopes(tmp_path):
    top = tmp_path / "20260101-000000-scaling"
    for steps in (4000, 2000):
        folder = make_run_folder(str(top / f"epoch{steps}"))
        run = results.read(os.path.join(folder, results.RUN), "run")
        run["protocol"]["counts"]["epoch"] = steps
        run["run_id"] = f"{top.name}/epoch{steps}"
        results.write(os.path.join(folder, results.RUN), run)
        report.regenerate(folder, quiet=True)
    report.write_scaling_report(str(top))
    text = (top / results.REPORT).read_text(encoding="utf-8")
    assert text.index("| 2,000 |") < text.index("| 4,000 |")
    assert "[REPORT.md](epoch2000/REPORT.md)" in text
    assert "## Slopes" in text and "| epoch | talk | CPython 3.11.7 |" in text


def test_scaling_run_smoke(slice_folder, tmp_path):
    """A real scaling run at two tiny sizes, one engine: about 10 s."""
    source = os.path.dirname(os.path.dirname(os.path.abspath(
        benchrun.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [source, os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-m", "speedrun.benchrun", "--scaling", "--sizes",
         "500/100/100,1000/200/200", "--engines", "tuned", "--processes",
         "1", "--interpreter", f"here={sys.executable}", "--data",
         slice_folder, "--results", str(tmp_path), "--no-progress"],
        capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (top,) = os.listdir(str(tmp_path))
    folder = tmp_path / top
    subs = sorted(n for n in os.listdir(str(folder))
                  if os.path.isdir(str(folder / n)))
    assert subs == ["epoch1000-infer200-load200",
                    "epoch500-infer100-load100"]
    summary = results.read(str(folder / subs[0] / results.SUMMARY),
                           "summary")
    assert summary["protocol"]["counts"] == {"epoch": 1000, "infer": 200,
                                             "load": 200}
    assert summary["sweep"] is None and summary["memory"] is None
    assert all(r["status"] == gather.OK for r in summary["rows"])
    assert "## Slopes" in (folder / results.REPORT).read_text(
        encoding="utf-8")


def test_a_run_without_numpy_batch_has_no_section_for_it(run_folder):
    text = report.render_markdown(gather.gather(run_folder))
    assert "## numpy-batch" not in text
    assert "| no batch-size sweep in this run |" in text
    assert "## Memory" not in text  # a run from before memory.json
