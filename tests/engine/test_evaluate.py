"""Guards index rules without changing what they report."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import discover
from mlsec_lint.engine.evaluate import Evaluator, ValueTest, _guards, rule_guards
from mlsec_lint.engine.rules import builtin_rules
from mlsec_lint.facts import Fact
from mlsec_lint.resolve import resolve_all
from mlsec_lint.source import Source, read_source
from mlsec_lint.tree import UNKNOWN

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
        (("is", ("args", 0), ValueTest("is", ["truthy"])),),
    }
    either = _guards(
        {"any": [{"path": "kwargs.x", "exists": True}, {"path": "callee", "equals": "f"}]}
    )
    assert either == [(("has", ("kwargs", "x")), ("in", ("callee",), frozenset({"f"})))]
    calls = _guards(
        {
            "any": [
                {"path": "callee", "regex": "^boto3\\."},
                {"path": "callee", "regex": "^minio\\.", "is": "truthy"},
                {"path": "callee", "in": ["f"]},
                {"path": "kwargs.url", "is": ["external-http-url"]},
            ]
        }
    )
    assert calls == [
        (
            ("in", ("callee",), frozenset({"f"})),
            ("re", ("callee",), ValueTest("re", ["^boto3\\.", "^minio\\."])),
            ("is", ("kwargs", "url"), ValueTest("is", ["external-http-url"])),
        )
    ]
    assert _guards({"any": [{"path": "a", "equals": 1}, {"not": {"path": "b", "equals": 2}}]}) == []
    assert _guards({"path": "port", "in": [8080, "8081"]}) == [
        (("in", ("port",), frozenset({"8080", "8081"})),)
    ]


def test_value_guards_remember_each_value() -> None:
    test = ValueTest("re", ["^boto3\\.", "put_object$"])
    assert test("boto3.client") and test("s3.put_object") and not test("print")
    assert test.memo == {"boto3.client": True, "s3.put_object": True, "print": False}
    assert not test(None) and not test(["boto3.x"]) and not test(UNKNOWN)
    assert ValueTest("re", ["x"]) != ValueTest("is", ["x"])
    url = ValueTest("is", ["external-http-url"])
    assert url("http://models.example.com/m.pt") and not url("http://localhost:8080")
    assert not url(3) and "http://localhost:8080" in url.memo


def test_nearly_every_python_rule_is_guarded() -> None:
    python = [r for r in builtin_rules() if r.target == "python-call"]
    unguarded = [r.id for r in python if not rule_guards(r)]
    assert len(unguarded) <= 2, unguarded


def test_remembered_classifier_answers_follow_the_knowledge_tables() -> None:
    from mlsec_lint import knowledge
    from mlsec_lint.engine.predicates import compile_condition

    guard = ValueTest("is", ["ml-framework"])
    leaf = compile_condition({"path": "name", "is": "ml-framework"})
    doc = {"name": "acme-models"}
    try:
        assert not guard("acme-models") and leaf(doc, doc) is None
        knowledge.extend_frameworks(["acme-models"])
        assert guard("acme-models") and leaf(doc, doc) is not None
    finally:
        knowledge.reset_frameworks()
    assert not guard("acme-models") and leaf(doc, doc) is None
