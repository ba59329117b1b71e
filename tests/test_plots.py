"""The data behind each chart, and one smoke run of the drawing code."""

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from speedrun import chartdata, plots
from speedrun.training import Run

CPYTHON = {"implementation": "cpython", "python_version": "3.11.7"}
PYPY = {"implementation": "pypy", "python_version": "3.9.18",
        "pypy_version": "7.3.11"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def history(epochs, steps, chunk=500):
    """Monitoring points as training_run records them, values made up."""
    return [{"epoch": e, "step": s, "accuracy": 50.0 + e + s / steps,
             "cost": 0.1 / (e * s)}
            for e in range(1, epochs + 1)
            for s in range(chunk, steps + 1, chunk)]


def record(engine, interp, steps=1000, epochs=2, accuracy=92.0):
    return {"engine": engine, "seed": 0, "lr": 0.002, "epochs": epochs,
            "steps_per_epoch": steps, "history": history(epochs, steps),
            "validation_accuracy": accuracy, "interpreter": interp,
            "status": "complete"}


def fake_dataset(validation, cols=4, test_count=3):
    """t10k of *test_count* + *validation* images of cols × cols bytes.

    Image n has every pixel set to n, so a gallery entry shows which
    image it was cut from.
    """
    size = cols * cols
    total = test_count + validation
    data = bytes(n for n in range(total) for _ in range(size))
    return SimpleNamespace(pixels=size, cols=cols, rows=cols,
                           test_count=test_count,
                           test_images=SimpleNamespace(data=data))


def fake_run(labels, predictions, engine="tuned", steps=1000, epochs=2):
    run = Run(SimpleNamespace(NAME=engine), 3, 0.002, epochs, steps)
    run.history = history(epochs, steps)
    run.validation_labels = list(labels)
    run.validation_predictions = list(predictions)
    right = sum(1 for a, b in zip(labels, predictions) if a == b)
    run.validation_accuracy = 100.0 * right / len(labels)
    return run


def test_learning_curve_steps_count_across_epochs():
    data = chartdata.learning_curve([record("talk", CPYTHON)])

    (series,) = data["series"]
    assert series["steps"] == [500, 1000, 1500, 2000]
    assert len(series["accuracy"]) == len(series["cost"]) == 4
    assert series["accuracy"][2] == pytest.approx(52.5)
    assert data["epoch_ends"] == [1000]
    assert data["title"] == "Learning curve: talk engine, seed 0, lr 0.002"


def test_learning_curve_axis_titles_carry_units():
    data = chartdata.learning_curve([record("talk", CPYTHON)])

    assert "(%)" in data["accuracy_label"]
    assert "per draw" in data["cost_label"]
    assert "draws" in data["x_label"]


def test_learning_curve_several_runs_keep_order_and_labels():
    runs = [record("talk", CPYTHON, accuracy=91.5),
            record("tuned", PYPY, accuracy=91.5),
            record("numpy", CPYTHON, steps=1500, epochs=1, accuracy=90.25)]

    data = chartdata.learning_curve(runs)

    labels = [s["label"] for s in data["series"]]
    assert labels == ["talk on CPython 3.11.7, validation 91.50 %",
                      "tuned on PyPy 7.3.11, validation 91.50 %",
                      "numpy on CPython 3.11.7, validation 90.25 %"]
    assert [len(s["steps"]) for s in data["series"]] == [4, 4, 3]
    assert data["title"] == "Learning curve"
    assert data["epoch_ends"] == [1000]


def test_learning_curve_without_history_keeps_an_empty_series():
    quiet = record("numpy", CPYTHON)
    quiet["history"] = []

    (series,) = chartdata.learning_curve([quiet])["series"]

    assert series["steps"] == series["accuracy"] == series["cost"] == []
    assert series["label"].startswith("numpy on CPython")


def test_run_label_names_a_partial_run():
    partial = record("talk", PYPY)
    partial["status"] = "diverged"
    del partial["validation_accuracy"]

    assert chartdata.run_label(partial) == "talk on PyPy 7.3.11 (diverged)"


def test_run_record_of_a_live_run_names_this_interpreter():
    run = fake_run([1, 2], [1, 2], engine="talk")

    rec = chartdata.run_record(run)

    assert rec["steps_per_epoch"] == 1000
    assert rec["history"] is run.history
    name = "PyPy" if sys.implementation.name == "pypy" else "CPython"
    assert name in chartdata.run_label(rec)


def test_interpreter_label_of_unknown_interpreter():
    assert chartdata.interpreter_label(None) == "unknown interpreter"
    assert chartdata.interpreter_label(
        {"implementation": "graalpy", "python_version": "3.10.8"}
    ) == "graalpy 3.10.8"


def test_confusion_hides_diagonal_and_counts_mistakes():
    matrix = [[0] * 10 for _ in range(10)]
    for k in range(10):
        matrix[k][k] = 20
    matrix[4][9], matrix[7][2], matrix[2][7] = 6, 3, 3
    matrix[9][4] = 1

    data = chartdata.confusion(matrix)

    assert all(data["errors"][k][k] is None for k in range(10))
    assert data["errors"][4][9] == 6
    assert data["counts"][4][4] == 20
    assert (data["total"], data["wrong"]) == (213, 13)
    assert data["pairs"] == [(4, 9, 6), (2, 7, 3), (7, 2, 3), (9, 4, 1)]
    assert data["recall"][4] == pytest.approx(100.0 * 20 / 26)
    assert data["classes"] == list(range(10))


def test_confusion_recall_is_none_for_an_absent_label():
    matrix = [[0] * 10 for _ in range(10)]
    matrix[1][1] = 5

    data = chartdata.confusion(matrix)

    assert data["recall"][0] is None
    assert data["recall"][1] == 100.0
    assert data["pairs"] == []


def test_misclassified_keeps_validation_order_and_pixels():
    dataset = fake_dataset(validation=6)
    run = fake_run([0, 1, 2, 3, 4, 5], [0, 7, 2, 8, 9, 5])

    entries, wrong = chartdata.misclassified(run, dataset, limit=10)

    assert wrong == 3
    assert [e["position"] for e in entries] == [1, 3, 4]
    assert [e["index"] for e in entries] == [4, 6, 7]
    assert [(e["label"], e["prediction"]) for e in entries] == [
        (1, 7), (3, 8), (4, 9)]
    first = entries[0]["pixels"]
    assert len(first) == 4 and all(len(row) == 4 for row in first)
    assert first[0][0] == 4  # cut from t10k image 4


def test_misclassified_limit_still_counts_every_mistake():
    dataset = fake_dataset(validation=5)
    run = fake_run([1] * 5, [2] * 5)

    entries, wrong = chartdata.misclassified(run, dataset, limit=2)

    assert len(entries) == 2
    assert wrong == 5


def test_load_run_file_names_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("{ not json")

    with pytest.raises(chartdata.ChartDataError, match="run.json: not a JSON"):
        chartdata.load_run_file(str(path))


def test_load_run_file_names_the_missing_fields(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"engine": "talk"}))

    with pytest.raises(chartdata.ChartDataError,
                       match="no history, steps_per_epoch field"):
        chartdata.load_run_file(str(path))


