"""Replacing a file atomically without following a planted symbolic link."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: str, payload: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``payload``: written to a temporary file created exclusively
    (random name, ``O_EXCL``) in the same directory, so a symbolic link planted at a
    predictable name is never followed, then renamed over ``path``. ``mode`` is the new
    file's mode (default: what an ordinary ``open()`` creates under the umask). Raises
    ``OSError``; the temporary file never stays behind."""
    import tempfile  # only when a file is written: not on the scan-and-print path

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


def write_report(path: Path, text: str) -> None:
    """Write a report or configuration file as UTF-8 with :func:`write_atomic`; a failure
    is a :class:`~mlsec_lint.errors.MlsecLintError` naming the file (exit code 2)."""
    from mlsec_lint.errors import MlsecLintError

    try:
        write_atomic(str(path), text.encode("utf-8"))
    except OSError as exc:
        raise MlsecLintError(f"cannot write {path}: {exc.strerror or exc}") from None
