"""Java ``.properties`` files (TorchServe ``config.properties``) with positions.

Follows ``java.util.Properties.load``: ``#`` and ``!`` comment lines, ``=``, ``:`` or
whitespace separators, backslash line continuations (leading blanks of the next line
dropped), escapes in keys and values (``\\t``, ``\\n``, ``\\uXXXX`` …). Later keys win.
"""

from __future__ import annotations

from mlsec_lint.model import Span
from mlsec_lint.tree import PDict

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "u" and i + 6 <= len(s):
                try:
                    out.append(chr(int(s[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _continues(parts: list[str]) -> bool:
    """The logical line so far (``"".join(parts)``) ends with an odd number of
    backslashes; only the parts made of backslashes alone are looked through."""
    count = 0
    for part in reversed(parts):
        trailing = len(part) - len(part.rstrip("\\"))
        count += trailing
        if trailing < len(part):
            break
    return count % 2 == 1


def parse(text: str) -> PDict:
    lines = text.split("\n")
    root = PDict(Span(1, 1, max(1, len(lines)), 1))
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.lstrip(" \t\f")
        if not stripped or stripped[0] in "#!":
            i += 1
            continue
        start_line = i + 1
        indent = len(raw) - len(stripped)
        parts = [stripped]  # joined once: appending to a string is quadratic
        end_line = start_line
        end_col = len(raw) + 1
        while _continues(parts) and i + 1 < len(lines):
            i += 1
            parts[-1] = parts[-1][:-1]
            parts.append(lines[i].lstrip(" \t\f"))
            end_line = i + 1
            end_col = len(lines[i]) + 1
        logical = "".join(parts)
        i += 1
        # key ends at the first unescaped separator
        k = 0
        while k < len(logical):
            c = logical[k]
            if c == "\\":
                k += 2
                continue
            if c in "=: \t\f":
                break
            k += 1
        key = _unescape(logical[:k])
        v = k
        while v < len(logical) and logical[v] in " \t\f":
            v += 1
        if v < len(logical) and logical[v] in "=:":
            v += 1
            while v < len(logical) and logical[v] in " \t\f":
                v += 1
        value = _unescape(logical[v:]).rstrip() if v < len(logical) else ""
        kspan = Span(start_line, indent + 1, start_line, indent + 1 + k)
        vcol = indent + 1 + v if end_line == start_line else indent + 1 + min(v, len(stripped))
        vspan = Span(start_line, vcol, end_line, end_col)
        root.put(key, value, kspan, vspan)
    return root
