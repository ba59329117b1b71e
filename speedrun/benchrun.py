"""Run the bench scripts under every interpreter, interleaved, and gather.

    python -m speedrun.benchrun --interpreter cpython=.nox/.../bin/python \\
        --interpreter pypy3=.nox/.../bin/python --quick

``nox -s bench`` makes one virtual environment per interpreter and calls
this module with their pythons; a missing interpreter or a NumPy that
would not install arrives as ``--missing NAME=HOW-TO-GET-IT`` and
becomes a visible row. The run:

1. checks that the results folder can be written, before any long work;
2. asks each environment's python what it is (``bench/probe.py``), so
   results carry the name the interpreter gives itself;
3. computes the reference every result is checked against;
4. for each stage (epoch, then inference, then load) runs one pyperf
   process at a time: process 1 of every engine under CPython, then
   under PyPy, then process 2, and so on, each appended to one pyperf
   file per interpreter; after the epochs come the batch-size sweep of
   numpy-batch (on the CPython with NumPy) and the real 2-epoch runs
   behind the accuracy figures; last, what the converted training set
   holds in memory, one fresh process per engine and interpreter;
5. gathers everything into ``summary.json`` and ``REPORT.md`` and prints
   the tables.

Every child process runs with the BLAS thread variables
(``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OMP_NUM_THREADS``) set
to ``--blas-threads`` (1 by default) and passed on to pyperf's workers:
on a small shared machine BLAS threads make NumPy's time per step swing
several-fold from one process to the next. The protocol records them.

``--scaling`` runs the whole bench once per amount of work
(``--sizes``) into sub-folders of one results folder, without the
sweep, the accuracy and the memory runs, and draws ``scaling.png`` and
a short ``REPORT.md`` there.

Ctrl-C (or SIGTERM) stops the process running, keeps every finished
one, and still writes the summary and report, marked incomplete.
Progress is drawn only between benchmark processes, never while one
runs, so nothing of the display competes with timed code.
"""

import argparse
import ast
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from speedrun import files, gather, report, results
from speedrun.dataset import DatasetError, load_dataset
from speedrun.engines import ENGINES as ENGINE_MODULES
from speedrun.idx import IdxError
from speedrun.training import LEARNING_RATE

PROFILES = {
    # processes, warmups, values per process; items per value; processes
    # per batch size of the sweep, which times the epoch's draws
    "quick": {"processes": 4, "warmups": 1, "values": 2,
              "counts": {"epoch": 2000, "infer": 2000, "load": 5000},
              "accuracy_seeds": 3, "sweep_processes": 2,
              "memory_images": 60000},
    "default": {"processes": 5, "warmups": 1, "values": 3,
                "counts": {"epoch": 10000, "infer": 10000, "load": 20000},
                "accuracy_seeds": 5, "sweep_processes": 3,
                "memory_images": 60000},
    "full": {"processes": 5, "warmups": 1, "values": 2,
             "counts": {"epoch": 60000, "infer": 10000, "load": 60000},
             "accuracy_seeds": 10, "sweep_processes": 3,
             "memory_images": 60000},
    # one run per size of --sizes: the first call of a fresh process is
    # what the scaling chart fits, so one value after it is enough
    "scaling": {"processes": 3, "warmups": 1, "values": 1,
                "counts": {"epoch": 1000, "infer": 1000, "load": 1000},
                "accuracy_seeds": 0, "sweep_processes": 0,
                "memory_images": 0},
}
SWEEP_BATCHES = (1, 2, 4, 8, 16, 32, 128)
SWEEP_ENGINE = "numpy-batch"
# epoch steps / inference images / loaded images of each scaling run
SCALING_SIZES = "1000/1000/1000,5000/2000/5000,20000/5000/20000," \
                "60000/10000/60000"
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                         "OMP_NUM_THREADS")
SCRIPTS = {"epoch": "bench_epoch.py", "infer": "bench_infer.py",
           "load": "bench_load.py"}
MIN_FREE_BYTES = 200 * 2 ** 20  # a full run writes a few MB; keep margin
STOP_GRACE = 10  # seconds a stopped child gets before it is killed