def test_plots_module_imports_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None; "
            "import speedrun.plots; print('ok')")
    done = subprocess.run([sys.executable, "-c", code],
                          capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_run_charts_without_matplotlib_says_how_to_install(
        monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    run = fake_run([1, 2], [1, 3])

    with pytest.raises(ImportError, match="pip install matplotlib"):
        plots.run_charts(run, fake_dataset(validation=2), str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_run_charts_writes_three_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    labels = [k % 10 for k in range(40)]
    predictions = [(k + (k % 3 == 0)) % 10 for k in range(40)]
    run = fake_run(labels, predictions, engine="talk")

    paths = plots.run_charts(run, fake_dataset(validation=40), str(tmp_path))

    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "talk-learning-curve.png", "talk-confusion.png",
        "talk-misclassified.png"]
    for path in paths:
        with open(path, "rb") as stream:
            assert stream.read(8) == PNG_MAGIC


def test_learning_curves_from_files_draws_several_runs(tmp_path):
    pytest.importorskip("matplotlib")
    names = []
    for engine, interp in (("talk", CPYTHON), ("tuned", PYPY)):
        path = tmp_path / f"{engine}.json"
        path.write_text(json.dumps(record(engine, interp)))
        names.append(str(path))
    out = str(tmp_path / "engines.png")

    assert plots.learning_curves_from_files(names, out) == out
    with open(out, "rb") as stream:
        assert stream.read(8) == PNG_MAGIC


def test_fit_power_law_finds_the_exponent_of_synthetic_data():
    work = [1000, 5000, 20000, 60000]
    seconds = [3e-4 * w ** 1.5 for w in work]

    slope, factor = chartdata.fit_power_law(work, seconds)

    assert slope == pytest.approx(1.5)
    assert factor == pytest.approx(3e-4)


def test_fit_power_law_of_noisy_linear_work_is_near_one():
    work = [1000, 5000, 20000, 60000]
    noise = [1.08, 0.95, 1.03, 0.98]
    seconds = [2e-5 * w * n for w, n in zip(work, noise)]

    slope, _ = chartdata.fit_power_law(work, seconds)

    assert 0.95 < slope < 1.05


def test_fit_power_law_needs_two_amounts_of_work():
    with pytest.raises(ValueError, match="two or more distinct"):
        chartdata.fit_power_law([1000, 1000], [1.0, 1.1])


# -- Bench charts ----------------------------------------------------------

# Warm µs per item (epoch: per step; load and infer: per image), made up
# but of the sizes met on a 2-core machine.
WARM_US = {
    ("cpython", "epoch", "talk"): 920.0, ("pypy", "epoch", "talk"): 180.0,
    ("cpython", "epoch", "tuned"): 100.0, ("pypy", "epoch", "tuned"): 27.0,
    ("cpython", "epoch", "numpy"): 16.0, ("pypy", "epoch", "numpy"): 280.0,
    ("cpython", "load", "talk"): 150.0, ("pypy", "load", "talk"): 20.0,
    ("cpython", "infer", "talk"): 300.0, ("pypy", "infer", "talk"): 40.0,
}
FULL = {"epoch": 60000, "load": 60000, "infer": 10000}
ITEM = {"epoch": "step", "load": "image", "infer": "image"}


def bench_row(interp, stage, engine, items, status="ok", chunks=8):
    us = WARM_US.get((interp, stage, engine))
    row = {"stage": stage, "engine": engine,
           "benchmark": f"{stage}/{engine}", "interpreter": interp,
           "item": ITEM[stage], "items": items, "full_items": FULL[stage],
           "extrapolated": items < FULL[stage], "status": status,
           "processes": 3}
    if us is None or status != "ok":
        row["status"] = "missing" if us is None else status
        return row
    row["warm"] = {"mean": us * 1e-6, "stdev": us * 5e-8}
    cold_factor = 3.0 if interp == "pypy" else 1.1
    row["cold"] = {"mean": us * 1e-6 * cold_factor, "stdev": us * 1e-7}
    if stage == "epoch":
        curve = [us * (1 + (cold_factor - 1) / (n + 1)) for n in
                 range(chunks)]
        row["chunks"] = {"chunk_steps": 500, "processes": 3,
                         "cold_us_per_step": curve,
                         "warm_us_per_step": [us] * chunks}
    return row


def bench_summary(counts=None, pypy=True, invalid=()):
    counts = counts or {"epoch": 4000, "load": 1000, "infer": 2000}
    labels = ["cpython"] + (["pypy"] if pypy else [])
    rows = [bench_row(label, stage, engine, counts[stage],
                      "invalid" if (label, stage, engine) in invalid
                      else "ok")
            for label in labels for stage in ("epoch", "infer", "load")
            for engine in ("talk", "tuned", "numpy")]
    interps = [{"label": "cpython", "pyperf_file": "cpython.json",
                "probe": CPYTHON}]
    missing = []
    if pypy:
        interps.append({"label": "pypy", "pyperf_file": "pypy.json",
                        "probe": PYPY})
    else:
        missing.append({"kind": "interpreter", "name": "pypy3",
                        "message": "install it with apt-get install pypy3"})
    claims = [
        {"id": "pypy_vs_cpython_epoch", "talk": 15.0, "band": [12.0, 18.0],
         "verdict": "not reproduced"},
        {"id": "pypy_pure_vs_numpy_epoch_talk", "talk": 1.2,
         "band": [0.96, 1.44], "verdict": "not reproduced"},
        {"id": "pypy_pure_vs_numpy_epoch_tuned", "talk": 1.2,
         "band": [0.96, 1.44], "verdict": "inconclusive"},
        {"id": "pypy_vs_cpython_load", "talk": None, "band": None,
         "verdict": "no figure"},
    ]
    return {"run_id": "20260101-000000", "profile": "quick",
            "interpreters": interps, "missing": missing, "rows": rows,
            "reference_interpreter": "cpython",
            "pypy_interpreter": "pypy" if pypy else None, "claims": claims}


def panel(data, stage):
    (found,) = [p for p in data["panels"] if p["stage"] == stage]
    return found


def test_stage_chart_has_a_panel_per_stage_in_run_order():
    data = chartdata.stage_chart(bench_summary())

    assert [p["stage"] for p in data["panels"]] == ["load", "epoch", "infer"]
    epoch = panel(data, "epoch")
    assert epoch["engines"] == ["talk", "tuned", "numpy"]
    assert [s["label"] for s in epoch["series"]] == [
        "CPython 3.11.7", "PyPy 7.3.11"]
    assert "seconds" in epoch["y_label"]
    assert "60,000 steps" in epoch["title"]
    assert "extrapolated from 4,000" in epoch["title"]


def test_numpy_batch_says_its_batch_and_algorithm_under_its_bars():
    summary = bench_summary()
    for label, us in (("cpython", 1.5), ("pypy", 9.0)):
        WARM_US[(label, "epoch", "numpy-batch")] = us
        summary["rows"].append(dict(bench_row(label, "epoch",
                                              "numpy-batch", 4000),
                                    batch=32))
    try:
        epoch = panel(chartdata.stage_chart(summary), "epoch")
        curve = chartdata.warmup_curve(summary)
    finally:
        for label in ("cpython", "pypy"):
            del WARM_US[(label, "epoch", "numpy-batch")]
    assert epoch["engines"][-1] == "numpy-batch"
    assert epoch["ticks"] == ["talk", "tuned", "numpy", "numpy-batch\n"
                              "(B=32, a different\nalgorithm)"]
    labels = [s["label"] for s in curve["series"]]
    assert "numpy-batch (B=32) on CPython 3.11.7 (3 processes)" in labels


def test_stage_chart_bars_are_whole_stage_seconds_with_std_dev():
    epoch = panel(chartdata.stage_chart(bench_summary()), "epoch")

    cpython, pypy = epoch["series"]
    assert cpython["seconds"][0] == pytest.approx(920e-6 * 60000)
    assert cpython["errors"][0] == pytest.approx(920e-7 * 0.5 * 60000)
    assert pypy["seconds"][1] == pytest.approx(27e-6 * 60000)
    infer = panel(chartdata.stage_chart(bench_summary()), "infer")
    assert infer["series"][0]["seconds"][0] == pytest.approx(300e-6 * 10000)


def test_stage_chart_names_rows_without_a_figure():
    summary = bench_summary(invalid={("pypy", "epoch", "tuned")})

    epoch = panel(chartdata.stage_chart(summary), "epoch")

    assert epoch["series"][1]["seconds"][1] is None
    assert epoch["series"][1]["errors"][1] is None
    assert "tuned on PyPy 7.3.11: invalid" in epoch["missing"]
    load = panel(chartdata.stage_chart(summary), "load")
    assert load["series"][0]["seconds"][1:] == [None, None]
    assert "tuned on CPython 3.11.7: missing" in load["missing"]


def test_stage_chart_places_the_talks_claims_on_pypy_bars():
    epoch = panel(chartdata.stage_chart(bench_summary()), "epoch")

    marks = {m["claim"]: m for m in epoch["marks"]}
    assert sorted(marks) == ["pypy_pure_vs_numpy_epoch_talk",
                             "pypy_pure_vs_numpy_epoch_tuned",
                             "pypy_vs_cpython_epoch"]
    talk_base, numpy_base = 920e-6 * 60000, 16e-6 * 60000
    speedup = marks["pypy_vs_cpython_epoch"]
    assert (speedup["engine"], speedup["interpreter"]) == ("talk", "pypy")
    assert speedup["seconds"] == pytest.approx(talk_base / 15)
    assert speedup["band"] == pytest.approx([talk_base / 18,
                                             talk_base / 12])
    assert "15× faster" in speedup["label"]
    share = marks["pypy_pure_vs_numpy_epoch_tuned"]
    assert share["engine"] == "tuned"
    assert share["seconds"] == pytest.approx(numpy_base * 1.2)
    assert share["band"] == pytest.approx([numpy_base * 0.96,
                                           numpy_base * 1.44])
    assert share["label"].endswith(": inconclusive")
    assert panel(chartdata.stage_chart(bench_summary()), "load")[
        "marks"] == []


def test_stage_chart_without_pypy_has_no_marks_and_says_why():
    data = chartdata.stage_chart(bench_summary(pypy=False))

    epoch = panel(data, "epoch")
    assert [s["label"] for s in epoch["series"]] == ["CPython 3.11.7"]
    assert epoch["marks"] == []
    assert data["absent"] == ["pypy3: install it with apt-get install pypy3"]


def test_warmup_curve_has_one_series_per_epoch_row_with_chunks():
    summary = bench_summary(invalid={("pypy", "epoch", "numpy")})

    data = chartdata.warmup_curve(summary)

    assert [(s["engine"], s["interpreter"]) for s in data["series"]] == [
        ("talk", "cpython"), ("tuned", "cpython"), ("numpy", "cpython"),
        ("talk", "pypy"), ("tuned", "pypy")]
    first = data["series"][0]
    assert first["steps"] == [500 * n for n in range(1, 9)]
    assert len(first["us_per_step"]) == 8
    assert first["warm_us"] == pytest.approx(920.0)
    assert first["label"] == "talk on CPython 3.11.7 (3 processes)"
    assert "µs" in data["y_label"]
    assert "steps" in data["x_label"]


def test_scaling_fits_a_slope_per_engine_and_interpreter():
    sizes = [1000, 5000, 20000, 60000]
    summaries = [bench_summary({"epoch": n, "load": n // 6,
                                "infer": n // 6}) for n in sizes]

    data = chartdata.scaling(summaries)

    epoch = panel(data, "epoch")
    labels = [s["label"] for s in epoch["series"]]
    assert "talk on PyPy 7.3.11: slope 1.00" in labels
    assert len(epoch["series"]) == 6
    first = epoch["series"][0]
    assert first["work"] == sizes
    assert first["slope"] == pytest.approx(1.0)
    assert "steps" in epoch["x_label"]
    assert "images" in panel(data, "load")["x_label"]
    assert data["skipped"] == []


def test_scaling_uses_the_first_call_and_skips_single_sizes():
    summaries = [bench_summary({"epoch": n, "load": 1000, "infer": 1000})
                 for n in (1000, 10000)]

    data = chartdata.scaling(summaries)

    assert [p["stage"] for p in data["panels"]] == ["epoch"]
    talk_pypy = [s for s in panel(data, "epoch")["series"]
                 if s["engine"] == "talk" and s["interpreter"].startswith(
                     "PyPy")][0]
    assert talk_pypy["seconds"][0] == pytest.approx(180e-6 * 3.0 * 1000)
    assert "load/talk on CPython 3.11.7" in data["skipped"]


def write_summary(folder, summary):
    from speedrun import results

    folder.mkdir(parents=True, exist_ok=True)
    results.write(str(folder / "summary.json"),
                  results.document("summary", **summary))


def test_write_bench_charts_writes_stage_warmup_and_scaling(tmp_path):
    pytest.importorskip("matplotlib")
    write_summary(tmp_path, bench_summary())
    for n in (1000, 5000):
        write_summary(tmp_path / f"epoch-{n}", bench_summary(
            {"epoch": n, "load": n, "infer": n}))

    charts = plots.write_bench_charts(str(tmp_path))

    assert [title for title, _ in charts] == [
        "Time per stage", "JIT warm-up", "Scaling"]
    for _, path in charts:
        with open(path, "rb") as stream:
            assert stream.read(8) == PNG_MAGIC


def test_charts_markdown_without_matplotlib_says_how_to_get_them(
        monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    write_summary(tmp_path, bench_summary())

    lines = plots.charts_markdown(str(tmp_path))

    assert lines[0] == "## Charts"
    assert "pip install matplotlib" in lines[2]
    assert "python -m speedrun.report" in lines[2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_charts_markdown_links_images_by_file_name(tmp_path):
    pytest.importorskip("matplotlib")
    write_summary(tmp_path, bench_summary())

    lines = plots.charts_markdown(str(tmp_path))

    assert "![Time per stage](stages.png)" in lines
    assert "![JIT warm-up](warmup.png)" in lines


def test_chunk_scaling_sums_chunks_at_doubling_step_counts():
    summary = bench_summary()  # 8 chunks of 500 steps per epoch row

    data = chartdata.chunk_scaling(summary)

    (epoch,) = data["panels"]
    talk = epoch["series"][0]
    assert (talk["engine"], talk["interpreter"]) == ("talk",
                                                     "CPython 3.11.7")
    assert talk["work"] == [500, 1000, 2000, 4000]
    row = [r for r in summary["rows"] if r["benchmark"] == "epoch/talk"
           and r["interpreter"] == "cpython"][0]
    curve = row["chunks"]["cold_us_per_step"]
    assert talk["seconds"][2] == pytest.approx(500e-6 * sum(curve[:4]))
    assert talk["seconds"][3] == pytest.approx(500e-6 * sum(curve))


def test_chunk_scaling_shows_the_ratio_growing_while_pypy_warms_up():
    data = chartdata.chunk_scaling(bench_summary())

    (epoch,) = data["panels"]
    talk = [s for s in epoch["speedups"] if s["engine"] == "talk"][0]
    assert talk["work"] == [500, 1000, 2000, 4000]
    assert talk["cold"] == sorted(talk["cold"])  # PyPy catches up
    assert talk["warm"] == pytest.approx([920 / 180] * 4)
    pypy = [s for s in epoch["series"] if s["engine"] == "talk"
            and s["interpreter"].startswith("PyPy")][0]
    assert pypy["slope"] < 0.95  # later chunks cost less than the first
    assert epoch["ratio_label"] == "CPython 3.11.7 time / PyPy 7.3.11 time"


def test_chunk_scaling_of_a_single_chunk_has_no_panel():
    summary = bench_summary()
    for row in summary["rows"]:
        if "chunks" in row:
            row["chunks"]["cold_us_per_step"] = row["chunks"][
                "cold_us_per_step"][:1]

    data = chartdata.chunk_scaling(summary)

    assert data["panels"] == []
    assert "epoch/talk on PyPy 7.3.11" in data["skipped"]


def test_load_run_file_names_a_missing_file(tmp_path):
    path = str(tmp_path / "absent.json")

    with pytest.raises(chartdata.ChartDataError,
                       match="absent.json: cannot read"):
        chartdata.load_run_file(path)


def test_plots_command_refuses_a_folder_without_results(tmp_path, capsys):
    pytest.importorskip("matplotlib")

    assert plots.main([str(tmp_path)]) == 1

    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and err.count("\n") == 1
    assert "no summary.json" in err


def test_plots_command_draws_a_scaling_folder_of_sub_runs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for n in (1000, 4000):
        write_summary(tmp_path / f"size-{n}", bench_summary(
            {"epoch": n, "load": n, "infer": n}))

    assert plots.main([str(tmp_path)]) == 0

    assert capsys.readouterr().out.strip() == (
        f"wrote {tmp_path / 'scaling.png'}")


def test_require_matplotlib_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)

    with pytest.raises(ImportError) as caught:
        plots.require_matplotlib()
    assert str(caught.value) == ("matplotlib is not installed; install it "
                                 "with: python -m pip install matplotlib")


def test_sweep_chart_sets_batch_sizes_against_the_per_sample_engines(
        tmp_path):
    from benchfiles import add_batch_and_memory, make_run_folder
    from speedrun import gather
    folder = add_batch_and_memory(make_run_folder(str(tmp_path / "r")))
    data = chartdata.sweep_chart(gather.gather(folder))

    assert data["batches"] == [1, 2, 4, 8, 16, 32, 128]
    assert data["us_per_step"][0] == pytest.approx(25.0, rel=0.03)
    assert len(data["errors"]) == 7
    assert [line["label"] for line in data["lines"]] == [
        "tuned on PyPy 7.3.11", "numpy (per-sample) on CPython 3.11.7"]
    assert data["lines"][0]["us_per_step"] == pytest.approx(18.0, rel=0.03)
    assert data["crossover"] == 4
    assert "µs" in data["y_label"]


def test_sweep_chart_of_a_run_without_sweep_is_none():
    assert chartdata.sweep_chart(bench_summary()) is None
