"""One finding per cause: merge findings that report the same problem on the same line.

Two kinds of duplicates are merged (``data/causes.yaml``):

- findings of one rule on one line (a rule reached by two routes, or several listeners of
  one server written on one line): the most severe is kept and names the others' first
  sentences;
- findings of rules that report the same cause (``same_cause``): the most specific rule's
  finding is kept, at the highest severity of the group, and names the other rules.

Distinct causes on one line (no authentication and no TLS on one listener) stay distinct.
Runs after suppressions, so a suppression of any one of the rules still works as written.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from mlsec_lint import knowledge
from mlsec_lint.model import Finding

MAX_ALSO = 5
"""Other findings of one rule on one line named in the kept finding's message, at most."""


@functools.lru_cache(maxsize=1)
def same_cause_groups() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(g) for g in knowledge.table("causes")["same_cause"])


@functools.lru_cache(maxsize=1)
def distinct_cause_groups() -> tuple[frozenset[str], ...]:
    return tuple(frozenset(g) for g in knowledge.table("causes")["distinct_causes"])


def declared_distinct(a: str, b: str) -> bool:
    """Whether rules ``a`` and ``b`` are declared to report different problems."""
    return any(a in g and b in g for g in distinct_cause_groups())


def _first_sentence(message: str) -> str:
    head, dot, _ = message.partition(". ")
    return head.rstrip(".") if dot else message.rstrip(".")


def _merge_same_rule(group: list[Finding]) -> Finding:
    group = sorted(group, key=lambda f: (-f.severity, f.span.col, f.message))
    winner = group[0]
    also = []
    for other in group[1:]:
        sentence = _first_sentence(other.message)
        if sentence not in winner.message and sentence not in also:
            also.append(sentence)
    if also:
        shown = "; ".join(also[:MAX_ALSO])
        more = len(also) - MAX_ALSO
        tail = f"; and {more} more" if more > 0 else ""
        winner.message = f"{winner.message} On this line also: {shown}{tail}."
    return winner


def merge(findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` with duplicates of one cause merged (order kept)."""
    by_line: dict[tuple[str, int], list[Finding]] = {}
    for f in findings:
        by_line.setdefault((f.path, f.span.line), []).append(f)
    if all(len(g) == 1 for g in by_line.values()):
        return list(findings)
    keep: set[int] = set()
    for group in by_line.values():
        if len(group) == 1:
            keep.add(id(group[0]))
            continue
        by_rule: dict[str, list[Finding]] = {}
        for f in group:
            by_rule.setdefault(f.rule_id, []).append(f)
        merged = {rule: _merge_same_rule(fs) for rule, fs in by_rule.items()}
        for cause in same_cause_groups():
            present = [rule for rule in cause if rule in merged]
            if len(present) < 2:
                continue
            winner = merged[present[0]]
            others = [merged.pop(rule) for rule in present[1:]]
            winner.severity = max([winner.severity, *(o.severity for o in others)])
            named = ", ".join(f"{o.rule_id} ({o.title})" for o in others)
            winner.message = f"{winner.message} Same cause as {named}."
        keep.update(id(f) for f in merged.values())
    return [f for f in findings if id(f) in keep]
