"""Fixes in YAML: edits at the exact positions of the parsed tree, proven with
``ruamel.yaml``'s round-trip loader before anything is written.

Why not dump the document with ruamel.yaml: its emitter applies one indentation setting
to a whole document and re-emits document markers, so a manifest that indents sequences
one way under ``containers`` and another under ``args`` would be re-indented throughout.
Editing only the characters of the changed key keeps every other byte (comments,
quoting, flow mappings, anchors, blank lines) as it was; ruamel.yaml then reads the
original and the result and the fix is written only when the data differs in exactly
the intended place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from mlsec_lint.fix.edits import Edit, Lines, Unfixable
from mlsec_lint.model import FixPlan, Span
from mlsec_lint.tree import PDict, PList

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]{0,200}")
_SPECIAL = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def render_scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text)


def render_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_scalar(v) for v in value) + "]"
    return render_scalar(value)


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, (list, tuple)):
        return isinstance(current, list) and [str(v) for v in current] == [str(v) for v in wanted]
    return type(current) is type(wanted) and current == wanted


class YamlFile:
    """A YAML stream as positioned trees, with the parent of every mapping."""

    def __init__(self, text: str) -> None:
        from mlsec_lint.parsers.yamldoc import YamlError, load_stream, looks_templated

        if looks_templated(text):
            raise Unfixable(
                "the file contains template expressions ({{ … }}), so its text may not be "
                "the YAML that is applied (Helm, KServe runtime placeholders); it is not "
                "edited: fix the template or its values by hand"
            )
        self.text = text
        self.lines = Lines(text)
        self.json = text.lstrip()[:1] in ("{", "[")
        """A JSON document: new keys and values are written as JSON."""
        try:
            self.stream = load_stream(text)
        except YamlError as exc:
            raise Unfixable(f"the file does not parse ({exc.message})") from None
        if self.stream.stopped is not None:
            raise Unfixable("the file is too large or too deep to check a fix; not written")
        self._plain: list[Any] | None = None
        self.parents: dict[int, Any] = {}
        self.by_span: dict[Span, PDict] = {}
        """Mappings by their exact span, and by the span of the key that holds them (from
        the key to the end of the mapping, or the key alone): a fact's anchor is one of
        these, and nothing less exact is accepted."""
        for doc in self.stream.docs:
            for node, parent in _walk(doc.value, None):
                if id(node) in self.parents:
                    continue  # an alias: the anchored node was seen first
                self.parents[id(node)] = parent
                if isinstance(node, PDict):
                    self.by_span.setdefault(node.span, node)
        for doc in self.stream.docs:
            for node, _parent in _walk(doc.value, None):
                if not isinstance(node, PDict):
                    continue
                for key, value in node.items():
                    k, v = node.kspan.get(key), node.vspan.get(key)
                    if isinstance(value, PDict) and k is not None and v is not None:
                        self.by_span.setdefault(Span(k.line, k.col, v.end_line, v.end_col), value)
                        self.by_span.setdefault(k, value)

    def _render(self, value: Any) -> str:
        return _json(value) if self.json else render_value(value)

    def plain_documents(self) -> list[Any]:
        """The documents as plain data, as :func:`verify` compares them (built once: a
        report proves each finding's fix on its own, from the same file; only read)."""
        if self._plain is None:
            self._plain = [_plain(d.value) for d in self.stream.docs]
        return self._plain

    def regions(self) -> list[tuple[int, int]]:
        """First and last line of each document's text (its ``---`` line and the comments
        before it included), covering the file."""
        last = len(self.lines.starts)
        starts = [1]
        for doc in self.stream.docs[1:]:
            line = doc.span.line
            while line > starts[-1] and not self.lines.line_text(line).startswith("---"):
                line -= 1
            if line > starts[-1]:
                starts.append(line)
        return [
            (s, (starts[i + 1] - 1) if i + 1 < len(starts) else last) for i, s in enumerate(starts)
        ]

    def mapping_at(self, plan: FixPlan) -> PDict:
        node = self.by_span.get(plan.anchor)
        if node is None:
            raise Unfixable("the object is no longer where it was found")
        cur: Any = node
        via = plan.arg("parent-key")
        for _ in range(int(plan.arg("up", 0) or 0)):
            child, cur = cur, self.parents.get(id(cur))
            if cur is None:
                raise Unfixable("the enclosing object was not found")
            if via is not None and isinstance(cur, PDict) and cur.get(via) is not child:
                raise Unfixable(f"the object is not in a '{via}' list")
        if not isinstance(cur, PDict):
            raise Unfixable("the enclosing value is not a mapping")
        return cur

    def _flow(self, node: PDict | PList) -> bool:
        start = self.lines.offset(node.span.line, node.span.col)
        return self.text[start : start + 1] in ("{", "[")

    def _aliased(self, mapping: PDict, key: Any) -> bool:
        """The value at ``key`` is an alias, an anchored node or comes from a merge key
        (changing it would change other places too)."""
        kspan, vspan = mapping.kspan.get(key), mapping.vspan.get(key)
        if kspan is None or vspan is None:
            return True
        if (vspan.line, vspan.col) < (kspan.end_line, kspan.end_col):
            return True
        if not (mapping.span.line <= kspan.line <= mapping.span.end_line):
            return True
        between = self.text[
            self.lines.offset(kspan.end_line, kspan.end_col) : self.lines.offset(
                vspan.line, vspan.col
            )
        ]
        start = self.lines.offset(vspan.line, vspan.col)
        return "&" in between or "*" in between or self.text[start : start + 1] in ("&", "*")

    def set_key(self, plan: FixPlan) -> list[Edit]:
        path = [p for p in str(plan.arg("path")).split(".") if p]
        value = plan.arg("value")
        cur = self.mapping_at(plan)
        for i, key in enumerate(path):
            last = i == len(path) - 1
            if key not in cur:
                rest = path[i:]
                return [self._insert(cur, rest, value)]
            if self._aliased(cur, key):
                raise Unfixable(
                    f"'{key}' is shared through a YAML anchor, alias or merge key; editing "
                    "it would change every place that uses it"
                )
            child = cur[key]
            if last:
                if _same(child, value):
                    return []
                if isinstance(child, (PDict, PList)) and not (
                    isinstance(child, PList) and isinstance(value, (list, tuple))
                ):
                    raise Unfixable(f"'{key}' holds a structure, not a value")
                vspan = cur.vspan[key]
                start, end = self.lines.span(vspan)
                if isinstance(child, PList) and not self._flow(child):
                    raise Unfixable(f"'{key}' is a block list; edit it by hand")
                return [Edit(start, end, self._render(value))]
            if child is None:
                raise Unfixable(f"'{key}' is empty (null); set it by hand")
            if not isinstance(child, PDict):
                raise Unfixable(f"'{key}' is not a mapping")
            cur = child
        return []

    def _insert(self, mapping: PDict, keys: list[str], value: Any) -> Edit:
        if self._flow(mapping):
            text = _flow_text(keys, value, self.json)
            if not mapping:
                start = self.lines.offset(mapping.span.line, mapping.span.col) + 1
                return Edit(start, start, text)
            last_key = list(mapping)[-1]
            end = self.lines.offset(*_end(mapping.vspan.get(last_key) or mapping.kspan[last_key]))
            return Edit(end, end, f", {text}")
        if not mapping:
            raise Unfixable("the mapping is empty")
        first = next(iter(mapping))
        indent = " " * (mapping.kspan[first].col - 1)
        last_line = max(self._content_end(mapping, k) for k in mapping)
        at = self.lines.line_end(last_line)
        text = _block_text(keys, value, indent)
        if at == len(self.text) and not self.text.endswith("\n"):
            text = "\n" + text.rstrip("\n")
        return Edit(at, at, text)

    def _content_end(self, mapping: PDict, key: Any) -> int:
        """Last line with text of the entry ``key`` (nested block values included)."""
        kspan = mapping.kspan.get(key)
        line = kspan.end_line if kspan else mapping.span.line
        value = mapping.get(key)
        vspan = mapping.vspan.get(key)
        if vspan is None or (kspan and (vspan.line, vspan.col) < (kspan.end_line, kspan.end_col)):
            return line  # an alias: its text is the alias name on the key's line
        if isinstance(value, PDict) and value and not self._flow(value):
            return max([line] + [self._content_end(value, k) for k in value])
        if isinstance(value, PList) and value and not self._flow(value):
            return max(line, self._list_end(value))
        end_line, end_col = vspan.end_line, vspan.end_col
        if end_col == 1 and end_line > vspan.line:
            end_line -= 1  # a block scalar ends at the start of the next line
        return max(line, end_line)

    def _list_end(self, items: PList) -> int:
        i = len(items) - 1
        value = items[i]
        span = items.item_span(i)
        if isinstance(value, PDict) and value and not self._flow(value):
            return max(self._content_end(value, k) for k in value)
        if isinstance(value, PList) and value and not self._flow(value):
            return self._list_end(value)
        if span.end_col == 1 and span.end_line > span.line:
            return span.end_line - 1
        return span.end_line

    def remove_item(self, span: Span) -> list[Edit] | None:
        """Remove the list item at ``span`` (None: ``span`` is not a list item)."""
        for doc in self.stream.docs:
            for node, _parent in _walk(doc.value, None):
                if not isinstance(node, PList):
                    continue
                for i, s in enumerate(node.ispan):
                    if s != span:
                        continue
                    if self._flow(node):
                        if len(node) == 1:
                            a, b = self.lines.span(s)
                            return [Edit(a, b, "")]
                        if i + 1 < len(node):
                            a = self.lines.offset(s.line, s.col)
                            b = self.lines.offset(node.ispan[i + 1].line, node.ispan[i + 1].col)
                            return [Edit(a, b, "")]
                        prev = node.ispan[i - 1]
                        a = self.lines.offset(prev.end_line, prev.end_col)
                        return [Edit(a, self.lines.offset(s.end_line, s.end_col), "")]
                    line = self.lines.line_text(s.line)
                    before = line[: s.col - 1]
                    if s.end_line != s.line or not re.fullmatch(r"(?<!\s)\s*-\s+['\"]?", before):
                        raise Unfixable("the list item shares its line; remove it by hand")
                    if len(node) == 1:
                        raise Unfixable("the list would be left empty; remove it by hand")
                    start = self.lines.starts[s.line - 1]
                    return [Edit(start, self.lines.line_end(s.line), "")]
        return None


def _end(span: Span) -> tuple[int, int]:
    return span.end_line, span.end_col


def _flow_text(keys: list[str], value: Any, as_json: bool = False) -> str:
    def k(key: str) -> str:
        return json.dumps(key) if as_json else key

    inner = _json(value) if as_json else render_value(value)
    for key in reversed(keys[1:]):
        inner = f"{{{k(key)}: {inner}}}"
    return f"{k(keys[0])}: {inner}"


def _json(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _block_text(keys: list[str], value: Any, indent: str) -> str:
    out = []
    for depth, key in enumerate(keys):
        pad = indent + "  " * depth
        if depth == len(keys) - 1:
            out.append(f"{pad}{key}: {render_value(value)}\n")
        else:
            out.append(f"{pad}{key}:\n")
    return "".join(out)


def _walk(node: Any, parent: Any) -> Iterator[tuple[Any, Any]]:
    stack: list[tuple[Any, Any]] = [(node, parent)]
    seen: set[int] = set()
    while stack:
        cur, par = stack.pop()
        if not isinstance(cur, (PDict, PList)) or id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur, par
        children = cur.values() if isinstance(cur, PDict) else cur
        stack.extend((c, cur) for c in reversed(list(children)))


# ------------------------------------------------------------------ verification
def _load_all(text: str) -> list[Any]:
    """The documents of ``text`` as plain data, read by the scanner's own YAML reader
    (libyaml when nesting is shallow, bounded otherwise): a fix is checked against the
    values the rules read, and cheaply enough to offer a fix with every reported finding."""
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    try:
        stream = load_stream(text)
    except YamlError as exc:
        raise Unfixable(
            f"the fixed file would not parse as YAML ({exc.message}); not written"
        ) from None
    if stream.stopped is not None:
        raise Unfixable("the file is too large or too deep to check a fix; not written")
    return [_plain(d.value) for d in stream.docs]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    return str(value)


def differences(
    a: Any, b: Any, path: tuple[Any, ...] = ()
) -> list[tuple[tuple[Any, ...], Any, Any]]:
    """Where two plain YAML values differ: (path, old, new); a missing key is None."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b or k not in a:
                out.append(((*path, k), a.get(k), b.get(k)))
            else:
                out.extend(differences(a[k], b[k], (*path, k)))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, (*path, i))
        ]
    if type(a) is not type(b) or a != b:
        return [(path, a, b)]
    return []


def verify(before: str, after: str, plans: list[FixPlan], old: list[Any] | None = None) -> None:
    """Raise Unfixable unless ``after`` reads as ``before`` changed only where ``plans``
    say: each difference must be one a plan makes, and each plan at most one. ``old``:
    the documents of ``before`` already read (:meth:`YamlFile.plain_documents`)."""
    if before.lstrip()[:1] in ("{", "["):
        try:
            json.loads(after)
        except ValueError:
            json_before = True
        else:
            json_before = False
        if json_before:
            try:
                json.loads(before)
            except ValueError:
                pass  # YAML flow style, not JSON
            else:
                raise Unfixable("the fixed file would not be valid JSON; not written")
    old = old if old is not None else _load_all(before)
    new = _load_all(after)
    if len(old) != len(new):
        raise Unfixable("the fix would change the number of documents")
    diffs = [d for x, y in zip(old, new, strict=True) for d in differences(x, y)]
    if len(diffs) > len(plans):
        raise Unfixable(
            "the change would reach more than one place (an anchor or alias shares the value)"
        )
    for path, _a, b in diffs:
        if not any(_explains(p, path, b) for p in plans):
            raise Unfixable(f"the fix would change {'.'.join(map(str, path))} unexpectedly")


def _explains(plan: FixPlan, path: tuple[Any, ...], new: Any) -> bool:
    if plan.operation == "set-key":
        keys = [p for p in str(plan.arg("path")).split(".") if p]
        value = plan.arg("value")
        # the difference is at the key, or at the first key created on its way
        for n in range(1, len(keys) + 1):
            if tuple(path[-n:]) == tuple(keys[:n]) if len(path) >= n else False:
                expect: Any = list(value) if isinstance(value, tuple) else value
                for k in reversed(keys[n:]):
                    expect = {k: expect}
                if _plain(expect) == new:
                    return True
        return False
    # replace-value and remove-flag change one scalar or one list
    return True
