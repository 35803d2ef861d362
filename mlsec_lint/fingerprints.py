"""Fingerprints: a line-independent identity for findings, and GitHub's line hash.

:func:`finding_fingerprint` identifies a finding by its rule, repository-relative path,
the fact's key (``Deployment/prod/llm/server``, ``dependency/torch`` …) and the
normalized text it points at, never by its line: moving code around keeps it, while a
second instance of the same problem elsewhere gets another one (or, when it is textually
identical in the same file and object, the same one, which baselines count). It is the
SARIF ``partialFingerprints["mlsecLint/v1"]``, the baseline key and the GitLab
fingerprint.

:func:`line_hashes` is GitHub code scanning's ``primaryLocationLineHash``: a rolling hash
over the first 100 non-blank UTF-16 code units starting at each line, with an
occurrence counter for equal hashes. ``upload-sarif`` computes it when missing, but
uploads through the REST API or from other CI systems do not; emitting it ourselves keeps
alerts stable everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

FINGERPRINT_VERSION = "mlsecLint/v1"
LINE_HASH = "primaryLocationLineHash"

_BLOCK = 100
_MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_MOD, _BLOCK, 1 << 64)
_SPACE, _TAB, _LF, _CR, _EOF = 0x20, 0x09, 0x0A, 0x0D, 0xFFFF
_WS = re.compile(r"\s+")


def normalize_text(text: str, limit: int = 500) -> str:
    """Whitespace-insensitive text: runs of blanks become one space."""
    return _WS.sub(" ", text).strip()[:limit]


def span_text(
    lines: Sequence[str] | Callable[[int], str], line: int, col: int, end_line: int, end_col: int
) -> str:
    """The text a finding points at, limited to the span's first line.

    Spans of whole objects (absence findings) cover many lines; their first line plus the
    fact key identify them without making every edit inside the object a new finding.
    ``lines`` is the list of lines, or a function from a 1-based line number to its text
    (empty out of range).
    """
    if callable(lines):
        text = lines(line) if line >= 1 else ""
    elif not 1 <= line <= len(lines):
        return ""
    else:
        text = lines[line - 1]
    end = end_col - 1 if end_line == line else len(text)
    return normalize_text(text[max(col - 1, 0) : max(end, col - 1)])


def _sha256() -> Callable[[bytes], Any]:
    """SHA-256 without loading OpenSSL (a few milliseconds of a one-file scan): CPython's
    own implementation where it has one, else :mod:`hashlib`."""
    for name in ("_sha256", "_sha2"):  # CPython 3.11, 3.12+
        try:
            fn: Callable[[bytes], Any] = __import__(name).sha256
        except (ImportError, AttributeError):
            continue
        return fn
    from hashlib import sha256

    return sha256


def finding_fingerprint(rule_id: str, path: str, key: str, text: str) -> str:
    data = "\0".join((rule_id, path, key, normalize_text(text)))
    return str(_sha256()(data.encode("utf-8", "surrogateescape")).hexdigest()[:32])


def line_hashes(text: str, wanted: Iterable[int] | None = None) -> dict[int, str]:
    """``primaryLocationLineHash`` values of a file's lines: line number -> ``hex:n``.

    ``text`` is the file's content as GitHub reads it (a UTF-8 BOM included); CR and CRLF
    count as LF. With ``wanted``, hashing stops once those lines are known.
    """
    want = set(wanted) if wanted is not None else None
    out: dict[int, str] = {}
    window = [0] * _BLOCK
    line_numbers = [-1] * _BLOCK
    counts: dict[str, int] = {}
    state = {"hash": 0, "index": 0}

    def output() -> None:
        idx = state["index"]
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_numbers[idx]] = f"{value}:{counts[value]}"
        line_numbers[idx] = -1

    def update(current: int) -> None:
        idx = state["index"]
        begin = window[idx]
        window[idx] = current
        state["hash"] = (_MOD * state["hash"] + current - _FIRST_MOD * begin) & _MASK
        state["index"] = (idx + 1) % _BLOCK

    line_number = 0
    line_start = True
    prev_cr = False
    units = _utf16_units(text)
    units.append(_EOF)
    for unit in units:
        if unit in (_SPACE, _TAB) or (prev_cr and unit == _LF):
            prev_cr = False
            continue
        prev_cr = unit == _CR
        current = _LF if prev_cr else unit
        if line_numbers[state["index"]] != -1:
            output()
            if want is not None and want.issubset(out):
                return out
        if line_start:
            line_start = False
            line_number += 1
            line_numbers[state["index"]] = line_number
        if current == _LF:
            line_start = True
        update(current)
    for _ in range(_BLOCK):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    return out


def _utf16_units(text: str) -> list[int]:
    if text.isascii():
        return [ord(c) for c in text]
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
