"""Time the training steps of the talk's first epoch: ``epoch/<engine>``.

A value is ``--count`` SGD steps (60,000 make the talk's full epoch),
starting from the trainer's initial weights and following the trainer's
draws for ``--seed`` (``speedrun.training.initial_weights`` and
``draw_indices``), so the work is the first steps of ``speedrun train``.
pyperf reports seconds per step (``inner_loops`` is the step count).

Timed: the training steps alone, in chunks of 500 as the trainer runs
them. Unlike ``speedrun train``, no accuracy is measured between chunks
(the talk's monitoring is left out). Not timed: reading the dataset,
converting the drawn images, making the weights, and comparing the
weights with the reference afterwards.

Each call records the time of every chunk, so the JIT warm-up through
the first epoch of a fresh process can be drawn chunk by chunk.

``numpy-batch`` updates once per mini-batch, a different algorithm: it
gets the same draws in the same chunks and is checked on that work
(``benchlib.check_same_work``), not on its weights. ``--batch N`` times
it at another batch size, as ``epoch/numpy-batch/B=N`` (the batch-size
sweep); at ``--batch 1`` it is the per-sample algorithm and its weights
are held to the reference's tolerance.
"""

import functools
import time

import pyperf

import benchlib

DEFAULT_STEPS = 2000


class Work:
    """What a worker trains on, prepared before any timing."""

    def __init__(self, args):
        self.engine, dataset = benchlib.setup(args)
        self.batch = benchlib.batch_size(args, self.engine)
        self.train = self.engine.train
        if self.batch is not None:
            self.train = functools.partial(self.engine.train_batches,
                                           batch=self.batch)
        self.reference = benchlib.reference_for(args, dataset, args.count)
        benchlib.same_steps(args, self.reference)
        self.dataset = dataset.checksums()
        self.initial, self.draws = benchlib.epoch_work(dataset, args.seed,
                                                       args.count)
        self.images, self.labels, renumbered = benchlib.load_touched(
            self.engine, dataset, self.draws)
        self.chunks = benchlib.chunks(renumbered)
        touched = sorted(set(self.draws))
        self.handed = [touched[k] for chunk in self.chunks for k in chunk]
        self.lr = self.reference["lr"]
        self.record = benchlib.Record(
            args.record, benchlib.benchmark_name("epoch", args),
            args.engine, args.count)

    def check(self, values):
        """The equal-work check that fits the engine and batch size."""
        if self.batch is not None and self.batch != 1:
            return benchlib.check_same_work(values, self.reference, self)
        return benchlib.check_weights(self.engine.NAME, values,
                                      self.reference)


def time_chunks(work, weights):
    """Train on every chunk; the clock reading before and after each."""
    train, clock = work.train, time.perf_counter
    images, labels, lr = work.images, work.labels, work.lr
    marks = [clock()]
    for chunk in work.chunks:
        train(weights, images, labels, chunk, lr)
        marks.append(clock())
    return marks


def bench_epoch(loops, work):
    elapsed = 0.0
    for _ in range(loops):
        weights = work.engine.make_weights(work.initial)
        marks = time_chunks(work, weights)
        elapsed += marks[-1] - marks[0]

        check = work.check(work.engine.weight_values(weights))
        spans = [b - a for a, b in zip(marks, marks[1:])]
        work.record.add(marks[-1] - marks[0], check, spans)
    return elapsed


if __name__ == "__main__":
    runner = pyperf.Runner(add_cmdline_args=benchlib.forward_arguments)
    benchlib.add_arguments(runner.argparser, "training steps", DEFAULT_STEPS)
    runner.metadata["description"] = (
        "SGD steps of the talk's first epoch, per step; monitoring "
        "left out")
    args, work = benchlib.start(runner, Work)
    runner.bench_time_func(
        benchlib.benchmark_name("epoch", args), bench_epoch, work,
        inner_loops=args.count,
        metadata=benchlib.metadata("epoch", args.engine, args.count,
                                   "step", args.seed,
                                   work.batch if work else args.batch))
