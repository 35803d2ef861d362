"""YAML and JSON documents as positioned trees.

libyaml's C parser (PyYAML ``CSafeLoader``) produces events; :class:`_FastBuilder` turns
them into :class:`~mlsec_lint.tree.PDict` / :class:`~mlsec_lint.tree.PList` trees that keep
every key's and value's span, and hands unusual input to the exact builders
(:class:`_NodeBuilder`, :class:`_Builder`). Only the safe scalar types are constructed;
unknown tags (``!Ref``, ``!!python/object``) are read as plain strings and nothing is
ever instantiated from a tag.

The tree is built with an explicit stack rather than libyaml's recursive composer, so
hostile nesting cannot overflow the C stack: nesting deeper than :data:`MAX_DEPTH` is
refused as soon as it is reached. Aliases share the anchored value, and their expanded
size is counted, so a "billion laughs" document stops with a clear error.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict, PList

try:
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader

_RESOLVED: dict[tuple[str, bool], str] = {}
"""Tags of plain and quoted scalars already resolved (keys and values repeat a lot)."""
_MAX_RESOLVED = 8192
"""Emptied when full: the values that recur fill it again at once, and the unique ones
(names, URLs) would otherwise hold memory for the whole scan."""


class _Loader(_Base):  # type: ignore[misc]
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, bool(implicit[0]))
        tag = _RESOLVED.get(key)
        if tag is None:
            if len(_RESOLVED) > _MAX_RESOLVED:
                _RESOLVED.clear()
            tag = _RESOLVED[key] = super().resolve(kind, value, implicit)
        return tag


MAX_NODES = 1_000_000
"""Upper bound on values in one file, counting every alias expansion (never materialized)."""

MAX_DEPTH = 200
"""Deepest nesting accepted in one document."""

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


class YamlError(Exception):
    """A document that cannot be read; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class BudgetError(YamlError):
    """The stream exceeds :data:`MAX_NODES`: documents read before it are kept."""


class YamlDoc(Struct):
    """One document of a stream: its tree, span and the spans of its scalars."""

    value: Any
    span: Span
    index: int


class YamlStream(Struct):
    docs: list[YamlDoc] = field(default_factory=list)
    duplicate_keys: list[tuple[str, int]] = field(default_factory=list)
    scalar_spans: list[Span] = field(default_factory=list)
    """Spans of multi-line scalars (so '#' inside them is not taken for a comment)."""
    stopped: YamlError | None = None
    """Why reading stopped before the end (the budget); ``docs`` holds what was read."""


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


_SPANS: dict[tuple[int, int, int, int], Span] = {}
"""Spans already made: trees keep one span per key and value, and the same positions
recur from file to file, so equal spans share one object (spans are immutable)."""
_MAX_SPANS = 32_768
"""Emptied when full (each entry holds about 200 bytes)."""


def _span(start: Any, end: Any) -> Span:
    key = (start.line, start.column, end.line, end.column)
    return _SPANS.get(key) or _new_span(key)


def _new_span(key: tuple[int, int, int, int]) -> Span:
    """The span of 0-based (line, column, end line, end column), remembered."""
    if len(_SPANS) >= _MAX_SPANS:
        _SPANS.clear()
    span = _SPANS[key] = Span(key[0] + 1, key[1] + 1, key[2] + 1, key[3] + 1)
    return span


_SHARED_MAX = 64
"""Longest scalar shared with its equals (short values recur: kinds, ports, protocols)."""


def _shared(value: Any) -> Any:
    """One object for equal short strings, keys and values alike, across documents."""
    if type(value) is str and len(value) <= _SHARED_MAX:
        return sys.intern(value)
    return value


def _scalar_value(loader: Any, tag: str, value: str, style: str | None) -> Any:
    """Construct a scalar whose tag is resolved; only safe types are built."""
    if tag == _MERGE and style in (None, ""):
        return _MERGE_KEY
    if tag not in _SAFE_TAGS:
        return value  # unknown tags are read as plain strings, never constructed
    node = yaml.ScalarNode(tag, value)
    try:
        if tag == _INT:
            return loader.construct_yaml_int(node)
        if tag == _FLOAT:
            return loader.construct_yaml_float(node)
        if tag == _BOOL:
            return loader.construct_yaml_bool(node)
        if tag == _NULL:
            return None
    except (ValueError, yaml.YAMLError):
        return value
    return value


