"""Synthetic bench results: a run folder built from numbers, no benchmark.

``make_run_folder`` writes what ``nox -s bench`` leaves behind (run.json,
one pyperf file per interpreter in pyperf's JSON format 1.0,
processes.json, accuracy files) from a dict of per-process values, so
the gathering, claims and report code can be tested in milliseconds.
"""

import json
import os

from speedrun import results

PROTOCOL = {"processes": 3, "warmups": 1, "values": 2, "loops": 1,
            "counts": {"epoch": 2000, "infer": 2000, "load": 5000},
            "seed": 0, "lr": 0.002,
            "accuracy": {"engine": "tuned", "epochs": 2, "seeds_count": 3,
                         "seeds": [0, 1, 2], "interpreter": "pypy",
                         "plain_sum": True, "status": "ok"}}

PROBES = {
    "cpython": {"implementation": "cpython", "python_version": "3.11.7",
                "executable": "/venv/cpython/bin/python", "plain_sum": True,
                "engines": ["talk", "tuned", "numpy"],
                "missing_engines": [],
                "numpy": {"version": "2.0.2", "blas": {
                    "name": "scipy-openblas", "version": "0.3.27"}}},
    "pypy": {"implementation": "pypy", "python_version": "3.9.16",
             "pypy_version": "7.3.11",
             "executable": "/venv/pypy/bin/python", "plain_sum": True,
             "engines": ["talk", "tuned", "numpy"], "missing_engines": [],
             "numpy": {"version": "2.0.2", "blas": None}},
}

# Seconds per item: cold (first warmup) then the values, per process.
TIMES = {
    "cpython": {"epoch/talk": 900e-6, "epoch/tuned": 100e-6,
                "epoch/numpy": 15e-6, "infer/talk": 400e-6,
                "infer/tuned": 50e-6, "infer/numpy": 16e-6,
                "load/talk": 150e-6, "load/tuned": 50e-6,
                "load/numpy": 2e-6},
    "pypy": {"epoch/talk": 60e-6, "epoch/tuned": 18e-6,
             "epoch/numpy": 150e-6, "infer/talk": 40e-6,
             "infer/tuned": 15e-6, "infer/numpy": 20e-6,
             "load/talk": 5e-6, "load/tuned": 5e-6, "load/numpy": 2e-6},
}
JITTER = (1.00, 1.02, 0.98, 1.01)


def process_values(mean, processes=3, values=2):
    """[(cold, [values...]), ...]: small fixed jitter around *mean*."""
    found = []
    for p in range(processes):
        scale = JITTER[p % len(JITTER)]
        cold = mean * scale * 1.5
        found.append((cold, [mean * scale * JITTER[(p + v + 1) % 4]
                             for v in range(values)]))
    return found


def pyperf_document(benchmarks, label):
    """A pyperf JSON 1.0 document; *benchmarks*: name -> process list."""
    document = {"version": "1.0", "metadata": {
        "hostname": "testhost", "cpu_count": 2,
        "python_implementation": PROBES[label]["implementation"]},
        "benchmarks": []}
    for name, processes in benchmarks.items():
        stage = name.split("/")[0]
        runs = [{"metadata": {"mem_max_rss": 100 * 2 ** 20 + n,
                              "date": "2026-01-01 00:00:00"},
                 "warmups": [[1, cold]], "values": values}
                for n, (cold, values) in enumerate(processes)]
        document["benchmarks"].append({
            "metadata": {"name": name, "unit": "second",
                         "inner_loops": PROTOCOL["counts"][stage]},
            "runs": runs})
    return document


def accuracy_document(engine, scores, fingerprints=None):
    runs = []
    for seed, score in enumerate(scores):
        fingerprint = (fingerprints or {}).get(seed, f"fp{seed:014d}")
        runs.append({"seed": seed, "engine": engine,
                     "validation_accuracy": score,
                     "weights_fingerprint": fingerprint,
                     "history": [{"epoch": 1, "step": 500,
                                  "accuracy": 80.0, "cost": 0.05}]})
    return results.document("accuracy", engine=engine, epochs=2,
                            seeds=list(range(len(scores))), runs=runs)


def make_run_folder(folder, times=None, labels=("cpython", "pypy"),
                    missing=(), status="complete", stopped=None,
                    processes=None, records=(), accuracy=(94.05, 93.75,
                                                         94.1),
                    talk_accuracy=(94.05,)):
    """Write a whole synthetic run into *folder*; returns its path."""
    times = times or TIMES
    os.makedirs(folder, exist_ok=True)
    interpreters = []
    for label in labels:
        interpreters.append({"label": label, "requested": label,
                             "python": PROBES[label]["executable"],
                             "probe": PROBES[label],
                             "pyperf_file": f"{label}.json"})
        benchmarks = {}
        for name, mean in times[label].items():
            count = (processes or {}).get((label, name), 3)
            if count:
                benchmarks[name] = process_values(mean, count)
        if benchmarks:
            with open(os.path.join(folder, f"{label}.json"), "w") as out:
                json.dump(pyperf_document(benchmarks, label), out)
    run = results.document(
        "run", run_id=os.path.basename(folder), status=status,
        stopped=stopped, results_root="results", profile="quick",
        protocol=json.loads(json.dumps(PROTOCOL)),
        command="nox -s bench -- --quick", started="2026-01-01 00:00:00",
        finished="2026-01-01 00:05:00",
        machine={"cpu_model": "Test CPU", "cpu_count": 2},
        commit={"id": "abc", "dirty": False},
        dataset={"sha256": {"train-images-idx3-ubyte.gz": "00"}},
        interpreters=interpreters, missing=list(missing))
    results.write(os.path.join(folder, results.RUN), run)
    results.write(os.path.join(folder, results.PROCESSES),
                  results.document("processes", processes=list(records)))
    if accuracy:
        results.write(os.path.join(folder, "accuracy-tuned.json"),
                      accuracy_document("tuned", accuracy))
    if talk_accuracy:
        results.write(os.path.join(folder, "accuracy-talk.json"),
                      accuracy_document("talk", talk_accuracy))
    return folder


