"""Replacing a file atomically without following a planted symbolic link."""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomic(path: str, payload: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``payload``: written to a temporary file created exclusively
    (random name, ``O_EXCL``) in the same directory, so a symbolic link planted at a
    predictable name is never followed, then renamed over ``path``. ``mode`` is the new
    file's mode (default: what an ordinary ``open()`` creates under the umask). Raises
    ``OSError``; the temporary file never stays behind."""
    directory, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
