"""Evaluating rules against facts: the only place findings are created."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.engine.classifiers import CLASSIFIERS
from mlsec_lint.engine.literals import may_match
from mlsec_lint.engine.predicates import VALUE_OPS, _as_text, _norm
from mlsec_lint.engine.rules import Rule, parse_rule
from mlsec_lint.facts import Fact
from mlsec_lint.model import Finding, FixPlan, Span
from mlsec_lint.source import excerpt
from mlsec_lint.tree import (
    MISSING,
    UNKNOWN,
    Hit,
    PDict,
    Seg,
    compiled_path,
    lookup,
    parse_path,
    resolve,
    to_plain,
    values_at,
)

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


EMPTY_FIELD = "unknown"
"""What a placeholder renders as when the facts hold no value for it: a message never
shows an empty field (``(pinned at )``, ``ports ''``)."""


def render(
    template: str, node: Any, root: Any, witnesses: Sequence[Hit], missing: str = EMPTY_FIELD
) -> str:
    """Fill ``{path}`` (relative to ``node``), ``{$root.path}`` and ``{$value}``; a
    placeholder without a value becomes ``missing``."""
    out: list[str] = []
    for piece in _template(template):
        if isinstance(piece, str):
            out.append(piece)
            continue
        where, keys, segs = piece
        if where is None:  # {$value}
            value = witnesses[0].value if witnesses else MISSING
        else:
            base = root if where else node
            if keys is not None:
                value = _at_keys(base, keys)
            else:
                values = values_at(base, segs)
                value = values[0] if values else MISSING
        if type(value) is str:  # most placeholders: no conversion
            out.append(value or missing)
        else:
            out.append((_text(value) if value is not MISSING else "") or missing)
    return "".join(out)


def _at_keys(base: Any, keys: tuple[Any, ...]) -> Any:
    """The value at a path of mapping keys (text) and list indexes (numbers), or
    :data:`MISSING`: what :func:`~mlsec_lint.tree.values_at` finds first, without lists."""
    cur = base
    for key in keys:
        if type(key) is int:
            if not isinstance(cur, list) or not -len(cur) <= key < len(cur):
                return MISSING
        elif not isinstance(cur, dict) or key not in cur:
            return MISSING
        cur = cur[key]
    return cur


Placeholder = tuple[bool | None, tuple[Any, ...] | None, tuple[Seg, ...]]
"""A placeholder of a template: from the root (True), the node (False) or the first
witness's value (None), and its path (keys and list indexes when it has no wildcard,
segments)."""


@functools.lru_cache(maxsize=2048)
def _template(template: str) -> tuple[str | Placeholder, ...]:
    """A message template cut into its text and its placeholders (parsed once; a
    placeholder whose path does not parse stays text)."""
    pieces: list[str | Placeholder] = []
    at = 0
    for m in _PLACEHOLDER.finditer(template):
        pieces.append(template[at : m.start()])
        at = m.end()
        name = m.group(1)
        if name == "$value":
            pieces.append((None, None, ()))
            continue
        from_root = name.startswith("$root.")
        try:
            segs, _ = compiled_path(name[6:] if from_root else name)
        except ValueError:
            pieces.append(m.group(0))
            continue
        plain = all(seg.kind in ("key", "index") for seg in segs)
        pieces.append((from_root, tuple(seg.key for seg in segs) if plain else None, segs))
    pieces.append(template[at:])
    return tuple(p for p in pieces if p != "")


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
``("has", keys)``: the path exists; ``("re", keys, test)`` / ``("is", keys, test)``: the
value matches one of a few regular expressions / classifiers (a :class:`ValueTest`)."""
Clause = tuple[Atom, ...]
"""At least one atom holds."""
Guard = Clause

_VALUE_OPS = frozenset(VALUE_OPS)
_BOOLEANS = frozenset({"true", "false"})


