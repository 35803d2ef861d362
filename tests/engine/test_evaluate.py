"""Guards index rules without changing what they report."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import discover
from mlsec_lint.engine.evaluate import Evaluator, _guards, rule_guards
from mlsec_lint.engine.rules import builtin_rules
from mlsec_lint.facts import Fact
from mlsec_lint.resolve import resolve_all
from mlsec_lint.source import Source, read_source

from ..conftest import CORPUS, CORPUS_ABSENT, FIXTURES, ROOT


def _facts(base: Path) -> tuple[list[Fact], dict[str, Source]]:
    targets, _, _ = discover(["."], base=str(base), respect_gitignore=False)
    facts: list[Fact] = []
    lines: dict[str, Source] = {}
    for t in targets:
        src, _ = read_source(t.abspath, t.display)
        if src is None:
            continue
        lines[src.path] = src
        facts.extend(analyze(src, t.kind).facts)
    facts.extend(resolve_all(facts))
    return facts, lines


@pytest.mark.parametrize("base", [FIXTURES, ROOT / "examples", CORPUS], ids=lambda p: p.name)
def test_guarded_and_unguarded_evaluation_agree(base: Path) -> None:
    if not base.is_dir():
        pytest.skip(CORPUS_ABSENT if base == CORPUS else f"{base} not present")
    facts, sources = _facts(base)
    rules = list(builtin_rules())

    def line_of(path: str, line: int) -> str:
        return sources[path].line(line) if path in sources else ""

    def key(f):
        return (f.path, f.span, f.rule_id, f.message, f.severity)

    fast = sorted(map(key, Evaluator(rules).run(facts, line_of)))
    slow = sorted(map(key, Evaluator(rules, guards=False).run(facts, line_of)))
    assert fast == slow and fast


def test_guard_derivation() -> None:
    spec = {
        "all": [
            {"path": "callee", "in": ["a", "b"]},
            {"any": [{"path": "kind", "equals": "X"}, {"path": "kind", "in": ["Y"]}]},
            {"not": {"path": "n", "equals": 1}},
            {"path": "items[*].x", "equals": 1},
            {"path": "args[0]", "is": "truthy"},
            {"path": "gone", "exists": False},
        ]
    }
    assert set(_guards(spec)) == {
        (("in", ("callee",), frozenset({"a", "b"})),),
        (("in", ("kind",), frozenset({"X", "Y"})),),
        (("has", ("args", 0)),),
    }
    either = _guards(
        {"any": [{"path": "kwargs.x", "is": "truthy"}, {"path": "callee", "equals": "f"}]}
    )
    assert either == [(("has", ("kwargs", "x")), ("in", ("callee",), frozenset({"f"})))]
    assert _guards({"any": [{"path": "a", "equals": 1}, {"not": {"path": "b", "equals": 2}}]}) == []
    assert _guards({"path": "port", "in": [8080, "8081"]}) == [
        (("in", ("port",), frozenset({"8080", "8081"})),)
    ]


def test_nearly_every_python_rule_is_guarded() -> None:
    python = [r for r in builtin_rules() if r.target == "python-call"]
    unguarded = [r.id for r in python if not rule_guards(r)]
    assert len(unguarded) <= 2, unguarded
