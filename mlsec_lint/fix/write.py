"""Writing fixed files: atomically, with the file's mode, encoding and line endings, and
never through a symlink that leads out of the scanned tree."""

from __future__ import annotations

import os
import stat

from mlsec_lint.atomic import write_atomic
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
    if crlf and data.count(b"\n") > crlf:
        raise Unfixable("the file mixes CRLF and LF line endings; not written")
    out = after.replace("\n", "\r\n") if crlf else after
    try:
        payload = out.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise Unfixable(f"the fixed text cannot be encoded as {encoding}: {exc}") from None
    try:
        write_atomic(real, payload, stat.S_IMODE(st.st_mode))
    except OSError as exc:
        raise Unfixable(f"cannot write the file: {exc.strerror or exc}") from None