# Rough cost of one item in µs, for the time-left estimate only; the
# estimate switches to measured durations as processes finish.
PRIOR_US = {
    "cpython": {"epoch": {"talk": 920, "tuned": 100, "numpy": 15,
                          "numpy-batch": 2},
                "infer": {"talk": 400, "tuned": 50, "numpy": 16,
                          "numpy-batch": 16},
                "load": {"talk": 150, "tuned": 50, "numpy": 2,
                         "numpy-batch": 2}},
    "pypy": {"epoch": {"talk": 60, "tuned": 25, "numpy": 150,
                       "numpy-batch": 10},
             "infer": {"talk": 40, "tuned": 15, "numpy": 20,
                       "numpy-batch": 20},
             "load": {"talk": 5, "tuned": 5, "numpy": 2,
                      "numpy-batch": 2}},
}
STARTUP_SECONDS = 2.0  # manager, worker, imports, reading the dataset


class UserError(Exception):
    """A mistake in the command or the environment; one ERROR line."""


# -- The plan --------------------------------------------------------------


class Interpreter:
    """One benchmarked interpreter: its venv python and what it said."""

    def __init__(self, requested, python, probe, label):
        self.requested = requested
        self.python = python
        self.probe = probe
        self.label = label
        self.pyperf_file = f"{label}.json"

    @property
    def implementation(self):
        return self.probe["implementation"]

    def to_dict(self):
        return {"label": self.label, "requested": self.requested,
                "python": self.python, "probe": self.probe,
                "pyperf_file": self.pyperf_file}


class Task:
    """One child process of the run: a pyperf process or a helper."""

    def __init__(self, kind, interp, stage=None, engine=None, index=0,
                 extra=None):
        self.kind = kind  # "bench", "sweep", "reference" or "accuracy"
        self.interp = interp
        self.stage = stage
        self.engine = engine
        self.index = index
        self.extra = extra or {}
        self.estimate = 0.0

    @property
    def batch(self):
        return self.extra.get("batch")

    @property
    def key(self):
        return (self.kind, self.interp.label, self.stage, self.engine,
                self.batch)

    @property
    def benchmark(self):
        name = f"{self.stage}/{self.engine}"
        return name if self.batch is None else f"{name}/B={self.batch}"

    def describe(self):
        if self.kind in ("bench", "sweep"):
            return (f"{self.interp.label} · {self.benchmark.replace('/', ' · ')}"
                    f" · process {self.index + 1}")
        return f"{self.interp.label} · {self.kind} · {self.engine or ''}"


def make_plan(interps, protocol, profile):
    """The tasks of a run, in the order they run."""
    reference = pick_reference(interps)
    tasks = [Task("reference", reference, engine="tuned")]
    engines = protocol.get("engines", gather.ENGINES)
    for stage in gather.STAGES:
        tasks += stage_tasks(interps, stage, protocol["processes"],
                             engines)
        if stage == "epoch":
            tasks += sweep_tasks(interps, protocol)
            tasks += accuracy_tasks(interps, protocol, profile)
    tasks += memory_tasks(interps, protocol)
    for task in tasks:
        task.estimate = prior_seconds(task, protocol)
    return tasks


def stage_tasks(interps, stage, processes, engines=gather.ENGINES):
    """Process 1 of every engine under every interpreter, then 2, …

    Only the engines the stage times (``gather.STAGE_ENGINES``): the
    loading and inference of numpy-batch are the numpy engine's code.
    """
    tasks = []
    for index in range(processes):
        for engine in gather.STAGE_ENGINES[stage]:
            if engine not in engines:
                continue
            for interp in interps:
                if engine in interp.probe["engines"]:
                    tasks.append(Task("bench", interp, stage, engine, index))
    return tasks


def memory_tasks(interps, protocol):
    """One fresh process per engine and interpreter: the loaded set's size.

    numpy-batch loads as numpy does, so it is not measured apart.
    """
    if not protocol.get("memory_images"):
        return []
    return [Task("memory", interp, "load", engine)
            for engine in gather.PER_SAMPLE if engine in protocol["engines"]
            for interp in interps if engine in interp.probe["engines"]]


def sweep_interpreter(interps):
    """The CPython the batch-size sweep runs on: the first with NumPy."""
    for interp in interps:
        if (interp.implementation == "cpython"
                and SWEEP_ENGINE in interp.probe["engines"]):
            return interp
    return None


def sweep_tasks(interps, protocol):
    """numpy-batch at every batch size, one process of each in turn."""
    sweep = protocol.get("sweep")
    interp = sweep_interpreter(interps)
    if not sweep or not sweep["batches"] or interp is None:
        return []
    return [Task("sweep", interp, "epoch", SWEEP_ENGINE, index,
                 extra={"batch": batch})
            for index in range(sweep["processes"])
            for batch in sweep["batches"]]


