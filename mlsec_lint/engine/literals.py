"""The text every match of a regular expression holds, read from the pattern: a search
for that string rules out most texts faster than the pattern can, and before the pattern
is compiled at all."""

from __future__ import annotations

import functools

from mlsec_lint import knowledge

_CASELESS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
"""The characters other than ASCII letters that a case-insensitive pattern matches an
ASCII letter with, and which lower() does not turn into it (the Kelvin sign it does)."""
_SPECIAL = frozenset(".^$*+?{}[]|()")
_CLASS_ESCAPES = frozenset("dDsSwWbBAZ")
_LITERAL_CHARS = 2
"""A shorter literal rules out too few texts to be worth a search."""


@functools.lru_cache(maxsize=4096)
def required_literal(pattern: str) -> tuple[str, bool] | None:
    """The longest text every match of ``pattern`` holds, read from its top level (plain
    characters and escaped punctuation; a group, a class, a repetition or an anchor ends
    a run), and whether it holds it in any case; None when there is none, an
    alternative at the top level, an escape it cannot read or flags other than ``i``."""
    flags = knowledge.GLOBAL_FLAGS.match(pattern)
    if flags is not None and set(flags.group(1)) - {"i"}:
        return None
    caseless = flags is not None
    body = pattern[flags.end() :] if flags is not None else pattern
    runs: list[str] = []
    run: list[str] = []
    depth, i = 0, 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            escaped = body[i + 1 : i + 2]
            if escaped.isalnum() and escaped not in _CLASS_ESCAPES:
                return None  # \x41, \1, \N{…}: more than one character
            if depth == 0 and escaped and not escaped.isalnum():
                run.append(escaped)
            else:
                runs.append("".join(run))
                run = []
            i += 2
        elif c == "[":
            runs.append("".join(run))
            run = []
            i = _class_end(body, i) + 1
        elif c in "*+?{":
            if run:
                run.pop()  # the repeated character may be absent or not adjacent
            runs.append("".join(run))
            run = []
            i = body.find("}", i) + 1 or len(body) if c == "{" else i + 1
        elif c in _SPECIAL:
            if c == "|" and depth == 0:
                return None
            depth += 1 if c == "(" else -1 if c == ")" else 0
            runs.append("".join(run))
            run = []
            i += 1
        else:
            if depth == 0:
                run.append(c)
            i += 1
    runs.append("".join(run))
    best = max(runs, key=len)
    if len(best) < _LITERAL_CHARS or (caseless and not best.isascii()):
        return None
    return (best.lower() if caseless else best), caseless


def _class_end(pattern: str, start: int) -> int:
    """The index of the ``]`` closing the class that opens at ``start``."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def caseless_text(text: str) -> str:
    """``text`` as a case-insensitive literal of :func:`required_literal` is looked for."""
    return text.translate(_CASELESS).lower()


def may_match(pattern: str, text: str) -> bool:
    """False only when no match of ``pattern`` can be in ``text``."""
    needed = required_literal(pattern)
    if needed is None:
        return True
    literal, caseless = needed
    return literal in (caseless_text(text) if caseless else text)
