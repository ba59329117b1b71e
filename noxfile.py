"""The sessions of speedrun: tests, benchmarks and reports.

    nox -s tests                   pytest under this CPython and pypy3
    nox -s bench -- --quick        the benchmarks in a few minutes
    nox -s bench                   the default profile
    nox -s bench -- --full         the full epoch, inference and load
    nox -s bench -- --python X     also benchmark interpreter X
    nox -s scaling                 the bench at 1k, 5k, 20k, 60k items
    nox -s scaling -- --sizes 500/100/100,1000/200/200 --processes 1
                                   the same, tiny, to try it out
    nox -s report -- results/ID    tables and REPORT.md of a run again
    nox -s microbench              kernel micro-benchmarks, both interpreters
    nox -s compare -- BASE NEW     regressions and claims, BASE against NEW

``bench`` makes one virtual environment per interpreter under
``.nox/bench-envs/`` (reused while the interpreter and the requirements
stay the same) and hands their pythons to ``speedrun.benchrun``, which
runs one benchmark process at a time, alternating interpreters. An
interpreter that is missing, or NumPy that does not install under one,
becomes a visible row saying how to get it; the run goes on without it.
Other options after ``--`` go to ``speedrun.benchrun`` (``--processes``,
``--values``, ``--warmups``, ``--engines A,B``, ``--blas-threads N``,
``--results DIR``, ``--data DIR``, ``--no-progress``). ``scaling`` runs
the same bench once per size (``--sizes``), each in a sub-folder of one
results folder, without the sweep, memory and accuracy runs, and draws
``scaling.png``; its default sizes take long (the talk's epoch of
60,000 steps on CPython), tiny ones make a smoke test.

With ``CI`` set (``CI=true``), a missing pypy3 fails ``tests`` instead
of skipping it, so a green CI run has always tested both interpreters.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import nox

nox.needs_version = ">=2024.3.2"
nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"
if hasattr(nox.options, "download_python"):
    nox.options.download_python = "never"  # use what is installed, only
ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
if ON_CI:
    nox.options.error_on_missing_interpreters = True

ROOT = os.path.dirname(os.path.abspath(__file__))
BENCH_DIR = os.path.join(ROOT, "bench")
BENCH_ENVS = os.path.join(ROOT, ".nox", "bench-envs")
REQUIREMENTS = os.path.join(ROOT, "requirements")
PYPY = "pypy3"
PYPY_HOWTO = ("pypy3 is not on PATH; install it with `apt-get install "
              "pypy3 pypy3-venv pypy3-dev` (Debian, Ubuntu) or put a pypy3 "
              "on PATH")
VENV_HOWTO = {"pypy": "apt-get install pypy3-venv",
              "cpython": "apt-get install python3-venv"}
STAMP = "speedrun-env.json"
# What the identity of an interpreter is taken from, inside it.
WHO = ("import json, os, sys; print(json.dumps({'executable': "
       "os.path.realpath(sys.executable), 'implementation': "
       "sys.implementation.name, 'version': sys.version}))")


@nox.session
@nox.parametrize("python", [nox.param(sys.executable, id="cpython"),
                            nox.param(PYPY, id="pypy3")])
def tests(session):
    """Run pytest under this CPython and under pypy3, each in its venv."""
    session.install("-r", "requirements/tests.txt", ".")
    session.run("pytest", *(session.posargs or ["-q",
                                                "--benchmark-disable"]))


@nox.session
def bench(session):
    """Time load, epoch and inference under every interpreter; judge claims."""
    run_benchrun(session, "bench", [])


@nox.session
def scaling(session):
    """The bench at several sizes into one folder; draws scaling.png."""
    run_benchrun(session, "scaling", ["--scaling"])


def run_benchrun(session, session_name, options):
    """``speedrun.benchrun`` with a venv per interpreter; *options* first."""
    forwarded, extra = split_python_options(session.posargs)
    session.install("-r", "requirements/report.txt", "-e", ".")
    args = []
    seen = set()
    wanted = [("cpython", sys.executable), ("pypy3", PYPY)]
    wanted += [(name, name) for name in extra]
    for name, command in wanted:
        who = identify(command)
        if who is None:
            howto = PYPY_HOWTO if command == PYPY else (
                f"{command} was not found or does not run; give a command "
                f"on PATH or the path of a python")
            args += ["--missing", f"{name}={howto}"]
            continue
        if who["executable"] in seen:
            session.log(f"{name}: {who['executable']} is already listed")
            continue
        seen.add(who["executable"])
        python, problem = bench_env(session, name, who)
        if problem:
            args += ["--missing", f"{name}={problem}"]
        else:
            args += ["--interpreter", f"{name}={python}"]
    command = f"nox -s {session_name}" + (
        " -- " + " ".join(session.posargs) if session.posargs else "")
    session.run("python", "-m", "speedrun.benchrun", *options, *args,
                "--bench-dir", BENCH_DIR, "--command", command, *forwarded,
                interrupt_timeout=300, terminate_timeout=30)


@nox.session
def report(session):
    """Gather a results folder again: summary.json, REPORT.md, tables."""
    if not session.posargs:
        session.error("name a results folder: nox -s report -- results/ID")
    session.install("-r", "requirements/report.txt", "-e", ".")
    session.run("python", "-m", "speedrun.report", *session.posargs)


MICROBENCH_STORE = "results/runs/microbench"  # ignored by git


@nox.session
@nox.parametrize("python", [nox.param(sys.executable, id="cpython"),
                            nox.param(PYPY, id="pypy3")])
def microbench(session):
    """Time the engines' kernels (pytest-benchmark); JSON under results/."""
    session.install("-r", "requirements/tests.txt", ".")
    # pytest-benchmark's own storage: one folder per interpreter and
    # machine, numbered runs inside, readable by `pytest-benchmark compare`.
    session.run("pytest", "tests/microbench", "--benchmark-only",
                "--benchmark-autosave",
                f"--benchmark-storage=file://{MICROBENCH_STORE}",
                "--benchmark-group-by=group", *session.posargs)


