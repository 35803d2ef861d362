"""Architecture: the package's import graph has no cycles and no module grows past its size.

The graph is built from the source with ``ast`` (nothing is imported): every ``import``
and ``from ... import ...`` statement anywhere in a module (module level, function bodies,
``TYPE_CHECKING`` blocks) is an edge, and ``from pkg import name`` points at the submodule
``pkg.name`` when there is one, else at ``pkg``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

PACKAGE = "mlsec_lint"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

MAX_LINES = 1_000
"""Modules that pass this many lines are split by responsibility."""

ALLOWED_CYCLES: frozenset[frozenset[str]] = frozenset()
"""Strongly connected components tolerated for now, each with the reason (none today).
Every entry must still be a cycle: an entry that no longer forms one fails the test."""

ALLOWED_LONG: frozenset[str] = frozenset()
"""Modules tolerated over MAX_LINES for now; each must still be over it (none today)."""


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _owner(name: str, modules: Iterable[str]) -> str | None:
    """The package module that ``name`` (a module or an attribute of one) lives in."""
    known = set(modules)
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Edges from each module to the package modules it imports, at any depth."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _base(name, is_package, node)
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                owner = _owner(target, modules)
                if owner is not None and owner != name:
                    graph[name].add(owner)
    return graph


def strongly_connected(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """The components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_the_package_has_no_import_cycles() -> None:
    cycles = set(strongly_connected(import_graph(package_modules())))
    unexpected = sorted(sorted(cycle) for cycle in cycles - ALLOWED_CYCLES)
    assert unexpected == [], f"import cycles between modules: {unexpected}"
    stale = sorted(sorted(cycle) for cycle in ALLOWED_CYCLES - cycles)
    assert stale == [], f"allow-listed cycles that are gone, drop them: {stale}"


def test_no_module_is_oversized() -> None:
    long = {name for name, path in package_modules().items() if _line_count(path) > MAX_LINES}
    assert sorted(long - ALLOWED_LONG) == [], f"modules over {MAX_LINES} lines: split them"
    assert sorted(ALLOWED_LONG - long) == [], "allow-listed modules are short now: drop them"


# The checker itself, on a small package written for the purpose.


def _write(root: Path, files: Mapping[str, str]) -> Path:
    package = root / "pkg"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


@pytest.fixture
def small_package(tmp_path: Path) -> Path:
    return _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "def f() -> None:\n    from .sub import c\n",
            "sub/__init__.py": "from .c import VALUE\n",
            "sub/c.py": "import pkg.a\nVALUE = 1\n",
            "d.py": "from pkg.sub import VALUE\nimport os\n",
            "e.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import d\n",
        },
    )


def test_the_graph_resolves_relative_function_level_and_submodule_imports(
    small_package: Path,
) -> None:
    graph = import_graph(package_modules(small_package))
    assert graph["pkg.a"] == {"pkg.b"}
    assert graph["pkg.b"] == {"pkg.sub.c"}
    assert graph["pkg.sub"] == {"pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert graph["pkg.d"] == {"pkg.sub"}
    assert graph["pkg.e"] == {"pkg.d"}
    assert graph["pkg"] == set()


def test_components_are_the_cycles_only(small_package: Path) -> None:
    graph = import_graph(package_modules(small_package))
    assert strongly_connected(graph) == [frozenset({"pkg.a", "pkg.b", "pkg.sub.c"})]
    graph["pkg.d"].add("pkg.e")
    assert sorted(map(sorted, strongly_connected(graph))) == [
        ["pkg.a", "pkg.b", "pkg.sub.c"],
        ["pkg.d", "pkg.e"],
    ]
