"""Writing result files so that a crash never leaves half a file behind."""

import json
import os
import tempfile


def write_json(path, payload):
    """Write *payload* as JSON to *path* through a temporary file.

    The temporary file lives in the same folder and replaces *path* only
    once it is complete, so readers see the old file or the new one,
    never a mixture.
    """
    folder = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json",
                                    dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2, sort_keys=False)
            stream.write("\n")
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def check_writable(path):
    """Raise ``OSError`` now if *path* could not be written later.

    Creates and removes a temporary file beside *path*, which catches a
    missing or read-only folder and a full disk before the long work.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(f"{folder}: folder does not exist")
    handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        os.write(handle, b"x" * 4096)
    finally:
        os.close(handle)
        os.unlink(temp)
