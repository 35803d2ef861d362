"""Where a value in a rendered manifest comes from.

The values a chart renders with are its ``values.yaml`` overlaid with the files the user
names (maps merge, everything else is replaced, ``null`` removes a default), read with
their positions. To trace a rendered value, the chart is rendered a second time with
every leaf of those values replaced by a unique marker (``mlsv<n>z``): a marker found at
the same place of the same rendered object proves that the value there comes from leaf
``n``, at a known line of a known values file. Values that are not traced (literals of
the template, values of subcharts, output of functions that change the text) are mapped
to the template line that holds their key.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from typing import Any

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict, PList

MARKER = re.compile(r"mlsv(\d{1,7})z", re.I)


class Origin(Struct, frozen=True):
    """A leaf of a values file: the file (display path), the value's span, its key path."""

    path: str
    span: Span
    key: str
    value: Any


class Values(Struct):
    """Merged values (plain data) and the origin of every leaf."""

    merged: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[Any, ...], Origin] = field(default_factory=dict)


def _leaves(node: Any, prefix: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any, Span]]:
    if isinstance(node, PDict):
        for key, value in node.items():
            if isinstance(value, (PDict, PList)):
                yield from _leaves(value, (*prefix, key))
            else:
                yield (*prefix, key), value, node.vspan.get(key, node.span)
    elif isinstance(node, PList):
        for i, value in enumerate(node):
            if isinstance(value, (PDict, PList)):
                yield from _leaves(value, (*prefix, i))
            else:
                yield (*prefix, i), value, node.item_span(i)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def merge(files: Sequence[tuple[str, PDict]]) -> Values:
    """Overlay values documents in order (the chart's defaults first)."""
    values = Values()
    leaves: list[dict[tuple[Any, ...], tuple[Any, Span]]] = []
    for _path, doc in files:
        values.merged = _merge(values.merged, _plain(doc))
        leaves.append({p: (v, s) for p, v, s in _leaves(doc, ())})
    for path_keys, _value in _walk(values.merged, ()):
        for (path, _doc), table in zip(reversed(files), reversed(leaves), strict=True):
            if path_keys in table:
                value, span = table[path_keys]
                key = "".join(
                    f"[{k}]" if isinstance(k, int) else (f".{k}" if i else str(k))
                    for i, k in enumerate(path_keys)
                )
                values.origins[path_keys] = Origin(path, span, key, value)
                break
    return values


def _walk(node: Any, prefix: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*prefix, i))
    else:
        yield prefix, node


def marked(values: Values, strings_only: bool = False) -> tuple[dict[str, Any], list[Origin]]:
    """The merged values with each leaf replaced by a marker, and the origin of each
    marker (by number). ``false``, ``null`` and empty strings stay, so ``if`` and
    ``default`` take the same branches (a zero is marked: ``runAsUser: 0`` matters);
    with ``strings_only`` numbers and booleans stay too."""
    table: list[Origin] = []

    def mark(node: Any, prefix: tuple[Any, ...]) -> Any:
        if isinstance(node, dict):
            return {k: mark(v, (*prefix, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [mark(v, (*prefix, i)) for i, v in enumerate(node)]
        origin = values.origins.get(prefix)
        if origin is None or node is None or node is False or node == "":
            return node
        if strings_only and not isinstance(node, str):
            return node
        if not isinstance(node, (str, int, float, bool)):
            return node
        table.append(origin)
        return f"mlsv{len(table) - 1}z"

    return mark(values.merged, ()), table


class Target(Struct, frozen=True):
    """Where a rendered position is reported: a file, a span, and the values leaf (if
    the value came from one)."""

    path: str
    span: Span
    origin: Origin | None = None


def _markers(text: Any) -> list[int]:
    return [int(m.group(1)) for m in MARKER.finditer(text)] if isinstance(text, str) else []


def _choose(ids: list[int], table: Sequence[Origin], text: str) -> Origin | None:
    """The marker whose value the reported text shows (the last one otherwise)."""
    found = [table[i] for i in ids if 0 <= i < len(table)]
    if not found:
        return None
    for origin in reversed(found):  # an image's tag comes after its repository
        value = str(origin.value)
        if text and (value == text or (len(value) > 2 and value in text)):
            return origin
    return found[-1]


def pair_values(
    real: Any, mark: Any, table: Sequence[Origin], out: dict[tuple[int, int], Origin]
) -> None:
    """Positions in ``real`` (line, col of keys, values and items) whose value the
    marker render shows comes from a values leaf."""
    stack = [(real, mark)]
    while stack:
        r, m = stack.pop()
        if isinstance(r, PDict) and isinstance(m, dict):
            for key, value in r.items():
                if key not in m:
                    continue
                other = m[key]
                if isinstance(value, (PDict, PList)):
                    stack.append((value, other))
                    continue
                origin = _choose(_markers(other), table, str(value))
                if origin is None:
                    continue
                for span in (r.kspan.get(key), r.vspan.get(key)):
                    if span is not None:
                        out.setdefault((span.line, span.col), origin)
        elif isinstance(r, PList) and isinstance(m, list):
            for i, value in enumerate(r[: len(m)]):
                if isinstance(value, (PDict, PList)):
                    stack.append((value, m[i]))
                    continue
                origin = _choose(_markers(m[i]), table, str(value))
                if origin is not None:
                    span = r.item_span(i)
                    out.setdefault((span.line, span.col), origin)


_KEY = re.compile(r"^(?:-\s+)*([\"']?[\w./@-]+[\"']?\s*:)(?:\s|$)")


def template_lines(rendered: Sequence[str], template: Sequence[str]) -> list[int]:
    """For each rendered line, the template line (1-based) that most likely produced
    it: the same text, else the same key, searched forward from the previous match
    (then from the top). Indexed, so linear in the size of both texts."""
    by_text: dict[str, list[int]] = {}
    by_key: dict[str, list[int]] = {}
    for i, line in enumerate(template):
        text = line.strip()
        by_text.setdefault(text, []).append(i)
        m = _KEY.match(text)
        if m:
            by_key.setdefault(m.group(1), []).append(i)
    out: list[int] = []
    cursor = 0
    for line in rendered:
        text = line.strip()
        found = -1
        if text:
            m = _KEY.match(text)
            candidates = [by_text.get(text, [])]
            if m:
                candidates.append(by_key.get(m.group(1), []))
            for rows in candidates:
                if rows:
                    j = bisect.bisect_left(rows, cursor)
                    found = rows[j] if j < len(rows) else rows[0]
                    break
        if found >= 0:
            cursor = found
        out.append(cursor + 1)
    return out


_CRD = re.compile(r"^kind:\s*['\"]?CustomResourceDefinition['\"]?\s*$", re.M)


def blank_crds(text: str) -> str:
    """``text`` with the documents that define CustomResourceDefinitions blanked (no
    rule reads them, and they are most of the size of an operator's output); lines
    keep their numbers."""
    if not _CRD.search(text):
        return text
    lines = text.split("\n")
    out: list[str] = []
    doc: list[str] = []

    def flush() -> None:
        body = "\n".join(doc)
        out.extend([""] * len(doc) if _CRD.search(body) else doc)

    for line in lines:
        if line.startswith("---") and (len(line) == 3 or line[3] in " \t"):
            flush()
            doc = []
            out.append(line)
            continue
        doc.append(line)
    flush()
    return "\n".join(out)