class _Frame:
    """A mapping or sequence being built from parser events."""

    __slots__ = ("anchor", "key", "key_span", "merges", "size", "start", "value")

    def __init__(self, value: PDict | PList, start: Any, anchor: str | None) -> None:
        self.value = value
        self.start = start
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.key_span: Span | None = None
        self.merges: list[tuple[Any, Span]] = []
        self.size = 1


_NO_KEY = object()
_MERGE_KEY = object()
_SAFE_TAGS = {_INT, _FLOAT, _BOOL, _NULL, _STR, _MERGE}


class _Builder:
    """Builds positioned trees from libyaml parser events with an explicit stack.

    libyaml's composer recurses once per nesting level in C, so a deeply nested input
    crashes the interpreter; its parser is a state machine, and stopping early at
    :data:`MAX_DEPTH` keeps the scan bounded. Aliases share the anchored value (never
    copied); their expanded size is counted against :data:`MAX_NODES`.
    """

    def __init__(self, loader: Any, stream: YamlStream, text_length: int) -> None:
        self.loader = loader
        self.stream = stream
        self.expanded = 0
        self.root_span: Span | None = None
        self.anchors: dict[str, tuple[Any, int, Span]] = {}

    def charge(self, n: int, mark: Any) -> None:
        self.expanded += n
        if self.expanded > MAX_NODES:
            raise BudgetError(
                f"document expands to more than {MAX_NODES:,} values (alias bomb?); not scanned",
                mark.line + 1,
            )

    def scalar(self, event: Any) -> Any:
        value = event.value
        plain = event.implicit[0] and event.style in (None, "")
        tag = event.tag
        if tag is None or tag == "!":
            if not plain:
                return value
            tag = self.loader.resolve(yaml.ScalarNode, value, (True, False))
        return self.scalar_value(tag, value, None if plain else event.style)

    def scalar_value(self, tag: str, value: str, style: str | None) -> Any:
        """Construct a scalar whose tag is resolved; only safe types are built."""
        return _scalar_value(self.loader, tag, value, style)

    def run(self) -> None:
        loader = self.loader
        stack: list[_Frame] = []
        index = 0
        root: Any = None
        doc_start: Any = None
        while loader.check_event():
            event: Any = loader.get_event()
            if isinstance(event, yaml.ScalarEvent):
                self.charge(1, event.start_mark)
                value = _shared(self.scalar(event))
                span = _span(event.start_mark, event.end_mark)
                if span.line != span.end_line:
                    self.stream.scalar_spans.append(span)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1, span)
                root = self.attach(stack, value, span, 1, root)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise YamlError(
                        f"nesting deeper than {MAX_DEPTH} levels; not scanned", _line(event)
                    )
                self.charge(1, event.start_mark)
                container: PDict | PList = (
                    PDict() if isinstance(event, yaml.MappingStartEvent) else PList()
                )
                stack.append(_Frame(container, event.start_mark, event.anchor))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                span = _span(frame.start, event.end_mark)
                frame.value.span = span
                if isinstance(frame.value, PDict) and frame.merges:
                    self.merge(frame.value, frame.merges)
                if frame.anchor:
                    self.anchors[frame.anchor] = (frame.value, frame.size, span)
                root = self.attach(stack, frame.value, span, frame.size, root)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    raise YamlError(f"unknown alias '{event.anchor}'", _line(event))
                # like the composer, an alias points at the anchored value's position
                value, size, anchored = self.anchors[event.anchor]
                self.charge(size, event.start_mark)
                root = self.attach(stack, value, anchored, size, root)
            elif isinstance(event, yaml.DocumentStartEvent):
                root, doc_start, self.root_span = None, event.start_mark, None
            elif isinstance(event, yaml.DocumentEndEvent):
                span = self.root_span or _span(doc_start, event.end_mark)
                self.stream.docs.append(YamlDoc(root, span, index))
                index += 1
                self.anchors.clear()

    def attach(self, stack: list[_Frame], value: Any, span: Span, size: int, root: Any) -> Any:
        """Add a finished value to its parent (or make it the document root)."""
        if not stack:
            self.root_span = span
            return value
        parent = stack[-1]
        parent.size += size
        target = parent.value
        if isinstance(target, PList):
            target.push(value, span)
            return root
        if parent.key is _NO_KEY:
            key = value
            if isinstance(key, (dict, list)):
                key = f"<complex key @{span.line}>"
            parent.key, parent.key_span = key, span
            return root
        key, key_span = parent.key, parent.key_span
        parent.key, parent.key_span = _NO_KEY, None
        if key is _MERGE_KEY:
            parent.merges.append((value, span))
            return root
        if key in target:
            self.stream.duplicate_keys.append((str(key), key_span.line if key_span else span.line))
        target.put(key, value, key_span, span)
        return root

    @staticmethod
    def merge(target: PDict, merges: list[tuple[Any, Span]]) -> None:
        """YAML merge keys: explicit keys win, then earlier merged mappings."""
        sources: list[PDict] = []
        for value, span in merges:
            items = value if isinstance(value, PList) else [value]
            for item in items:
                if not isinstance(item, PDict):
                    raise YamlError(
                        "invalid merge key: '<<' needs a mapping or a list of mappings", span.line
                    )
                sources.append(item)
        for source in sources:
            for k, v in source.items():
                if k not in target:
                    target.put(k, v, source.kspan.get(k), source.vspan.get(k))


