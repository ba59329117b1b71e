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