def _keys(path: Any) -> tuple[Any, ...] | None:
    if not isinstance(path, str) or path.startswith("$root"):
        return None
    return _plain_keys(path)


@functools.lru_cache(maxsize=4096)
def _plain_keys(path: str) -> tuple[Any, ...] | None:
    """The keys of a path of plain keys and indexes, else None."""
    try:
        segs = parse_path(path)
    except ValueError:
        return None
    if all(seg.kind in ("key", "index") for seg in segs):
        return tuple(seg.key for seg in segs)
    return None


def _each_keys(path: Any) -> tuple[tuple[Any, ...], str] | None:
    """``a.b.*`` / ``a.b[*]``: the plain keys of the container and how to iterate it."""
    if not isinstance(path, str) or path.startswith("$root"):
        return None
    return _container_keys(path)


@functools.lru_cache(maxsize=4096)
def _container_keys(path: str) -> tuple[tuple[Any, ...], str] | None:
    try:
        segs = parse_path(path)
    except ValueError:
        return None
    *head, last = segs
    if last.kind in ("keys", "items") and all(seg.kind in ("key", "index") for seg in head):
        return tuple(seg.key for seg in head), last.kind
    return None


_VALUE_KINDS = frozenset({"in", "re", "is"})
"""Atoms that test the value at their path (not only its presence)."""


def _single_path(clause: Clause) -> Any:
    """The path every atom of ``clause`` tests the value of, or None."""
    paths = {a[1] for a in clause}
    kinds = {a[0] for a in clause}
    if len(paths) == 1 and kinds <= {*_VALUE_KINDS, "has"} and kinds & _VALUE_KINDS:
        return clause[0][1]
    return None


def _scalar_values(values: Any) -> frozenset[Any] | None:
    items = values if isinstance(values, list) else [values]
    if not items or any(v is None or isinstance(v, (dict, list)) for v in items):
        return None
    return frozenset(_norm(v) for v in items)


class ValueTest:
    """A guard on a value: one of some regular expressions matches it (``re``) or one of
    some classifiers holds for it (``is``), remembered per value. Calls repeat their
    callee and argument strings, so a guard mostly costs a dictionary lookup."""

    __slots__ = ("generation", "items", "kind", "memo")
    MEMO_LIMIT = 65_536
    TEXT_LIMIT = 512

    def __init__(self, kind: str, items: Iterable[str]) -> None:
        self.kind = kind
        self.items = tuple(sorted(set(items)))
        self.memo: dict[str, bool] = {}
        self.generation = knowledge.GENERATION[0]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueTest) and (other.kind, other.items) == (self.kind, self.items)

    def __hash__(self) -> int:
        return hash((self.kind, self.items))

    def __repr__(self) -> str:
        return f"ValueTest({self.kind!r}, {self.items!r})"

    def __call__(self, value: Any) -> bool:
        if self.kind == "re":
            text = _as_text(value)
            if text is None:
                return False
            key: Any = text
        else:
            key = value if isinstance(value, str) else None
            if self.generation != knowledge.GENERATION[0]:  # the tables changed
                self.memo.clear()
                self.generation = knowledge.GENERATION[0]
        if key is not None:
            hit = self.memo.get(key)
            if hit is not None:
                return hit
        hit = self._test(value)
        if key is not None and len(key) <= self.TEXT_LIMIT and len(self.memo) < self.MEMO_LIMIT:
            self.memo[key] = hit
        return hit

    def _test(self, value: Any) -> bool:
        if self.kind == "re":
            text = _as_text(value)
            # a pattern whose literal the text lacks is never compiled nor run
            return text is not None and any(
                may_match(p, text) and re.search(p, text) for p in self.items
            )
        return any(CLASSIFIERS[name](value) for name in self.items)


