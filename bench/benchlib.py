"""What the bench scripts share: options, data, the reference, checks.

A bench script times one stage of the speedrun for one engine inside
pyperf's worker processes. Everything here happens outside the timed
code: reading the dataset, converting it to the engine's form, reading
(or computing) the reference each result is checked against, checking
a result once the clock has stopped, and writing the per-process record
that the gathering step reads. Nothing here is timed, nothing prints.

Options reach pyperf's worker processes through its command-line hook
(``forward_arguments``), never through environment variables, most of
which pyperf drops when it spawns a worker.

Equal work: talk and tuned must give the reference's bits exactly
(weights fingerprint, predictions) where ``sum()`` adds floats left to
right, one rounding per addition: CPython up to 3.11 and PyPy 3.9.
CPython 3.12 and later sum floats with compensated summation, and the
NumPy engine adds in its own order; there the weights must agree within
``WEIGHT_TOLERANCE`` and the predictions within
``PREDICTION_TOLERANCE``. A mismatch ends the process with
``CheckFailed`` after the record is written, so the row is marked
invalid and no speed is reported for it.

``numpy-batch`` is a different algorithm (mini-batches), so its weights
can never pass that check, except at a batch of one, where it is the
per-sample algorithm and is held to the tolerance. At any other batch
size its check is on the work itself (``check_same_work``): the same
dataset, the same initial weights and the same draws, handed over in
the same order, with finite weights at the end. Whether it learns as
well is judged apart, by the validation accuracy of real 2-epoch runs.
"""

import ctypes
import gc
import hashlib
import math
import os
import random
import resource

from speedrun import results
from speedrun.dataset import CLASSES, DatasetError, load_dataset
from speedrun.engines import EngineUnavailable, get_engine
from speedrun.idx import IdxError
from speedrun.training import (CHUNK, LEARNING_RATE, draw_indices,
                               fingerprint, initial_weights, interpreter)

EXACT_ENGINES = ("talk", "tuned")
REFERENCE_ENGINE = "tuned"  # same bits as talk, several times faster
WEIGHT_TOLERANCE = 1e-9  # largest |w - w_ref|; float drift is ~1e-15
PREDICTION_TOLERANCE = 0.001  # share of predictions allowed to differ
LOAD_SAMPLE = 97  # every 97th loaded image is compared pixel by pixel
DEFAULT_REFERENCE_STEPS = 2000  # for a standalone infer run


class CheckFailed(Exception):
    """A timed run's result differs from the reference."""


class UsageError(Exception):
    """Options that do not go together; one ERROR line."""


def add_arguments(parser, count_help, default_count):
    """Declare the options every bench script takes on *parser*."""
    parser.add_argument("--engine", default="talk",
                        help="talk, tuned or numpy (default: talk)")
    parser.add_argument("--count", type=int, default=default_count,
                        help=f"{count_help} per value "
                             f"(default: {default_count})")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights and draws (default: 0)")
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: the packaged MNIST)")
    parser.add_argument("--reference", default=None,
                        help="reference.json to check results against "
                             "(default: computed in each worker)")
    parser.add_argument("--record", default=None,
                        help="write this process's record (checks, chunk "
                             "times) to this JSON file")
    parser.add_argument("--batch", type=int, default=None,
                        help="numpy-batch only: draws per update (default: "
                             "the engine's BATCH)")


def forward_arguments(cmd, args):
    """pyperf's ``add_cmdline_args`` hook: our options for each worker."""
    cmd.extend(["--engine", args.engine, "--count", str(args.count),
                "--seed", str(args.seed)])
    if args.batch is not None:
        cmd.extend(["--batch", str(args.batch)])
    for option in ("data", "reference", "record"):
        value = getattr(args, option)
        if value is not None:
            cmd.extend([f"--{option}", os.path.abspath(value)])


def plain_float_sum():
    """Whether ``sum()`` rounds after every float addition, left to right.

    False on CPython 3.12 and later (compensated summation), where the
    talk's code no longer gives the bits it gives on 3.11 and PyPy.
    """
    return sum([0.1] * 10) != 1.0


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                         "OMP_NUM_THREADS")