def pick_reference(interps):
    """Where the reference is computed: bits that match the talk's.

    PyPy first (fastest), then a CPython that sums floats one rounding
    at a time; failing both, the first interpreter (all checks then use
    tolerances).
    """
    plain = [i for i in interps if i.probe["plain_sum"]]
    for interp in plain:
        if interp.implementation == "pypy":
            return interp
    return plain[0] if plain else interps[0]


def accuracy_interpreter(interps):
    for interp in interps:
        if interp.implementation == "pypy":
            return interp
    return interps[0]


def accuracy_tasks(interps, protocol, profile):
    """The real 2-epoch runs: tuned over seeds, talk once where cheap.

    The talk engine itself runs (seed 0) under PyPy, or under any
    interpreter in the full profile: on CPython it takes minutes.
    numpy-batch runs the tuned engine's seeds on the CPython of the
    sweep, so that its accuracy stands beside its time.
    """
    plan = protocol.get("accuracy")
    if not plan or not plan["seeds"]:
        return []
    interp = accuracy_interpreter(interps)
    seeds = list(plan["seeds"])
    tasks = [Task("accuracy", interp, engine="tuned",
                  extra={"seeds": seeds})]
    if interp.implementation == "pypy" or profile == "full":
        tasks.append(Task("accuracy", interp, engine="talk",
                          extra={"seeds": [0]}))
    batch = sweep_interpreter(interps)
    if batch is not None and SWEEP_ENGINE in protocol["engines"]:
        tasks.append(Task("accuracy", batch, engine=SWEEP_ENGINE,
                          extra={"seeds": seeds}))
    return tasks


def prior_seconds(task, protocol):
    """A rough duration of *task*, before anything was measured."""
    impl = "pypy" if task.interp.implementation == "pypy" else "cpython"
    costs = PRIOR_US[impl]
    if task.kind == "reference":
        steps = protocol["counts"]["epoch"]
        return STARTUP_SECONDS + 1e-6 * (steps * costs["epoch"]["tuned"]
                                         + 10000 * costs["infer"]["tuned"])
    if task.kind == "accuracy":
        seeds = len(task.extra["seeds"])
        per_seed = 2 * 60000 * costs["epoch"][task.engine]
        per_seed += 70000 * costs["load"][task.engine]
        return STARTUP_SECONDS + 1e-6 * seeds * per_seed
    if task.kind == "memory":
        count = protocol["memory_images"]
        return STARTUP_SECONDS + 1e-6 * count * costs["load"][task.engine]
    count = protocol["counts"][task.stage]
    if task.kind == "sweep":
        per_step = 1.5 + 20.0 / task.batch  # µs: per-call cost shared
        calls = protocol["warmups"] + protocol["values"]
        return STARTUP_SECONDS + 1e-6 * count * (calls * per_step + 2)
    calls = protocol["warmups"] + protocol["values"]
    timed = calls * count * costs[task.stage][task.engine]
    setup = min(count, 38000) * costs["load"][task.engine]
    return STARTUP_SECONDS + 1e-6 * (timed + setup)


