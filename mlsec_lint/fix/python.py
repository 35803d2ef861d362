"""Fixes in Python source: exact positions from ``ast`` (the call) and ``tokenize``
(commas and parentheses between its arguments, wherever comments and line breaks are).

A concrete-syntax library would add a dependency and an import cost for the three
operations needed here; the standard library gives exact positions, and the result is
parsed again before it is written.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize

from mlsec_lint.fix.edits import Edit, Lines, Unfixable
from mlsec_lint.model import FixPlan
from mlsec_lint.records import Struct, field
from mlsec_lint.source import char_col

_SKIP = frozenset(
    {
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.COMMENT,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)


class _Arg(Struct):
    start: int
    end: int
    keyword: str | None
    value_start: int
    starred: bool


class _Call(Struct):
    node: ast.Call
    open: int
    close: int
    args: list[_Arg] = field(default_factory=list)
    trailing_comma: int | None = None
    """Offset just after a comma that follows the last argument."""


class PythonFile:
    """A parsed Python file: calls by position, tokens as offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = Lines(text)
        try:
            self.tree = ast.parse(text)
        except (SyntaxError, ValueError) as exc:
            raise Unfixable(f"the file does not parse ({exc})") from None
        self.calls: dict[tuple[int, int], ast.Call] = {}
        """Calls by their first character; a call of a call's result (``f(x)(y)``) starts
        where the inner call does, and its fixes are not applied (ambiguous)."""
        ambiguous: set[tuple[int, int]] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                key = (node.lineno, self._char_col(node.lineno, node.col_offset))
                if key in self.calls:
                    ambiguous.add(key)
                self.calls[key] = node
        for key in ambiguous:
            del self.calls[key]

    def tokens(self, start: int, end: int) -> list[tuple[int, str, int, int]]:
        """The tokens of ``text[start:end]`` (a call's parenthesised arguments, which
        tokenize on their own) as (type, string, start, end) offsets into the file: only
        the text a fix edits is tokenized, not the whole file."""
        segment = self.text[start:end]
        lines = Lines(segment)
        try:
            return [
                (
                    t.type,
                    t.string,
                    start + lines.offset(*_char(t.start)),
                    start + lines.offset(*_char(t.end)),
                )
                for t in tokenize.generate_tokens(io.StringIO(segment).readline)
                if t.type != tokenize.ENDMARKER
            ]
        except (SyntaxError, tokenize.TokenError) as exc:
            raise Unfixable(f"the call's arguments do not tokenize ({exc})") from None

    def _char_col(self, line: int, byte_col: int) -> int:
        return char_col(self.lines.line_text(line), byte_col)

    def node_start(self, node: ast.expr | ast.keyword) -> int:
        return self.lines.offset(node.lineno, self._char_col(node.lineno, node.col_offset))

    def node_end(self, node: ast.expr | ast.keyword) -> int:
        line = node.end_lineno or node.lineno
        return self.lines.offset(line, self._char_col(line, node.end_col_offset or 0))

    def call_at(self, plan: FixPlan) -> _Call:
        node = self.calls.get((plan.anchor.line, plan.anchor.col))
        if node is None:
            raise Unfixable("the call is no longer where it was found")
        func_end = self.node_end(node.func)
        end = self.node_end(node)
        toks = [t for t in self.tokens(func_end, end) if t[3] <= end and t[0] not in _SKIP]
        if not toks or toks[0][1] != "(" or toks[-1][1] != ")":
            raise Unfixable("the call's parentheses were not found")
        call = _Call(node, toks[0][2], toks[-1][2])
        items = sorted(
            [(self.node_start(a), a) for a in node.args]
            + [(self.node_start(k), k) for k in node.keywords],
            key=lambda p: p[0],
        )
        inner = [t for t in toks if call.open < t[2] and t[3] <= call.close]
        prev_end = call.open + 1
        for i, (item_start, item) in enumerate(items):
            start, stop = item_start, self.node_end(item)
            # parentheses around an argument belong to it: (a), ((b))
            while True:
                before = [t for t in inner if prev_end <= t[2] and t[3] <= start]
                after = [t for t in inner if stop <= t[2]]
                if before and after and before[-1][1] == "(" and after[0][1] == ")":
                    start, stop = before[-1][2], after[0][3]
                    continue
                break
            between = [t for t in inner if prev_end <= t[2] and t[3] <= start]
            if i and [t[1] for t in between] != [","]:
                raise Unfixable("the call's arguments could not be delimited")
            if not i and between:
                raise Unfixable("the call's arguments could not be delimited")
            if isinstance(item, ast.keyword):
                call.args.append(
                    _Arg(start, stop, item.arg, self.node_start(item.value), item.arg is None)
                )
            else:
                call.args.append(_Arg(start, stop, None, start, isinstance(item, ast.Starred)))
            prev_end = stop
        rest = [t for t in inner if prev_end <= t[2]]
        if [t[1] for t in rest] == [","]:
            call.trailing_comma = rest[0][3]
        elif rest:
            raise Unfixable("the call's arguments could not be delimited")
        return call


