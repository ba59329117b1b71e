"""The talk's claims, what "about" allows, and how a verdict is reached.

The bands below were fixed before any benchmark was run and are not to
be moved toward a result:

- A ratio claim ("about 15×", "about 20 % off") holds when the ratio
  lies within ±20 % of the talk's figure (``ABOUT``): "PyPy about 15×
  faster" is the band [12, 18]; "pure Python about 20 % off NumPy",
  read as pure Python taking 1.20 times NumPy's time, is [0.96, 1.44].
  The talk's wording ("only about 20 % apart") leaves the direction
  open; the report says which way the measurement went.
- "93.95 % validation accuracy after 2 epochs" holds within ±1.0
  percentage point (``ACCURACY_BAND``), about the spread between runs
  with other seeds on 2,000 validation images.
- ``numpy-batch`` is a different algorithm; it counts as doing the
  talk's job when its mean validation accuracy after 2 epochs lies
  within ±1.0 percentage point (``BATCH_ACCURACY_BAND``) of the
  per-sample ``tuned`` engine's, over the same seeds.

A verdict looks at the 95 % confidence interval, not only at the point:

    reproduced       the whole interval lies inside the band
    not reproduced   the whole interval lies outside the band
    inconclusive     the interval straddles an edge of the band, or there
                     are fewer than 2 samples on a side to make one

Intervals come from a percentile bootstrap over per-process means (each
pyperf worker process is one independent sample; values inside one
process are not). Each side is resampled at its own size, so the sample
counts may differ. The generator is seeded from ``SEED`` and the claim's
id, so the same files always give the same intervals. This module reads
numbers and returns numbers: it runs nothing and prints nothing.
"""

import random

ABOUT = 0.20  # "about X" allows X ± 20 %
ACCURACY_BAND = 1.0  # percentage points either side of the talk's figure
BATCH_ACCURACY_BAND = 1.0  # numpy-batch vs tuned, percentage points
CONFIDENCE = 0.95
RESAMPLES = 10000
SEED = 20240406

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
INVALID = "invalid"  # a row behind the claim failed its equal-work check
NOT_MEASURED = "not measured"  # an interpreter or engine is missing
NO_FIGURE = "no figure"  # the talk gave no number to test


class Claim:
    """One claim: its words, the talk's figure, the band, the unit."""

    def __init__(self, claim_id, text, talk, band, unit, measure, short):
        self.id = claim_id
        self.text = text
        self.short = short
        self.talk = talk
        self.band = band
        self.unit = unit
        self.measure = measure  # how the measured figure is formed


def about(figure):
    """The band of "about *figure*": ±``ABOUT`` of it."""
    return figure * (1.0 - ABOUT), figure * (1.0 + ABOUT)


def _variant(claim_id, text, engine):
    """The 20 % claim answered with one given pure-Python engine."""
    return Claim(f"{claim_id}_{engine}", f"{text} ({engine} engine)", 1.20,
                 about(1.20), "× NumPy's time",
                 f"{engine} engine's time per step on PyPy / NumPy "
                 f"engine's time on CPython, one epoch",
                 f"PyPy {engine} vs CPython NumPy, epoch")


CLAIMS = {
    claim.id: claim for claim in (
        Claim("pypy_vs_cpython_epoch",
              "PyPy runs the talk's list code about 15× faster than "
              "CPython", 15.0, about(15.0), "×",
              "CPython's time per step / PyPy's, talk engine, one epoch",
              "PyPy vs CPython, epoch, talk code"),
        Claim("pypy_pure_vs_numpy_epoch",
              "pure Python on PyPy is only about 20 % off NumPy", 1.20,
              about(1.20), "× NumPy's time",
              "time per step of the faster pure-Python engine on PyPy / "
              "NumPy engine's time on CPython, one epoch",
              "PyPy pure Python vs CPython NumPy, epoch"),
        *[_variant("pypy_pure_vs_numpy_epoch", "pure Python on PyPy is "
                   "only about 20 % off NumPy", engine)
          for engine in ("talk", "tuned")],
        Claim("validation_accuracy",
              "93.95 % validation accuracy after 2 epochs", 93.95,
              (93.95 - ACCURACY_BAND, 93.95 + ACCURACY_BAND), "%",
              "mean validation accuracy over seeds, 2 real epochs",
              "validation accuracy, 2 epochs"),
        Claim("pypy_vs_cpython_load",
              "PyPy loads the data much faster (no figure given)", None,
              None, "×", "CPython's time per image / PyPy's, talk engine",
              "PyPy vs CPython, load, talk code"),
        Claim("pypy_vs_cpython_infer",
              "PyPy also speeds up inference (no figure given)", None,
              None, "×", "CPython's time per image / PyPy's, talk engine",
              "PyPy vs CPython, inference, talk code"),
    )
}


def mean(samples):
    return sum(samples) / len(samples)


def _rng(name):
    return random.Random(f"{SEED}-{name}")


def _percentiles(estimates):
    estimates.sort()
    tail = (1.0 - CONFIDENCE) / 2
    last = len(estimates) - 1
    return (estimates[int(tail * last)],
            estimates[int(round((1.0 - tail) * last))])


def ratio_interval(numerator, denominator, name, resamples=RESAMPLES):
    """95 % interval of ``mean(numerator) / mean(denominator)``.

    Both arguments are lists of per-process means. Returns ``(low,
    high)``, or ``None`` when a side has fewer than 2 samples.
    """
    if len(numerator) < 2 or len(denominator) < 2:
        return None
    rng = _rng(name)
    pick = rng.choices
    estimates = [
        mean(pick(numerator, k=len(numerator)))
        / mean(pick(denominator, k=len(denominator)))
        for _ in range(resamples)]
    return _percentiles(estimates)


def mean_interval(samples, name, resamples=RESAMPLES):
    """95 % interval of ``mean(samples)``, or ``None`` under 2 samples."""
    if len(samples) < 2:
        return None
    rng = _rng(name)
    estimates = [mean(rng.choices(samples, k=len(samples)))
                 for _ in range(resamples)]
    return _percentiles(estimates)


def verdict(band, interval):
    """Reproduced, not reproduced or inconclusive, as defined above."""
    if band is None:
        return NO_FIGURE
    if interval is None:
        return INCONCLUSIVE
    (low, high), (lower, upper) = interval, band
    if lower <= low and high <= upper:
        return REPRODUCED
    if high < lower or low > upper:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def entry(claim_id, measured=None, interval=None, status=None, **extra):
    """The ``claims`` list item of summary.json for one claim.

    *status* overrides the verdict for a claim that could not be judged
    (``INVALID`` or ``NOT_MEASURED``); *extra* adds context (engine,
    reason, samples).
    """
    claim = CLAIMS[claim_id]
    low, high = interval if interval is not None else (None, None)
    result = {
        "id": claim_id, "claim": claim.text, "label": claim.short,
        "talk": claim.talk,
        "measured": measured, "ci_low": low, "ci_high": high,
        "verdict": status or verdict(claim.band, interval),
        "band": list(claim.band) if claim.band else None,
        "unit": claim.unit, "measure": claim.measure,
    }
    result.update(extra)
    return result