class Clock:
    """Time left: measured durations where known, scaled priors elsewhere."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.done = {}  # task key -> [seconds, ...]
        self.prior_done = 0.0
        self.actual_done = 0.0

    def finished(self, task, seconds):
        self.done.setdefault(task.key, []).append(seconds)
        self.prior_done += task.estimate
        self.actual_done += seconds

    def left(self, pending):
        scale = self.actual_done / self.prior_done if self.prior_done else 1
        total = 0.0
        for task in pending:
            seen = self.done.get(task.key)
            total += sum(seen) / len(seen) if seen else task.estimate * scale
        return total


# -- Probing the interpreters ----------------------------------------------


def probe(python, bench_dir, env=None):
    """What *python* says it is (``bench/probe.py``), or an error text.

    *env*: variables to set for it on top of this process's.
    """
    try:
        done = subprocess.run([python, os.path.join(bench_dir, "probe.py")],
                              capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, **(env or {})))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{python} did not start ({exc})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"{python} failed to describe itself: {last}"
    return json.loads(done.stdout), None


def label_interpreters(found):
    """Short unique labels: ``cpython``, ``pypy``, then with versions."""
    names = [p["implementation"] for _, _, p in found]
    labels = []
    for (requested, python, info), name in zip(found, names):
        label = name
        if names.count(name) > 1:
            label = f"{name}{'.'.join(info['python_version'].split('.')[:2])}"
        while label in labels:
            label += "-2"
        labels.append(label)
    return [Interpreter(r, py, p, label)
            for (r, py, p), label in zip(found, labels)]


def numpy_hint(interp):
    return (f"NumPy did not install under {interp.label} "
            f"({interp.probe['executable']}); install it with "
            f"`{interp.python} -m pip install -r requirements/numpy.txt` "
            f"(PyPy needs pypy3-dev and a C compiler when no wheel fits)")


# -- Facts of the run --------------------------------------------------------

FAST_MARK = "What makes it fast:"


def engine_notes():
    """What makes each engine fast, from its module's docstring.

    The docstring is read from the source (``ast``), so no engine and no
    NumPy is imported. Returns ``{name: {"points": [sentence, ...]}}``.
    """
    notes = {}
    for name, module in ENGINE_MODULES.items():
        spec = importlib.util.find_spec(module)
        try:
            with open(spec.origin, encoding="utf-8") as stream:
                doc = ast.get_docstring(ast.parse(stream.read())) or ""
        except (OSError, SyntaxError, AttributeError):
            doc = ""
        notes[name] = {"points": fast_points(doc)}
    return notes


def fast_points(doc):
    """The first sentence of each point after ``What makes it fast:``.

    The points are a bulleted list, or else one paragraph; a docstring
    without the mark gives its first line (the talk's code claims no
    speed). The module docstring has the rest.
    """
    _, mark, rest = doc.partition(FAST_MARK)
    if not mark:
        return [doc.strip().split("\n")[0]] if doc.strip() else []
    paragraph = rest.strip().split("\n\n")[0]
    if paragraph.startswith("- "):
        return [first_sentence(b) for b in paragraph[2:].split("\n- ")]
    return [first_sentence(paragraph)]


def first_sentence(text):
    """*text* up to its first full stop, on one line, capitalised."""
    text = " ".join(text.split())
    end = text.find(". ")
    text = text if end < 0 else text[:end + 1]
    return text[:1].upper() + text[1:]


def machine_facts():
    facts = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
             "cpu_model": None, "memory_gib": None,
             "load_average": None, "hostname": platform.node()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    facts["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("MemTotal:"):
                    kib = int(line.split()[1])
                    facts["memory_gib"] = round(kib / 2 ** 20, 1)
        facts["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass  # not Linux: the platform string still says what it is
    return facts


def commit_facts(folder):
    """The commit of the code benchmarked, and whether files changed."""
    def git(*args):
        done = subprocess.run(["git", *args], cwd=folder, text=True,
                              capture_output=True, timeout=60)
        return done.stdout.strip() if done.returncode == 0 else None
    try:
        commit = git("rev-parse", "HEAD")
        changes = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return {"id": None, "dirty": None}
    return {"id": commit, "dirty": bool(changes) if commit else None}


# -- The results folder -------------------------------------------------------


def new_run_folder(root, profile):
    """A fresh ``<root>/<date>-<time>-<profile>``; never an existing one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        os.makedirs(root, exist_ok=True)
        run_id = f"{stamp}-{profile}"
        number = 2
        while True:
            try:
                os.mkdir(os.path.join(root, run_id))
                break
            except FileExistsError:
                run_id = f"{stamp}-{profile}-{number}"
                number += 1
        folder = os.path.join(root, run_id)
        for sub in (results.LOGS, "tmp"):
            os.mkdir(os.path.join(folder, sub))
        files.check_writable(os.path.join(folder, results.RUN))
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise UserError(f"cannot write results under {root}: "
                        f"{exc.strerror or exc}; choose another folder "
                        f"with --results DIR") from None
    if free < MIN_FREE_BYTES:
        raise UserError(f"{root}: only {free // 2 ** 20} MiB free, a run "
                        f"needs {MIN_FREE_BYTES // 2 ** 20} MiB; free some "
                        f"space or choose --results DIR")
    return run_id, folder


# -- Running -------------------------------------------------------------------