def metadata(stage, engine, count, item, seed, batch=None):
    """The speedrun facts stored in each pyperf run's metadata.

    The BLAS thread variables are those the worker saw (``unset`` when
    it saw none): NumPy's time per step depends on them.
    """
    found = {"speedrun_stage": stage, "speedrun_engine": engine,
             "speedrun_items": count, "speedrun_item": item,
             "speedrun_seed": seed, "speedrun_plain_sum": int(
                 plain_float_sum())}
    if batch is not None:
        found["speedrun_batch"] = batch
    for name in BLAS_THREAD_VARIABLES:
        found[f"speedrun_{name.lower()}"] = os.environ.get(name, "unset")
    return found


def batch_size(args, engine):
    """The batch of a numpy-batch run, or None for per-sample engines.

    ``--batch`` for any other engine is a user error.
    """
    if not hasattr(engine, "train_batches"):
        if args.batch is not None:
            raise UsageError(f"--batch {args.batch}: engine "
                               f"{args.engine!r} trains one sample at a "
                               f"time; --batch is for numpy-batch")
        return None
    batch = engine.BATCH if args.batch is None else args.batch
    if batch < 1:
        raise UsageError(f"--batch {batch}: must be at least 1")
    return batch


def benchmark_name(stage, args):
    """``epoch/numpy-batch``; ``epoch/numpy-batch/B=8`` with ``--batch 8``.

    A batch given on the command line is always in the name, even the
    engine's default, so the sweep's rows never merge with the stage's.
    """
    name = f"{stage}/{args.engine}"
    if args.batch is not None:
        name += f"/B={args.batch}"
    return name


# -- Data, outside the timed code --------------------------------------


def load_touched(engine, dataset, draws):
    """The images and labels the *draws* touch, and the draws renumbered.

    Only the drawn images are converted (a quick profile draws 2,000 of
    60,000), in index order; ``renumbered[k]`` is the position of
    ``draws[k]`` among them, so training on the renumbered draws visits
    the same images in the same order as the trainer does.
    """
    size = dataset.pixels
    touched = sorted(set(draws))
    position = {index: n for n, index in enumerate(touched)}
    pixels = dataset.train_images.data
    blob = b"".join(pixels[i * size:(i + 1) * size] for i in touched)
    labels = bytes(dataset.train_labels.data[i] for i in touched)
    images = engine.load_images(blob, len(touched), size)
    return (images, engine.load_labels(labels, len(touched)),
            [position[i] for i in draws])


def epoch_work(dataset, seed, steps):
    """The trainer's initial weights and first *steps* draws for *seed*."""
    rng = random.Random(seed)
    initial = initial_weights(rng, CLASSES * dataset.pixels)
    draws = draw_indices(rng, dataset.train_images.count, steps)
    return initial, draws


def chunks(draws):
    """*draws* cut into the trainer's chunks of 500 steps."""
    return [draws[i:i + CHUNK] for i in range(0, len(draws), CHUNK)]


def draws_digest(draws):
    """A short hex digest of a list of training indices, in order."""
    text = ",".join(map(str, draws)).encode("ascii")
    return hashlib.sha256(text).hexdigest()[:16]


def compute_reference(dataset, seed, steps, lr=LEARNING_RATE):
    """Weights after *steps* draws and predictions on all of t10k.

    Computed with the tuned engine, which gives the talk's bits; returns
    a ``reference`` document, which also names the work itself (initial
    weights and draws, by digest) for the engines judged on it.
    """
    engine = get_engine(REFERENCE_ENGINE)
    initial, draws = epoch_work(dataset, seed, steps)
    images, labels, renumbered = load_touched(engine, dataset, draws)
    weights = engine.make_weights(initial)
    for chunk in chunks(renumbered):
        engine.train(weights, images, labels, chunk, lr)
    values = engine.weight_values(weights)

    count = dataset.test_images.count
    test = engine.load_images(dataset.test_images.data, count,
                              dataset.pixels)
    predictions = engine.predict(weights, test, range(count))
    truth = list(dataset.test_labels.data[:count])
    right = sum(1 for p, t in zip(predictions, truth) if p == t)
    return results.document(
        "reference", engine=REFERENCE_ENGINE, interpreter=interpreter(),
        plain_sum=plain_float_sum(), seed=seed, lr=lr, steps=steps,
        population=dataset.train_images.count, weights=values,
        fingerprint=fingerprint(values),
        initial_fingerprint=fingerprint(initial),
        draws_digest=draws_digest(draws), predictions=predictions,
        accuracy=100.0 * right / count, dataset=dataset.checksums())


