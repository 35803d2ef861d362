"""Helpers that keep regular-expression matching linear in the input length.

Every pattern mlsec-lint runs on file content must match in linear time, whatever the
content (``tests/robustness/test_regex_time.py`` runs each against hostile strings).
Most patterns are linear by their structure (anchors, disjoint neighbouring classes,
a lookbehind that allows one start per run). The helpers here cover the shapes that
cannot be written that way with Python's ``re``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

USER_PATTERN_INPUT = 4096
"""Characters of a value that a user rule's ``regex`` condition looks at: a pattern
written by whoever controls the rule directory cannot take more than a bounded time
per value, whatever it is."""


@functools.lru_cache(maxsize=32)
def _unbraced(rx: re.Pattern[str]) -> re.Pattern[str]:
    """``rx`` with its ``${…}`` branch disabled (same groups)."""
    return re.compile(rx.pattern.replace(r"\{", r"(?!)\{", 1), rx.flags)


def sub_variables(rx: re.Pattern[str], repl: Callable[[re.Match[str]], str], text: str) -> str:
    """``rx.sub(repl, text)`` for a variable pattern whose first branch is
    ``\\$\\{name(op[^}]*)?\\}``.

    Such a branch scans to the next ``}`` from every ``${``: without one, each ``${``
    scans to the end (quadratic on ``${a:-${a:-…``). No ``${…}`` can match after the
    last ``}``, so that tail is substituted with the branch disabled.
    """
    cut = text.rfind("}") + 1
    if cut == len(text):
        return rx.sub(repl, text)
    return rx.sub(repl, text[:cut]) + _unbraced(rx).sub(repl, text[cut:])


def backtracking_hazard(pattern: str) -> str | None:
    """Why ``pattern`` may take exponential time (a repetition inside a repetition, or
    an alternation under an unbounded repetition), or None. Used on the patterns of user
    rules, whose author may be whoever controls the scanned repository's configuration."""
    import importlib

    parser: Any = importlib.import_module("re._parser" if _HAS_RE_PARSER else "sre_parse")
    try:
        tree = parser.parse(pattern)
    except re.error:
        return None  # compiling reports the syntax error
    constants: Any = importlib.import_module("re._constants" if _HAS_RE_PARSER else "sre_constants")
    repeats = {
        getattr(constants, n)
        for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
        if hasattr(constants, n)
    }

    def walk(items: Any, under: bool) -> str | None:
        for op, av in items:
            if op in repeats:
                _low, high, body = av
                unbounded = high == constants.MAXREPEAT or high > 64
                if under and unbounded:
                    return "a repetition inside a repetition"
                if unbounded and any(o == constants.BRANCH for o, _ in _flat(body, constants)):
                    return "an alternation inside an unbounded repetition"
                found = walk(body, under or unbounded)
            elif op == constants.SUBPATTERN:
                found = walk(av[-1], under)
            elif op == constants.BRANCH:
                found = next((r for b in av[1] if (r := walk(b, under))), None)
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                found = walk(av[1], under)
            elif op == getattr(constants, "ATOMIC_GROUP", None):
                found = walk(av, under)
            elif op == constants.GROUPREF_EXISTS:
                found = walk(av[1], under) or (walk(av[2], under) if av[2] else None)
            else:
                found = None
            if found:
                return found
        return None

    return walk(tree, False)


def _flat(items: Any, constants: Any) -> list[tuple[Any, Any]]:
    """The operations of ``items``, looking into groups (not into repetitions)."""
    out: list[tuple[Any, Any]] = []
    for op, av in items:
        out.append((op, av))
        if op == constants.SUBPATTERN:
            out.extend(_flat(av[-1], constants))
    return out


_HAS_RE_PARSER = hasattr(re, "_parser")