def _score(clause: Clause) -> int:
    """Lower is more selective: small value sets, then deep paths (top-level fields of a
    fact are usually always present)."""
    total = 0
    for atom in clause:
        if atom[0] == "in" and atom[2] <= _BOOLEANS:
            total += 5_000  # a flag: true or false for most facts, barely selective
        elif atom[0] == "in":
            total += len(atom[2])
        elif atom[0] == "re":
            total += 50 * len(atom[2].items)
        elif atom[0] == "is":
            total += 90 * len(atom[2].items)
        elif atom[0] == "some":
            total += 200 * len(atom[2].items)
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
        branches = [_guards(child) for child in spec["any"]]
        if not all(branches):
            return []  # a branch with no guard: nothing is implied
        # each branch's clauses, most selective first (ties in their order)
        ordered = [
            sorted(clauses, key=_score) if len(clauses) > 1 else clauses for clauses in branches
        ]
        singles = [[_single_path(c) for c in clauses] for clauses in ordered]
        # a path that every branch tests the value of: one memoizable guard (see _Plan)
        shared = set.intersection(*({p for p in paths if p is not None} for paths in singles))
        if shared:
            path = min(shared, key=repr)
            best = [
                next(c for c, p in zip(clauses, paths, strict=True) if p == path)
                for clauses, paths in zip(ordered, singles, strict=True)
            ]
        else:
            best = [clauses[0] for clauses in ordered]
        found = [_either(best)]
        # every clause of a branch holds when the branch does: the j-th most selective
        # clause of each branch (its last when it has fewer) is another necessary
        # condition, and one that tests other fields (``kwargs.verify`` as well as
        # ``function``) rules out facts the first let through
        for j in range(1, min(_MORE_CLAUSES, max(map(len, ordered)))):
            clause = _either([cs[min(j, len(cs) - 1)] for cs in ordered])
            if clause not in found:
                found.append(clause)
        return found
    path = spec.get("path")
    exists = spec.get("exists")
    if not isinstance(path, str) or exists is False:
        return []  # a combinator without a guard (``not``, ``some``), or an absence
    keys = _keys(path)
    if keys is None:
        each = _each_keys(path)
        test = _value_test(spec) if each is not None else None
        if each is not None and test is not None:
            return [(("some", each[0], test, each[1]),)]  # some item passes the test
        return []
    if "equals" in spec or "in" in spec:
        values = _scalar_values(spec["equals"] if "equals" in spec else spec["in"])
        if values is not None:
            return [(("in", keys, values),)]
    test = _value_test(spec)
    if test is not None:
        return [((test.kind, keys, test),)]
    if exists is True or any(op in _VALUE_OPS for op in spec):
        return [(("has", keys),)]  # value operators only hold for values that exist
    return []


_MORE_CLAUSES = 4
"""Clauses derived from one ``any`` condition (one per rank of its branches' clauses)."""


def _either(clauses: list[Clause]) -> Clause:
    """One clause that holds when one of ``clauses`` does: their atoms, with the value
    sets and tests on one path merged (a presence test on a path covers value tests)."""
    merged: dict[Any, set[Any]] = {}
    tests: dict[tuple[Any, ...], set[str]] = {}
    has: set[tuple[Any, ...]] = set()
    for clause in clauses:
        for atom in clause:
            if atom[0] == "in":
                merged.setdefault(atom[1], set()).update(atom[2])
            elif atom[0] in ("re", "is"):
                tests.setdefault((atom[0], atom[1], atom[2].kind), set()).update(atom[2].items)
            elif atom[0] == "some":
                key = (atom[0], atom[1], atom[2].kind, atom[3])
                tests.setdefault(key, set()).update(atom[2].items)
            else:
                has.add(atom[1])
    atoms: list[Atom] = [("has", k) for k in sorted(has, key=repr)]
    atoms += [("in", k, frozenset(v)) for k, v in merged.items() if k not in has]
    for key, items in tests.items():
        kind, k, test_kind = key[0], key[1], key[2]
        if kind == "some":
            atoms.append((kind, k, ValueTest(test_kind, items), key[3]))
        elif k not in has:
            atoms.append((kind, k, ValueTest(test_kind, items)))
    return tuple(atoms)


