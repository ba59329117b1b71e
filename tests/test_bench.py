"""Every bench script, smoke-run with the smallest settings; benchlib's checks.

The scripts run as ``nox -s bench`` runs them, in a child process of
this interpreter, on a 2,000-image slice of MNIST written as a dataset
folder (``slice_folder`` in conftest). pyperf runs one worker with one
warmup and one value, so each script takes about a second. Timings are
never asserted; the checks against the reference are.

``test_every_bench_script_has_a_smoke_test`` fails when a script in
``bench/`` has no entry in ``SMOKE``: a new script needs its test.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import engine_params
from speedrun import results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
HELPERS = {"benchlib.py"}  # imported by the scripts, not run
SMOKE = {  # script -> the test that runs it
    "bench_epoch.py": "test_bench_epoch_smoke",
    "bench_infer.py": "test_bench_infer_smoke",
    "bench_load.py": "test_bench_load_smoke",
    "make_reference.py": "test_make_reference_smoke",
    "accuracy_run.py": "test_accuracy_run_smoke",
    "probe.py": "test_probe_smoke",
    "memory_run.py": "test_memory_run_smoke",
}
STEPS = 500  # one chunk: the smallest epoch
ONE_VALUE = ["--processes", "1", "--warmups", "1", "--values", "1",
             "--loops", "1"]

sys.path.insert(0, BENCH)
import benchlib  # noqa: E402  (bench/ is not a package)


def child_env():
    """The environment of a child: this speedrun importable, as in nox."""
    import speedrun
    env = dict(os.environ)
    source = os.path.dirname(os.path.dirname(os.path.abspath(
        speedrun.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [source, env.get("PYTHONPATH")]))
    return env


def run_script(name, *args, check=True):
    done = subprocess.run([sys.executable, os.path.join(BENCH, name),
                           *args], capture_output=True, text=True,
                          env=child_env(), timeout=600)
    if check:
        assert done.returncode == 0, (
            f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def reference(slice_folder, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("ref") / "reference.json")
    run_script("make_reference.py", "--steps", str(STEPS), "--data",
               slice_folder, "--out", path)
    return path


def bench(script, engine, count, slice_folder, reference, tmp_path):
    out, record = str(tmp_path / "out.json"), str(tmp_path / "rec.json")
    run_script(script, "--engine", engine, "--count", str(count), "--data",
               slice_folder, "--reference", reference, "--record", record,
               "--output", out, "--quiet", *ONE_VALUE)
    return results.read_pyperf(out), results.read(record, "process")


def test_every_bench_script_has_a_smoke_test():
    scripts = sorted(n for n in os.listdir(BENCH)
                     if n.endswith(".py") and n not in HELPERS)
    untested = [n for n in scripts if n not in SMOKE]
    assert not untested, f"bench scripts without a smoke test: {untested}"
    for test in SMOKE.values():
        assert test in globals(), f"{test} is named in SMOKE but missing"


@pytest.mark.parametrize("engine", engine_params())
def test_bench_epoch_smoke(engine, slice_folder, reference, tmp_path):
    found, record = bench("bench_epoch.py", engine, STEPS, slice_folder,
                          reference, tmp_path)
    (run,) = found[f"epoch/{engine}"]
    assert len(run.values) == 1 and len(run.warmups) == 1
    assert run.metadata["inner_loops"] == STEPS
    assert run.metadata["speedrun_engine"] == engine
    assert record["check"]["ok"] is True
    assert record["check"]["method"] == (
        "tolerance" if engine == "numpy" else "fingerprint")
    assert [len(c["chunk_seconds"]) for c in record["calls"]] == [1, 1]


@pytest.mark.parametrize("engine", engine_params(("tuned", "numpy")))
def test_bench_infer_smoke(engine, slice_folder, reference, tmp_path):
    found, record = bench("bench_infer.py", engine, 200, slice_folder,
                          reference, tmp_path)
    assert found[f"infer/{engine}"][0].metadata["inner_loops"] == 200
    assert record["check"]["ok"] is True
    assert "0 of 200 predictions differ" in record["check"]["detail"]


@pytest.mark.parametrize("engine", engine_params(("tuned", "numpy")))
def test_bench_load_smoke(engine, slice_folder, reference, tmp_path):
    found, record = bench("bench_load.py", engine, 300, slice_folder,
                          reference, tmp_path)
    assert f"load/{engine}" in found
    assert record["check"] == {"ok": True, "method": "pixels",
                               "detail": "4 sampled images equal byte / "
                                         "255"}


def test_bench_epoch_marks_a_mismatch_and_reports_no_speed(
        slice_folder, reference, tmp_path):
    bad = results.read(reference, "reference")
    bad["fingerprint"] = "0" * 16
    bad["weights"][0] += 1.0
    bad_path = str(tmp_path / "bad.json")
    results.write(bad_path, bad)
    out, record = str(tmp_path / "out.json"), str(tmp_path / "rec.json")
    done = run_script("bench_epoch.py", "--engine", "tuned", "--count",
                      str(STEPS), "--data", slice_folder, "--reference",
                      bad_path, "--record", record, "--output", out,
                      "--quiet", *ONE_VALUE, check=False)
    assert done.returncode != 0
    assert not os.path.exists(out)
    check = results.read(record, "process")["check"]
    assert check["ok"] is False and "0000000000000000" in check["detail"]


def test_bench_epoch_numpy_batch_is_checked_on_its_work(
        slice_folder, reference, tmp_path):
    pytest.importorskip("numpy")
    found, record = bench("bench_epoch.py", "numpy-batch", STEPS,
                          slice_folder, reference, tmp_path)
    (run,) = found["epoch/numpy-batch"]
    assert run.metadata["speedrun_batch"] == 32
    assert record["check"]["ok"] is True
    assert record["check"]["method"] == "same work"
    assert "different algorithm" in record["check"]["detail"]


def test_bench_epoch_batch_of_one_is_held_to_the_tolerance(
        slice_folder, reference, tmp_path):
    pytest.importorskip("numpy")
    out, record = str(tmp_path / "out.json"), str(tmp_path / "rec.json")
    run_script("bench_epoch.py", "--engine", "numpy-batch", "--batch", "1",
               "--count", str(STEPS), "--data", slice_folder,
               "--reference", reference, "--record", record, "--output",
               out, "--quiet", *ONE_VALUE)
    (run,) = results.read_pyperf(out)["epoch/numpy-batch/B=1"]
    assert run.metadata["speedrun_batch"] == 1
    check = results.read(record, "process")["check"]
    assert check["ok"] is True and check["method"] == "tolerance"


def test_bench_workers_record_the_blas_threads(slice_folder, reference,
                                               tmp_path):
    out = str(tmp_path / "out.json")
    env = dict(child_env(), OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, os.path.join(BENCH, "bench_load.py"), "--engine",
         "tuned", "--count", "100", "--data", slice_folder, "--output",
         out, "--quiet", "--inherit-environ", "OPENBLAS_NUM_THREADS",
         *ONE_VALUE], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    (run,) = results.read_pyperf(out)["load/tuned"]
    assert run.metadata["speedrun_openblas_num_threads"] == "1"
    assert run.metadata["speedrun_omp_num_threads"] == "unset"


def test_bench_epoch_refuses_a_batch_for_a_per_sample_engine():
    done = run_script("bench_epoch.py", "--engine", "tuned", "--batch", "4",
                      *ONE_VALUE, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("ERROR: --batch 4: engine "
                                          "'tuned'")
    assert "Traceback" not in done.stderr


def test_bench_script_refuses_an_unknown_engine_in_one_line():
    done = run_script("bench_epoch.py", "--engine", "fortran", *ONE_VALUE,
                      check=False)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("ERROR: unknown engine")
    assert "Traceback" not in done.stderr


def test_make_reference_smoke(reference):
    data = results.read(reference, "reference")
    assert data["steps"] == STEPS and len(data["weights"]) == 7840
    assert len(data["predictions"]) == 1000  # every t10k image of the slice
    assert data["plain_sum"] == benchlib.plain_float_sum()


def test_accuracy_run_smoke(slice_folder, tmp_path):
    out = str(tmp_path / "acc.json")
    run_script("accuracy_run.py", "--engine", "tuned", "--seeds", "0", "1",
               "--epochs", "1", "--steps", str(STEPS), "--data",
               slice_folder, "--out", out)
    data = results.read(out, "accuracy")
    assert [r["seed"] for r in data["runs"]] == [0, 1]
    assert data["runs"][0]["history"] and not data["runs"][1]["history"]
    assert 0 < data["runs"][0]["validation_accuracy"] <= 100


def test_probe_smoke():
    info = json.loads(run_script("probe.py").stdout)
    assert info["implementation"] == sys.implementation.name
    assert info["plain_sum"] == (sum([0.1] * 10) != 1.0)
    assert "talk" in info["engines"]


def test_probe_reports_the_blas_threads_it_was_given():
    pytest.importorskip("numpy")
    done = subprocess.run([sys.executable, os.path.join(BENCH, "probe.py")],
                          capture_output=True, text=True, timeout=600,
                          env=dict(child_env(), OPENBLAS_NUM_THREADS="1"))
    numpy = json.loads(done.stdout)["numpy"]
    assert numpy["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    for pool in numpy["runtime"] or []:  # None without threadpoolctl
        assert pool["num_threads"] == 1


def test_memory_run_smoke(slice_folder, tmp_path):
    out = str(tmp_path / "memory.json")
    run_script("memory_run.py", "--engine", "tuned", "--count", "300",
               "--data", slice_folder, "--out", out)
    data = results.read(out, "memory")
    assert (data["engine"], data["count"], data["pixels"]) == (
        "tuned", 300, 784)
    growths = [data[k] for k in ("resident_growth_bytes",
                                 "malloc_growth_bytes") if data[k] is not None]
    assert growths and data["held_bytes"] == max(growths)
    assert data["peak_rss_bytes"] > 0


def test_memory_run_refuses_more_images_than_the_dataset_holds(
        slice_folder, tmp_path):
    done = run_script("memory_run.py", "--engine", "tuned", "--count",
                      "5000", "--data", slice_folder, "--out",
                      str(tmp_path / "m.json"), check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("ERROR: --count 5000: the dataset holds")


def test_pyperf_reads_what_the_bench_wrote(slice_folder, reference,
                                           tmp_path):
    pytest.importorskip("pyperf")
    bench("bench_load.py", "tuned", 100, slice_folder, reference, tmp_path)
    for command in ("stats", "dump"):
        done = subprocess.run([sys.executable, "-m", "pyperf", command,
                               str(tmp_path / "out.json")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr


# -- benchlib, in process ----------------------------------------------------


def test_load_touched_renumbers_draws_to_the_same_images(mnist_slice):
    from speedrun.engines import get_engine
    engine = get_engine("talk")
    draws = [5, 3, 5, 1999, 0]
    images, labels, renumbered = benchlib.load_touched(engine, mnist_slice,
                                                       draws)
    full = engine.load_images(mnist_slice.train_images.data, 2000, 784)
    assert len(images) == 4
    assert [images[k] for k in renumbered] == [full[i] for i in draws]
    assert [labels[k] for k in renumbered] == [
        mnist_slice.train_labels.data[i] for i in draws]


def test_check_weights_exact_and_tolerant():
    reference = {"plain_sum": True, "weights": [0.5, -0.25],
                 "fingerprint": benchlib.fingerprint([0.5, -0.25])}
    assert benchlib.check_weights("talk", [0.5, -0.25], reference)[0]
    nudged = [0.5 + 1e-12, -0.25]
    ok, method, _ = benchlib.check_weights("talk", nudged, reference)
    assert (ok, method) == (not benchlib.plain_float_sum(), "tolerance"
                            if not benchlib.plain_float_sum() else
                            "fingerprint")
    assert benchlib.check_weights("numpy", nudged, reference)[0]
    assert not benchlib.check_weights("numpy", [0.5 + 1e-6, -0.25],
                                      reference)[0]
    assert not benchlib.check_weights("numpy", [float("nan"), -0.25],
                                      reference)[0]


def test_check_predictions_allows_numpy_a_stated_share():
    reference = {"plain_sum": True, "predictions": [1] * 2000}
    labels = [1] * 2000
    two_off = [2, 2] + [1] * 1998
    assert benchlib.check_predictions("numpy", two_off, reference,
                                      labels)[0]
    assert not benchlib.check_predictions("numpy", [2] * 3 + [1] * 1997,
                                          reference, labels)[0]
    if benchlib.plain_float_sum():
        assert not benchlib.check_predictions("talk", two_off, reference,
                                              labels)[0]


def test_check_load_finds_a_wrong_pixel(mnist_slice):
    from speedrun.engines import get_engine
    engine = get_engine("talk")
    images = engine.load_images(mnist_slice.train_images.data, 200, 784)
    labels = engine.load_labels(mnist_slice.train_labels.data, 200)
    assert benchlib.check_load(images, labels, mnist_slice, 200)[0]
    images[97][300] += 1e-9
    ok, _, detail = benchlib.check_load(images, labels, mnist_slice, 200)
    assert not ok and "image 97" in detail


class Work:
    """What ``check_same_work`` reads: the inputs of a timed epoch."""

    def __init__(self, dataset, initial, draws, handed=None):
        self.dataset, self.initial, self.draws = dataset, initial, draws
        self.handed = list(draws) if handed is None else handed


def same_work_reference():
    return {"dataset": {"a": "00"}, "weights": [0.5, -0.5],
            "initial_fingerprint": benchlib.fingerprint([0.1, 0.2]),
            "draws_digest": benchlib.draws_digest([3, 1, 2])}


def test_check_same_work_passes_the_same_inputs_whatever_the_weights():
    ok, method, detail = benchlib.check_same_work(
        [0.75, -0.5], same_work_reference(),
        Work({"a": "00"}, [0.1, 0.2], [3, 1, 2]))
    assert (ok, method) == (True, "same work")
    assert "3 draws in order" in detail and "0.25" in detail


@pytest.mark.parametrize("work, values, problem", [
    (Work({"a": "ff"}, [0.1, 0.2], [3, 1, 2]), [0.0, 0.0],
     "another dataset"),
    (Work({"a": "00"}, [0.1, 0.3], [3, 1, 2]), [0.0, 0.0],
     "other initial weights"),
    (Work({"a": "00"}, [0.1, 0.2], [1, 2, 3]), [0.0, 0.0], "other draws"),
    (Work({"a": "00"}, [0.1, 0.2], [3, 1, 2], [1, 2, 3]), [0.0, 0.0],
     "out of order"),
    (Work({"a": "00"}, [0.1, 0.2], [3, 1, 2]), [float("inf"), 0.0],
     "not finite"),
])
def test_check_same_work_names_what_differs(work, values, problem):
    ok, _, detail = benchlib.check_same_work(values, same_work_reference(),
                                             work)
    assert not ok and problem in detail


def test_draws_digest_depends_on_the_order():
    assert benchlib.draws_digest([1, 2]) != benchlib.draws_digest([2, 1])
    assert benchlib.draws_digest([1, 2]) == benchlib.draws_digest([1, 2])


def test_reference_names_the_work(reference):
    data = results.read(reference, "reference")
    assert len(data["initial_fingerprint"]) == 16
    assert len(data["draws_digest"]) == 16


def test_dense_reads_sparse_pairs():
    assert benchlib.dense(([1, 3], [0.5, 1.0]), 4) == [0.0, 0.5, 0.0, 1.0]


def test_forward_arguments_pass_paths_on_the_command_line(tmp_path):
    class Args:
        engine, count, seed, batch = "numpy-batch", 10, 3, 8
        data, reference, record = None, "ref.json", str(tmp_path / "r")
    cmd = []
    benchlib.forward_arguments(cmd, Args)
    assert cmd[:8] == ["--engine", "numpy-batch", "--count", "10", "--seed",
                       "3", "--batch", "8"]
    assert cmd[cmd.index("--reference") + 1] == os.path.abspath("ref.json")
    assert "--data" not in cmd
