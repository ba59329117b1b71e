"""Measure the memory the loaded training set holds, for one engine.

    python bench/memory_run.py --engine talk --out memory.json

Not a benchmark: nothing is timed. In a fresh process it reads the
dataset, then converts the first ``--count`` training images (default:
all 60,000) and their labels into the engine's form and records, with
the images still alive and each reading taken once the garbage is
collected:

    resident_growth_bytes  growth of the resident set from just before
                           the conversion to just after it; it misses
                           pages that were already resident and get
                           reused (PyPy's nursery, freed memory)
    malloc_growth_bytes    growth of the memory malloc handed out
                           (glibc); it misses CPython's small objects,
                           which live in arenas CPython maps itself
    held_bytes             the larger of the two: both undercount, each
                           for its own reason
    peak_rss_bytes         the process's peak resident set, reading the
                           dataset and converting included

A fresh process per engine keeps what an earlier conversion left in the
allocator's free lists out of the figures; converting the whole
training set makes what the allocator reuses a small part of them.
"""

import argparse

import benchlib
from speedrun import results
from speedrun.training import interpreter

FULL_IMAGES = 60000


def measure(engine, dataset, count):
    """The memory figures of converting *count* images (bytes)."""
    size = dataset.pixels
    resident, allocated = benchlib.resident_bytes(), benchlib.malloc_bytes()
    images = engine.load_images(dataset.train_images.data, count, size)
    labels = engine.load_labels(dataset.train_labels.data, count)
    resident_after = benchlib.resident_bytes()
    allocated_after = benchlib.malloc_bytes()

    found = {"resident_growth_bytes": None, "malloc_growth_bytes": None,
             "peak_rss_bytes": benchlib.peak_resident_bytes()}
    if resident is not None and resident_after is not None:
        found["resident_growth_bytes"] = resident_after - resident
    if allocated is not None and allocated_after is not None:
        found["malloc_growth_bytes"] = allocated_after - allocated
    growths = [v for v in (found["resident_growth_bytes"],
                           found["malloc_growth_bytes"]) if v is not None]
    found["held_bytes"] = max(growths) if growths else None
    del images, labels
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="talk")
    parser.add_argument("--count", type=int, default=FULL_IMAGES,
                        help=f"training images (default: {FULL_IMAGES:,})")
    parser.add_argument("--data", default=None,
                        help="dataset folder (default: the packaged MNIST)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    engine, dataset = benchlib.prepare(benchlib.setup, args)
    count = benchlib.prepare(lambda a: benchlib.check_count(
        a.count, dataset.train_images.count, "training images"), args)

    found = measure(engine, dataset, count)
    results.write(args.out, results.document(
        "memory", engine=args.engine, count=count, pixels=dataset.pixels,
        interpreter=interpreter(), **found))


if __name__ == "__main__":
    main()
