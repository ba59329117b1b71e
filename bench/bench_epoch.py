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
"""

import time

import pyperf

import benchlib

DEFAULT_STEPS = 2000


class Work:
    """What a worker trains on, prepared before any timing."""

    def __init__(self, args):
        self.engine, dataset = benchlib.setup(args)
        self.reference = benchlib.reference_for(args, dataset, args.count)
        benchlib.same_steps(args, self.reference)
        self.initial, draws = benchlib.epoch_work(dataset, args.seed,
                                                  args.count)
        self.images, self.labels, renumbered = benchlib.load_touched(
            self.engine, dataset, draws)
        self.chunks = benchlib.chunks(renumbered)
        self.lr = self.reference["lr"]
        self.record = benchlib.Record(args.record, f"epoch/{args.engine}",
                                      args.engine, args.count)


def time_chunks(work, weights):
    """Train on every chunk; the clock reading before and after each."""
    train, clock = work.engine.train, time.perf_counter
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

        values = work.engine.weight_values(weights)
        check = benchlib.check_weights(work.engine.NAME, values,
                                       work.reference)
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
        f"epoch/{args.engine}", bench_epoch, work, inner_loops=args.count,
        metadata=benchlib.metadata("epoch", args.engine, args.count,
                                   "step", args.seed))
