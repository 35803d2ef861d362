"""Positioned trees: the one data shape every parser produces and every rule queries.

A parsed document, and every fact extracted from it, is a tree of :class:`PDict` and
:class:`PList` whose leaves are plain Python scalars. Containers remember the source
span of each key and value, so any value a rule points at has a real line and column.

Paths address values in a tree: ``spec.template.spec.containers[*].image``.
Segments are separated by dots; ``[*]`` is every list item, ``[2]`` one item, ``*`` every
mapping value, and keys that contain dots or brackets are quoted:
``metadata.annotations."serving.kserve.io/s3-usehttps"``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast

from mlsec_lint.model import Span
from mlsec_lint.records import Struct


class _Unknown:
    """A value that exists but is not a literal (a Python expression, a shell variable)."""

    __slots__ = ()
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


_NO_SPAN = Span(1, 1, 1, 1)
"""The span of a tree built without one (spans are immutable, so one object serves)."""
_NO_SPANS: dict[Any, Span] = cast("dict[Any, Span]", MappingProxyType({}))
"""The span tables of a mapping without keys: shared, and read-only so that no write
can reach another mapping (:meth:`PDict.put` gives a mapping its own table)."""


class PDict(dict[Any, Any]):
    """A mapping with the span of the whole mapping and of each key and value."""

    __slots__ = ("kspan", "span", "vspan")

    def __init__(self, span: Span | None = None) -> None:
        super().__init__()
        self.span: Span = span or _NO_SPAN
        # one table for both while every value span is its key's span (most facts are
        # built that way): it halves the span tables; the first difference splits them.
        # Until the first key, both are one shared read-only empty table (many mappings,
        # such as the context of each fact, stay empty).
        self.kspan: dict[Any, Span] = _NO_SPANS
        self.vspan: dict[Any, Span] = _NO_SPANS

    def put(self, key: Any, value: Any, kspan: Span | None, vspan: Span | None = None) -> None:
        """Set ``key`` with its spans; a missing value span falls back to the key's."""
        self[key] = value
        span = vspan or kspan
        keys = self.kspan
        if keys is _NO_SPANS:
            keys = self.kspan = self.vspan = {}
        if keys is self.vspan:
            if span is kspan or span == kspan:
                if kspan is not None:
                    keys[key] = kspan
                return
            self.vspan = dict(keys)  # the tables differ from now on
        if kspan is not None:
            keys[key] = kspan
        if span is not None:
            self.vspan[key] = span

    def put_all(self, fields: Mapping[Any, Any], span: Span) -> None:
        """``put(key, value, span, span)`` for every field, in one step (the fields of a
        fact that all point at one place)."""
        self.update(fields)
        keys = self.kspan
        if keys is _NO_SPANS:
            self.kspan = self.vspan = dict.fromkeys(fields, span)
            return
        spans = dict.fromkeys(fields, span)
        keys.update(spans)
        if self.vspan is not keys:
            self.vspan.update(spans)

    def field_span(self, key: Any) -> Span:
        """The span of ``key: value``: the whole field when it fits on the key's line,
        otherwise the key alone (block values point at their key)."""
        k = self.kspan.get(key)
        v = self.vspan.get(key)
        if k is None:
            return v or self.span
        if v is not None and v.line == k.line and v.end_line == v.line and v != k:
            return Span(k.line, k.col, v.end_line, v.end_col)
        return k

    def __reduce__(self) -> Any:
        if self.kspan is _NO_SPANS:
            return (_rebuild_pdict, (dict(self), self.span, None, None))
        return (_rebuild_pdict, (dict(self), self.span, self.kspan, self.vspan))


class PList(list[Any]):
    """A sequence with the span of the whole sequence and of each item."""

    __slots__ = ("ispan", "span")

    def __init__(self, span: Span | None = None) -> None:
        super().__init__()
        self.span: Span = span or _NO_SPAN
        self.ispan: list[Span] = []

    def push(self, value: Any, span: Span | None) -> None:
        self.append(value)
        self.ispan.append(span or self.span)

    def item_span(self, index: int) -> Span:
        return self.ispan[index] if index < len(self.ispan) else self.span

    def __reduce__(self) -> Any:
        return (_rebuild_plist, (list(self), self.span, self.ispan))


def _rebuild_pdict(
    items: dict[Any, Any],
    span: Span,
    kspan: dict[Any, Span] | None,
    vspan: dict[Any, Span] | None,
) -> PDict:
    d = PDict(span)
    d.update(items)
    if kspan is not None and vspan is not None:
        d.kspan = kspan
        d.vspan = vspan
    return d