def _removal(call: _Call, drop: set[int]) -> list[Edit]:
    """Edits that remove the arguments at indexes ``drop`` with their commas."""
    args = call.args
    ranges: list[tuple[int, int]] = []
    kept = [i for i in range(len(args)) if i not in drop]
    for i in sorted(drop):
        later_kept = [k for k in kept if k > i]
        if later_kept:
            ranges.append((args[i].start, args[later_kept[0]].start))
            continue
        earlier = [k for k in kept if k < i]
        if earlier:
            ranges.append((args[earlier[-1]].end, args[i].end))
        else:  # nothing kept: empty the parentheses
            ranges.append((call.open + 1, call.close))
    merged: list[list[int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [Edit(s, e, "") for s, e in merged]


def python_edits(pf: PythonFile, plan: FixPlan) -> list[Edit]:
    call = pf.call_at(plan)
    op = plan.operation
    if op == "set-kwarg":
        name, value = str(plan.arg("name")), str(plan.arg("value"))
        for a in call.args:
            if a.keyword == name:
                if pf.text[a.value_start : a.end] == value:
                    return []
                return [Edit(a.value_start, a.end, value)]
        if any(
            a.starred and a.keyword is None and pf.text[a.start : a.start + 2] == "**"
            for a in call.args
        ):
            raise Unfixable(f"'**' arguments may already pass {name}")
        return [_insert_kwarg(pf, call, f"{name}={value}")]
    if op == "remove-kwarg":
        name = str(plan.arg("name"))
        idx = {i for i, a in enumerate(call.args) if a.keyword == name}
        return _removal(call, idx) if idx else []
    if op == "rename-call":
        func = call.node.func
        if not isinstance(func, ast.Attribute):
            raise Unfixable("the function is called by a bare name; renaming it needs an import")
        to = plan.arg("to")
        new = to.get(func.attr) if isinstance(to, dict) else to
        if not new:
            raise Unfixable(f"no replacement is declared for '{func.attr}'")
        end = pf.node_end(func)
        start = end - len(func.attr)
        if pf.text[start:end] != func.attr:
            raise Unfixable("the called name was not found")
        drop_kw = set(plan.arg("drop-kwargs", ()) or ())
        from_index = plan.arg("drop-args-from")
        drop: set[int] = set()
        positional = 0
        for i, a in enumerate(call.args):
            if a.keyword is None and not a.starred:
                if from_index is not None and positional >= int(from_index):
                    drop.add(i)
                positional += 1
            elif a.keyword in drop_kw:
                drop.add(i)
        edits = [Edit(start, end, str(new))] if new != func.attr else []
        return edits + _removal(call, drop)
    raise Unfixable(f"operation {op} does not apply to Python files")


def _insert_kwarg(pf: PythonFile, call: _Call, text: str) -> Edit:
    if not call.args:
        return Edit(call.open + 1, call.open + 1, text)
    last = call.args[-1]
    if call.trailing_comma is not None:
        comma = call.trailing_comma
        comma_line = pf.lines.position(comma)[0]
        if pf.lines.position(call.close)[0] > comma_line:
            # one argument per line: a new line indented like the last argument
            line_text = pf.lines.line_text(pf.lines.position(last.start)[0])
            indent = line_text[: len(line_text) - len(line_text.lstrip())]
            end = pf.lines.line_end(comma_line)
            return Edit(end, end, f"{indent}{text},\n")
        return Edit(comma, comma, f" {text}")
    return Edit(last.end, last.end, f", {text}")


def _char(pos: tuple[int, int]) -> tuple[int, int]:
    return pos[0], pos[1] + 1  # tokenize columns are characters, from 0


@functools.lru_cache(maxsize=4)
def python_file(text: str) -> PythonFile:
    """The parsed file, remembered: a report offers each fixable finding's fix alone, and
    a file with several parses once (a :class:`PythonFile` is never changed)."""
    return PythonFile(text)


def check_python(text: str) -> str | None:
    """Why ``text`` is not valid Python, or None."""
    try:
        ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        return str(exc)
    return None
