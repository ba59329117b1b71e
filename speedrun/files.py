"""Writing result files so that a crash never leaves half a file behind."""

import json
import os
import tempfile


def write_json(path, payload):
    """Write *payload* as indented JSON to *path*, atomically."""
    write_text(path, json.dumps(payload, indent=2) + "\n")


def write_text(path, text):
    """Write *text* to *path* through a temporary file.

    The temporary file lives in the same folder and replaces *path* only
    once it is complete, so readers see the old file or the new one,
    never a mixture. A *path* that exists but is no regular file (a
    folder, a device) is refused, never replaced.
    """
    _refuse_special(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp's 0600 is too private
        os.replace(temp, path)
    except BaseException as exc:
        os.unlink(temp)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


def check_writable(path):
    """Raise ``OSError`` now if *path* could not be written later.

    Creates and removes a temporary file beside *path*, which catches a
    missing or read-only folder and a full disk before the long work.
    """
    _refuse_special(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(f"{path}: cannot write (folder {folder} does not "
                      f"exist)")
    try:
        handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            os.write(handle, b"x" * 4096)
        finally:
            os.close(handle)
            os.unlink(temp)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def check_folder_writable(folder):
    """Make *folder* if needed and check that files can be written there."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OSError(f"{folder}: cannot write charts there (exists and "
                      f"is not a folder)")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(folder, exc) from None
    check_writable(os.path.join(folder, "probe"))


def _refuse_special(path):
    if os.path.exists(path) and not os.path.isfile(path):
        kind = "a folder" if os.path.isdir(path) else "not a regular file"
        raise OSError(f"{path}: cannot write a result there ({kind})")


def _cannot_write(path, exc):
    reason = exc.strerror or str(exc)
    return OSError(f"{path}: cannot write ({reason.lower()})")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