class Runner:
    """Runs the tasks one at a time and keeps the folder consistent."""

    def __init__(self, args, folder, run, interps, tasks):
        self.args = args
        self.folder = folder
        self.run = run
        self.interps = interps
        self.tasks = tasks
        self.records = []
        self.memory = []
        self.dead_rows = set()  # (label, benchmark) that failed: skip
        self.clock = Clock(tasks)
        self.child = None
        self.env = dict(os.environ, **run["protocol"]["environment"])

    def path(self, *parts):
        return os.path.join(self.folder, *parts)

    def execute(self, progress):
        for number, task in enumerate(self.tasks):
            progress.show(task, number, self.clock.left(self.tasks[number:]))
            if task.kind == "bench" and (task.interp.label,
                                         task.benchmark) in self.dead_rows:
                self.clock.finished(task, 0.0)
                continue
            start = time.monotonic()
            getattr(self, f"run_{task.kind}")(task)
            self.clock.finished(task, time.monotonic() - start)
        progress.show(None, len(self.tasks), 0.0)

    def spawn(self, task, command):
        """Run *command*, its output into the interpreter's log."""
        log = self.path(results.LOGS, f"{task.interp.label}.log")
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"\n=== {task.describe()}\n$ "
                         f"{' '.join(command)}\n")
            stream.flush()
            # A session of its own: Ctrl-C reaches this process alone,
            # which then stops the child's whole group (pyperf's
            # manager and its worker) in stop_child.
            self.child = subprocess.Popen(command, stdout=stream,
                                          stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL,
                                          env=self.env,
                                          start_new_session=True)
            status = self.child.wait()
        self.child = None
        return status

    def stop_child(self):
        """After Ctrl-C: interrupt the child's group, kill it if it lingers."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        os.killpg(child.pid, signal.SIGINT)
        try:
            child.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    def script(self, name):
        return os.path.join(self.args.bench_dir, name)

    def data_args(self):
        return ["--data", os.path.abspath(self.args.data)] \
            if self.args.data else []

    def run_reference(self, task):
        protocol = self.run["protocol"]
        command = [task.interp.python, self.script("make_reference.py"),
                   "--steps", str(protocol["counts"]["epoch"]), "--seed",
                   str(protocol["seed"]), "--out",
                   self.path(results.REFERENCE), *self.data_args()]
        status = self.spawn(task, command)
        if status != 0:
            raise UserError(
                f"the reference run failed under {task.interp.label} (exit "
                f"status {status}); see "
                f"{self.path(results.LOGS, task.interp.label + '.log')}")
        self.run["reference"] = {"interpreter": task.interp.label}

    def run_bench(self, task):
        protocol = self.run["protocol"]
        tmp = self.path("tmp")
        out = os.path.join(tmp, f"{len(self.records)}.json")
        record = os.path.join(tmp, f"{len(self.records)}.record.json")
        command = [
            task.interp.python, self.script(SCRIPTS[task.stage]),
            "--engine", task.engine,
            "--count", str(protocol["counts"][task.stage]),
            "--seed", str(protocol["seed"]),
            "--reference", self.path(results.REFERENCE),
            "--record", record, *self.data_args(),
            *(["--batch", str(task.batch)] if task.batch else []),
            "--processes", "1", "--warmups", str(protocol["warmups"]),
            "--values", str(protocol["values"]), "--loops", "1",
            "--inherit-environ", ",".join(protocol["environment"]),
            "--output", out, "--quiet"]
        started = time.monotonic()
        status = self.spawn(task, command)
        seconds = time.monotonic() - started
        detail = results.read(record, "process") \
            if os.path.exists(record) else None
        state = "ok"
        if status != 0:
            failed = detail and detail["check"] and not detail["check"]["ok"]
            state = "check failed" if failed else "failed"
            self.dead_rows.add((task.interp.label, task.benchmark))
        else:
            merge_pyperf(self.path(task.interp.pyperf_file), out)
        self.records.append({
            "interpreter": task.interp.label, "benchmark": task.benchmark,
            "process": task.index, "returncode": status, "status": state,
            "seconds": round(seconds, 3), "record": detail,
            "log": os.path.join(results.LOGS, f"{task.interp.label}.log")})
        results.write(self.path(results.PROCESSES),
                      results.document("processes", processes=self.records))
        for leftover in (out, record):
            if os.path.exists(leftover):
                os.unlink(leftover)

    run_sweep = run_bench

    def run_memory(self, task):
        out = self.path("tmp", "memory.json")
        command = [task.interp.python, self.script("memory_run.py"),
                   "--engine", task.engine, "--count",
                   str(self.run["protocol"]["memory_images"]), "--out", out,
                   *self.data_args()]
        status = self.spawn(task, command)
        entry = {"interpreter": task.interp.label, "engine": task.engine,
                 "returncode": status, "measured": None}
        if status == 0 and os.path.exists(out):
            entry["measured"] = results.read(out, "memory")
            os.unlink(out)
        self.memory.append(entry)
        results.write(self.path(results.MEMORY),
                      results.document("memory-runs", runs=self.memory))

    def run_accuracy(self, task):
        plan = self.run["protocol"]["accuracy"]
        out = self.path(f"accuracy-{task.engine}.json")
        command = [task.interp.python, self.script("accuracy_run.py"),
                   "--engine", task.engine, "--seeds",
                   *map(str, task.extra["seeds"]), "--out", out,
                   *self.data_args()]
        status = self.spawn(task, command)
        if task.engine == SWEEP_ENGINE:
            plan = plan.setdefault("batch", {})
            plan["interpreter"] = task.interp.label
        elif task.engine != plan["engine"]:
            return
        plan["status"] = "ok" if status == 0 else "failed"
        if status != 0:
            plan["reason"] = (f"the 2-epoch run of {task.engine} failed "
                              f"(exit status {status}); see logs/"
                              f"{task.interp.label}.log")


def merge_pyperf(target, new):
    """Append the runs in pyperf file *new* to *target*, atomically."""
    import pyperf

    suite = pyperf.BenchmarkSuite.load(new)
    if os.path.exists(target):
        merged = pyperf.BenchmarkSuite.load(target)
        merged.add_runs(suite)
        suite = merged
    handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json",
                                    dir=os.path.dirname(target))
    os.close(handle)
    try:
        suite.dump(temp, replace=True)
        os.replace(temp, target)
    except BaseException:
        os.unlink(temp)
        raise


# -- Progress --------------------------------------------------------------------


class PlainProgress:
    """One ``key=value`` line per task, for logs and plain terminals."""

    def __init__(self, total):
        self.total = total

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def show(self, task, done, left):
        if task is None:
            print(f"done={done}/{self.total} left=0s", flush=True)
            return
        print(f"done={done}/{self.total} interpreter={task.interp.label} "
              f"stage={task.stage or task.kind} engine={task.engine} "
              f"left={left:.0f}s", flush=True)


class RichProgress:
    """A rich bar redrawn between processes only (no refresh thread)."""

    def __init__(self, total):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                                   TextColumn, TimeElapsedColumn)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("left ~{task.fields[left]}"), auto_refresh=False)
        self.task = self.progress.add_task("starting", total=total,
                                           left="?")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.refresh()
        self.progress.stop()
        return False

    def show(self, task, done, left):
        text = "finished" if task is None else task.describe()
        self.progress.update(self.task, completed=done, description=text,
                             left=minutes(left))
        self.progress.refresh()


def minutes(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


def make_progress(args, total):
    if args.no_progress:
        return PlainProgress(total)
    try:
        return RichProgress(total)
    except ImportError:
        return PlainProgress(total)


# -- Main ------------------------------------------------------------------------


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m speedrun.benchrun",
        description="Run the bench scripts under several interpreters, "
                    "interleaved, and gather the claims table.")
    parser.add_argument("--interpreter", action="append", default=[],
                        metavar="NAME=PYTHON",
                        help="an interpreter's venv python (repeatable)")
    parser.add_argument("--missing", action="append", default=[],
                        metavar="NAME=MESSAGE",
                        help="an interpreter that was not found, and how "
                             "to get it (repeatable)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", dest="profile", action="store_const",
                       const="quick", help="the whole run in a few minutes")
    group.add_argument("--full", dest="profile", action="store_const",
                       const="full", help="full epoch, inference and load")
    group.add_argument("--scaling", dest="profile", action="store_const",
                       const="scaling", help="one run per size of --sizes, "
                                             "in sub-folders; scaling.png")
    parser.set_defaults(profile="default")
    parser.add_argument("--sizes", default=SCALING_SIZES,
                        metavar="E/I/L,...",
                        help="with --scaling: epoch steps/inference images/"
                             "loaded images of each run (default: "
                             f"{SCALING_SIZES})")
    parser.add_argument("--engines", default=None, metavar="A,B",
                        help="engines to time (default: all: "
                             f"{','.join(gather.ENGINES)})")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes per row (default: the profile's)")
    parser.add_argument("--values", type=int, default=None,
                        help="values per process (default: the profile's)")
    parser.add_argument("--warmups", type=int, default=None,
                        help="warmups per process, at least 1 (default: "
                             "the profile's)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads of every benchmark process "
                             "(default: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: the packaged MNIST)")
    parser.add_argument("--results", default="results",
                        help="folder of the run folders (default: results)")
    parser.add_argument("--bench-dir", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        "bench"), help="folder of the bench scripts")
    parser.add_argument("--command", default=None,
                        help="the command line to show for reproducing")
    parser.add_argument("--no-progress", action="store_true",
                        help="plain key=value lines instead of a bar")
    return parser


def protocol_of(args, counts=None):
    """The protocol of a run; *counts* replace the profile's sizes."""
    profile = dict(PROFILES[args.profile])
    for key in ("processes", "values", "warmups"):
        value = getattr(args, key)
        if value is not None:
            if value < 1:
                raise UserError(f"--{key} must be at least 1")
            profile[key] = value
    if args.blas_threads < 1:
        raise UserError("--blas-threads must be at least 1")
    engines = engine_choice(args.engines)
    counts = dict(counts or profile["counts"])
    seeds = list(range(profile["accuracy_seeds"]))
    sweep = None
    if profile["sweep_processes"] and SWEEP_ENGINE in engines:
        sweep = {"engine": SWEEP_ENGINE, "batches": list(SWEEP_BATCHES),
                 "processes": profile["sweep_processes"],
                 "count": counts["epoch"]}
    accuracy = None
    if seeds:
        accuracy = {"engine": "tuned", "epochs": 2,
                    "seeds_count": len(seeds), "seeds": seeds,
                    "batch": {"engine": SWEEP_ENGINE, "status": "not run"}}
    return {"processes": profile["processes"],
            "warmups": profile["warmups"], "values": profile["values"],
            "loops": 1, "counts": counts, "engines": engines,
            "seed": args.seed, "lr": LEARNING_RATE,
            "environment": {name: str(args.blas_threads)
                            for name in BLAS_THREAD_VARIABLES},
            "sweep": sweep, "accuracy": accuracy,
            "memory_images": profile["memory_images"]}


