"""Rule conditions compiled into functions over positioned fact trees.

A condition describes the *violation*. Its grammar (validated by
``rules/rule.schema.json``):

* ``{path: P, <operator>: argument, …}`` — a leaf. The operators of one leaf must all
  hold for the same value at ``P``. With a wildcard path, one matching value suffices.
* ``{all: [c, …]}``, ``{any: [c, …]}``, ``{not: c}`` — combinators.
* ``{some: P, where: c}`` / ``{every: P, where: c}`` — quantifiers over the values at
  ``P`` (usually list items); ``where`` paths are relative to each value.

Paths are relative to the current value; a ``$root.`` prefix starts at the fact itself.
Value operators apply only to values that exist: ``{path: x, not-in: [a]}`` does not
match when ``x`` is absent (use ``exists: false`` for that).

A compiled condition returns ``None`` when it does not match, otherwise the *witnesses*:
the :class:`~mlsec_lint.tree.Hit` values that made it match, most specific first. The
first witness is where a finding points unless the rule says ``at:``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.engine.classifiers import CLASSIFIERS
from mlsec_lint.engine.literals import may_match
from mlsec_lint.model import Span
from mlsec_lint.tree import (
    MISSING,
    UNKNOWN,
    Hit,
    key_path,
    lookup,
    parse_path,
    resolve_keys,
    resolve_segs,
    values_at,
)

Cond = Callable[[Any, Any], "list[Hit] | None"]
"""(current value, fact root) -> witnesses, or None when the condition does not hold."""


class RuleSyntaxError(ValueError):
    pass


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value


def _as_text(value: Any) -> str | None:
    if value is None or value is UNKNOWN or isinstance(value, (dict, list)):
        return None
    return str(_norm(value))


def _version(value: Any) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(str(value).strip())
    except (InvalidVersion, TypeError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value is UNKNOWN:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _op_equals(arg: Any) -> Callable[[Any], bool]:
    want = _norm(arg)
    return lambda v: _norm(v) == want


def _op_in(arg: Any) -> Callable[[Any], bool]:
    if not isinstance(arg, list):
        raise RuleSyntaxError("'in' needs a list")
    wanted = {_norm(a) for a in arg if not isinstance(a, (dict, list))}
    return lambda v: not isinstance(v, (dict, list)) and _norm(v) in wanted


USER_PATTERNS: dict[str, int | None] = {"limit": None}
"""While user rules compile: how many characters of a value their patterns look at
(None for the audited built-in patterns, which are linear)."""


def _op_regex(arg: Any) -> Callable[[Any], bool]:
    try:
        rx = re.compile(str(arg))
    except re.error as exc:
        raise RuleSyntaxError(f"invalid regex {arg!r}: {exc}") from None
    limit = USER_PATTERNS["limit"]
    if limit is not None:
        from mlsec_lint.linear import backtracking_hazard

        hazard = backtracking_hazard(str(arg))
        if hazard:
            raise RuleSyntaxError(
                f"regex {arg!r} may take exponential time ({hazard}); "
                "rewrite it without nested repetition, e.g. '[.\\w]*' for '(\\.\\w+)*'"
            )

    def test(v: Any) -> bool:
        s = _as_text(v)
        if s is None:
            return False
        return rx.search(s if limit is None else s[:limit]) is not None

    return test


def _lazy_regex(arg: Any) -> Callable[[Any], bool]:
    """``regex`` compiled the first time it tests a value that holds its literal (see
    :mod:`mlsec_lint.engine.literals`), for built-in rules, whose patterns the test
    suite compiles: most of them never meet such a value in a short scan."""
    pattern = str(arg)
    compiled: list[re.Pattern[str]] = []

    def test(v: Any) -> bool:
        s = _as_text(v)
        if s is None or not may_match(pattern, s):
            return False
        if not compiled:
            compiled.append(re.compile(pattern))
        return compiled[0].search(s) is not None

    return test


def _op_is(arg: Any) -> Callable[[Any], bool]:
    names = arg if isinstance(arg, list) else [arg]
    fns = []
    for name in names:
        if name not in CLASSIFIERS:
            known = ", ".join(sorted(CLASSIFIERS))
            raise RuleSyntaxError(f"unknown classifier {name!r} (known: {known})")
        fns.append(CLASSIFIERS[name])
    # classifiers are functions of the value (and of the knowledge tables, whose
    # generation is checked); strings repeat across a scan
    memo: dict[str, bool] = {}
    seen = [knowledge.GENERATION[0]]

    def test(v: Any) -> bool:
        if isinstance(v, str):
            if seen[0] != knowledge.GENERATION[0]:
                memo.clear()
                seen[0] = knowledge.GENERATION[0]
            hit = memo.get(v)
            if hit is None:
                hit = any(f(v) for f in fns)
                if len(v) <= _MEMO_TEXT and len(memo) < _MEMO_SIZE:
                    memo[v] = hit
            return hit
        return any(f(v) for f in fns)

    return test


_MEMO_TEXT = 512
_MEMO_SIZE = 65_536


def _op_contains(arg: Any) -> Callable[[Any], bool]:
    want = _norm(arg)

    def test(v: Any) -> bool:
        if isinstance(v, list):
            return any(_norm(x) == want for x in v)
        if isinstance(v, dict):
            return arg in v
        s = _as_text(v)
        return s is not None and str(want) in s

    return test


def _op_empty(arg: Any) -> Callable[[Any], bool]:
    want = bool(arg)

    def test(v: Any) -> bool:
        empty = v is None or (isinstance(v, (str, list, dict)) and len(v) == 0)
        return empty == want

    return test


def _cmp(fn: Callable[[float, float], bool]) -> Callable[[Any], Callable[[Any], bool]]:
    def make(arg: Any) -> Callable[[Any], bool]:
        bound = _number(arg)
        if bound is None:
            raise RuleSyntaxError(f"numeric comparison needs a number, got {arg!r}")

        def test(v: Any) -> bool:
            n = _number(v)
            return n is not None and fn(n, bound)

        return test

    return make


def _vcmp(fn: Callable[[Any, Any], bool]) -> Callable[[Any], Callable[[Any], bool]]:
    def make(arg: Any) -> Callable[[Any], bool]:
        bound = _version(arg)
        if bound is None:
            raise RuleSyntaxError(f"version comparison needs a PEP 440 version, got {arg!r}")

        def test(v: Any) -> bool:
            ver = _version(v) if _as_text(v) is not None else None
            return ver is not None and fn(ver, bound)

        return test

    return make


def _lazy_vcmp(fn: Callable[[Any, Any], bool]) -> Callable[[Any], Callable[[Any], bool]]:
    """A version comparison whose bound is parsed when it first meets a version (for
    built-in rules, whose bounds the test suite checks): ``packaging`` is imported only
    by a scan that compares versions."""

    def make(arg: Any) -> Callable[[Any], bool]:
        bound: list[Any] = []

        def test(v: Any) -> bool:
            ver = _version(v) if _as_text(v) is not None else None
            if ver is None:
                return False
            if not bound:
                bound.append(_version(arg))
            return bound[0] is not None and fn(ver, bound[0])

        return test

    return make


def _negate(make: Callable[[Any], Callable[[Any], bool]]) -> Callable[[Any], Callable[[Any], bool]]:
    def neg(arg: Any) -> Callable[[Any], bool]:
        inner = make(arg)
        return lambda v: not inner(v)

    return neg


VALUE_OPS: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "equals": _op_equals,
    "not-equals": _negate(_op_equals),
    "in": _op_in,
    "not-in": _negate(_op_in),
    "regex": _op_regex,
    "not-regex": _negate(_op_regex),
    "is": _op_is,
    "is-not": _negate(_op_is),
    "contains": _op_contains,
    "not-contains": _negate(_op_contains),
    "empty": _op_empty,
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "version-lt": _vcmp(lambda a, b: a < b),
    "version-le": _vcmp(lambda a, b: a <= b),
    "version-gt": _vcmp(lambda a, b: a > b),
    "version-ge": _vcmp(lambda a, b: a >= b),
}

COMBINATORS = ("all", "any", "not", "some", "every")


def _resolver(path: str) -> Callable[[Any, Any], list[Hit]]:
    if path == "$root":
        return lambda node, root: [Hit(root, getattr(root, "span", Span(1, 1, 1, 1)))]
    from_root = path.startswith("$root.")
    try:
        segs = parse_path(path[6:] if from_root else path)
    except ValueError as exc:
        raise RuleSyntaxError(str(exc)) from None
    keys = key_path(segs)
    if keys:  # plain keys: no per-call look-up of the path's form
        if from_root:
            return lambda node, root: resolve_keys(root, keys)
        return lambda node, root: resolve_keys(node, keys)
    if from_root:
        return lambda node, root: resolve_segs(root, segs)
    return lambda node, root: resolve_segs(node, segs)


def _values_of(path: str) -> Callable[[Any, Any], list[Any]]:
    """The values :func:`_resolver` finds, in its order, without building their hits
    (most values a quantifier or a wildcard leaf meets are no witness)."""
    if path == "$root":
        return lambda node, root: [root]
    from_root = path.startswith("$root.")
    try:
        segs = parse_path(path[6:] if from_root else path)
    except ValueError as exc:
        raise RuleSyntaxError(str(exc)) from None
    keys = key_path(segs)
    if keys:
        return functools.partial(_value_at_keys, keys=keys, from_root=from_root)
    if from_root:
        return lambda node, root: values_at(root, segs)
    return lambda node, root: values_at(node, segs)


def _value_at_keys(node: Any, root: Any, keys: tuple[str, ...], from_root: bool) -> list[Any]:
    cur = root if from_root else node
    for key in keys:
        if not isinstance(cur, dict) or key not in cur:
            return []
        cur = cur[key]
    return [cur]


def _plain_keys(path: str) -> tuple[tuple[Any, ...], bool] | None:
    """(keys, from the fact root) for a path of keys and list indexes, else None."""
    from_root = path.startswith("$root.")
    if path == "$root":
        return None
    try:
        segs = parse_path(path[6:] if from_root else path)
    except ValueError:
        return None
    if all(seg.kind in ("key", "index") for seg in segs):
        return tuple(seg.key for seg in segs), from_root
    return None


_LAZY_OPS: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "regex": _lazy_regex,
    "not-regex": _negate(_lazy_regex),
    "version-lt": _lazy_vcmp(lambda a, b: a < b),
    "version-le": _lazy_vcmp(lambda a, b: a <= b),
    "version-gt": _lazy_vcmp(lambda a, b: a > b),
    "version-ge": _lazy_vcmp(lambda a, b: a >= b),
}


def compile_condition(spec: Any, lazy_regex: bool = False) -> Cond:
    """Compile a condition mapping; raises :class:`RuleSyntaxError` on a bad spec.

    With ``lazy_regex`` a regular expression is compiled when it first tests a value
    (and an invalid one raises then), and a version bound is parsed when it first meets
    a version: for conditions whose syntax is already checked."""
    if not isinstance(spec, dict) or not spec:
        raise RuleSyntaxError(f"a condition must be a non-empty mapping, got {spec!r}")
    combos = [k for k in spec if k in COMBINATORS]
    if combos:
        return _compile_combinator(spec, combos, lazy_regex)
    if "path" not in spec:
        raise RuleSyntaxError(
            f"condition needs 'path' or one of {', '.join(COMBINATORS)}: {spec!r}"
        )
    return _compile_leaf(spec, lazy_regex)


def _compile_combinator(spec: dict[str, Any], combos: list[str], lazy: bool) -> Cond:
    if len(combos) > 1:
        raise RuleSyntaxError(f"one combinator per condition, got {combos}")
    op = combos[0]
    extra = set(spec) - {op, "where"}
    if extra:
        raise RuleSyntaxError(f"unexpected keys {sorted(extra)} next to {op!r}")
    arg = spec[op]
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise RuleSyntaxError(f"{op!r} needs a non-empty list of conditions")
        subs = [compile_condition(s, lazy) for s in arg]
        if len(subs) == 2:  # the most common shape: no loop
            return _all2(*subs) if op == "all" else _any2(*subs)
        if op == "all":

            def all_(node: Any, root: Any) -> list[Hit] | None:
                out: list[Hit] = []
                for sub in subs:
                    w = sub(node, root)
                    if w is None:
                        return None
                    out.extend(w)
                return out

            return all_

        def any_(node: Any, root: Any) -> list[Hit] | None:
            for sub in subs:
                w = sub(node, root)
                if w is not None:
                    return w
            return None

        return any_
    if op == "not":
        sub = compile_condition(arg, lazy)
        return lambda node, root: [] if sub(node, root) is None else None
    # some / every
    if not isinstance(arg, str) or "where" not in spec:
        raise RuleSyntaxError(f"{op!r} needs a path and a 'where' condition")
    get = _resolver(arg)
    values_of = _values_of(arg)
    where = compile_condition(spec["where"], lazy)
    if op == "some":

        def some(node: Any, root: Any) -> list[Hit] | None:
            for i, value in enumerate(values_of(node, root)):
                w = where(value, root)
                if w is not None:
                    return [*w, get(node, root)[i]]  # the hit of the value that matched
            return None

        return some

    def every(node: Any, root: Any) -> list[Hit] | None:
        out: list[Hit] = []
        for value in values_of(node, root):
            w = where(value, root)
            if w is None:
                return None
            out.extend(w)
        return out

    return every


def _all2(first: Cond, second: Cond) -> Cond:
    def all2(node: Any, root: Any) -> list[Hit] | None:
        w = first(node, root)
        if w is None:
            return None
        v = second(node, root)
        return None if v is None else w + v

    return all2


def _any2(first: Cond, second: Cond) -> Cond:
    def any2(node: Any, root: Any) -> list[Hit] | None:
        w = first(node, root)
        return w if w is not None else second(node, root)

    return any2


def _compile_leaf(spec: dict[str, Any], lazy: bool = False) -> Cond:
    path = spec["path"]
    if not isinstance(path, str):
        raise RuleSyntaxError(f"'path' must be a string, got {path!r}")
    get = _resolver(path)
    ops = {k: v for k, v in spec.items() if k != "path"}
    unknown = set(ops) - set(VALUE_OPS) - {"exists"}
    if unknown:
        raise RuleSyntaxError(f"unknown operator(s) {sorted(unknown)} for path {path!r}")
    exists = ops.pop("exists", None)
    if exists is not None and not isinstance(exists, bool):
        raise RuleSyntaxError(f"'exists' must be true or false for path {path!r}")
    if exists is False:
        if ops:
            raise RuleSyntaxError(
                f"'exists: false' cannot be combined with value operators ({path!r})"
            )
        absent = _plain_keys(path)
        if absent is not None and all(isinstance(k, str) for k in absent[0]):
            return _absent_leaf(*absent)
        if absent is not None:
            keys_, top = absent
            return lambda node, root: (
                [] if lookup(root if top else node, keys_) is MISSING else None
            )
        values_of = _values_of(path)
        return lambda node, root: [] if not values_of(node, root) else None
    tests = [
        (_LAZY_OPS[name] if lazy and name in _LAZY_OPS else VALUE_OPS[name])(arg)
        for name, arg in ops.items()
    ]
    plain = _plain_keys(path)
    if plain is not None and all(isinstance(k, str) for k in plain[0]):
        if list(ops) == ["equals"] and isinstance(_norm(ops["equals"]), str):
            return _equals_leaf(plain[0], plain[1], _norm(ops["equals"]))
        return _key_leaf(plain[0], plain[1], tests)
    if plain is not None:
        # a path of plain keys: test the value by direct lookup and build a Hit (with its
        # span) only for a match; most tests fail, and this is the hot loop of a scan
        keys, from_root = plain

        def plain_leaf(node: Any, root: Any) -> list[Hit] | None:
            value = lookup(root if from_root else node, keys)
            if value is MISSING:
                return None
            for t in tests:
                if not t(value):
                    return None
            return get(node, root)[:1]

        return plain_leaf
    values_of = _values_of(path)
    if not tests:
        return lambda node, root: get(node, root)[:1] if values_of(node, root) else None

    def leaf(node: Any, root: Any) -> list[Hit] | None:
        for i, value in enumerate(values_of(node, root)):
            if all(t(value) for t in tests):
                return [get(node, root)[i]]  # a hit only for the value that matched
        return None

    return leaf


def _key_leaf(keys: tuple[str, ...], from_root: bool, tests: list[Callable[[Any], bool]]) -> Cond:
    """A leaf on a path of mapping keys (the usual one): the value is looked up once,
    tested, and the witness built from the mapping that holds it, only for a match."""
    *parents, last = keys

    def key_leaf(node: Any, root: Any) -> list[Hit] | None:
        holder = root if from_root else node
        for key in parents:
            if not isinstance(holder, dict) or key not in holder:
                return None
            holder = holder[key]
        if not isinstance(holder, dict) or last not in holder:
            return None
        value = holder[last]
        for t in tests:
            if not t(value):
                return None
        return [Hit(value, None, holder, last)]

    return key_leaf


def _equals_leaf(keys: tuple[str, ...], from_root: bool, want: str) -> Cond:
    """A key leaf whose one operator is ``equals`` a text (the most common leaf): the
    comparison inline, ``_norm`` only for a value that is not text."""
    *parents, last = keys

    def equals_leaf(node: Any, root: Any) -> list[Hit] | None:
        holder = root if from_root else node
        for key in parents:
            if not isinstance(holder, dict) or key not in holder:
                return None
            holder = holder[key]
        if not isinstance(holder, dict) or last not in holder:
            return None
        value = holder[last]
        if value == want if type(value) is str else _norm(value) == want:
            return [Hit(value, None, holder, last)]
        return None

    return equals_leaf


def _absent_leaf(keys: tuple[str, ...], from_root: bool) -> Cond:
    """``exists: false`` on a path of mapping keys."""
    *parents, last = keys

    def absent_leaf(node: Any, root: Any) -> list[Hit] | None:
        holder = root if from_root else node
        for key in parents:
            if not isinstance(holder, dict) or key not in holder:
                return []
            holder = holder[key]
        return None if isinstance(holder, dict) and last in holder else []

    return absent_leaf


def compile_select(spec: Any) -> Cond | None:
    """``select: {path: value-or-list}``: a cheap pre-filter, all entries must hold."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise RuleSyntaxError("'select' must be a mapping of path -> value or list of values")
    conds = [
        compile_condition({"path": p, "in": v if isinstance(v, list) else [v]})
        for p, v in spec.items()
    ]

    def select(node: Any, root: Any) -> list[Hit] | None:
        for c in conds:
            if c(node, root) is None:
                return None
        return []

    return select
