"""Evaluating rules against facts: the only place findings are created."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from mlsec_lint.engine.predicates import VALUE_OPS, _norm
from mlsec_lint.engine.rules import Rule
from mlsec_lint.facts import Fact
from mlsec_lint.model import Finding, FixPlan, Span
from mlsec_lint.source import excerpt
from mlsec_lint.tree import MISSING, UNKNOWN, Hit, PDict, lookup, parse_path, resolve, to_plain

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


Atom = tuple[Any, ...]
"""``("in", keys, values)``: the value at a plain path is one of ``values``;
``("has", keys)``: the path exists."""
Clause = tuple[Atom, ...]
"""At least one atom holds."""
Guard = Clause

_VALUE_OPS = frozenset(VALUE_OPS)
_BOOLEANS = frozenset({"true", "false"})


def _keys(path: Any) -> tuple[Any, ...] | None:
    if not isinstance(path, str) or path.startswith("$root"):
        return None
    try:
        segs = parse_path(path)
    except ValueError:
        return None
    if all(seg.kind in ("key", "index") for seg in segs):
        return tuple(seg.key for seg in segs)
    return None


def _scalar_values(values: Any) -> frozenset[Any] | None:
    items = values if isinstance(values, list) else [values]
    if not items or any(v is None or isinstance(v, (dict, list)) for v in items):
        return None
    return frozenset(_norm(v) for v in items)


def _score(clause: Clause) -> int:
    """Lower is more selective: small value sets, then deep paths (top-level fields of a
    fact are usually always present)."""
    total = 0
    for atom in clause:
        if atom[0] == "in" and atom[2] <= _BOOLEANS:
            total += 5_000  # a flag: true or false for most facts, barely selective
        elif atom[0] == "in":
            total += len(atom[2])
        else:
            total += 100 if len(atom[1]) >= 2 else 10_000
    return total


def _guards(spec: Any) -> list[Clause]:
    """Necessary conditions implied by a rule condition, as clauses that must all hold."""
    if not isinstance(spec, dict):
        return []
    if isinstance(spec.get("all"), list):
        return [c for child in spec["all"] for c in _guards(child)]
    if isinstance(spec.get("any"), list):
        best: list[Clause] = []
        for child in spec["any"]:
            clauses = _guards(child)
            if not clauses:
                return []  # a branch with no guard: nothing is implied
            best.append(min(clauses, key=_score))
        merged: dict[Any, set[Any]] = {}
        has: set[tuple[Any, ...]] = set()
        for clause in best:
            for atom in clause:
                if atom[0] == "in":
                    merged.setdefault(atom[1], set()).update(atom[2])
                else:
                    has.add(atom[1])
        atoms: list[Atom] = [("has", k) for k in sorted(has, key=repr)]
        atoms += [("in", k, frozenset(v)) for k, v in merged.items() if k not in has]
        return [tuple(atoms)]
    keys = _keys(spec.get("path"))
    if keys is None or spec.get("exists") is False:
        return []
    if "equals" in spec or "in" in spec:
        values = _scalar_values(spec["equals"] if "equals" in spec else spec["in"])
        if values is not None:
            return [(("in", keys, values),)]
    if spec.get("exists") is True or any(op in _VALUE_OPS for op in spec):
        return [(("has", keys),)]  # value operators only hold for values that exist
    return []


def rule_guards(rule: Rule) -> list[Clause]:
    """Guards of a rule from its ``select`` and ``when`` (none for ``each`` rules)."""
    found: list[Clause] = []
    for path, value in (rule.select_spec or {}).items():
        found.extend(_guards({"path": path, "in": value if isinstance(value, list) else [value]}))
    if rule.each is None:
        found.extend(_guards(rule.when_spec))
    return sorted(found, key=_score)


def _atom_holds(data: Any, atom: Atom) -> bool:
    value = lookup(data, atom[1])
    if value is MISSING:
        return False
    if atom[0] == "has":
        return True
    if isinstance(value, (dict, list)):
        return False
    try:
        return _norm(value) in atom[2]
    except TypeError:
        return False


def _passes(data: Any, clauses: tuple[Clause, ...]) -> bool:
    return all(any(_atom_holds(data, atom) for atom in clause) for clause in clauses)


class _Plan:
    """How one fact kind meets the rules: an index on the most common single-valued guard
    path, and for each rule the other guards, checked before its full condition."""

    def __init__(self, rules: list[Rule], use_guards: bool = True) -> None:
        guards = {id(r): rule_guards(r) if use_guards else [] for r in rules}
        counts: dict[tuple[Any, ...], int] = defaultdict(int)
        for gs in guards.values():
            for path in {c[0][1] for c in gs if len(c) == 1 and c[0][0] == "in"}:
                counts[path] += 1
        self.path = max(counts, key=lambda p: (counts[p], repr(p))) if counts else None
        self.index: dict[Any, list[tuple[Rule, tuple[Clause, ...]]]] = defaultdict(list)
        self.always: list[tuple[Rule, tuple[Clause, ...]]] = []
        for rule in rules:
            gs = guards[id(rule)]
            on_path = [c for c in gs if len(c) == 1 and c[0][0] == "in" and c[0][1] == self.path]
            rest = tuple(c for c in gs if c not in on_path)
            if on_path:
                allowed = frozenset.intersection(*(c[0][2] for c in on_path))
                for value in allowed:
                    self.index[value].append((rule, rest))
            else:
                self.always.append((rule, rest))

    def candidates(self, data: Any) -> list[tuple[Rule, tuple[Clause, ...]]]:
        if self.path is None:
            return self.always
        value = lookup(data, self.path)
        if value is MISSING or isinstance(value, (dict, list)):
            return self.always
        try:
            indexed = self.index.get(_norm(value))
        except TypeError:
            indexed = None
        return self.always + indexed if indexed else self.always


class Evaluator:
    """Runs a ruleset over facts; rules are indexed by target kind and by guards derived
    from their conditions, so a fact only meets the rules it could match."""

    def __init__(self, rules: Iterable[Rule], *, guards: bool = True) -> None:
        self.by_target: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            self.by_target[rule.target].append(rule)
        self.guards = guards
        self.plans: dict[str, _Plan | None] = {}
        """Built on first use: a scan of one file meets a few of the fact kinds."""

    def plan(self, kind: str) -> _Plan | None:
        if kind not in self.plans:
            rules = self.by_target.get(kind)
            self.plans[kind] = _Plan(rules, self.guards) if rules else None
        return self.plans[kind]

    def run(self, facts: Iterable[Fact], line_of: Callable[[str, int], str]) -> list[Finding]:
        findings: list[Finding] = []
        plans = self.plans
        for fact in facts:
            plan = plans[fact.kind] if fact.kind in plans else self.plan(fact.kind)
            if plan is None:
                continue
            for rule, clauses in plan.candidates(fact.data):
                if clauses and not _passes(fact.data, clauses):
                    continue
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
        fix = _fix_plan(rule, node, root, anchor, span, witnesses) if rule.fix else None
        return Finding(
            rule_id=rule.id,
            rule_name=rule.name,
            title=rule.title,
            category=rule.category,
            severity=severity,
            path=fact.path,
            span=span,
            message=message,
            source_line=excerpt(line_of(fact.path, span.line), span.col),
            key=fact.key,
            annotations=fact.annotations,
            fix=fix,
        )


_FILLED = frozenset({"value", "replacement"})
"""Fix arguments whose ``{path}`` placeholders are filled from the fact, like messages."""


def _fix_plan(
    rule: Rule, node: Any, root: Any, anchor: Span, span: Span, witnesses: Sequence[Hit]
) -> FixPlan | None:
    """The rule's fix for this finding, when its own condition holds here."""
    spec = rule.fix
    if spec is None or (spec.when is not None and spec.when(node, root) is None):
        return None
    args = spec.args
    if any(k in _FILLED and isinstance(v, str) and "{" in v for k, v in args):
        filled = []
        for k, raw in args:
            value = raw
            if k in _FILLED and isinstance(raw, str) and "{" in raw:
                for m in _PLACEHOLDER.finditer(raw):
                    if render(m.group(0), node, root, witnesses) in ("", m.group(0)):
                        return None  # a value the fix needs is missing here
                value = render(raw, node, root, witnesses)
            filled.append((k, value))
        args = tuple(filled)
    where = span
    if spec.at:
        hits = next((h for path in spec.at if (h := resolve(node, path))), None)
        if hits is None or hits[0].span is None:
            return None
        where = _value_span(hits[0])
    return FixPlan(spec.operation, spec.applicability, spec.description, where, anchor, args)


def _value_span(hit: Hit) -> Span:
    """The span of the value itself (a hit's span covers ``key: value`` on one line)."""
    holder = hit._holder
    if isinstance(holder, PDict):
        vspan = holder.vspan.get(hit._index)
        if vspan is not None:
            return vspan
    return hit.span