def engine_choice(text):
    """``--engines a,b`` as a list in the bench's order; all by default."""
    if text is None:
        return list(gather.ENGINES)
    wanted = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in gather.ENGINES]
    if unknown or not wanted:
        raise UserError(f"--engines {text!r}: choose among "
                        f"{', '.join(gather.ENGINES)}")
    return [name for name in gather.ENGINES if name in wanted]


def parse_sizes(text):
    """``--sizes 1000/1000/1000,5000/2000/5000`` as a list of counts."""
    sizes = []
    for item in text.split(","):
        parts = item.strip().split("/")
        try:
            numbers = [int(part) for part in parts]
        except ValueError:
            numbers = []
        if len(numbers) != 3 or min(numbers) < 1:
            raise UserError(f"--sizes: {item.strip()!r} is not EPOCH/INFER/"
                            f"LOAD, three positive whole numbers")
        sizes.append(dict(zip(gather.STAGES, numbers)))
    if len(sizes) < 2:
        raise UserError("--sizes: a scaling run needs at least two sizes")
    return sizes


def split_pairs(items, option):
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise UserError(f"{option} {item!r}: expected NAME=VALUE")
        pairs.append((name, value))
    return pairs


def discover(args, missing, engines):
    """Probe every interpreter; failures join *missing*.

    The probes run with the benchmarks' environment, so they report the
    BLAS threads the benchmarks get.
    """
    found = []
    for name, python in split_pairs(args.interpreter, "--interpreter"):
        info, problem = probe(python, args.bench_dir, blas_env(args))
        if info is None:
            missing.append({"kind": "interpreter", "name": name,
                            "message": problem})
        else:
            found.append((name, python, info))
    interps = label_interpreters(found)
    for interp in interps:
        for engine in interp.probe["missing_engines"]:
            if engine in engines:
                missing.append({
                    "kind": "engine", "name": f"{engine} under "
                    f"{interp.label}", "interpreter": interp.label,
                    "engine": engine, "message": numpy_hint(interp)})
    return interps


