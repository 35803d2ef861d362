"""Evaluating rules against facts: the only place findings are created."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from mlsec_lint.engine.rules import Rule
from mlsec_lint.facts import Fact
from mlsec_lint.model import Finding, Span
from mlsec_lint.tree import UNKNOWN, Hit, resolve, to_plain

_PLACEHOLDER = re.compile(r"\{(\$?[^{}\s]+)\}")


def _text(value: Any) -> str:
    if value is None or value is UNKNOWN:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return str(to_plain(value))
    return str(value)


def render(template: str, node: Any, root: Any, witnesses: Sequence[Hit]) -> str:
    """Fill ``{path}`` (relative to ``node``), ``{$root.path}`` and ``{$value}``."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "$value":
            return _text(witnesses[0].value) if witnesses else ""
        base = node
        if name.startswith("$root."):
            base, name = root, name[6:]
        try:
            hits = resolve(base, name)
        except ValueError:
            return m.group(0)
        return _text(hits[0].value) if hits else ""

    return _PLACEHOLDER.sub(repl, template)


def locate(rule: Rule, node: Any, anchor: Span, witnesses: Sequence[Hit]) -> Span:
    for path in rule.at:
        hits = resolve(node, path)
        if hits:
            return hits[0].span
    for w in witnesses:
        if w.span is not None:
            return w.span
    return anchor


class Evaluator:
    """Runs a ruleset over facts; rules are indexed by target kind (and Kubernetes kind)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.by_target: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            self.by_target[rule.target].append(rule)

    def run(self, facts: Iterable[Fact], line_of: Callable[[str, int], str]) -> list[Finding]:
        findings: list[Finding] = []
        for fact in facts:
            for rule in self.by_target.get(fact.kind, ()):
                findings.extend(self.check(rule, fact, line_of))
        return findings

    @staticmethod
    def check(rule: Rule, fact: Fact, line_of: Callable[[str, int], str]) -> Iterator[Finding]:
        data = fact.data
        if rule.select is not None and rule.select(data, data) is None:
            return
        if rule.each is None:
            finding = Evaluator._finding(rule, fact, data, fact.anchor, line_of)
            if finding is not None:
                yield finding
            return
        for hit in resolve(data, rule.each):
            finding = Evaluator._finding(rule, fact, hit.value, hit.span, line_of)
            if finding is not None:
                yield finding

    @staticmethod
    def _finding(
        rule: Rule, fact: Fact, node: Any, anchor: Span, line_of: Callable[[str, int], str]
    ) -> Finding | None:
        root = fact.data
        witnesses = rule.when(node, root)
        if witnesses is None:
            return None
        severity = rule.severity
        message = render(rule.message, node, root, witnesses)
        for adj in rule.adjust:
            if adj.when(node, root) is not None:
                severity = adj.severity
                if adj.note:
                    note = render(adj.note, node, root, witnesses).strip()
                    message = f"{message.rstrip()} {note}" if note else message
                break
        span = locate(rule, node, anchor, witnesses)
        return Finding(
            rule_id=rule.id,
            rule_name=rule.name,
            title=rule.title,
            category=rule.category,
            severity=severity,
            path=fact.path,
            span=span,
            message=message,
            source_line=line_of(fact.path, span.line),
            key=fact.key,
            annotations=fact.annotations,
        )
