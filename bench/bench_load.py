"""Time loading the training images into an engine: ``load/<engine>``.

A value converts the first ``--count`` training images and their labels
from the IDX bytes into the engine's form (lists of floats for talk,
sparse pairs for tuned, a float64 array for numpy); 60,000 make the
full training set. pyperf reports seconds per image (``inner_loops`` is
the image count).

Timed: ``engine.load_images`` and ``engine.load_labels``. Not timed:
reading and decompressing the files and checking their SHA-256 sums,
which is the same for every engine, and comparing the converted images
with ``byte / 255`` afterwards.
"""

import time

import pyperf

import benchlib

DEFAULT_IMAGES = 5000


class Work:
    """The raw bytes to convert, read before any timing."""

    def __init__(self, args):
        self.engine, self.dataset = benchlib.setup(args)
        self.count = benchlib.check_count(
            args.count, self.dataset.train_images.count, "training images")
        self.pixels = self.dataset.train_images.data
        self.labels = self.dataset.train_labels.data
        self.record = benchlib.Record(args.record, f"load/{args.engine}",
                                      args.engine, self.count)


def bench_load(loops, work):
    engine, count, size = work.engine, work.count, work.dataset.pixels
    elapsed = 0.0
    for _ in range(loops):
        t0 = time.perf_counter()
        images = engine.load_images(work.pixels, count, size)
        labels = engine.load_labels(work.labels, count)
        seconds = time.perf_counter() - t0
        elapsed += seconds

        check = benchlib.check_load(images, labels, work.dataset, count)
        del images, labels
        work.record.add(seconds, check)
    return elapsed


if __name__ == "__main__":
    runner = pyperf.Runner(add_cmdline_args=benchlib.forward_arguments)
    benchlib.add_arguments(runner.argparser, "training images",
                           DEFAULT_IMAGES)
    runner.metadata["description"] = (
        "training images converted from IDX bytes, per image")
    args, work = benchlib.start(runner, Work)
    runner.bench_time_func(
        f"load/{args.engine}", bench_load, work, inner_loops=args.count,
        metadata=benchlib.metadata("load", args.engine, args.count,
                                   "image", args.seed))