def blas_env(args):
    return {name: str(args.blas_threads) for name in BLAS_THREAD_VARIABLES}


class Setup:
    """What every run of one command shares: checked once, up front."""

    def __init__(self, args, folder, run_id, dataset, interps, missing):
        self.args = args
        self.folder = folder
        self.run_id = run_id
        self.dataset = dataset
        self.interps = interps
        self.missing = missing


def start(args):
    """Everything before the long work; errors here lose nothing."""
    engines = protocol_of(args)["engines"]  # checks the options
    sizes = parse_sizes(args.sizes) if args.profile == "scaling" else None
    missing = [{"kind": "interpreter", "name": name, "message": message}
               for name, message in split_pairs(args.missing, "--missing")]
    if not os.path.isdir(args.bench_dir):
        raise UserError(f"{args.bench_dir}: no bench scripts there; give "
                        f"--bench-dir")
    try:
        dataset = load_dataset(args.data).describe()
    except (IdxError, DatasetError, OSError) as exc:
        raise UserError(str(exc)) from None
    run_id, folder = new_run_folder(args.results, args.profile)
    interps = discover(args, missing, engines)
    if not interps:
        raise UserError("no interpreter could run the benchmarks: "
                        + "; ".join(m["message"] for m in missing))
    return Setup(args, folder, run_id, dataset, interps, missing), sizes