def reference_for(args, dataset, steps):
    """The reference named by ``--reference``, or one computed here."""
    if args.reference is None:
        return compute_reference(dataset, args.seed, steps)
    reference = results.read(args.reference, "reference")
    if reference["seed"] != args.seed:
        raise results.ResultError(
            args.reference, f"made for seed {reference['seed']}, the "
                            f"benchmark runs seed {args.seed}")
    return reference


def same_steps(args, reference):
    """Refuse a reference made for another number of epoch steps."""
    if reference["steps"] != args.count:
        raise results.ResultError(
            args.reference, f"made for {reference['steps']} steps, the "
                            f"benchmark runs {args.count}")


def setup(args):
    """The engine and dataset named by the options."""
    return get_engine(args.engine), load_dataset(args.data)


def check_count(count, available, what):
    """Refuse a ``--count`` larger than the dataset holds."""
    if not 0 < count <= available:
        raise DatasetError(f"--count {count}: the dataset holds "
                           f"{available} {what}")
    return count


def start(runner, make):
    """Parse the options; in a worker, ``make(args)`` the work to time.

    The manager process only checks that the engine imports, so that a
    mistake ends in one ERROR line before any worker is spawned.
    """
    args = runner.parse_args()
    if args.worker:
        return args, prepare(make, args)
    prepare(lambda a: batch_size(a, get_engine(a.engine)), args)
    return args, None


def prepare(make, args):
    """``make(args)``, with a user's mistake ending in one ERROR line."""
    try:
        return make(args)
    except (EngineUnavailable, DatasetError, IdxError, UsageError,
            results.ResultError) as exc:
        raise SystemExit(f"ERROR: {exc}") from None


# -- Checks, after the clock has stopped ---------------------------------


def exact_expected(engine_name, reference):
    """Whether *engine_name* must reproduce the reference's bits here."""
    return (engine_name in EXACT_ENGINES and plain_float_sum()
            and reference["plain_sum"])


def check_weights(engine_name, values, reference):
    """``(ok, method, detail)`` for weights after an epoch's steps."""
    if exact_expected(engine_name, reference):
        got = fingerprint(values)
        return (got == reference["fingerprint"], "fingerprint",
                f"weights fingerprint {got}, reference "
                f"{reference['fingerprint']}")
    expected = reference["weights"]
    worst = math.inf
    if len(values) == len(expected) and all(map(math.isfinite, values)):
        worst = max(abs(a - b) for a, b in zip(values, expected))
    return (worst <= WEIGHT_TOLERANCE, "tolerance",
            f"largest weight difference {worst:.3g} "
            f"(tolerance {WEIGHT_TOLERANCE:g})")


def check_same_work(values, reference, work):
    """``(ok, method, detail)`` for an engine of another algorithm.

    *work* has ``initial``, ``draws`` (trainer indices, in order),
    ``handed`` (the indices handed to ``train``, chunk after chunk) and
    ``dataset`` (checksums). Its weights are not compared, only said
    how far from the per-sample reference they ended.
    """
    problems = []
    if work.dataset != reference["dataset"]:
        problems.append("another dataset than the reference's")
    if fingerprint(work.initial) != reference.get("initial_fingerprint"):
        problems.append("other initial weights")
    if draws_digest(work.draws) != reference.get("draws_digest"):
        problems.append("other draws")
    if work.handed != work.draws:
        problems.append("draws handed over out of order")
    if not all(map(math.isfinite, values)):
        problems.append("weights that are not finite")
    if problems:
        return False, "same work", "; ".join(problems)
    worst = max(abs(a - b) for a, b in zip(values, reference["weights"]))
    return (True, "same work",
            f"same data, initial weights and {len(work.draws)} draws in "
            f"order; a different algorithm, weights up to {worst:.3g} "
            f"from the per-sample reference (not a check)")