@nox.session
def compare(session):
    """Compare two bench results: speedrun compare BASE NEW (gate 10 %)."""
    if len([a for a in session.posargs if not a.startswith("-")]) < 2:
        session.error("give two results: nox -s compare -- BASE NEW "
                      "[--fail-on 10%] [--markdown FILE]")
    session.install("-r", "requirements/report.txt", "-e", ".")
    args = list(session.posargs)
    if not any(a.startswith("--fail-on") for a in args):
        args += ["--fail-on", "10%"]
    command = [os.path.join(session.bin, "python"), "-m", "speedrun",
               "compare", *args]
    session.log(" ".join(command))
    # session.run would turn every failure into exit status 1; CI scripts
    # branch on compare's own status (1 error, 3 regressed, 4 claim,
    # 5 inconclusive, 6 invalid), so it is passed through unchanged.
    code = subprocess.call(command)
    if code:
        session.log(f"speedrun compare exited with status {code}")
        raise SystemExit(code)


def split_python_options(posargs):
    """``--python X`` (repeatable) apart from the options forwarded."""
    forwarded, pythons = [], []
    items = iter(posargs)
    for item in items:
        if item == "--python":
            pythons.append(next(items, ""))
        elif item.startswith("--python="):
            pythons.append(item.split("=", 1)[1])
        else:
            forwarded.append(item)
    return forwarded, [p for p in pythons if p]


def identify(command):
    """The interpreter behind *command*, as it describes itself, or None."""
    if os.sep not in command and shutil.which(command) is None:
        return None
    try:
        done = subprocess.run([command, "-c", WHO], capture_output=True,
                              text=True, timeout=120)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return json.loads(done.stdout)


def bench_env(session, name, who):
    """A venv of *who* with the bench requirements: (python, problem).

    NumPy is installed on its own and may fail; the run then shows the
    NumPy rows of that interpreter as missing, with how to install it.
    """
    folder = os.path.join(BENCH_ENVS, safe_name(name))
    python = os.path.join(folder, "bin", "python")
    stamp = env_stamp(who)
    if read_stamp(folder) == stamp and os.path.exists(python):
        session.log(f"{name}: reusing {folder}")
        return python, None
    shutil.rmtree(folder, ignore_errors=True)
    log = folder + ".log"
    os.makedirs(BENCH_ENVS, exist_ok=True)
    session.log(f"{name}: creating {folder} (log: {log})")
    kind = VENV_HOWTO.get(who["implementation"], "the venv module")
    steps = [
        ([who["executable"], "-m", "venv", folder],
         f"cannot create a venv with {who['executable']}; install {kind}"),
        ([python, "-m", "pip", "install", "-r",
          os.path.join(REQUIREMENTS, "bench.txt"), "-e", ROOT],
         f"the bench requirements did not install under {name}; see {log}"),
    ]
    for command, problem in steps:
        if not run_logged(command, log):
            return None, problem
    if not run_logged([python, "-m", "pip", "install", "-r",
                       os.path.join(REQUIREMENTS, "numpy.txt")], log):
        session.log(f"{name}: NumPy did not install (see {log}); its rows "
                    f"will say so")
    with open(os.path.join(folder, STAMP), "w", encoding="utf-8") as stream:
        json.dump(stamp, stream)
    return python, None


def run_logged(command, log):
    with open(log, "a", encoding="utf-8") as stream:
        stream.write(f"$ {' '.join(command)}\n")
        stream.flush()
        done = subprocess.run(command, stdout=stream,
                              stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    return done.returncode == 0


def safe_name(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def env_stamp(who):
    """What a bench venv depends on: the interpreter and requirements."""
    digest = hashlib.sha256()
    for name in ("bench.txt", "numpy.txt"):
        with open(os.path.join(REQUIREMENTS, name), "rb") as stream:
            digest.update(stream.read())
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as stream:
        digest.update(stream.read())
    return {"interpreter": who, "requirements": digest.hexdigest()}


def read_stamp(folder):
    try:
        with open(os.path.join(folder, STAMP), encoding="utf-8") as stream:
            return json.load(stream)
    except (OSError, ValueError):
        return None