def open_run(setup, folder, run_id, counts=None):
    """Write run.json of one run into *folder*; returns the run dict."""
    args, interps = setup.args, setup.interps
    protocol = protocol_of(args, counts)
    accuracy = protocol["accuracy"]
    if accuracy:
        chosen = accuracy_interpreter(interps)
        accuracy.update(interpreter=chosen.label,
                        plain_sum=chosen.probe["plain_sum"],
                        status="not run",
                        reason="the run stopped before the 2-epoch runs")
        if chosen.implementation != "pypy" and args.profile != "full":
            accuracy["talk_note"] = (
                "the talk engine's own 2-epoch run takes minutes on "
                "CPython and runs only with PyPy or --full; the epoch "
                "rows check the tuned engine against the talk's bits")
    sweep = protocol["sweep"]
    if sweep:
        chosen = sweep_interpreter(interps)
        sweep["interpreter"] = chosen.label if chosen else None
    run = results.document(
        "run", run_id=run_id, status="running", stopped=None,
        results_root=args.results,
        profile=args.profile, protocol=protocol,
        command=args.command or " ".join(sys.argv),
        started=time.strftime("%Y-%m-%d %H:%M:%S"), finished=None,
        machine=machine_facts(),
        commit=commit_facts(os.path.dirname(os.path.abspath(
            args.bench_dir))),
        dataset=setup.dataset, interpreters=[i.to_dict() for i in interps],
        missing=setup.missing, engines=engine_notes())
    results.write(os.path.join(folder, results.RUN), run)
    return run


def finish(folder, run, stopped, quiet=False):
    run["status"] = "incomplete" if stopped else "complete"
    run["stopped"] = stopped
    run["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results.write(os.path.join(folder, results.RUN), run)
    shutil.rmtree(os.path.join(folder, "tmp"), ignore_errors=True)
    return report.regenerate(folder, quiet=quiet)


def execute(setup, folder, run, quiet=False):
    """Run the plan of *run* in *folder*, then gather it.

    Returns why the run stopped early (Ctrl-C included), or None.
    """
    args = setup.args
    tasks = make_plan(setup.interps, run["protocol"], args.profile)
    runner = Runner(args, folder, run, setup.interps, tasks)
    print(f"run={run['run_id']} folder={folder} tasks={len(tasks)} "
          f"estimate={minutes(runner.clock.left(tasks))}", flush=True)
    stopped = None
    try:
        with make_progress(args, len(tasks)) as progress:
            runner.execute(progress)
    except KeyboardInterrupt:
        runner.stop_child()
        done = len(runner.records)
        stopped = f"stopped by the user after {done} benchmark processes"
    except UserError as exc:
        stopped = str(exc)
    finish(folder, run, stopped, quiet)
    return stopped


def run_single(setup):
    run = open_run(setup, setup.folder, setup.run_id)
    return execute(setup, setup.folder, run)


def run_scaling(setup, sizes):
    """One run per size, each in its sub-folder; then scaling.png."""
    stopped = None
    for counts in sizes:
        name = "epoch{epoch}-infer{infer}-load{load}".format(**counts)
        folder = os.path.join(setup.folder, name)
        for sub in (folder, os.path.join(folder, results.LOGS),
                    os.path.join(folder, "tmp")):
            os.mkdir(sub)
        run = open_run(setup, folder, f"{setup.run_id}/{name}", counts)
        stopped = execute(setup, folder, run, quiet=True)
        if stopped:
            break
    for sub in ("tmp", results.LOGS):  # each size keeps its own logs
        shutil.rmtree(os.path.join(setup.folder, sub), ignore_errors=True)
    report.write_scaling_report(setup.folder, stopped)
    return stopped


def main(argv=None):
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        setup, sizes = start(args)
    except (UserError, results.ResultError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ERROR: interrupted before any benchmark ran",
              file=sys.stderr)
        return 1
    try:
        if sizes:
            stopped = run_scaling(setup, sizes)
        else:
            stopped = run_single(setup)
    except (results.ResultError, OSError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"results: {setup.folder}", flush=True)
    if stopped:
        print(f"ERROR: the run is incomplete: {stopped}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