def _value_test(spec: dict[str, Any]) -> ValueTest | None:
    """The ``regex`` or ``is`` test of a condition leaf, as a guard."""
    if isinstance(spec.get("regex"), str):
        return ValueTest("re", [spec["regex"]])
    names = spec.get("is")
    wanted = [names] if isinstance(names, str) else names
    if (
        isinstance(wanted, list)
        and wanted
        and all(isinstance(n, str) and n in CLASSIFIERS for n in wanted)
    ):
        return ValueTest("is", wanted)
    return None


def rule_guards(rule: Rule) -> list[Clause]:
    """Guards of a rule from its ``select`` and ``when`` (none for ``each`` rules); a
    built-in rule's bundle holds them (:func:`encode_guards`)."""
    if rule.guards is not None:
        return decode_guards(rule.guards)
    found: list[Clause] = []
    for path, value in (rule.select_spec or {}).items():
        found.extend(_guards({"path": path, "in": value if isinstance(value, list) else [value]}))
    if rule.each is None:
        found.extend(_guards(rule.when_spec))
    return sorted(found, key=_score)


def encode_guards(clauses: list[Clause]) -> list[list[list[Any]]]:
    """Guards as JSON data (tuples as lists, value sets sorted), for a bundle."""
    out = []
    for clause in clauses:
        atoms: list[list[Any]] = []
        for atom in clause:
            kind, keys = atom[0], list(atom[1])
            if kind == "in":
                atoms.append([kind, keys, sorted(atom[2], key=repr)])
            elif kind == "has":
                atoms.append([kind, keys])
            elif kind == "some":
                atoms.append([kind, keys, atom[2].kind, list(atom[2].items), atom[3]])
            else:  # "re" / "is": a test of that kind
                atoms.append([kind, keys, list(atom[2].items)])
        out.append(atoms)
    return out


def derived_data(files: list[tuple[str, Any]]) -> dict[str, Any]:
    """What a bundle of built-in rules holds besides the files (see
    :mod:`mlsec_lint.bundles`): each rule's index guards, which take a
    one-file scan longer to derive than to read."""
    rules = [parse_rule(data, name) for name, data in files]
    return {"guards": {r.id: encode_guards(rule_guards(r)) for r in rules}}


def decode_guards(data: Any) -> list[Clause]:
    """The guards :func:`encode_guards` wrote."""
    out: list[Clause] = []
    for clause in data:
        atoms: list[Atom] = []
        for atom in clause:
            kind, keys = atom[0], tuple(atom[1])
            if kind == "in":
                atoms.append((kind, keys, frozenset(atom[2])))
            elif kind == "has":
                atoms.append((kind, keys))
            elif kind == "some":
                atoms.append((kind, keys, ValueTest(atom[2], atom[3]), atom[4]))
            else:
                atoms.append((kind, keys, ValueTest(kind, atom[2])))
        out.append(tuple(atoms))
    return out


def _atom_holds(data: Any, atom: Atom) -> bool:
    return _value_holds(lookup(data, atom[1]), atom)


def _value_holds(value: Any, atom: Atom) -> bool:
    """Whether ``atom`` holds for the value at its path (``MISSING`` when absent)."""
    if value is MISSING:
        return False
    if atom[0] == "has":
        return True
    if atom[0] == "some":
        test = atom[2]
        if atom[3] == "keys":
            return isinstance(value, dict) and any(test(v) for v in value.values())
        return isinstance(value, list) and any(test(v) for v in value)
    if atom[0] != "in":
        return bool(atom[2](value))
    if isinstance(value, (dict, list)):
        return False
    try:
        return _norm(value) in atom[2]
    except TypeError:
        return False


