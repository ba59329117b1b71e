"""Say what this interpreter is, from inside its environment, as JSON.

    python bench/probe.py

Prints one JSON object: implementation and versions, the executable,
whether ``sum()`` adds floats one rounding at a time (bit-identity with
the talk's code is expected only where it does), which engines import,
and NumPy's version and BLAS where NumPy is installed: the library it
was built with and, through threadpoolctl where installed, the library
loaded and its thread count under the BLAS thread variables of this
environment (the bench sets them to 1). The bench run names each result
after this answer, never after the command it ran.
"""

import json
import os
import platform
import sys

import benchlib
from speedrun.engines import ENGINES, available_engines
from speedrun.training import interpreter


def numpy_info():
    """NumPy's version and the BLAS it was built with, or None."""
    try:
        import numpy
    except ImportError:
        return None
    info = {"version": numpy.__version__, "blas": None}
    try:
        config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        info["blas"] = {key: blas.get(key) for key in
                        ("name", "version", "openblas configuration")}
    except (TypeError, KeyError, AttributeError):
        pass  # NumPy before 1.25 has no mode="dicts"
    info["threads"] = {name: os.environ.get(name, "unset")
                       for name in benchlib.BLAS_THREAD_VARIABLES}
    info["runtime"] = blas_runtime()
    return info


def blas_runtime():
    """The BLAS libraries loaded and their thread counts, or None.

    Needs threadpoolctl; called after NumPy is imported, so its BLAS is
    loaded and obeys the thread variables set for this process.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [{key: pool.get(key) for key in
             ("internal_api", "version", "num_threads", "filepath")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def pyperf_version():
    try:
        import pyperf
    except ImportError:
        return None
    return pyperf.__version__


def main():
    info = interpreter()
    info.update(
        version=sys.version.split()[0],
        full_version=" ".join(sys.version.split()),
        plain_sum=benchlib.plain_float_sum(),
        engines=available_engines(),
        missing_engines=[n for n in ENGINES if n not in available_engines()],
        numpy=numpy_info(),
        pyperf=pyperf_version(),
        platform=platform.platform())
    print(json.dumps(info))


if __name__ == "__main__":
    main()
