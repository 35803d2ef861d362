"""Python source -> ``python-call``, ``python-assign`` and ``env`` facts.

The file is parsed with :mod:`ast` and never imported or executed. One pass over the tree
resolves names the way a reader would:

* **imports**: ``import torch as t`` -> ``t.load`` is ``torch.load``; ``from transformers
  import AutoModel`` -> ``transformers.AutoModel.from_pretrained``; relative imports keep
  their dots (``from .pickle import loads`` is ``.pickle.loads``, not the standard module);
  ``importlib.import_module("pickle")``, ``__import__("pickle")`` and
  ``getattr(pickle, "loads")`` resolve too; ``load = torch.load`` makes ``load`` an alias.
* **constructed objects**: methods on an object built by a call keep the constructor in
  the name: ``requests.Session().get``, whether chained, through a variable, a ``with``
  target or an instance attribute (``self.s = requests.Session()`` in one method,
  ``self.s.get(...)`` in another).
* **values**: literals, containers of literals, string concatenation and f-strings,
  module and local constants, class constants (``Config.TRUST``), instance attributes
  assigned one literal, ``**{...}`` and ``**dict(...)`` and ``**CONSTANT`` keyword
  unpacking. Anything else is :data:`~mlsec_lint.tree.UNKNOWN`, so rules never guess.

Values follow the code: straight-line reassignment replaces a value; an assignment
inside a branch or loop that disagrees with an earlier one makes the name ``UNKNOWN``.
Function bodies are analysed after the code that encloses them, so they see the final
module constants, the way they do when they are called. A local name (a parameter, a
function or class defined here) shadows an import of the same name.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable
from typing import Any

from mlsec_lint.facts import Fact, FileAnalysis, image_builders, pyshell
from mlsec_lint.facts import pyconstructs as pyc
from mlsec_lint.facts.common import env_fact
from mlsec_lint.facts.pyscope import (
    ALIAS,
    BRANCHES,
    ENV_GETTERS,
    IMPORTERS,
    INIT_METHODS,
    LEAVES,
    MAX_AST_DEPTH,
    PARTIALS,
    TYPE,
    UNKNOWN_VALUE,
    VALUE,
    WRAPPERS,
    Binding,
    Deferred,
    Positions,
    Scope,
    TooDeep,
)
from mlsec_lint.model import Notice, Span
from mlsec_lint.tree import UNKNOWN, PDict, PList


class _Analyzer:
    def __init__(self, path: str, pos: Positions) -> None:
        self.path = path
        self.pos = pos
        self.scopes: list[Scope] = [Scope()]
        self.facts: list[Fact] = []
        self.pending: list[list[Deferred]] = [[]]
        self.branch = 0
        self.depth = 0
        self.too_deep: list[int] = []
        """Lines of subtrees nested deeper than MAX_AST_DEPTH (skipped, with a notice)."""
        self.calls: dict[int, PDict | tuple[str, Span, PList, PDict, Span]] = {}
        """Calls by node id: what a constructed object or a chained call remembers of the
        call (see :meth:`summary`)."""
        self.imports = PList(Span(1, 1, 1, 2))
        """Top-level modules the file imports (filled as imports are met; shared by the
        logging configuration calls that carry it)."""

    # ---------------------------------------------------------------- traversal
    def visit(self, node: ast.AST) -> None:
        if self.depth >= MAX_AST_DEPTH:
            self.too_deep.append(getattr(node, "lineno", 0))
            return
        entry = _DISPATCH.get(type(node))
        if entry is None:
            entry = _dispatch(type(node))
        fn, branch = entry
        self.depth += 1
        if branch:
            self.branch += 1
        try:
            fn(self, node)
        finally:
            self.depth -= 1
            if branch:
                self.branch -= 1

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, LEAVES):
                        self.visit(item)
            elif isinstance(value, ast.AST) and not isinstance(value, LEAVES):
                self.visit(value)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        """What generic_visit does, for the most common node: its one child."""
        if not isinstance(node.value, LEAVES):
            self.visit(node.value)

    def visit_keyword(self, node: ast.keyword) -> None:
        if not isinstance(node.value, LEAVES):
            self.visit(node.value)

    def visit_all(self, nodes: Iterable[ast.AST]) -> None:
        for n in nodes:
            self.visit(n)

    def visit_If(self, node: ast.If) -> None:
        """``elif`` chains are nested ``If`` nodes: walked in a loop, at one depth."""
        chain = node
        while True:
            self.visit(chain.test)
            self.visit_all(chain.body)
            if len(chain.orelse) == 1 and isinstance(chain.orelse[0], ast.If):
                chain = chain.orelse[0]
                continue
            self.visit_all(chain.orelse)
            return

    def visit_BinOp(self, node: ast.BinOp) -> None:
        """``a + b + c …`` nests to the left: its spine is walked in a loop."""
        spine: list[ast.BinOp] = []
        cur: ast.expr = node
        while isinstance(cur, ast.BinOp):
            spine.append(cur)
            cur = cur.left
        self.visit(cur)
        for op in reversed(spine):
            self.visit(op.right)

    def run(self, tree: ast.Module) -> None:
        self.visit_all(tree.body)
        self._drain()

    def _drain(self) -> None:
        queue = self.pending[-1]
        # constructors first, so `self.x = …` bindings are known to the other methods
        queue.sort(key=lambda d: 0 if d.cls is not None and d.node.name in INIT_METHODS else 1)
        for item in queue:
            saved_scopes, saved_branch = self.scopes, self.branch
            scope = Scope("function", cls=item.cls)
            args = item.node.args
            params = [*args.posonlyargs, *args.args]
            if item.cls is not None and params and not _is_static(item.node):
                scope.self_name = params[0].arg
            for a in [*params, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    scope.names[a.arg] = UNKNOWN_VALUE
            self.scopes = [*item.scopes, scope]
            self.branch = 0
            self.pending.append([])
            try:
                self.visit_all(item.node.body)
                self._drain()
            finally:
                self.pending.pop()
                self.scopes, self.branch = saved_scopes, saved_branch
        queue.clear()

    # ---------------------------------------------------------------- names
    def lookup(self, name: str) -> Binding | None:
        scopes = self.scopes
        i = len(scopes) - 1
        b = scopes[i].names.get(name)
        while b is None:
            i -= 1
            if i < 0:
                return None
            scope = scopes[i]
            if scope.kind != "class":  # a class body's names are not visible in its methods
                b = scope.names.get(name)
        if b.kind == VALUE and i > 0:
            for scope in scopes[:i]:
                if scope.kind != "class":
                    o = scope.names.get(name)
                    if o is not None and o.kind == ALIAS:
                        # a local that shadows an import of the same name: never the module
                        return Binding(VALUE, UNKNOWN, env_default=b.env_default)
        return b

    def _self_scope(self, name: str) -> Scope | None:
        """The class scope when ``name`` is the ``self`` of the method being analysed."""
        for scope in reversed(self.scopes):
            if name in scope.names:
                return scope.cls if scope.self_name == name else None
        return None

    def lookup_attr(self, base: str, attr: str) -> Binding | None:
        cls = self._self_scope(base)
        if cls is not None:
            # instance attributes first, then class attributes (constants, shared clients)
            return cls.names.get(f"self.{attr}") or cls.names.get(attr)
        return self.lookup(f"{base}.{attr}")

    def ref(self, node: ast.expr) -> Binding | None:
        """The alias or constructed-object binding an expression refers to, if any."""
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            return b if b is not None and b.kind != VALUE else None
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name):
                b = self.lookup_attr(node.value.id, node.attr)
                if b is not None:
                    return b if b.kind != VALUE else None
            base = self.ref(node.value)
            return Binding(ALIAS, f"{base.value}.{node.attr}") if base else None
        if isinstance(node, ast.Call):
            special = self._special_call(node)
            if special is not None:
                return Binding(ALIAS, special)
            base = self.ref(node.func)
            if base is not None:
                return Binding(TYPE, f"{base.value}()", self.summary(id(node)))
        return None

    def arg_ref(self, node: ast.expr) -> Binding | None:
        """What a positional argument refers to: an imported name, a constructed object or
        the result of a call (``hf_hub_download(...)``), also through ``open(...)`` and
        ``io.BytesIO(...)`` wrappers and variables."""
        if isinstance(node, ast.Call):
            func = node.func
            wrapper = (isinstance(func, ast.Name) and func.id == "open") or (
                isinstance(func, ast.Attribute) and self.qualname(func) in WRAPPERS
            )
            if wrapper and node.args:
                return self.arg_ref(node.args[0])
        if isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
            return self.ref(node)
        return None

    def _special_call(self, node: ast.Call) -> str | None:
        """``importlib.import_module("m")``, ``__import__("m")``, ``getattr(obj, "name")``."""
        func = node.func
        if isinstance(func, ast.Name) and func.id == "getattr" and self.lookup("getattr") is None:
            if len(node.args) >= 2:
                attr = self.literal(node.args[1])
                if isinstance(attr, str) and attr.isidentifier():
                    base = self.qualname(node.args[0])
                    return f"{base}.{attr}" if base else None
            return None
        if node.args and isinstance(func, (ast.Name, ast.Attribute)):
            q = self.qualname(func)
            if q in IMPORTERS:
                mod = self.literal(node.args[0])
                if isinstance(mod, str) and mod and all(p.isidentifier() for p in mod.split(".")):
                    return mod
        return None

    def qualname(self, node: ast.expr) -> str | None:
        """The fully qualified name of a callee or assignment target, or None."""
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            if b is None:
                return node.id
            if b.kind != VALUE:
                return str(b.value)
            return None if b is not self.scopes_binding(node.id) else node.id
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name):
                b = self.lookup_attr(node.value.id, node.attr)
                if b is not None and b.kind != VALUE:
                    return str(b.value)
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            special = self._special_call(node)
            if special is not None:
                return special
            base = self.qualname(node.func)
            return f"{base}()" if base else None
        return None

    def scopes_binding(self, name: str) -> Binding | None:
        """The binding of ``name`` in the nearest scope, without shadowing rewrites."""
        last = len(self.scopes) - 1
        for i in range(last, -1, -1):
            if i != last and self.scopes[i].kind == "class":
                continue
            b = self.scopes[i].names.get(name)
            if b is not None:
                return b
        return None

    # ---------------------------------------------------------------- literals
    def literal(self, node: ast.expr | None, depth: int = 0) -> Any:
        if node is None or depth > 20:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            const = node.value
            return const if isinstance(const, (str, int, float, bool, type(None))) else UNKNOWN
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            return b.value if b is not None and b.kind == VALUE else UNKNOWN
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name):
                b = self.lookup_attr(node.value.id, node.attr)
                if b is not None and b.kind == VALUE:
                    return b.value
            return UNKNOWN
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            lst = PList(self.pos.span(node))
            for elt in node.elts:
                lst.push(self.literal(elt, depth + 1), self.pos.span(elt))
            return lst
        if isinstance(node, ast.Dict):
            d = PDict(self.pos.span(node))
            for knode, vnode in zip(node.keys, node.values, strict=False):
                if knode is None:
                    inner = self.literal(vnode, depth + 1)
                    if not isinstance(inner, PDict):
                        return UNKNOWN
                    for k, v in inner.items():
                        d.put(k, v, inner.kspan.get(k), inner.vspan.get(k))
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
        if isinstance(node, ast.Call):
            if (
                isinstance(node.func, ast.Name)
                and node.func.id == "dict"
                and self.lookup("dict") is None
                and not node.args
            ):
                d = PDict(self.pos.span(node))
                for kw in node.keywords:
                    if kw.arg is None:
                        return UNKNOWN
                    d.put(
                        kw.arg,
                        self.literal(kw.value, depth + 1),
                        self.pos.span(kw),
                        self.pos.span(kw.value),
                    )
                return d
            return UNKNOWN
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

    def env_default(self, node: ast.expr) -> Any:
        """The literal default of ``os.getenv(NAME, default)`` (directly or through a name)."""
        if isinstance(node, ast.Call):
            if self.qualname(node.func) in ENV_GETTERS:
                if len(node.args) >= 2:
                    return self.literal(node.args[1])
                for kw in node.keywords:
                    if kw.arg in ("default", "value"):
                        return self.literal(kw.value)
            return None
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            return b.env_default if b is not None else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            b = self.lookup_attr(node.value.id, node.attr)
            return b.env_default if b is not None else None
        return None

    # ---------------------------------------------------------------- binding
    def binding_for(self, value: ast.expr | None) -> Binding:
        if value is None:
            return UNKNOWN_VALUE
        if isinstance(value, ast.Call) and self.qualname(value.func) in ENV_GETTERS:
            return Binding(VALUE, UNKNOWN, env_default=self.env_default(value))
        if isinstance(value, (ast.Name, ast.Attribute, ast.Call)):
            ref = self.ref(value)
            if ref is not None:
                return ref
            if isinstance(value, ast.Call):
                return Binding(VALUE, self.literal(value))
        lit = self.literal(value)
        if isinstance(value, (ast.Name, ast.Attribute)):
            return Binding(VALUE, lit, env_default=self.env_default(value))
        return Binding(VALUE, lit)

    def _set(self, scope: Scope, key: str, binding: Binding, merge: bool) -> None:
        old = scope.names.get(key)
        if merge and old is not None and not old.same(binding):
            scope.names[key] = UNKNOWN_VALUE
        else:
            scope.names[key] = binding

    def bind_name(self, name: str, binding: Binding) -> None:
        self._set(self.scopes[-1], name, binding, self.branch > 0)

    def bind_target(self, target: ast.expr, value: ast.expr | None) -> None:
        """Bind an assignment target (names, tuples, ``obj.attr``) to a value."""
        if isinstance(target, ast.Name):
            binding = self.binding_for(value)
            if binding.kind != ALIAS and isinstance(
                value, (ast.Subscript, ast.Attribute, ast.Call)
            ):
                read = list(pyc.printed_names(value))
                if len(read) == 1:
                    binding = Binding(
                        binding.kind, binding.value, binding.receiver, binding.env_default, read[0]
                    )
            self.bind_name(target.id, binding)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = (
                value.elts
                if isinstance(value, (ast.Tuple, ast.List))
                and len(value.elts) == len(target.elts)
                and not any(isinstance(e, ast.Starred) for e in target.elts)
                else None
            )
            for i, elt in enumerate(target.elts):
                self.bind_target(
                    elt.value if isinstance(elt, ast.Starred) else elt,
                    values[i] if values is not None else None,
                )
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            base = target.value.id
            cls = self._self_scope(base)
            binding = self.binding_for(value)
            if cls is not None:
                # instance attributes are assigned from several methods: merge them
                self._set(cls, f"self.{target.attr}", binding, True)
            else:
                self.bind_name(f"{base}.{target.attr}", binding)

    # ---------------------------------------------------------------- statements
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, node)
            if alias.asname:
                self.bind_name(alias.asname, Binding(ALIAS, alias.name))
            else:
                top = alias.name.split(".", 1)[0]
                self.bind_name(top, Binding(ALIAS, top))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = "." * (node.level or 0) + (node.module or "")
        if node.module and not node.level:
            self._imported(node.module, node)
        for alias in node.names:
            if alias.name == "*":
                continue
            full = f"{mod}.{alias.name}" if mod and not mod.endswith(".") else mod + alias.name
            self.bind_name(alias.asname or alias.name, Binding(ALIAS, full))

    def _imported(self, module: str, node: ast.stmt) -> None:
        top = module.split(".", 1)[0]
        if top not in self.imports:
            self.imports.push(top, self.pos.span(node))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.visit_all(node.decorator_list)
        self._defaults(node.args)
        scope = self.scopes[-1]
        self.pending[-1].append(
            Deferred(node, list(self.scopes), scope if scope.kind == "class" else None)
        )
        self.bind_name(node.name, UNKNOWN_VALUE)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _defaults(self, args: ast.arguments) -> None:
        self.visit_all(args.defaults)
        self.visit_all(d for d in args.kw_defaults if d is not None)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._defaults(node.args)
        scope = Scope("function")
        a = node.args
        for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if p is not None:
                scope.names[p.arg] = UNKNOWN_VALUE
        self.scopes.append(scope)
        try:
            self.visit(node.body)
        finally:
            self.scopes.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.visit_all(node.decorator_list)
        self.visit_all(node.bases)
        self.visit_all(node.keywords)
        outer = self.scopes[-1]
        scope = Scope("class")
        bases = [b for b in map(self.qualname, node.bases) if b]
        decorators = [
            self.qualname(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list
        ]
        kind = next((b for b in bases if b in pyc.SETTINGS_BASES), None) or next(
            (d for d in decorators if d in pyc.DATACLASS_DECORATORS), None
        )
        if kind is not None:
            scope.settings = (node.name, kind)
        self.scopes.append(scope)
        saved_branch, self.branch = self.branch, 0
        try:
            self.visit_all(node.body)
        finally:
            self.scopes.pop()
            self.branch = saved_branch
        unpickler = next((b for b in bases if b in pyc.UNPICKLERS), None)
        if unpickler is not None and not pyc.restricts_find_class(node):
            # loads whatever the data names, like the class it extends
            self.bind_name(node.name, Binding(ALIAS, unpickler))
        else:
            self.bind_name(node.name, UNKNOWN_VALUE)
        # class constants are reachable as ClassName.CONSTANT
        for name, b in scope.names.items():
            if b.kind == VALUE and "." not in name and b.value is not UNKNOWN:
                self._set(outer, f"{node.name}.{name}", b, self.branch > 0)

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
        if isinstance(node.target, (ast.Name, ast.Attribute)):
            if isinstance(node.target, ast.Attribute):
                self.visit(node.target.value)
            value = pyshell.grown(node, self)  # cmd += ["--host", "0.0.0.0"]
            if value is not None and isinstance(node.target, ast.Name):
                self.bind_name(node.target.id, Binding(VALUE, value))
            else:
                self.bind_target(node.target, None)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind_target(node.target, node.value)

    def _loop(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.bind_target(node.target, None)
        self.visit_all(node.body)
        self.visit_all(node.orelse)

    visit_For = _loop
    visit_AsyncFor = _loop

    def _with(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.bind_target(item.optional_vars, item.context_expr)
        self.visit_all(node.body)

    visit_With = _with
    visit_AsyncWith = _with

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind_name(node.name, UNKNOWN_VALUE)
        self.visit_all(node.body)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        scope = Scope("function")
        self.scopes.append(scope)
        try:
            for gen in node.generators:
                self.visit(gen.iter)
                self.bind_target(gen.target, None)
                self.visit_all(gen.ifs)
            if isinstance(node, ast.DictComp):
                self.visit(node.key)
                self.visit(node.value)
            else:
                self.visit(node.elt)
        finally:
            self.scopes.pop()

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    def _assign_target(self, target: ast.expr, value: ast.expr, stmt: ast.stmt) -> None:
        settings = self.scopes[-1].settings
        if settings is not None and isinstance(target, ast.Name):
            default = pyc.field_default(value, self.qualname)
            if default is not None:
                self._assign_fact(f"{settings[0]}.{target.id}", default, target, stmt, settings[1])
        elif isinstance(target, ast.Name) and pyc.secret_like(value):
            self._assign_fact(target.id, value, target, stmt)  # HF_TOKEN = "hf_…"
        if isinstance(target, ast.Attribute):
            self.visit(target.value)
            q = self.qualname(target)
            if q:
                self._assign_fact(q, value, target, stmt)
            self.bind_target(target, value)
            return
        if isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
            base = self.qualname(target.value)
            key = self.literal(target.slice)
            if base == "os.environ" and isinstance(key, str):
                self._env(key, value, stmt)
            elif base and base.endswith(".config") and isinstance(key, str) and key.isupper():
                # Flask and Quart configuration: app.config["DEBUG"] = True
                self._assign_fact(f"{base}.{key}", value, target, stmt)
            return
        self.bind_target(target, value)

    def visit_Dict(self, node: ast.Dict) -> None:
        """``{"HF_TOKEN": "hf_…"}``: a string key with a literal that could be a credential
        is an assignment to that name (``modal.Secret.from_dict``, client settings,
        ``os.environ.update``); the rules decide by the name and the token format."""
        self.generic_visit(node)
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and 0 < len(key.value) <= 100
                and pyc.secret_like(value)
            ):
                self._assign_fact(key.value, value, key, key)

    def _env(self, name: str, value: ast.expr, stmt: ast.AST) -> None:
        lit = self.literal(value)
        self.facts.append(
            env_fact(
                name,
                lit if isinstance(lit, str) else None,
                self.pos.span(stmt),
                self.pos.span(value),
                self.path,
                origin="python",
                owner_key="python",
                literal=isinstance(lit, str),
            )
        )

    def _assign_fact(
        self, target: str, value: ast.expr, node: ast.expr, stmt: ast.AST, settings: str = ""
    ) -> None:
        span = self.pos.span(stmt)
        data = PDict(span)
        tspan = self.pos.span(node)
        vspan = self.pos.span(value)
        data.put("target", target, tspan, tspan)
        data.put("attribute", target.rsplit(".", 1)[-1], tspan)
        data.put("value", self.literal(value), vspan, vspan)
        ref = self.ref(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
        if ref is not None:
            data.put("value_ref", str(ref.value), vspan, vspan)
        if settings:
            data.put("settings_class", settings, tspan)
            default = self.env_default(value)
            if default is not None:
                data.put("env_default", default, vspan, vspan)
        data.put("context", PDict(span), span)
        self.facts.append(Fact("python-assign", self.path, data, span, f"assign/{target}"))

    # ---------------------------------------------------------------- calls
    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        changed = pyshell.mutated(node, self)  # cmd.append("--trust-remote-code")
        if changed is not None:
            self.bind_name(changed[0], Binding(VALUE, changed[1]))
        callee = self.qualname(node.func)
        if not callee:
            return
        span = self.pos.span(node)
        data = PDict(span)
        func_span = self.pos.span(node.func)
        data.put("callee", callee, func_span, func_span)
        data.put("function", callee.rsplit(".", 1)[-1], func_span)
        args = PList(span)
        arg_refs = PList(span)
        env_defaults: PDict | None = None  # made when a default is found (few calls)
        for a in node.args:
            aspan = self.pos.span(a)
            if isinstance(a, ast.Starred):
                args.push(UNKNOWN, aspan)
                arg_refs.push(None, aspan)
                continue
            if type(a) is ast.Name:
                # literal(), arg_ref() and env_default() of a name, with one lookup
                b = self.lookup(a.id)
                if b is None:
                    args.push(UNKNOWN, aspan)
                    arg_refs.push(None, aspan)
                    continue
                args.push(b.value if b.kind == VALUE else UNKNOWN, aspan)
                arg_refs.push(str(b.value) if b.kind != VALUE else None, aspan)
                default = b.env_default
                if default is not None:
                    env_defaults = env_defaults if env_defaults is not None else PDict(span)
                    env_defaults.put(str(len(args) - 1), default, aspan, aspan)
                continue
            args.push(self.literal(a), aspan)
            ref = self.arg_ref(a)
            arg_refs.push(str(ref.value) if ref is not None else None, aspan)
            if isinstance(a, (ast.Attribute, ast.Call)):
                default = self.env_default(a)
                if default is not None:
                    env_defaults = env_defaults if env_defaults is not None else PDict(span)
                    env_defaults.put(str(len(args) - 1), default, aspan, aspan)
        data.put("args", args, span)
        kwargs = PDict(span)
        kwarg_refs: PDict | None = None
        star = False
        for kw in node.keywords:
            if kw.arg is None:
                lit = self.literal(kw.value)
                if isinstance(lit, PDict):
                    # a dict written in the call keeps its own positions; one defined
                    # elsewhere is reported where it is spread into this call
                    inline = isinstance(kw.value, (ast.Dict, ast.Call))
                    here = self.pos.span(kw)
                    for k, v in lit.items():
                        kwargs.put(
                            k,
                            v,
                            lit.kspan.get(k) if inline else here,
                            lit.vspan.get(k) if inline else here,
                        )
                else:
                    star = True
                continue
            kspan, vspan = self.pos.span(kw), self.pos.span(kw.value)
            kwargs.put(kw.arg, self.literal(kw.value), kspan, vspan)
            if isinstance(kw.value, (ast.Name, ast.Attribute)):
                ref = self.ref(kw.value)
                if ref is not None:
                    kwarg_refs = kwarg_refs if kwarg_refs is not None else PDict(span)
                    kwarg_refs.put(kw.arg, str(ref.value), kspan, vspan)
            if isinstance(kw.value, (ast.Name, ast.Attribute, ast.Call)):
                default = self.env_default(kw.value)
                if default is not None:
                    env_defaults = env_defaults if env_defaults is not None else PDict(span)
                    env_defaults.put(kw.arg, default, kspan, vspan)
        data.put("kwargs", kwargs, span)
        data.put("star_kwargs", star, span)
        if data["function"] in pyc.OUTPUT_FUNCTIONS:
            printed = PList(span)
            for a in [*node.args, *(kw.value for kw in node.keywords)]:
                for name in pyc.printed_names(a, self._read_from):
                    printed.push(name, self.pos.span(a))
            if printed:
                data.put("printed_names", printed, span)
        elif data["function"] in ("basicConfig", "setLevel", "dictConfig"):
            data.put("file_imports", self.imports, span)
        if any(r is not None for r in arg_refs):
            data.put("arg_refs", arg_refs, span)
        if kwarg_refs:
            data.put("kwarg_refs", kwarg_refs, span)
        if env_defaults:
            data.put("env_defaults", env_defaults, span)
        receiver = self._receiver(node.func)
        if receiver is not None:
            data.put("receiver", receiver, receiver.span)
        data.put("context", PDict(span), span)
        self.calls[id(node)] = (callee, func_span, args, kwargs, span)
        self.facts.append(Fact("python-call", self.path, data, span, f"call/{callee}"))
        self._env_call(callee, node, kwargs)
        if callee in pyshell.RUNNERS:  # os.system("pip install …"), subprocess.run([…])
            self.facts.extend(pyshell.call_facts(callee, node, self))
        if callee.startswith(image_builders.prefixes()):
            built = image_builders.classify(callee)  # an image built in code (BentoML, Modal)
            if built is not None:
                builder, role = built
                if role == "packages":
                    self.facts.extend(image_builders.package_facts(builder, args, span, self.path))
                elif role == "requirements":
                    facts = image_builders.requirements_facts(builder, args, span, self.path)
                    self.facts.extend(facts)
                else:  # a build step: Image().run("pip install …")
                    self.facts.extend(pyshell.call_facts(callee, node, self, builder.origin))
        if callee in PARTIALS and arg_refs and arg_refs[0] is not None:
            self._partial(data, str(arg_refs[0]), span)

    def summary(self, call_id: int) -> PDict | None:
        """The ``callee``, ``args`` and ``kwargs`` of a call already visited (``receiver``
        of methods on its result), made when first asked for: most calls are not."""
        entry = self.calls.get(call_id)
        if entry is None or isinstance(entry, PDict):
            return entry
        callee, func_span, args, kwargs, span = entry
        summary = PDict(span)
        summary.put("callee", callee, func_span, func_span)
        summary.put("args", args, span)
        summary.put("kwargs", kwargs, span)
        self.calls[call_id] = summary
        return summary

    def _read_from(self, name: str) -> str | None:
        b = self.lookup(name)
        return b.source if b is not None else None

    def _partial(self, data: PDict, target: str, span: Span) -> None:
        """``functools.partial(torch.load, weights_only=False)`` is a call of the target
        with those arguments; more keywords may come later, so ``star_kwargs`` is true."""
        bound = PDict(span)
        for key in ("args", "arg_refs", "env_defaults"):
            if key in data:
                items = data[key]
                if isinstance(items, PList):
                    rest = PList(items.span)
                    for i in range(1, len(items)):
                        rest.push(items[i], items.item_span(i))
                    bound.put(key, rest, span)
        func_span = data.vspan.get("callee", span)
        bound.put("callee", target, func_span, func_span)
        bound.put("function", target.rsplit(".", 1)[-1], func_span)
        bound.setdefault("args", PList(span))
        bound.put("kwargs", data["kwargs"], span)
        bound.put("star_kwargs", True, span)
        if "kwarg_refs" in data:
            bound.put("kwarg_refs", data["kwarg_refs"], span)
        bound.put("context", PDict(span), span)
        self.facts.append(Fact("python-call", self.path, bound, span, f"call/{target}"))

    def _receiver(self, func: ast.expr) -> PDict | None:
        if not isinstance(func, ast.Attribute):
            return None
        base = func.value
        if isinstance(base, ast.Call):
            return self.summary(id(base))
        ref = self.ref(base) if isinstance(base, (ast.Name, ast.Attribute)) else None
        return ref.receiver if ref is not None and ref.kind == TYPE else None

    def _env_call(self, callee: str, node: ast.Call, kwargs: PDict) -> None:
        """``os.environ.setdefault/update`` and ``os.putenv`` set environment variables."""
        if callee in ("os.environ.setdefault", "os.putenv") and len(node.args) >= 2:
            name = self.literal(node.args[0])
            if isinstance(name, str):
                self._env(name, node.args[1], node)
        elif callee == "os.environ.update":
            for a in node.args:
                if isinstance(a, ast.Dict):
                    for k, v in zip(a.keys, a.values, strict=False):
                        name = self.literal(k) if k is not None else None
                        if isinstance(name, str):
                            self._env(name, v, node)
            for kw in node.keywords:
                if kw.arg is not None:
                    self._env(kw.arg, kw.value, node)


_DISPATCH: dict[type, tuple[Callable[[_Analyzer, Any], None], bool]] = {}
"""Node type -> (its visit method, whether it is a branch). Kept on the class, not on
each analyzer: bound methods stored on an analyzer would make it a reference cycle,
freed only by the garbage collector, with everything it holds."""


def _dispatch(kind: type) -> tuple[Callable[[_Analyzer, Any], None], bool]:
    fn = getattr(_Analyzer, "visit_" + kind.__name__, None) or _Analyzer.generic_visit
    entry = (fn, issubclass(kind, BRANCHES))
    _DISPATCH[kind] = entry
    return entry


def _is_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


_GRAMMAR = "{}.{}".format(*sys.version_info[:2])
"""The grammar files are parsed with: syntax newer than the running Python is an error."""


def extract(text: str, path: str, lines: list[str]) -> FileAnalysis:
    fa = FileAnalysis(path, "python")
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        fa.notices.append(
            Notice(
                path,
                "parse-error",
                f"Python syntax error under Python {_GRAMMAR}: {exc.msg} (file not analysed)",
                "warning",
                exc.lineno,
            )
        )
        return fa
    except (ValueError, RecursionError, MemoryError) as exc:
        fa.notices.append(Notice(path, "parse-error", f"cannot parse Python: {exc}", "warning"))
        return fa
    analyzer = _Analyzer(path, Positions(lines))
    try:
        analyzer.run(tree)
        if analyzer.too_deep:
            first = min(analyzer.too_deep) or None
            n = len(analyzer.too_deep)
            fa.notices.append(
                Notice(
                    path,
                    "partly-analysed",
                    f"{n} expression{'s' if n != 1 else ''} nested deeper than "
                    f"{MAX_AST_DEPTH} levels not analysed (first at line {first}); "
                    "the rest of the file was",
                    "warning",
                    first,
                )
            )
    except (TooDeep, RecursionError):
        fa.notices.append(
            Notice(
                path,
                "parse-error",
                f"expressions nested deeper than {MAX_AST_DEPTH} levels; not analysed",
                "warning",
            )
        )
        return fa
    fa.facts = analyzer.facts
    return fa
