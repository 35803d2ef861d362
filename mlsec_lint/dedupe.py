"""One finding per cause: at most one finding per file, line and category.

Findings on one line in one category are merged (``data/causes.yaml``):

- findings of one rule (a rule reached by two routes, or several listeners of one server
  written on one line): the most severe is kept and names the others' first sentences;
- findings of rules that report the same cause (``same_cause``): the most specific rule's
  finding is kept, at the highest severity of the group, and names the other rules;
- different problems of one category (root, privilege escalation and a writable root
  filesystem of one container): the most severe is kept and names the other rules.

The kept finding lists the merged rules in ``Finding.also`` (the fixture harness counts
them as reported). Different categories on one line (no authentication and no TLS on one
listener) stay separate findings. Runs after suppressions, so a suppression of any one of
the rules still works as written.
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
    winner.merged = (*winner.merged, *group[1:])
    if also:
        shown = "; ".join(also[:MAX_ALSO])
        more = len(also) - MAX_ALSO
        tail = f"; and {more} more" if more > 0 else ""
        winner.message = f"{winner.message} On this line also: {shown}{tail}."
    return winner


def merge(findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` with one finding per file, line and category (order kept)."""
    by_place: dict[tuple[str, int, str], list[Finding]] = {}
    for f in findings:
        by_place.setdefault((f.path, f.span.line, f.category), []).append(f)
    if all(len(g) == 1 for g in by_place.values()):
        return list(findings)
    keep: set[int] = set()
    for group in by_place.values():
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
            _absorb(winner, others, "Same cause as")
        if len(merged) > 1:
            # different problems of one category on one line (root, privilege escalation
            # and a writable root filesystem of one container): the most severe is kept
            # and names the others, which still count for suppressions and fixtures
            ranked = sorted(merged.values(), key=lambda f: (-f.severity, f.rule_id))
            _absorb(ranked[0], ranked[1:], "Also on this line:")
            merged = {ranked[0].rule_id: ranked[0]}
        keep.update(id(f) for f in merged.values())
    return [f for f in findings if id(f) in keep]


def _absorb(winner: Finding, others: list[Finding], lead: str) -> None:
    winner.severity = max([winner.severity, *(o.severity for o in others)])
    winner.merged = (*winner.merged, *others)
    named = ", ".join(f"{o.rule_id} ({o.title})" for o in others)
    winner.message = f"{winner.message} {lead} {named}."
    winner.also = tuple(
        dict.fromkeys([*winner.also, *(r for o in others for r in (o.rule_id, *o.also))])
    )
