"""Python source -> ``python-call``, ``python-assign`` and ``env`` facts.

The file is parsed with :mod:`ast` and never imported or executed. Calls are named by
their fully qualified callee after import-alias resolution (``import torch as t`` ->
``t.load`` is ``torch.load``; ``from transformers import AutoModel`` ->
``transformers.AutoModel.from_pretrained``). Methods called on objects built by a known
constructor keep the constructor in the name: ``requests.Session().get``, including
through a variable (``s = requests.Session(); s.get(...)``).

Arguments are kept as literals when they can be evaluated without running code:
constants, containers of literals, module-level and local constants, string
concatenation, ``**{...}`` dict literals. Anything else is :data:`~mlsec_lint.tree.UNKNOWN`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.common import env_fact
from mlsec_lint.model import Notice, Span
from mlsec_lint.tree import UNKNOWN, PDict, PList

MAX_AST_DEPTH = 150


class _Positions:
    """ast columns are UTF-8 byte offsets; findings use character columns."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.ascii = [ln.isascii() for ln in lines]

    def col(self, line: int, byte_col: int) -> int:
        if 1 <= line <= len(self.lines) and not self.ascii[line - 1]:
            raw = self.lines[line - 1].encode("utf-8")[:byte_col]
            return len(raw.decode("utf-8", errors="replace")) + 1
        return byte_col + 1

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1)
        col = self.col(line, getattr(node, "col_offset", 0))
        eline = getattr(node, "end_lineno", None) or line
        ecol = self.col(eline, getattr(node, "end_col_offset", None) or 0) if eline else col + 1
        return Span(line, col, eline, max(ecol, col + 1) if eline == line else ecol)


@dataclass(slots=True)
class _Scope:
    aliases: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


