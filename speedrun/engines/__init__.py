"""The trainers, one module each, with the same public names.

Every engine module defines, in this order: ``NAME``, ``SUMMARY``,
``load_images``, ``load_labels``, ``make_weights``, ``weight_values``,
``softmax``, ``train`` and ``predict``. Engines are imported only when
chosen, so NumPy is needed only by the two NumPy engines (``numpy``,
the per-sample reference, and ``numpy-batch``, mini-batches).
"""

import importlib
import sys

ENGINES = {
    "talk": "speedrun.engines.talk",
    "tuned": "speedrun.engines.tuned",
    "numpy": "speedrun.engines.numpy_ref",
    "numpy-batch": "speedrun.engines.numpy_batch",
}


class EngineUnavailable(Exception):
    """An engine cannot run here; the message says how to get it."""


def get_engine(name):
    if name not in ENGINES:
        raise EngineUnavailable(
            f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}"
        )
    try:
        return importlib.import_module(ENGINES[name])
    except ImportError as exc:
        raise EngineUnavailable(
            f"engine {name!r} is unavailable here ({exc}); "
            f"install NumPy for this interpreter with: "
            f"{_python_command()} -m pip install numpy"
        ) from None


def _python_command():
    """How to name this interpreter in an install hint: pypy3, python3."""
    if sys.implementation.name == "pypy":
        return "pypy3"
    return "python3"


def available_engines():
    """The names of the engines that import on this interpreter."""
    names = []
    for name in ENGINES:
        try:
            get_engine(name)
        except EngineUnavailable:
            continue
        names.append(name)
    return names