Check = Callable[[Any], bool]


def _clause_check(clause: Clause) -> Check:
    """One function for a clause (at least one atom holds). Presence tests of keys of
    one mapping (``kwargs.verify``, ``kwargs.ssl`` …) become one set intersection."""
    names: dict[tuple[Any, ...], set[str]] = {}
    valued: dict[tuple[Any, ...], list[Atom]] = {}
    others: list[Atom] = []
    for atom in clause:
        if atom[0] == "has" and isinstance(atom[1][-1], str):
            names.setdefault(atom[1][:-1], set()).add(atom[1][-1])
        elif atom[0] in _VALUE_KINDS and isinstance(atom[1][-1], str):
            valued.setdefault(atom[1][:-1], []).append(atom)
        else:
            others.append(atom)
    parts: list[Check] = [_has_any(prefix, frozenset(keys)) for prefix, keys in names.items()]
    parts += [_value_under(prefix, tuple(atoms)) for prefix, atoms in valued.items()]
    parts += [functools.partial(_atom_holds, atom=atom) for atom in others]
    if len(parts) == 1:
        return parts[0]
    return lambda data: any(part(data) for part in parts)


def _getter(prefix: tuple[Any, ...]) -> Callable[[Any], Any]:
    """``lookup`` of a path, without the loop for the usual one key (``kwargs``, ``callee``)."""
    if not prefix:
        return lambda data: data
    if len(prefix) == 1 and isinstance(prefix[0], str):
        key = prefix[0]
        return lambda data: data.get(key, MISSING) if isinstance(data, dict) else MISSING
    return functools.partial(lookup, keys=prefix)


def _has_any(prefix: tuple[Any, ...], keys: frozenset[str]) -> Check:
    parent_of = _getter(prefix)

    def check(data: Any) -> bool:
        parent = parent_of(data)
        return isinstance(parent, dict) and not keys.isdisjoint(parent)

    return check


def _value_under(prefix: tuple[Any, ...], atoms: tuple[Atom, ...]) -> Check:
    """Value tests of keys of one mapping (``kwargs.verify``, ``kwargs.ssl``): the
    mapping is looked up once, and a fact whose mapping has none of the keys (most
    calls) is ruled out by one set test."""
    keys = frozenset(atom[1][-1] for atom in atoms)
    parent_of = _getter(prefix)

    def check(data: Any) -> bool:
        parent = parent_of(data)
        if not isinstance(parent, dict) or keys.isdisjoint(parent):
            return False
        return any(_value_holds(parent[a[1][-1]], a) for a in atoms if a[1][-1] in parent)

    return check


Candidate = tuple[Rule, tuple[Check, ...]]
"""A rule and the checks of its remaining guards."""


def _key_paths(guards: Iterable[list[Clause]]) -> tuple[tuple[Any, ...], ...]:
    """The paths a fact kind's rules are indexed on: the path most guards test the value
    of (``callee`` for calls), then top-level fields tested in the same clauses as it by
    several rules (``function``, the callee's last name). The values at these paths are
    a fact's key: every guard atom on them is evaluated once per distinct key."""
    rules = list(guards)
    counts: dict[tuple[Any, ...], int] = defaultdict(int)  # rules, not clauses
    for gs in rules:
        # clauses on one path that test its value (not only its presence)
        for path in {
            c[0][1] for c in gs if len({a[1] for a in c}) == 1 and any(a[0] != "has" for a in c)
        }:
            counts[path] += 1
    if not counts:
        return ()
    primary = max(counts, key=lambda p: (counts[p], repr(p)))
    mates: dict[tuple[Any, ...], int] = defaultdict(int)
    for gs in rules:
        for path in {
            a[1]
            for c in gs
            if any(a[1] == primary and a[0] != "some" for a in c)
            for a in c
            if a[1] != primary and a[0] in _VALUE_KINDS and len(a[1]) == 1
        }:
            mates[path] += 1
    extra = sorted(
        (p for p, n in mates.items() if n >= _MATE_MIN), key=lambda p: (-mates[p], repr(p))
    )
    return (primary, *extra[: _KEY_PATHS - 1])