class _NodeBuilder:
    """Builds the same trees from libyaml's (recursive, C) composer: the fast path, used
    only when :func:`_may_nest_deeply` proves the input cannot overflow the C stack."""

    def __init__(self, events: _Builder) -> None:
        self.events = events
        self.loader = events.loader
        self.stream = events.stream

    def run(self) -> None:
        loader = self.loader
        index = 0
        while loader.check_node():
            node = loader.get_node()
            value = self.build(node, 0) if node is not None else None
            span = getattr(value, "span", None) or _span(node.start_mark, node.end_mark)
            self.stream.docs.append(YamlDoc(value, span, index))
            index += 1

    def build(self, node: Any, depth: int) -> Any:
        return self._build(node, _span(node.start_mark, node.end_mark), depth, {})[0]

    def _build(
        self, node: Any, span: Span, depth: int, memo: dict[int, tuple[Any, int]]
    ) -> tuple[Any, int]:
        """(value, expanded size); a node reached again through an alias is reused."""
        seen = memo.get(id(node))
        if seen is not None:
            self.events.charge(seen[1], node.start_mark)
            return seen
        if depth > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels; not scanned", _line(node))
        self.events.charge(1, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            if span.line != span.end_line:
                self.stream.scalar_spans.append(span)
            result: tuple[Any, int] = (
                _shared(self.events.scalar_value(node.tag, node.value, node.style)),
                1,
            )
        elif isinstance(node, yaml.SequenceNode):
            lst = PList(span)
            size = 1
            for item in node.value:
                ispan = _span(item.start_mark, item.end_mark)
                value, n = self._build(item, ispan, depth + 1, memo)
                lst.push(value, ispan)
                size += n
            result = (lst, size)
        else:
            d = PDict(span)
            size = 1
            merges: list[tuple[Any, Span]] = []
            for knode, vnode in node.value:
                kspan = _span(knode.start_mark, knode.end_mark)
                vspan = _span(vnode.start_mark, vnode.end_mark)
                key, kn = self._build(knode, kspan, depth + 1, memo)
                value, vn = self._build(vnode, vspan, depth + 1, memo)
                size += kn + vn
                if key is _MERGE_KEY:
                    merges.append((value, vspan))
                    continue
                if isinstance(key, (dict, list)):
                    key = f"<complex key @{kspan.line}>"
                if key in d:
                    self.stream.duplicate_keys.append((str(key), kspan.line))
                d.put(key, value, kspan, vspan)
            if merges:
                _Builder.merge(d, merges)
            result = (d, size)
        memo[id(node)] = result
        return result


_IMPLICIT_FIRST = frozenset(k for k in _Loader.yaml_implicit_resolvers if k is not None)
"""First characters (``""`` for the empty scalar) for which a plain scalar may resolve to
a tag other than ``str``; any other plain scalar is a string without asking the resolver."""
_RESOLVE_ALL = None in _Loader.yaml_implicit_resolvers
"""A resolver for any first character (none by default) leaves no plain scalar out."""


class _Unusual(Exception):
    """Input that :class:`_FastBuilder` leaves to the exact builders (see there)."""


class _FastBuilder:
    """Builds the trees of ordinary input from parser events in one flat loop.

    On such input the composer-based and the event-based builders agree exactly, and this
    builder produces the same trees with far less work per value: no node objects, no
    resolver call for plain scalars that can only be strings, no recursion, and the open
    container's state in local variables (saved on a stack while a child is open), its
    span tables filled directly. Wherever the two builders could disagree or must refuse
    the input (an unknown alias, an anchor named twice in a document, a ``!``-tagged
    scalar, an invalid merge key, nesting near :data:`MAX_DEPTH`, the :data:`MAX_NODES`
    budget) it stops with :class:`_Unusual` and the input is read again by the builder
    whose behaviour applies.
    """

    def __init__(self, loader: Any, stream: YamlStream) -> None:
        self.loader = loader
        self.stream = stream

    def run(self) -> None:
        # one loop, with the open container in local variables, keeps the per-value cost low
        loader = self.loader
        get_event = loader.get_event
        docs = self.stream.docs
        duplicates = self.stream.duplicate_keys
        multiline = self.stream.scalar_spans
        spans_get = _SPANS.get
        resolved_get = _RESOLVED.get
        intern = sys.intern
        anchors: dict[str, tuple[Any, int, Span]] = {}
        named: set[str] = set()
        expanded = 0
        index = 0
        root: Any = None
        root_span: Span | None = None
        doc_start: Any = None
        # the open container (target is None at document level) and its saved parents
        stack: list[tuple[Any, ...]] = []
        target: Any = None
        is_list = False
        key: Any = _NO_KEY
        key_span: Any = None
        size = 0
        kspans: dict[Any, Span] = {}
        vspans: dict[Any, Span] = {}
        ispans: list[Span] = []
        merges: list[tuple[Any, Span]] | None = None
        start: Any = None
        anchor: str | None = None
        while True:
            event = get_event()
            kind = event.__class__
            if kind is _SCALAR:
                value = event.value
                tag = event.tag
                if tag is None:
                    if event.implicit[0] and (_RESOLVE_ALL or value[:1] in _IMPLICIT_FIRST):
                        tag = resolved_get((value, True)) or loader.resolve(
                            yaml.ScalarNode, value, (True, False)
                        )
                        if tag != _STR:
                            value = _scalar_value(loader, tag, value, event.style)
                elif tag == "!":
                    raise _Unusual
                else:
                    value = _scalar_value(loader, tag, value, event.style)
                if type(value) is str and len(value) <= _SHARED_MAX:
                    value = intern(value)
                mark, end = event.start_mark, event.end_mark
                position = (mark.line, mark.column, end.line, end.column)
                span = spans_get(position) or _new_span(position)
                if position[0] != position[2]:
                    multiline.append(span)
                expanded += 1
                if expanded > MAX_NODES:
                    raise _Unusual
                if event.anchor is not None:
                    if event.anchor in named:
                        raise _Unusual
                    named.add(event.anchor)
                    anchors[event.anchor] = (value, 1, span)
                item_size = 1
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if len(stack) >= MAX_DEPTH:
                    raise _Unusual
                expanded += 1
                if event.anchor is not None:
                    if event.anchor in named:
                        raise _Unusual
                    named.add(event.anchor)
                stack.append(
                    (
                        target,
                        is_list,
                        key,
                        key_span,
                        size,
                        kspans,
                        vspans,
                        ispans,
                        merges,
                        start,
                        anchor,
                    )
                )
                is_list = kind is _SEQUENCE_START
                target = PList() if is_list else PDict()
                key, key_span, size = _NO_KEY, None, 1
                if is_list:
                    ispans = target.ispan
                else:
                    kspans, vspans, merges = {}, {}, None
                start, anchor = event.start_mark, event.anchor
                continue
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                end = event.end_mark
                position = (start.line, start.column, end.line, end.column)
                span = spans_get(position) or _new_span(position)
                value = target
                value.span = span
                if not is_list:
                    if kspans:
                        value.kspan, value.vspan = kspans, vspans
                    if merges:
                        try:
                            _Builder.merge(value, merges)
                        except YamlError:
                            raise _Unusual from None
                if anchor is not None:
                    anchors[anchor] = (value, size, span)
                item_size = size
                (
                    target,
                    is_list,
                    key,
                    key_span,
                    size,
                    kspans,
                    vspans,
                    ispans,
                    merges,
                    start,
                    anchor,
                ) = stack.pop()
            elif kind is _ALIAS:
                anchored = anchors.get(event.anchor)
                if anchored is None:
                    raise _Unusual
                value, item_size, span = anchored
                expanded += item_size
                if expanded > MAX_NODES:
                    raise _Unusual
            elif kind is _DOCUMENT_START:
                root, root_span, doc_start = None, None, event.start_mark
                anchors, named = {}, set()
                continue
            elif kind is _DOCUMENT_END:
                docs.append(YamlDoc(root, root_span or _span(doc_start, event.end_mark), index))
                index += 1
                continue
            elif kind is _STREAM_END:
                return
            else:
                continue
            # a finished value: add it to the open container
            if target is None:
                root, root_span = value, span
                continue
            size += item_size
            if is_list:
                target.append(value)
                ispans.append(span)
            elif key is _NO_KEY:
                if kind is not _SCALAR and isinstance(value, (dict, list)):
                    value = f"<complex key @{span.line}>"
                key, key_span = value, span
            else:
                if key is _MERGE_KEY:
                    if merges is None:
                        merges = []  # made only for the few mappings that merge
                    merges.append((value, span))
                else:
                    if key in target:
                        duplicates.append((str(key), key_span.line))
                    target[key] = value
                    kspans[key] = key_span
                    vspans[key] = span
                key = _NO_KEY


_SCALAR = yaml.ScalarEvent
_ALIAS = yaml.AliasEvent
_MAPPING_START, _MAPPING_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_DOCUMENT_START, _DOCUMENT_END = yaml.DocumentStartEvent, yaml.DocumentEndEvent
_STREAM_END = yaml.StreamEndEvent


_INDENT = re.compile(r"(?m)^[ \t]+")
_INDICATORS = re.compile(r"(?:[-?:][ \t]+)+")
_BRACKET = re.compile(r"[\[\]{}]")
_DEPTH_BUDGET = 1000
"""libyaml's composer recursion handled several thousand levels in tests; stay well below."""


def _may_nest_deeply(text: str) -> bool:
    """A conservative bound on nesting depth, in linear time.

    Block nesting needs more indentation or more block indicators (``- ``, ``? ``,
    ``: ``) on one line per level; flow nesting needs brackets. A value nested ``d`` deep
    therefore has ``d <= (indent + 1) * (indicators + 1) + flow depth``.
    """
    flow = 0
    if text.count("[") + text.count("{") >= 64:
        depth = 0
        for c in _BRACKET.findall(text):
            depth = depth + 1 if c in "[{" else max(0, depth - 1)
            flow = max(flow, depth)
    else:
        flow = text.count("[") + text.count("{")
    indent = (
        max((len(m) for m in _INDENT.findall(text)), default=0)
        if "\n " in text or "\n\t" in text
        else 0
    )
    run = max((len(m) for m in _INDICATORS.findall(text)), default=0) // 2
    return (indent + 1) * (run + 1) + flow > _DEPTH_BUDGET


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    return str(problem)


def _line_of(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def load_stream(text: str, *, force_events: bool = False) -> YamlStream:
    """Parse every document of a YAML (or JSON) text. Raises :class:`YamlError`."""
    if not force_events:
        stream = YamlStream()
        loader = _Loader(text)
        try:
            _FastBuilder(loader, stream).run()
            return stream
        except _Unusual:
            pass  # read again below by the builder whose behaviour applies
        except yaml.YAMLError as exc:
            raise YamlError(f"invalid YAML: {_problem(exc)}", _line_of(exc)) from None
        finally:
            loader.dispose()
    return _load_exactly(text, force_events=force_events or _may_nest_deeply(text))


def _load_exactly(text: str, *, force_events: bool) -> YamlStream:
    stream = YamlStream()
    loader = _Loader(text)
    events = _Builder(loader, stream, len(text))
    try:
        if force_events:
            events.run()
        else:
            _NodeBuilder(events).run()
    except BudgetError as exc:
        if not stream.docs:
            raise
        stream.stopped = exc
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {_problem(exc)}", _line_of(exc)) from None
    finally:
        loader.dispose()
    return stream


_TEMPLATE = re.compile(r"\{\{-?\s*[\w.$(\"'|]|\{%-?\s*\w")


def looks_templated(text: str) -> bool:
    """True for Go (Helm) or Jinja templates, which are not YAML until rendered."""
    return _TEMPLATE.search(text) is not None
