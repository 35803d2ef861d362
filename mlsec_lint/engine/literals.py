"""The text every match of a regular expression holds, read from the pattern: a search
for that string rules out most texts faster than the pattern can, and before the pattern
is compiled at all."""

from __future__ import annotations

import functools
import re

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
    depth = 0
    for m in _pieces().finditer(body):
        piece = m.group()
        c = piece[0]
        if c == "\\":
            escaped = piece[1:2]
            if escaped.isalnum() and escaped not in _CLASS_ESCAPES:
                return None  # \x41, \1, \N{…}: more than one character
            if depth == 0 and escaped and not escaped.isalnum():
                run.append(escaped)
            else:
                runs.append("".join(run))
                run = []
        elif c == "[":
            runs.append("".join(run))
            run = []
        elif c in "*+?{":
            if run:
                run.pop()  # the repeated character may be absent or not adjacent
            runs.append("".join(run))
            run = []
        elif c in _SPECIAL:
            if c == "|" and depth == 0:
                return None
            depth += 1 if c == "(" else -1 if c == ")" else 0
            runs.append("".join(run))
            run = []
        elif depth == 0:
            run.extend(piece)
    runs.append("".join(run))
    best = max(runs, key=len)
    if len(best) < _LITERAL_CHARS or (caseless and not best.isascii()):
        return None
    return (best.lower() if caseless else best), caseless


@functools.cache
def _pieces() -> re.Pattern[str]:
    """The pieces :func:`required_literal` reads a pattern in: an escape, a class or a
    ``{m,n}`` (each whole, to its end when unclosed), one special character, or a run of
    plain characters (compiled when first needed)."""
    return re.compile(
        r"\\.?|\[\^?\]?(?:\\.|[^\]\\])*(?:\]|\\?\Z)|\{[^}]*\}?|[.^$*+?}\]|()]"
        r"|[^\\\[.^$*+?{}\]|()]+",
        re.DOTALL,
    )


def caseless_text(text: str) -> str:
    """``text`` as a case-insensitive literal of :func:`required_literal` is looked for."""
    return text.translate(_CASELESS).lower()


def may_match(pattern: str, text: str) -> bool:
    """False only when no match of ``pattern`` can be in ``text``."""
    needed = required_literal(pattern)
    if needed is not None:
        literal, caseless = needed
        if literal not in (caseless_text(text) if caseless else text):
            return False
    starts = required_prefixes(pattern)
    return starts is None or text.startswith(starts)


@functools.lru_cache(maxsize=4096)
def required_prefixes(pattern: str) -> tuple[str, ...] | None:
    """The texts one of which every text ``pattern`` is found in starts with, for a
    pattern whose every alternative is anchored at the start (``^(requests|httpx)\\.``:
    ``requests`` or ``httpx``), read from the leading plain characters of each; None
    when there is an alternative that is not anchored or starts otherwise (a class, an
    optional group, flags)."""
    alternatives = _alternatives(pattern) if pattern.startswith("^") else None
    if alternatives is None:
        return None
    found: list[str] = []
    for alternative in alternatives:
        starts = _starts(alternative[1:]) if alternative.startswith("^") else None
        if starts is None:
            return None
        found += starts
    return tuple(dict.fromkeys(found))


@functools.lru_cache(maxsize=256)
def match_starts(pattern: str) -> tuple[str, ...] | None:
    """The texts one of which every match of ``pattern`` starts with (``(AKIA|ASIA)…``:
    ``AKIA`` or ``ASIA``), so one of which a text it is found in holds; None when there
    are none of at least two characters, or flags."""
    starts = _starts(pattern)
    if not starts or any(len(s) < _LITERAL_CHARS for s in starts):
        return None
    return tuple(dict.fromkeys(starts))


def _starts(sequence: str) -> list[str] | None:
    """The texts one of which every match of ``sequence`` starts with, or None."""
    if sequence.startswith("(?:"):
        inner = 3
    elif sequence.startswith("(") and not sequence.startswith("(?"):
        inner = 1
    else:
        text = _leading_text(sequence)
        return [text] if text else None
    end = _group_end(sequence)
    if end is None or sequence[end + 1 : end + 2] in ("?", "*", "{"):
        return None  # the group may be absent
    alternatives = _alternatives(sequence[inner:end])
    if alternatives is None:
        return None
    found: list[str] = []
    for alternative in alternatives:
        starts = _starts(alternative)
        if starts is None:
            return None
        found += starts
    return found


@functools.cache
def _structure() -> re.Pattern[str]:
    """What the structure of a pattern is read from: escapes and classes (skipped
    whole; a class to the end when unclosed), parentheses and bars (compiled when
    first needed)."""
    return re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*(?:\]|\\?\Z)|[()|]", re.DOTALL)


def _alternatives(pattern: str) -> list[str] | None:
    """``pattern`` cut at its top-level ``|``; None when its groups do not balance."""
    out: list[str] = []
    begin, depth = 0, 0
    for m in _structure().finditer(pattern):
        c = m.group()
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
        elif c == "|" and depth == 0:
            out.append(pattern[begin : m.start()])
            begin = m.end()
    if depth:
        return None
    out.append(pattern[begin:])
    return out


def _group_end(pattern: str) -> int | None:
    """The index of the ``)`` closing the group ``pattern`` starts with."""
    depth = 0
    for m in _structure().finditer(pattern):
        c = m.group()
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return m.start()
    return None


def _leading_text(alternative: str) -> str:
    """The plain characters every match of ``alternative`` starts with."""
    run: list[str] = []
    i = 0
    while i < len(alternative):
        c = alternative[i]
        if c == "\\":
            escaped = alternative[i + 1 : i + 2]
            if not escaped or escaped.isalnum():
                break
            run.append(escaped)
            i += 2
            continue
        if c in "*+?{":
            if run:
                run.pop()  # the repeated character may be absent
            break
        if c in _SPECIAL:
            break
        run.append(c)
        i += 1
    return "".join(run)