# numpy-batch's epoch (B=32) and its sweep on CPython, seconds per step
BATCH_TIMES = {"cpython": 2e-6, "pypy": 9e-6}
SWEEP_TIMES = {1: 25e-6, 2: 20e-6, 4: 12e-6, 8: 6e-6, 16: 3e-6, 32: 2e-6,
               128: 1.5e-6}
MEMORY = {  # bytes the converted training set holds
    ("cpython", "talk"): 1830 * 2 ** 20, ("cpython", "tuned"): 143 * 2 ** 20,
    ("cpython", "numpy"): 359 * 2 ** 20, ("pypy", "talk"): 359 * 2 ** 20,
    ("pypy", "tuned"): 96 * 2 ** 20, ("pypy", "numpy"): 404 * 2 ** 20}
ENGINE_NOTES = {"talk": {"points": ["The talk's trainer."]},
                "tuned": {"points": ["Images are stored sparsely: "
                                     "``(indices, values)``.",
                                     "The ten classes are unrolled."]}}


def add_batch_and_memory(folder, batch_accuracy=(93.9, 93.7, 94.0),
                         sweep_times=None, memory=None):
    """Give the run in *folder* numpy-batch, its sweep and memory files.

    Rewrites run.json (engines, sweep, memory, engine notes) and the
    pyperf files, and writes accuracy-numpy-batch.json and memory.json.
    """
    run = results.read(os.path.join(folder, results.RUN), "run")
    sweep_times = SWEEP_TIMES if sweep_times is None else sweep_times
    protocol = run["protocol"]
    protocol.update(engines=["talk", "tuned", "numpy", "numpy-batch"],
                    memory_images=60000, environment={
                        "OPENBLAS_NUM_THREADS": "1"},
                    sweep={"engine": "numpy-batch", "processes": 2,
                           "batches": sorted(sweep_times), "count": 2000,
                           "interpreter": "cpython"})
    protocol["accuracy"]["batch"] = {"engine": "numpy-batch",
                                     "status": "ok",
                                     "interpreter": "cpython"}
    run["engines"] = ENGINE_NOTES
    for interp in run["interpreters"]:
        interp["probe"] = dict(interp["probe"],
                               engines=protocol["engines"])
    results.write(os.path.join(folder, results.RUN), run)
    for label in ("cpython", "pypy"):
        benchmarks = {"epoch/numpy-batch": process_values(
            BATCH_TIMES[label])}
        if label == "cpython":
            for batch, mean in sweep_times.items():
                benchmarks[f"epoch/numpy-batch/B={batch}"] = \
                    process_values(mean, 2)
        _add_pyperf(os.path.join(folder, f"{label}.json"), benchmarks,
                    label)
    if batch_accuracy:
        results.write(os.path.join(folder, "accuracy-numpy-batch.json"),
                      accuracy_document("numpy-batch", batch_accuracy))
    runs = []
    for (label, engine), held in (memory or MEMORY).items():
        runs.append({"interpreter": label, "engine": engine,
                     "returncode": 0, "measured": results.document(
                         "memory", engine=engine, count=60000, pixels=784,
                         held_bytes=held, resident_growth_bytes=held,
                         malloc_growth_bytes=held // 2,
                         peak_rss_bytes=held + 100 * 2 ** 20)})
    results.write(os.path.join(folder, results.MEMORY),
                  results.document("memory-runs", runs=runs))
    return folder


def _add_pyperf(path, benchmarks, label):
    with open(path) as stream:
        document = json.load(stream)
    extra = pyperf_document(benchmarks, label)
    for bench in extra["benchmarks"]:
        name = bench["metadata"]["name"]
        batch = int(name.split("B=")[1]) if "B=" in name else 32
        for run in bench["runs"]:
            run["metadata"]["speedrun_batch"] = batch
    document["benchmarks"] += extra["benchmarks"]
    with open(path, "w") as stream:
        json.dump(document, stream)


def failed_check_record(label, name):
    """A processes.json entry of a process whose result did not match."""
    return {"interpreter": label, "benchmark": name, "process": 0,
            "returncode": 1, "status": "check failed", "seconds": 1.0,
            "log": f"logs/{label}.log",
            "record": {"check": {"ok": False, "method": "fingerprint",
                                 "detail": "weights fingerprint aa, "
                                           "reference bb"},
                       "calls": [{"seconds": 1.0, "ok": False}]}}


def chunk_record(label, name, spans):
    """A processes.json entry with per-chunk times for each call."""
    return {"interpreter": label, "benchmark": name, "process": 0,
            "returncode": 0, "status": "ok", "seconds": 2.0,
            "log": f"logs/{label}.log",
            "record": {"check": {"ok": True, "method": "fingerprint",
                                 "detail": "same"},
                       "calls": [{"seconds": sum(s), "ok": True,
                                  "chunk_seconds": s} for s in spans]}}
