"""The Python analyser's model: positions, name bindings and scopes, the node classes it
walks in a particular way. Kept apart from the analyser (:mod:`mlsec_lint.facts.python`)
so that each stays readable."""

from __future__ import annotations

import ast
from typing import Any

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.source import char_col
from mlsec_lint.tree import UNKNOWN, PDict

MAX_AST_DEPTH = 150
"""Deeper trees are reported as a notice instead of being analysed."""

ALIAS, TYPE, VALUE = 0, 1, 2
ENV_GETTERS = frozenset({"os.getenv", "os.environ.get"})
IMPORTERS = frozenset({"importlib.import_module", "__import__"})
PARTIALS = frozenset({"functools.partial", "functools.partialmethod"})
WRAPPERS = frozenset({"io.BytesIO", "io.open", "gzip.open", "bz2.open", "lzma.open"})
INIT_METHODS = frozenset({"__init__", "__post_init__", "setup", "setUp", "initialize"})
BRANCHES: tuple[type[ast.AST], ...] = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Try,
    ast.IfExp,
    ast.Match,
    *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),  # Python 3.11+
)


LEAVES = (
    ast.Name,
    ast.Constant,
    ast.expr_context,
    ast.operator,
    ast.cmpop,
    ast.unaryop,
    ast.boolop,
    ast.alias,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Global,
    ast.Nonlocal,
)
"""Nodes that hold nothing a rule can see: never visited."""


class TooDeep(Exception):
    pass


class Positions:
    """ast columns are UTF-8 byte offsets; findings use character columns."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.ascii = [ln.isascii() for ln in lines]
        self.all_ascii = all(self.ascii)
        """Columns are bytes + 1 everywhere: the common case, without a look at the line."""

    def col(self, line: int, byte_col: int) -> int:
        if 1 <= line <= len(self.lines) and not self.ascii[line - 1]:
            return char_col(self.lines[line - 1], byte_col)
        return byte_col + 1

    def span(self, node: ast.AST) -> Span:
        if self.all_ascii:
            line = getattr(node, "lineno", 1)
            col = getattr(node, "col_offset", 0) + 1
            eline = getattr(node, "end_lineno", None) or line
            ecol = (getattr(node, "end_col_offset", None) or 0) + 1 if eline else col + 1
            return Span(line, col, eline, max(ecol, col + 1) if eline == line else ecol)
        line = getattr(node, "lineno", 1)
        col = self.col(line, getattr(node, "col_offset", 0))
        eline = getattr(node, "end_lineno", None) or line
        ecol = self.col(eline, getattr(node, "end_col_offset", None) or 0) if eline else col + 1
        return Span(line, col, eline, max(ecol, col + 1) if eline == line else ecol)


class Binding(Struct):
    kind: int
    """ALIAS: ``value`` is a qualified name (module, function, class, bound method);
    TYPE: ``value`` is the qualified name of an object built by a call (``x.Y()``);
    VALUE: ``value`` is a literal or UNKNOWN."""
    value: Any
    receiver: PDict | None = None
    """For TYPE: the constructor call (``callee``, ``args``, ``kwargs``)."""
    env_default: Any = None
    """For VALUE read with ``os.getenv(NAME, default)``: the literal default."""
    source: str | None = None
    """For VALUE: the name the value was read from (``token = os.environ["HF_TOKEN"]``
    -> ``HF_TOKEN``; ``key = args.api_key`` -> ``api_key``)."""

    def same(self, other: Binding) -> bool:
        return self.kind == other.kind and self.value == other.value


UNKNOWN_VALUE = Binding(VALUE, UNKNOWN)


class Scope(Struct):
    kind: str = "module"  # "module" | "class" | "function"
    names: dict[str, Binding] = field(default_factory=dict)
    cls: Scope | None = None
    """For a method: the scope of its class (where ``self.x`` bindings live)."""
    self_name: str | None = None
    settings: tuple[str, str] | None = None
    """For the body of a settings class: (class name, base or decorator)."""


class Deferred(Struct):
    node: ast.FunctionDef | ast.AsyncFunctionDef
    scopes: list[Scope]
    cls: Scope | None
