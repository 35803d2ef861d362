"""Writing fixed files: atomically, with the file's mode, encoding and line endings, and
never through a symlink that leads out of the scanned tree."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from mlsec_lint.fix.edits import Unfixable
from mlsec_lint.source import decode


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:
        return False


def write_fixed(abspath: str, before: str, after: str, roots: list[str]) -> None:
    """Replace the file at ``abspath`` (whose decoded text must still be ``before``)
    with ``after``, if its real path is inside one of the scanned ``roots``. Raises
    Unfixable when it must not or cannot be written."""
    real = os.path.realpath(abspath)
    if not any(_inside(real, root) for root in roots):
        raise Unfixable("the file is a symlink to a place outside the scanned tree; not written")
    try:
        with open(real, "rb") as fh:
            data = fh.read()
        st = os.stat(real)
    except OSError as exc:
        raise Unfixable(f"cannot read the file again: {exc.strerror or exc}") from None
    text, encoding, _notices = decode(data, real)
    if text != before:
        raise Unfixable("the file changed since it was scanned; not written")
    crlf = data.count(b"\r\n")
    lone_lf = data.count(b"\n") - crlf
    if crlf and lone_lf:
        newline = None  # mixed: keep the changed lines LF, the rest as they were
    elif crlf:
        newline = "\r\n"
    else:
        newline = "\n"
    if newline is None:
        raise Unfixable("the file mixes CRLF and LF line endings; not written")
    out = after.replace("\n", newline) if newline != "\n" else after
    try:
        payload = out.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise Unfixable(f"the fixed text cannot be encoded as {encoding}: {exc}") from None
    directory = os.path.dirname(real)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".fix", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise Unfixable(f"cannot write the file: {exc.strerror or exc}") from None