def _rebuild_plist(items: list[Any], span: Span, ispan: list[Span]) -> PList:
    lst = PList(span)
    lst.extend(items)
    lst.ispan = ispan
    return lst


def pdict_from(
    mapping: Mapping[str, Any], span: Span, spans: Mapping[str, Span] | None = None
) -> PDict:
    """Build a PDict from plain values; ``spans`` gives a field span per key."""
    d = PDict(span)
    for key, value in mapping.items():
        s = (spans or {}).get(key)
        d.put(key, value, s, s)
    return d


def plist_from(items: Sequence[Any], span: Span, spans: Sequence[Span] | None = None) -> PList:
    lst = PList(span)
    for i, item in enumerate(items):
        lst.push(item, spans[i] if spans and i < len(spans) else getattr(item, "span", span))
    return lst


def to_plain(value: Any) -> Any:
    """Strip positions: nested PDict/PList become dict/list (for JSON and messages)."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if value is UNKNOWN:
        return None
    return value


# --------------------------------------------------------------------------- paths

WILD_ITEMS = ("[*]",)
WILD_KEYS = ("*",)


class Seg(Struct, frozen=True):
    kind: str  # "key" | "index" | "items" | "keys"
    key: Any = None


@functools.lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[Seg, ...]:
    """Parse a path string into segments. Raises ValueError on malformed paths."""
    segs: list[Seg] = []
    i, n = 0, len(path)
    expect_key = True
    while i < n:
        c = path[i]
        if c == ".":
            if expect_key:
                raise ValueError(f"empty segment in path {path!r}")
            expect_key = True
            i += 1
            continue
        if c == "[":
            j = path.find("]", i)
            if j < 0:
                raise ValueError(f"unclosed '[' in path {path!r}")
            inner = path[i + 1 : j].strip()
            if inner == "*":
                segs.append(Seg("items"))
            elif inner.lstrip("-").isdigit():
                segs.append(Seg("index", int(inner)))
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                segs.append(Seg("key", inner[1:-1]))
            else:
                raise ValueError(f"bad index {inner!r} in path {path!r}")
            i = j + 1
            expect_key = False
            continue
        if not expect_key:
            raise ValueError(f"missing '.' before {path[i:]!r} in path {path!r}")
        if c in "'\"":
            j = path.find(c, i + 1)
            if j < 0:
                raise ValueError(f"unclosed quote in path {path!r}")
            segs.append(Seg("key", path[i + 1 : j]))
            i = j + 1
        else:
            j = i
            while j < n and path[j] not in ".[":
                j += 1
            name = path[i:j]
            segs.append(Seg("keys") if name == "*" else Seg("key", name))
            i = j
        expect_key = False
    if expect_key and segs:
        raise ValueError(f"path {path!r} ends with '.'")
    if not segs:
        raise ValueError("empty path")
    return tuple(segs)


class Hit:
    """A value found at a path, with the span of the field that holds it.

    The span is computed on first use: rules test many values, and only the few that
    end up in a finding need a position.
    """

    __slots__ = ("_holder", "_index", "_span", "value")

    def __init__(
        self, value: Any, span: Span | None = None, holder: Any = None, index: Any = None
    ) -> None:
        self.value = value
        self._span = span
        self._holder = holder
        self._index = index

    @property
    def span(self) -> Span:
        span = self._span
        if span is None:
            holder = self._holder
            if isinstance(holder, PDict):
                span = holder.field_span(self._index)
            elif isinstance(holder, PList):
                span = holder.item_span(self._index)
            else:
                span = getattr(holder, "span", None) or Span(1, 1, 1, 1)
            self._span = span
        return span

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hit) and (self.value, self.span) == (other.value, other.span)

    def __hash__(self) -> int:
        return hash((id(self.value), self.span))

    def __repr__(self) -> str:
        return f"Hit({self.value!r}, {self.span!r})"


@functools.lru_cache(maxsize=4096)
def key_path(segs: tuple[Seg, ...]) -> tuple[Any, ...] | None:
    """The keys of a path made only of plain keys (``a.b.c``), else None."""
    if all(seg.kind == "key" for seg in segs):
        return tuple(seg.key for seg in segs)
    return None


MISSING = object()
"""What :func:`lookup` returns for a path that does not exist."""


def lookup(root: Any, keys: tuple[Any, ...]) -> Any:
    """The value at a path of keys and list indexes (``a.b[0]``), or :data:`MISSING`
    (no span, no allocation)."""
    cur = root
    for key in keys:
        if isinstance(cur, dict):
            if key not in cur:
                return MISSING
            cur = cur[key]
        elif isinstance(cur, list) and type(key) is int and -len(cur) <= key < len(cur):
            cur = cur[key]
        else:
            return MISSING
    return cur


@functools.lru_cache(maxsize=4096)
def compiled_path(path: str) -> tuple[tuple[Seg, ...], tuple[Any, ...] | None]:
    """A path's segments and, for a path of plain keys, its keys: one cache lookup by
    the path string (a tuple of segments costs a hash of each segment per lookup)."""
    segs = parse_path(path)
    return segs, key_path(segs)


def resolve(root: Any, path: str | tuple[Seg, ...], anchor: Span | None = None) -> list[Hit]:
    """Every value at ``path`` below ``root``; empty when the path does not exist."""
    if isinstance(path, str):
        segs, keys = compiled_path(path)
    else:
        segs, keys = path, key_path(path)
    if keys:  # the common case: plain keys, no wildcard
        return resolve_keys(root, keys)
    return resolve_segs(root, segs, anchor)


def resolve_keys(root: Any, keys: tuple[Any, ...]) -> list[Hit]:
    """:func:`resolve` of a path of plain keys (``a.b.c``, see :func:`key_path`)."""
    holder: Any = None
    cur = root
    for key in keys:
        if not isinstance(cur, dict) or key not in cur:
            return []
        holder, cur = cur, cur[key]
    return [Hit(cur, None, holder, keys[-1])]


def resolve_segs(root: Any, segs: tuple[Seg, ...], anchor: Span | None = None) -> list[Hit]:
    """:func:`resolve` of parsed segments, step by step (any kind of segment)."""
    if not segs:
        return [Hit(root, getattr(root, "span", anchor or Span(1, 1, 1, 1)))]
    values = [root]
    for seg in segs[:-1]:
        values = _step_values(values, seg)
        if not values:
            return []
    return _step_hits(values, segs[-1])


def values_at(root: Any, segs: tuple[Seg, ...]) -> list[Any]:
    """The values of :func:`resolve_segs`, without their positions."""
    values = [root]
    for seg in segs:
        values = _step_values(values, seg)
        if not values:
            break
    return values


def _step_values(values: list[Any], seg: Seg) -> list[Any]:
    """The values one segment reaches from each of ``values``, in order."""
    kind, key = seg.kind, seg.key
    if kind == "key":
        return [v[key] for v in values if isinstance(v, dict) and key in v]
    if kind == "keys":
        return [x for v in values if isinstance(v, dict) for x in v.values()]
    if kind == "items":
        return [x for v in values if isinstance(v, list) for x in v]
    if kind == "index":
        return [v[key] for v in values if isinstance(v, list) and -len(v) <= key < len(v)]
    return []


def _step_hits(values: list[Any], seg: Seg) -> list[Hit]:
    """:func:`_step_values` as hits (the holder and key or index of each value)."""
    kind, key = seg.kind, seg.key
    if kind == "key":
        return [Hit(v[key], None, v, key) for v in values if isinstance(v, dict) and key in v]
    if kind == "keys":
        return [Hit(x, None, v, k) for v in values if isinstance(v, dict) for k, x in v.items()]
    if kind == "items":
        return [Hit(x, None, v, i) for v in values if isinstance(v, list) for i, x in enumerate(v)]
    if kind == "index":
        return [
            Hit(v[key], None, v, key % len(v))
            for v in values
            if isinstance(v, list) and -len(v) <= key < len(v)
        ]
    return []


def deepest(root: Any, path: str, anchor: Span) -> Span:
    """The span of the deepest existing prefix of ``path`` (for absence findings)."""
    segs = parse_path(path)
    best = getattr(root, "span", anchor)
    values = [root]
    for seg in segs:
        hits = _step_hits(values, seg)
        if not hits:
            break
        values = [hit.value for hit in hits]
        best = hits[0].span
    return best


def get(root: Any, path: str, default: Any = None) -> Any:
    """The first value at ``path`` or ``default``."""
    hits = resolve(root, path)
    return hits[0].value if hits else default


def iter_nodes(root: Any, limit: int = 1_000_000) -> Iterator[Any]:
    """Every container and scalar in a tree, depth first (bounded)."""
    stack = [root]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > limit:
            return
        yield node
        if isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
