from __future__ import annotations

from typing import Any

import pytest

from mlsec_lint.engine.predicates import RuleSyntaxError, compile_condition
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.tree import UNKNOWN

DOC = (
    load_stream(
        "name: torch\nversion: '2.5.1'\nport: 8081\nflag: 'true'\nempty: []\nunknown: null\n"
        "items:\n  - {n: a, v: 1}\n  - {n: b, v: 5}\n"
    )
    .docs[0]
    .value
)


def match(spec: dict[str, Any], doc: Any = DOC) -> bool:
    return compile_condition(spec)(doc, doc) is not None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"path": "name", "exists": True}, True),
        ({"path": "nope", "exists": False}, True),
        ({"path": "name", "equals": "torch"}, True),
        ({"path": "port", "equals": "8081"}, True),
        ({"path": "port", "in": [8080, 8081]}, True),
        ({"path": "name", "not-in": ["numpy"]}, True),
        ({"path": "nope", "not-in": ["numpy"]}, False),
        ({"path": "name", "regex": "^to"}, True),
        ({"path": "name", "not-regex": "^to"}, False),
        ({"path": "flag", "is": "truthy"}, True),
        ({"path": "flag", "is-not": "falsy"}, True),
        ({"path": "port", "gt": 8000, "lt": 9000}, True),
        ({"path": "version", "version-lt": "2.6"}, True),
        ({"path": "version", "version-ge": "2.6"}, False),
        ({"path": "name", "version-lt": "2.6"}, False),
        ({"path": "empty", "empty": True}, True),
        ({"path": "items[*].n", "contains": "z"}, False),
        ({"path": "items[*].n", "equals": "b"}, True),
        ({"all": [{"path": "name", "exists": True}, {"path": "port", "equals": 1}]}, False),
        ({"any": [{"path": "nope", "exists": True}, {"path": "port", "equals": 8081}]}, True),
        ({"not": {"path": "name", "exists": True}}, False),
        ({"some": "items[*]", "where": {"path": "v", "gt": 3}}, True),
        ({"every": "items[*]", "where": {"path": "v", "gt": 3}}, False),
        ({"some": "items[*]", "where": {"path": "$root.name", "equals": "torch"}}, True),
    ],
)
def test_operators(spec: dict[str, Any], expected: bool) -> None:
    assert match(spec) is expected


def test_witness_is_the_most_specific_value() -> None:
    cond = compile_condition({"some": "items[*]", "where": {"path": "v", "gt": 3}})
    witnesses = cond(DOC, DOC)
    assert witnesses is not None
    assert witnesses[0].value == 5 and witnesses[0].span.line == 9


def test_unknown_values_exist_but_equal_nothing() -> None:
    doc = {"k": UNKNOWN}
    assert match({"path": "k", "exists": True}, doc)
    assert not match({"path": "k", "is": "falsy"}, doc)
    assert not match({"path": "k", "equals": False}, doc)


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"path": "a", "bogus": 1},
        {"all": []},
        {"path": "a", "exists": False, "equals": 1},
        {"path": "a", "is": "no-such-classifier"},
        {"path": "a", "regex": "("},
        {"some": "a"},
        {"path": "a", "version-lt": "not a version"},
        {"any": [{"path": "a"}], "all": []},
    ],
)
def test_malformed_conditions(spec: dict[str, Any]) -> None:
    with pytest.raises(RuleSyntaxError):
        compile_condition(spec)


def test_lazy_regexes_compile_when_first_used() -> None:
    import re

    doc = {"name": "torch"}
    bad = compile_condition({"path": "name", "regex": "("}, lazy_regex=True)  # no error yet
    with pytest.raises(re.error):
        bad(doc, doc)
    for op, want in (("regex", True), ("not-regex", False)):
        lazy = compile_condition({"any": [{"path": "name", op: "^to"}]}, lazy_regex=True)
        eager = compile_condition({"any": [{"path": "name", op: "^to"}]})
        assert (lazy(doc, doc) is not None) is (eager(doc, doc) is not None) is want
        assert lazy({"name": 3}, {}) == eager({"name": 3}, {})


@pytest.mark.parametrize("op", ["version-lt", "version-le", "version-gt", "version-ge"])
@pytest.mark.parametrize("value", ["2.5.1", "2.6", "2.6.0", "3", "x.y", "", 2, None, UNKNOWN])
def test_lazy_version_bounds_compare_as_eager_ones(op: str, value: Any) -> None:
    doc = {"version": value}
    spec = {"path": "version", op: "2.6"}
    lazy = compile_condition(spec, lazy_regex=True)
    assert (lazy(doc, doc) is None) is (compile_condition(spec)(doc, doc) is None)
    # a bound that is no version: refused when compiled eagerly, never matches lazily
    with pytest.raises(RuleSyntaxError):
        compile_condition({"path": "version", op: "not a version"})
    assert compile_condition({"path": "version", op: "nope"}, lazy_regex=True)(doc, doc) is None


@pytest.mark.parametrize(
    "spec",
    [
        {"path": "name", "equals": "torch"},
        {"path": "items", "exists": True},
        {"path": "version", "regex": "^2"},
        {"path": "$root.port", "gt": 8000},
        {"path": "items.n", "exists": True},  # a key below a list: no value
        {"path": "name.x", "exists": True},  # below a scalar
        {"path": "missing", "not-in": ["x"]},
    ],
)
def test_a_leaf_of_mapping_keys_witnesses_what_the_path_resolves_to(spec: dict[str, Any]) -> None:
    from mlsec_lint.tree import resolve

    hits = compile_condition(spec)(DOC, DOC)
    path = spec["path"].removeprefix("$root.")
    found = resolve(DOC, path)[:1]
    if hits is None:
        assert not found or not match(spec)
    else:
        assert [(h.value, h.span) for h in hits] == [(h.value, h.span) for h in found]
        assert found and hits[0].span != DOC.span  # the field's own position


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("name", "torch"),
        ("port", 8081),
        ("port", "8081"),
        ("flag", True),
        ("flag", "true"),
        ("items", "x"),
        ("unknown", None),
        ("nope.deeper", "x"),
        ("name.x", "torch"),
    ],
)
def test_leaves_of_mapping_keys_agree_with_the_general_leaf(path: str, want: Any) -> None:
    """``equals`` and ``exists: false`` on keys are compiled to their own functions: they
    hold exactly where the general leaf (through a list index, the slow path) holds."""
    doc = load_stream("wrap:\n  - " + "\n    ".join(_LINES)).docs[0].value
    inner = doc["wrap"][0]
    for spec, general in (
        ({"path": path, "equals": want}, {"path": f"wrap[0].{path}", "equals": want}),
        ({"path": path, "exists": False}, {"path": f"wrap[0].{path}", "exists": False}),
    ):
        fast = compile_condition(spec)(inner, inner)
        slow = compile_condition(general)(doc, doc)
        assert (fast is None) is (slow is None)
        if fast:
            assert [(h.value, h.span) for h in fast] == [(h.value, h.span) for h in slow or []]


_LINES = ["name: torch", "port: 8081", "flag: 'true'", "items: [x]", "unknown: null"]