class _Analyzer(ast.NodeVisitor):
    def __init__(self, path: str, pos: _Positions) -> None:
        self.path = path
        self.pos = pos
        self.scopes: list[_Scope] = [_Scope()]
        self.facts: list[Fact] = []
        self.calls = 0

    # ---------------------------------------------------------------- names
    def lookup_alias(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope.aliases:
                return scope.aliases[name]
        return None

    def lookup_type(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope.types:
                return scope.types[name]
            if name in scope.values or name in scope.aliases:
                return None
        return None

    def lookup_value(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope.values:
                return scope.values[name]
        return UNKNOWN

    def qualname(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.lookup_alias(node.id) or self.lookup_type(node.id) or node.id
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            base = self.qualname(node.func)
            return f"{base}()" if base else None
        return None

    # ---------------------------------------------------------------- literals
    def literal(self, node: ast.expr | None, depth: int = 0) -> Any:
        if node is None or depth > 20:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            const = node.value
            return const if isinstance(const, (str, int, float, bool, type(None))) else UNKNOWN
        if isinstance(node, ast.Name):
            return self.lookup_value(node.id)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            lst = PList(self.pos.span(node))
            for elt in node.elts:
                lst.push(self.literal(elt, depth + 1), self.pos.span(elt))
            return lst
        if isinstance(node, ast.Dict):
            d = PDict(self.pos.span(node))
            for knode, vnode in zip(node.keys, node.values, strict=False):
                if knode is None:
                    continue
                key = self.literal(knode, depth + 1)
                if isinstance(key, (str, int, bool)):
                    d.put(
                        key,
                        self.literal(vnode, depth + 1),
                        self.pos.span(knode),
                        self.pos.span(vnode),
                    )
            return d
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.literal(node.left, depth + 1), self.literal(node.right, depth + 1)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            if isinstance(left, str):
                return left + "{…}"
            return UNKNOWN
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    parts.append(part.value)
                else:
                    inner = self.literal(getattr(part, "value", None), depth + 1)
                    parts.append(inner if isinstance(inner, str) else "{…}")
            return "".join(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            inner = self.literal(node.operand, depth + 1)
            if isinstance(node.op, ast.Not) and isinstance(inner, bool):
                return not inner
            if (
                isinstance(node.op, ast.USub)
                and isinstance(inner, (int, float))
                and not isinstance(inner, bool)
            ):
                return -inner
        return UNKNOWN

    # ---------------------------------------------------------------- scopes
    def _bind(self, target: ast.expr, value: ast.expr | None) -> None:
        scope = self.scopes[-1]
        if isinstance(target, ast.Name):
            name = target.id
            scope.aliases.pop(name, None)
            if isinstance(value, ast.Call):
                q = self.qualname(value.func)
                scope.types[name] = f"{q}()" if q else ""
                scope.values.pop(name, None)
                if not q:
                    scope.types.pop(name, None)
            else:
                scope.types.pop(name, None)
                lit = self.literal(value)
                if name in scope.values and scope.values[name] != lit:
                    scope.values[name] = UNKNOWN if len(self.scopes) > 1 else lit
                else:
                    scope.values[name] = lit
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                if isinstance(elt, ast.Name):
                    scope.values[elt.id] = UNKNOWN
                    scope.types.pop(elt.id, None)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.scopes[-1].aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".", 1)[0]
                self.scopes[-1].aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or "" if node.level or not node.module else node.module
        for alias in node.names:
            if alias.name == "*":
                continue
            full = f"{mod}.{alias.name}" if mod else alias.name
            self.scopes[-1].aliases[alias.asname or alias.name] = full

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        if not isinstance(node, ast.Lambda):
            for dec in node.decorator_list:
                self.visit(dec)
        args = node.args
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        scope = _Scope()
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None:
                scope.values[a.arg] = UNKNOWN
        self.scopes.append(scope)
        body = node.body if isinstance(node.body, list) else [node.body]
        for stmt in body:
            self.visit(stmt)
        self.scopes.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for dec in node.decorator_list:
            self.visit(dec)
        for base in node.bases:
            self.visit(base)
        self.scopes.append(_Scope())
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._assign_target(target, node.value, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._assign_target(node.target, node.value, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.scopes[-1].values[node.target.id] = UNKNOWN

    def _assign_target(self, target: ast.expr, value: ast.expr, stmt: ast.stmt) -> None:
        if isinstance(target, ast.Attribute):
            self.visit(target.value)
            q = self.qualname(target)
            if q:
                self._assign_fact(q, value, target, stmt)
            return
        if isinstance(target, ast.Subscript):
            self.visit(target.value)
            base = self.qualname(target.value)
            key = self.literal(target.slice)
            if base == "os.environ" and isinstance(key, str):
                lit = self.literal(value)
                span = self.pos.span(stmt)
                self.facts.append(
                    env_fact(
                        key,
                        lit if isinstance(lit, str) else None,
                        span,
                        self.pos.span(value),
                        self.path,
                        origin="python",
                        owner_key="python",
                        literal=isinstance(lit, str),
                    )
                )
            return
        self._bind(target, value)

    def _assign_fact(self, target: str, value: ast.expr, node: ast.expr, stmt: ast.stmt) -> None:
        span = self.pos.span(stmt)
        data = PDict(span)
        data.put("target", target, self.pos.span(node), self.pos.span(node))
        data.put("attribute", target.rsplit(".", 1)[-1], self.pos.span(node))
        data.put("value", self.literal(value), self.pos.span(value), self.pos.span(value))
        data.put("context", PDict(span), span)
        self.facts.append(Fact("python-assign", self.path, data, span, f"assign/{target}"))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        callee = self.qualname(node.func)
        if not callee:
            return
        self.calls += 1
        span = self.pos.span(node)
        data = PDict(span)
        func_span = self.pos.span(node.func)
        data.put("callee", callee, func_span, func_span)
        data.put("function", callee.rsplit(".", 1)[-1], func_span)
        args = PList(span)
        for a in node.args:
            if isinstance(a, ast.Starred):
                args.push(UNKNOWN, self.pos.span(a))
                continue
            args.push(self.literal(a), self.pos.span(a))
        data.put("args", args, span)
        kwargs = PDict(span)
        star = False
        for kw in node.keywords:
            if kw.arg is None:
                lit = self.literal(kw.value)
                if isinstance(lit, PDict):
                    for k, v in lit.items():
                        kwargs.put(k, v, lit.kspan.get(k), lit.vspan.get(k))
                else:
                    star = True
                continue
            kwargs.put(kw.arg, self.literal(kw.value), self.pos.span(kw), self.pos.span(kw.value))
        data.put("kwargs", kwargs, span)
        data.put("star_kwargs", star, span)
        data.put("context", PDict(span), span)
        self.facts.append(Fact("python-call", self.path, data, span, f"call/{callee}"))


def _depth_ok(tree: ast.AST) -> bool:
    stack = [(tree, 0)]
    while stack:
        node, d = stack.pop()
        if d > MAX_AST_DEPTH:
            return False
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(node))
    return True


def extract(text: str, path: str, lines: list[str]) -> FileAnalysis:
    fa = FileAnalysis(path, "python")
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        fa.notices.append(
            Notice(
                path,
                "parse-error",
                f"Python syntax error: {exc.msg} (file not analysed)",
                "warning",
                exc.lineno,
            )
        )
        return fa
    except (ValueError, RecursionError, MemoryError) as exc:
        fa.notices.append(Notice(path, "parse-error", f"cannot parse Python: {exc}", "warning"))
        return fa
    if not _depth_ok(tree):
        fa.notices.append(
            Notice(
                path,
                "parse-error",
                f"expressions nested deeper than {MAX_AST_DEPTH} levels; not analysed",
                "warning",
            )
        )
        return fa
    analyzer = _Analyzer(path, _Positions(lines))
    # module-level constants and imports are visible inside functions defined earlier
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            analyzer.visit(stmt)
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            analyzer._bind(stmt.targets[0], stmt.value)
    try:
        analyzer.visit(tree)
    except RecursionError:
        fa.notices.append(
            Notice(path, "parse-error", "Python file too deeply nested; not analysed", "warning")
        )
        return fa
    fa.facts = analyzer.facts
    return fa
