"""YAML and JSON documents as positioned trees.

libyaml's C composer builds the node graph (PyYAML ``CSafeLoader`` when available); this
module turns nodes into :class:`~mlsec_lint.tree.PDict` / :class:`~mlsec_lint.tree.PList`
trees that keep every key's and value's span. Only the safe scalar types are
constructed; unknown tags (``!Ref``, ``!!python/object``) are read as plain strings and
nothing is ever instantiated from a tag.

Aliases are expanded with a budget, so a "billion laughs" document stops with a clear
error instead of exhausting memory, and nesting deeper than :data:`MAX_DEPTH` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_NODES = 1_000_000
"""Upper bound on values produced from one file, counting every alias expansion."""

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


@dataclass(slots=True)
class YamlDoc:
    """One document of a stream: its tree, span and the spans of its scalars."""

    value: Any
    span: Span
    index: int


@dataclass(slots=True)
class YamlStream:
    docs: list[YamlDoc] = field(default_factory=list)
    duplicate_keys: list[tuple[str, int]] = field(default_factory=list)
    scalar_spans: list[Span] = field(default_factory=list)
    """Spans of multi-line scalars (so '#' inside them is not taken for a comment)."""


def _span(node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Builder:
    def __init__(self, loader: Any, stream: YamlStream) -> None:
        self.loader = loader
        self.stream = stream
        self.budget = MAX_NODES

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlError(
                f"document expands to more than {MAX_NODES:,} values (alias bomb?); not scanned",
                node.start_mark.line + 1,
            )
        if depth > MAX_DEPTH:
            raise YamlError(
                f"nesting deeper than {MAX_DEPTH} levels; not scanned", node.start_mark.line + 1
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            lst = PList(_span(node))
            for item in node.value:
                lst.push(self.build(item, depth + 1), _span(item))
            return lst
        if isinstance(node, yaml.MappingNode):
            if any(k.tag == _MERGE for k, _ in node.value):
                try:
                    self.loader.flatten_mapping(node)
                except yaml.YAMLError as exc:
                    raise YamlError(
                        f"invalid merge key: {_problem(exc)}", node.start_mark.line + 1
                    ) from None
            d = PDict(_span(node))
            for knode, vnode in node.value:
                key = self.build(knode, depth + 1)
                if isinstance(key, (dict, list)):
                    key = (
                        str(knode.value)
                        if isinstance(knode, yaml.ScalarNode)
                        else f"<complex key @{knode.start_mark.line + 1}>"
                    )
                if key in d and isinstance(knode, yaml.ScalarNode):
                    self.stream.duplicate_keys.append((str(key), knode.start_mark.line + 1))
                d.put(key, self.build(vnode, depth + 1), _span(knode), _span(vnode))
            return d
        return None  # pragma: no cover - no other node kinds exist

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if node.style is None or node.style == "":
            # plain scalars are resolved; quoted ones are always strings
            try:
                if tag == _INT:
                    return self.loader.construct_yaml_int(node)
                if tag == _FLOAT:
                    return self.loader.construct_yaml_float(node)
                if tag == _BOOL:
                    return self.loader.construct_yaml_bool(node)
                if tag == _NULL:
                    return None
            except (ValueError, yaml.YAMLError):
                return node.value
        if node.start_mark.line != node.end_mark.line:
            self.stream.scalar_spans.append(_span(node))
        return node.value if isinstance(node.value, str) else str(node.value)


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    return str(problem)


def _line_of(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def load_stream(text: str) -> YamlStream:
    """Parse every document of a YAML (or JSON) text. Raises :class:`YamlError`."""
    stream = YamlStream()
    loader = _Loader(text)
    builder = _Builder(loader, stream)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover
                continue
            value = builder.build(node)
            stream.docs.append(YamlDoc(value, _span(node), index))
            index += 1
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {_problem(exc)}", _line_of(exc)) from None
    except RecursionError:
        raise YamlError(f"nesting deeper than {MAX_DEPTH} levels; not scanned") from None
    finally:
        loader.dispose()
    return stream


_TEMPLATE = re.compile(r"\{\{-?\s*[\w.$(\"'|]|\{%-?\s*\w")


def looks_templated(text: str) -> bool:
    """True for Go (Helm) or Jinja templates, which are not YAML until rendered."""
    return _TEMPLATE.search(text) is not None
