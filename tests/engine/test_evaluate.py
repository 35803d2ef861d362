"""Guards index rules without changing what they report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import discover
from mlsec_lint.engine.evaluate import Evaluator, ValueTest, _guards, render, rule_guards
from mlsec_lint.engine.rules import builtin_rules
from mlsec_lint.facts import Fact
from mlsec_lint.resolve import resolve_all
from mlsec_lint.source import Source, read_source
from mlsec_lint.tree import UNKNOWN, Hit

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


def test_an_any_condition_gives_a_clause_per_rank_of_its_branches() -> None:
    spec = {
        "any": [
            {
                "all": [
                    {"path": "kwargs.verify", "is": "python-falsy"},
                    {"path": "function", "in": ["get"]},
                ]
            },
            {"path": "callee", "equals": "ssl.x"},
        ]
    }
    first, second = _guards(spec)
    assert {a[1] for a in first} == {("function",), ("callee",)}
    assert {a[1] for a in second} == {("kwargs", "verify"), ("callee",)}


def test_calls_are_keyed_on_callee_and_function() -> None:
    plan = Evaluator(builtin_rules()).plan("python-call")
    assert plan is not None and plan.paths[:2] == (("callee",), ("function",))

    def passes(rule_id: str, data: dict[str, object]) -> bool:
        assert plan is not None
        return any(
            rule.id == rule_id and all(check(data) for check in checks)
            for rule, checks in plan.candidates(data)
        )

    call = {"callee": "requests.get", "function": "get", "args": [], "star_kwargs": False}
    assert not passes("MLS-PY-010", {**call, "kwargs": {"timeout": 3}})
    assert passes("MLS-PY-010", {**call, "kwargs": {"timeout": 3, "verify": False}})


def test_value_tests_under_one_mapping_agree_with_each_test() -> None:
    from mlsec_lint.engine.evaluate import _atom_holds, _clause_check

    clause = (
        ("is", ("kwargs", "verify"), ValueTest("is", ["python-falsy"])),
        ("in", ("kwargs", "cert_reqs"), frozenset({"CERT_NONE"})),
        ("re", ("kwarg_refs", "cert_reqs"), ValueTest("re", ["^ssl\\.CERT_"])),
        ("has", ("kwargs", "ssl")),
        ("in", ("callee",), frozenset({"f"})),
    )
    check = _clause_check(clause)
    for data in [
        {"kwargs": {}},
        {"kwargs": {"verify": False}},
        {"kwargs": {"verify": True, "cert_reqs": "CERT_NONE"}},
        {"kwargs": {"cert_reqs": "CERT_REQUIRED"}, "kwarg_refs": {"cert_reqs": "ssl.CERT_NONE"}},
        {"kwargs": {"ssl": None}},
        {"kwargs": ["verify"], "callee": "f"},
        {"callee": "g"},
    ]:
        assert check(data) == any(_atom_holds(data, atom) for atom in clause), data


def test_a_fix_whose_placeholder_has_no_value_is_not_offered() -> None:
    """Messages show "unknown" for a missing field; a fix never writes it into a file."""
    from mlsec_lint.engine.evaluate import _fix_plan
    from mlsec_lint.model import Span
    from mlsec_lint.records import replace as replace_fields
    from mlsec_lint.tree import PDict

    rule = next(r for r in builtin_rules() if r.id == "MLS-DEP-001")
    assert rule.fix is not None
    unguarded = replace_fields(rule, fix=replace_fields(rule.fix, when=None))
    span = Span(1, 1, 1, 6)
    node = PDict(span)
    node.put("spec", "torch", span)
    assert _fix_plan(unguarded, node, node, span, span, ()) is None
    node.put("pinned_elsewhere", "2.6.0", span)
    plan = _fix_plan(unguarded, node, node, span, span, ())
    assert plan is not None and "==2.6.0" in str(dict(plan.args)["replacement"])


def _render_by_regex(template: str, node: object, root: object, witnesses: list[Hit]) -> str:
    """Messages as they were rendered before templates were parsed once: a regular
    expression substitution resolving each placeholder at each call."""
    from mlsec_lint.engine.evaluate import _PLACEHOLDER, EMPTY_FIELD, _text
    from mlsec_lint.tree import resolve

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "$value":
            return (_text(witnesses[0].value) if witnesses else "") or EMPTY_FIELD
        base = node
        if name.startswith("$root."):
            base, name = root, name[6:]
        try:
            hits = resolve(base, name)
        except ValueError:
            return m.group(0)
        return (_text(hits[0].value) if hits else "") or EMPTY_FIELD

    return _PLACEHOLDER.sub(repl, template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("image {image} of {$root.kind}", "image vllm:latest of Deployment"),
        ("ports {ports}, first {ports[0]}, all {ports[*]}", "ports 80, 443, first 80, all 80"),
        ("{$value} / {missing} / {$root.} / {a..b}", "x / unknown / {$root.} / {a..b}"),
        ("flag {flag} empty {empty} nested {env.HF_TOKEN}", "flag true empty unknown nested t"),
        ("{$root} {$rootkind} no placeholder {} { x }", "unknown unknown no placeholder {} { x }"),
        ("", ""),
        # indexes: from the end, out of range, on a mapping with number keys, then a key
        ("{ports[-1]} {ports[5]} {byint[0]} {items[0].name}", "443 unknown unknown a"),
    ],
)
def test_templates_render_as_the_placeholder_substitution(template: str, expected: str) -> None:
    root = {"kind": "Deployment", "spec": {"image": "vllm:latest"}}
    node = {
        "image": "vllm:latest",
        "ports": [80, 443],
        "flag": True,
        "empty": "",
        "env": {"HF_TOKEN": "t"},
        "byint": {0: "zero"},
        "items": [{"name": "a"}],
    }
    witnesses = [Hit("x")]
    assert render(template, node, root, witnesses) == expected
    assert render(template, node, root, witnesses) == _render_by_regex(
        template, node, root, witnesses
    )
    assert render("{$value}", node, root, []) == "unknown"
    assert render("{missing}", node, root, [], missing="") == ""


def test_every_rule_message_renders_as_the_placeholder_substitution(base: Path = CORPUS) -> None:
    facts, _ = _facts(base)
    for fact in facts:
        for rule in builtin_rules():
            if rule.target != fact.kind:
                continue
            texts = [rule.message, *(a.note for a in rule.adjust)]
            for text in texts:
                assert render(text, fact.data, fact.data, []) == _render_by_regex(
                    text, fact.data, fact.data, []
                )