def check_predictions(engine_name, predictions, reference, labels):
    """``(ok, method, detail)`` for the classes predicted for t10k."""
    count = len(labels)
    expected = reference["predictions"][:count]
    differ = sum(1 for a, b in zip(predictions, expected) if a != b)
    differ += abs(len(predictions) - count)
    right = sum(1 for p, t in zip(predictions, labels) if p == t)
    accuracy = f"accuracy {100.0 * right / count:.2f} %"
    if exact_expected(engine_name, reference):
        return (differ == 0, "identical predictions",
                f"{differ} of {count} predictions differ; {accuracy}")
    allowed = int(PREDICTION_TOLERANCE * count)
    return (differ <= allowed, "tolerance",
            f"{differ} of {count} predictions differ (at most {allowed} "
            f"allowed); {accuracy}")


def check_load(images, labels, dataset, count):
    """``(ok, method, detail)`` for *count* converted training images.

    Every engine must give each pixel as exactly ``byte / 255``; labels
    must be the bytes themselves.
    """
    size = dataset.pixels
    pixels = dataset.train_images.data
    if len(images) != count or len(labels) != count:
        return (False, "pixels", f"{len(images)} images and {len(labels)} "
                                 f"labels, expected {count}")
    if [int(v) for v in labels] != list(dataset.train_labels.data[:count]):
        return False, "pixels", "the labels differ from the file's bytes"
    for n in range(0, count, LOAD_SAMPLE):
        row = pixels[n * size:(n + 1) * size]
        if dense(images[n], size) != [b / 255 for b in row]:
            return False, "pixels", f"image {n} differs from byte / 255"
    checked = len(range(0, count, LOAD_SAMPLE))
    return True, "pixels", f"{checked} sampled images equal byte / 255"


def dense(image, size):
    """An engine's image as *size* floats: lists, rows and sparse pairs."""
    if isinstance(image, tuple):
        row = [0.0] * size
        for index, value in zip(*image):
            row[index] = value
        return row
    return [float(v) for v in image]


# -- Memory, outside the timed code ------------------------------------------


def resident_bytes():
    """Resident set size (bytes) once garbage is collected; None off Linux.

    The collection frees what was dropped (PyPy keeps garbage until its
    next major collection), so two readings differ by what is alive.
    """
    gc.collect()
    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            pages = int(stream.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
        "fsmblks", "uordblks", "fordblks", "keepcost")]


def malloc_bytes():
    """Bytes malloc has handed out and not taken back, or None.

    glibc's ``mallinfo2`` (2.33 and later): the chunks in use plus the
    blocks mapped on their own. CPython's small objects live in arenas
    of its own, outside this figure; PyPy's GC allocates through malloc.
    """
    try:
        libc = ctypes.CDLL(None)
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return info.uordblks + info.hblkhd


def peak_resident_bytes():
    """This process's peak resident set size so far (bytes, Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- The per-process record ----------------------------------------------


class Record:
    """What one worker process did: each timed call and its check.

    Rewritten after every call (atomically), so a process that dies
    still leaves what it finished. Without a path nothing is written.
    """

    def __init__(self, path, benchmark, engine, count):
        self.path = path
        self.data = results.document(
            "process", benchmark=benchmark, engine=engine, count=count,
            interpreter=interpreter(), plain_sum=plain_float_sum(),
            calls=[], check=None, maxrss_kib=None)

    def add(self, seconds, check, chunk_seconds=None):
        """Store one call; raise ``CheckFailed`` if *check* failed."""
        ok, method, detail = check
        call = {"seconds": seconds, "ok": ok}
        if chunk_seconds is not None:
            call["chunk_seconds"] = chunk_seconds
        self.data["calls"].append(call)
        previous = self.data["check"]
        if previous is None or previous["ok"]:
            self.data["check"] = {"ok": ok, "method": method,
                                  "detail": detail}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.data["maxrss_kib"] = usage.ru_maxrss
        if self.path is not None:
            results.write(self.path, self.data)
        if not ok:
            raise CheckFailed(f"{self.data['benchmark']}: the result differs "
                              f"from the reference: {detail}")
