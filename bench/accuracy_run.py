"""Train for real, 2 epochs per seed, for the validation-accuracy claim.

    python bench/accuracy_run.py --engine tuned --seeds 0 1 2 --out acc.json

Each seed is a full ``speedrun.training.train_run``: the talk's 60,000
draws per epoch, learning rate 0.002, then the validation part (the
last 2,000 t10k images). The first seed is monitored every 500 steps as
the talk did, which gives its learning curve; the others are not, which
changes no weight (monitoring draws from its own generator). The file
holds each run's ``Run.to_dict()``: accuracy, weights fingerprint,
history, confusion table and stage times. Not a benchmark.
"""

import argparse

import benchlib
from speedrun import results
from speedrun.dataset import load_dataset
from speedrun.engines import get_engine
from speedrun.training import EPOCHS, train_run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="tuned")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--steps", type=int, default=None,
                        help="draws per epoch (default: the training set)")
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: the packaged MNIST)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    engine, dataset = benchlib.prepare(
        lambda a: (get_engine(a.engine), load_dataset(a.data)), args)

    runs = []
    for number, seed in enumerate(args.seeds):
        run = train_run(engine, dataset, seed=seed, epochs=args.epochs,
                        steps=args.steps, monitor=number == 0)
        runs.append(run.to_dict())
        results.write(args.out, results.document(
            "accuracy", engine=args.engine, epochs=args.epochs,
            seeds=args.seeds[:number + 1], runs=runs,
            dataset=dataset.checksums()))


if __name__ == "__main__":
    main()
