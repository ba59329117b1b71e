"""Write the reference every timed engine run is checked against.

    python bench/make_reference.py --steps 2000 --out reference.json

Runs the tuned engine (the talk's bits, several times faster) for the
first ``--steps`` draws of the trainer's first epoch for ``--seed``,
then predicts every t10k image with the weights it reached. The file
holds those weights (exact to the bit, as JSON floats round-trip), their
fingerprint, the predictions, and whether this interpreter sums floats
one rounding at a time (which decides where bit-identity is expected).
Not a benchmark: nothing is timed.
"""

import argparse

import benchlib
from speedrun import results
from speedrun.dataset import load_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, required=True,
                        help="training steps (draws) before the weights "
                             "are taken")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: the packaged MNIST)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    dataset = benchlib.prepare(lambda a: load_dataset(a.data), args)
    reference = benchlib.compute_reference(dataset, args.seed, args.steps)
    results.write(args.out, reference)


if __name__ == "__main__":
    main()