_MATE_MIN = 2
_KEY_PATHS = 3

KeyedClause = tuple[tuple[tuple[int, Atom], ...], Check | None]
"""The atoms of a guard clause on key paths (with the position of their path in the
key), and a check of its other atoms (None: it has none)."""


class _Plan:
    """How one fact kind meets the rules.

    The guards are indexed on a few paths most of them test (``callee`` and ``function``
    for calls, see :func:`_key_paths`). Guard atoms on those paths depend on their values
    alone, so they are evaluated once per distinct key (callees repeat across a
    repository) and remembered: a fact then meets only the rules whose guards its key
    passes, and checks what remains of their guards (a clause satisfied by the key needs
    no other check; one that is not is left with its atoms on other paths)."""

    MEMO_LIMIT = 65_536

    def __init__(self, rules: list[Rule], use_guards: bool = True) -> None:
        guards = {id(r): rule_guards(r) if use_guards else [] for r in rules}
        self.paths = _key_paths(guards.values())
        self.getters = tuple(_getter(path) for path in self.paths)
        position = {path: i for i, path in enumerate(self.paths)}
        self.rules: list[tuple[Rule, tuple[KeyedClause, ...], tuple[Check, ...]]] = []
        for rule in rules:
            keyed: list[KeyedClause] = []
            rest: list[Check] = []
            for c in guards[id(rule)]:
                on_key = tuple(
                    (position[a[1]], a) for a in c if a[0] != "some" and a[1] in position
                )
                others = tuple(a for a in c if a[0] == "some" or a[1] not in position)
                if not on_key:
                    rest.append(_clause_check(c))
                else:
                    keyed.append((on_key, _clause_check(others) if others else None))
            self.rules.append((rule, tuple(keyed), tuple(rest)))
        self.memo: dict[tuple[Any, ...], list[Candidate]] = {}
        self.generation = knowledge.GENERATION[0]

    def _for_key(self, values: tuple[Any, ...]) -> list[Candidate]:
        found: list[Candidate] = []
        for rule, keyed, rest in self.rules:
            residual: list[Check] = []
            for atoms, others in keyed:
                if any(_value_holds(values[i], atom) for i, atom in atoms):
                    continue
                if others is None:
                    break
                residual.append(others)
            else:
                found.append((rule, (*residual, *rest)))
        return found

    def candidates(self, data: Any) -> list[Candidate]:
        values = tuple([get(data) for get in self.getters])
        if self.generation != knowledge.GENERATION[0]:  # classifier answers may differ
            self.memo.clear()
            self.generation = knowledge.GENERATION[0]
        # 1, 1.0 and True are equal keys but not equal values
        key = tuple([(type(v), v) for v in values])
        try:
            found = self.memo.get(key)
        except TypeError:  # a container or an unhashable scalar
            return self._for_key(values)
        if found is None:
            found = self._for_key(values)
            if len(self.memo) < self.MEMO_LIMIT:
                self.memo[key] = found
        return found


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
            data = fact.data
            for rule, checks in plan.candidates(data):
                for passes in checks:
                    if not passes(data):
                        break
                else:
                    if rule.each is not None:
                        findings.extend(self.check(rule, fact, line_of))
                        continue
                    # one finding at most: no generator
                    if rule.select is not None and rule.select(data, data) is None:
                        continue
                    finding = self._finding(rule, fact, data, fact.anchor, line_of)
                    if finding is not None:
                        findings.append(finding)
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
                    if render(m.group(0), node, root, witnesses, missing="") in ("", m.group(0)):
                        return None  # a value the fix needs is missing here
                value = render(raw, node, root, witnesses, missing="")
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
