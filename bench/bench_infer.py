"""Time inference on the t10k images: ``infer/<engine>``.

A value is ``predict`` on the first ``--count`` t10k images (10,000 make
the full set) with the weights of the reference: the tuned engine's
weights after the epoch benchmark's steps, the same for every engine
and interpreter. pyperf reports seconds per image (``inner_loops`` is
the image count).

Timed: ``engine.predict`` alone (logits, then the arg max). Not timed:
reading the dataset, converting the test images and the weights to the
engine's form, and comparing the predictions with the reference's.
"""

import time

import pyperf

import benchlib

DEFAULT_IMAGES = 2000


class Work:
    """The weights and the test images, prepared before any timing."""

    def __init__(self, args):
        self.engine, dataset = benchlib.setup(args)
        self.reference = benchlib.reference_for(
            args, dataset, benchlib.DEFAULT_REFERENCE_STEPS)
        count = benchlib.check_count(
            args.count, dataset.test_images.count, "t10k images")
        self.weights = self.engine.make_weights(self.reference["weights"])
        self.images = self.engine.load_images(
            dataset.test_images.data, count, dataset.pixels)
        self.indices = range(count)
        self.labels = list(dataset.test_labels.data[:count])
        self.record = benchlib.Record(args.record, f"infer/{args.engine}",
                                      args.engine, count)


def bench_infer(loops, work):
    predict = work.engine.predict
    elapsed = 0.0
    for _ in range(loops):
        t0 = time.perf_counter()
        predictions = predict(work.weights, work.images, work.indices)
        seconds = time.perf_counter() - t0
        elapsed += seconds

        check = benchlib.check_predictions(work.engine.NAME, predictions,
                                           work.reference, work.labels)
        work.record.add(seconds, check)
    return elapsed


if __name__ == "__main__":
    runner = pyperf.Runner(add_cmdline_args=benchlib.forward_arguments)
    benchlib.add_arguments(runner.argparser, "t10k images", DEFAULT_IMAGES)
    runner.metadata["description"] = (
        "predicted classes of t10k images, per image")
    args, work = benchlib.start(runner, Work)
    runner.bench_time_func(
        f"infer/{args.engine}", bench_infer, work, inner_loops=args.count,
        metadata=benchlib.metadata("infer", args.engine, args.count,
                                   "image", args.seed))
