"""Python constructs the extractor recognises beyond calls and assignments.

Pure helpers over :mod:`ast` nodes, used by :mod:`mlsec_lint.facts.python`:

* **unpickler subclasses**: a class derived from ``pickle.Unpickler`` (or ``dill``'s,
  ``_pickle``'s) whose ``find_class`` does not restrict what it loads is, for the rules, a
  ``pickle.Unpickler``: ``MyUnpickler(fh).load()`` is ``pickle.Unpickler().load``;
* **settings classes**: pydantic ``BaseSettings`` subclasses and dataclasses, whose field
  defaults (``host: str = "0.0.0.0"``, ``Field(default=...)``) configure a service;
* **credential-like literals**: one-word string literals assigned to plain names
  (``HF_TOKEN = "hf_…"``) are facts, so a token written into code is seen;
* **printed names**: the variables, attributes and environment variable names whose values
  a ``print``/logging call writes out (``print(api_key)``, ``log.info("%s",
  os.environ["HF_TOKEN"])``, f-strings); a slice (``token[:4]``) or any other call is
  not the value itself and is left out.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

UNPICKLERS = frozenset(
    {
        "pickle.Unpickler",
        "pickle._Unpickler",
        "_pickle.Unpickler",
        "dill.Unpickler",
        "dill._dill.Unpickler",
        "cloudpickle.Unpickler",
    }
)
SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.env_settings.BaseSettings",
    }
)
DATACLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "pydantic.dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
    }
)
FIELD_FUNCTIONS = frozenset(
    {
        "pydantic.Field",
        "pydantic.fields.Field",
        "dataclasses.field",
        "attr.ib",
        "attr.attrib",
        "attr.field",
        "attrs.field",
    }
)
OUTPUT_FUNCTIONS = frozenset(
    {
        "print",
        "pprint",
        "display",
        "echo",
        "secho",
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "critical",
        "exception",
        "log",
        "write",
    }
)
"""Functions whose arguments are written out (print, logging, click, sys.stdout.write)."""
_DELEGATES = frozenset({"find_class", "getattr", "import_module", "__import__"})
_FORMATTERS = frozenset({"str", "repr", "format", "dict"})
_ENV_READERS = frozenset({"getenv", "get"})


def restricts_find_class(cls: ast.ClassDef) -> bool:
    """Whether the class overrides ``find_class`` to limit what can be loaded: it raises,
    or it looks the class up in its own table, instead of handing every name on to the
    default lookup (``return super().find_class(module, name)``)."""
    method = next(
        (
            n
            for n in cls.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "find_class"
        ),
        None,
    )
    if method is None:
        return False
    delegates = False
    for node in ast.walk(method):
        if isinstance(node, (ast.Raise, ast.Assert)):
            return True
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            delegates = delegates or name in _DELEGATES
    return not delegates


def field_default(value: ast.expr, qualname: Callable[[ast.expr], str | None]) -> ast.expr | None:
    """The default of a settings field: the value itself, or ``default=`` (pydantic also
    takes it as the first argument) of ``Field(...)``/``field(...)``; None when the field
    has no literal default (``default_factory``, ``...``)."""
    if not isinstance(value, ast.Call):
        return value
    name = qualname(value.func)
    if name not in FIELD_FUNCTIONS:
        return value
    for kw in value.keywords:
        if kw.arg == "default":
            return kw.value
    if name.startswith("pydantic.") and value.args:
        return value.args[0]
    return None


def printed_names(
    node: ast.expr, read_from: Callable[[str], str | None] | None = None, depth: int = 0
) -> Iterator[str]:
    """Names whose values an argument writes out, as written: ``api_key``,
    ``self.hf_token`` -> ``hf_token``, ``os.environ["HF_TOKEN"]`` and
    ``os.getenv("HF_TOKEN")`` -> ``HF_TOKEN``; ``read_from`` gives, for a variable, the
    name its value was read from (``token = os.environ["HF_TOKEN"]``)."""
    if depth > 10:
        return
    if isinstance(node, ast.Name):
        yield node.id
        source = read_from(node.id) if read_from is not None else None
        if source is not None and source != node.id:
            yield source
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            yield key.value  # os.environ["HF_TOKEN"], config["api_key"]
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                yield from printed_names(part.value, read_from, depth + 1)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        yield from printed_names(node.left, read_from, depth + 1)
        yield from printed_names(node.right, read_from, depth + 1)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            yield from printed_names(elt, read_from, depth + 1)
    elif isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _ENV_READERS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield first.value
        elif name in _FORMATTERS:
            for arg in node.args:
                yield from printed_names(arg, read_from, depth + 1)
            for kw in node.keywords:
                yield from printed_names(kw.value, read_from, depth + 1)


def secret_like(value: ast.expr) -> bool:
    """A string literal that could be a credential: one word of 8 to 500 characters.
    Assignments of such literals to plain names become ``python-assign`` facts (the rules
    decide by the name and the token format)."""
    if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
        return False
    text = value.value
    return 8 <= len(text) <= 500 and not any(c.isspace() for c in text)
