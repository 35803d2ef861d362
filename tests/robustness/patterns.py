"""Every regular expression mlsec-lint ships: literal patterns in its source, the
patterns of its knowledge tables and the ``regex``/``not-regex`` conditions of the
built-in rules. Used to check that matching stays linear on hostile input."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

import mlsec_lint

PACKAGE = Path(mlsec_lint.__file__).parent
RULES = PACKAGE.parent / "rules"
_RE_FUNCS = {
    "compile",
    "match",
    "search",
    "fullmatch",
    "sub",
    "subn",
    "findall",
    "finditer",
    "split",
}
_RULE_OPS = ("regex", "not-regex")
_TABLE_KEYS = (
    "regex",
    "match",
    "image",
    "tag",
    "placeholders",
    "embedded_assignments",
    "model_cache_paths",
)


def _flags(node: ast.expr | None) -> int:
    if node is None:
        return 0
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flags(node.left) | _flags(node.right)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return int(getattr(re, node.attr))
    raise AssertionError(f"unsupported flags {ast.unparse(node)}")


def source_patterns() -> Iterator[tuple[str, str | bytes, int]]:
    """(where, pattern, flags) of every ``re.*`` call with a literal pattern, or with a
    module-level constant holding one (a pattern compiled on first use)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: stmt.value
            for stmt in tree.body
            if isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, (str, bytes))
            for target in stmt.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in _RE_FUNCS
                and node.args
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Name) and first.id in constants:
                first = constants[first.id]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, (str, bytes))):
                continue
            flags_node = next((k.value for k in node.keywords if k.arg == "flags"), None)
            position = {
                "compile": 1,
                "match": 2,
                "search": 2,
                "fullmatch": 2,
                "findall": 2,
                "finditer": 2,
                "sub": 4,
                "subn": 4,
                "split": 3,
            }[node.func.attr]
            if flags_node is None and len(node.args) > position:
                flags_node = node.args[position]
            where = f"{path.relative_to(PACKAGE.parent)}:{first.lineno}"
            yield where, first.value, _flags(flags_node)


def _table_strings(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _table_strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _table_strings(v, key)
    elif isinstance(value, str) and key in _TABLE_KEYS:
        yield value


def table_patterns() -> Iterator[tuple[str, str, int]]:
    """Patterns of the knowledge tables (``mlsec_lint/data``)."""
    for path in sorted((PACKAGE / "data").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, text in enumerate(_table_strings(data)):
            re.compile(text)  # every string under those keys is a pattern
            yield f"{path.relative_to(PACKAGE.parent)}#{i}", text, 0


def _rule_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _RULE_OPS and isinstance(v, str):
                yield v
            else:
                yield from _rule_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _rule_strings(v)


def rule_patterns() -> Iterator[tuple[str, str, int]]:
    for path in sorted(RULES.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, text in enumerate(_rule_strings(data)):
            yield f"{path.relative_to(RULES.parent)}#{i}", text, 0


def all_patterns() -> list[tuple[str, str | bytes, int]]:
    return [*source_patterns(), *table_patterns(), *rule_patterns()]


def _literals(pattern: str) -> set[str]:
    """Literal characters of a pattern (the characters an attacker repeats)."""
    return {c for c in pattern if not c.isalnum() or c in "aAzZ09"} | {"a", "0", "A"}


GENERIC_PUMPS = (
    " ",
    "\t",
    "\n",
    "\n\n",
    " \n",
    "a",
    "0",
    "#",
    "# ",
    "-",
    "--",
    ":",
    "=",
    "a=",
    "a = ",
    "[",
    "[a=",
    "[a=b,",
    "]",
    "{",
    "${",
    "${a:-",
    "$(",
    "$",
    "\\",
    '"',
    "'",
    "/",
    "./",
    ".",
    "a.",
    "a/",
    "_",
    "a_",
    "-a",
    "<<",
    "@",
    ",",
    ";",
    "|",
    "&",
    "*",
    "**/",
    "a*/",
    "%",
    "- ",
    ": ",
    "a: ",
    '"a": ',
    "x://",
    "https://",
    "http://a",
    "a.zip",
    "sk-",
    "hf_",
    "-----BEGIN ",
    "key=",
    "token=",
    "password: ",
    "a\\\n",
    "a\\\n\n",
    "==",
    ">=",
    "{{",
    "{%",
    "\r",
    "\f",
    "\x0b",
    "\u2028",
    "é",
)


def shapes(pattern: str | bytes) -> list[tuple[str, str]]:
    """(unit, tail) pairs: a unit repeated, with and without a tail that makes the
    match fail at the end, are the shapes that make backtracking engines blow up."""
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    pumps = set(GENERIC_PUMPS) | _literals(text)
    return [(pump, tail) for pump in sorted(pumps) for tail in ("", "\n!")]


def build(pattern: str | bytes, unit: str, tail: str, size: int) -> str | bytes:
    s = unit * -(-size // len(unit)) + tail
    return s.encode("utf-8") if isinstance(pattern, bytes) else s


def adversarial(pattern: str | bytes, size: int) -> list[str | bytes]:
    return [build(pattern, unit, tail, size) for unit, tail in shapes(pattern)]
