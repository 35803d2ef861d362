from __future__ import annotations

import pickle

import pytest

from mlsec_lint.model import Span
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.tree import (
    UNKNOWN,
    PDict,
    deepest,
    get,
    parse_path,
    resolve,
    resolve_segs,
    to_plain,
    values_at,
)


def _doc() -> PDict:
    value = (
        load_stream(
            "metadata:\n  annotations:\n    serving.kserve.io/x: '0'\n"
            "spec:\n  containers:\n    - name: a\n      image: i1\n    - name: b\n      image: i2\n"
        )
        .docs[0]
        .value
    )
    assert isinstance(value, PDict)
    return value


def test_paths_with_wildcards_indexes_and_quoted_keys() -> None:
    doc = _doc()
    assert [h.value for h in resolve(doc, "spec.containers[*].image")] == ["i1", "i2"]
    assert get(doc, "spec.containers[-1].name") == "b"
    assert get(doc, 'metadata.annotations."serving.kserve.io/x"') == "0"
    assert get(doc, "metadata.annotations['serving.kserve.io/x']") == "0"
    assert next(h.value for h in resolve(doc, "spec.*"))[0]["name"] == "a"
    assert resolve(doc, "spec.missing.deeper") == []


def test_hit_spans_point_at_the_field() -> None:
    doc = _doc()
    (hit,) = resolve(doc, "spec.containers[1].image")
    assert hit.span == Span(9, 7, 9, 16)


def test_deepest_existing_prefix() -> None:
    doc = _doc()
    assert deepest(doc, "spec.tls.hosts", doc.span).line == 4


@pytest.mark.parametrize("bad", ["", "a..b", "a.", "a[", "a[x]", "'open"])
def test_malformed_paths(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_path(bad)


def test_trees_and_unknown_survive_pickling() -> None:
    doc = _doc()
    doc.put("u", UNKNOWN, None)
    copy = pickle.loads(pickle.dumps(doc))
    assert copy == doc and copy.kspan == doc.kspan and copy["u"] is UNKNOWN
    assert copy["spec"]["containers"].ispan == doc["spec"]["containers"].ispan
    assert to_plain(copy)["u"] is None


def test_span_tables_are_shared_until_a_value_span_differs() -> None:
    d = PDict(Span(1, 1, 3, 1))
    a, b = Span(1, 1, 1, 4), Span(2, 1, 2, 4)
    d.put("a", 1, a, a)
    d.put("u", 2, None)
    assert d.kspan is d.vspan and d.kspan == {"a": a}
    d.put("b", 3, a, b)  # the first different value span splits the tables
    assert d.kspan is not d.vspan
    assert d.kspan == {"a": a, "b": a} and d.vspan == {"a": a, "b": b}
    d.put("a", 4, b, b)
    assert d.kspan["a"] == b and d.vspan["a"] == b and d.field_span("b") == a
    only_value = PDict()
    only_value.put("v", 1, None, b)
    assert "v" not in only_value.kspan and only_value.vspan == {"v": b}


def test_shared_span_tables_survive_pickling() -> None:
    d = PDict()
    d.put("a", 1, Span(1, 1, 1, 2), Span(1, 1, 1, 2))
    copy = pickle.loads(pickle.dumps(d))
    copy.put("b", 2, Span(2, 1, 2, 2), Span(2, 4, 2, 5))
    assert copy.kspan == {"a": Span(1, 1, 1, 2), "b": Span(2, 1, 2, 2)}
    assert copy.vspan == {"a": Span(1, 1, 1, 2), "b": Span(2, 4, 2, 5)}


def _state(d: PDict) -> tuple[object, ...]:
    return (
        list(d.items()),
        d.span,
        list(d.kspan.items()),
        list(d.vspan.items()),
        d.kspan is d.vspan,
    )


@pytest.mark.parametrize("before", ["empty", "shared", "split"])
def test_put_all_is_put_of_each_field(before: str) -> None:
    a, b, s = Span(1, 1, 1, 4), Span(2, 1, 2, 4), Span(3, 1, 3, 9)
    one, many = PDict(a), PDict(a)
    for d in (one, many):
        if before != "empty":
            d.put("x", 0, a, a if before == "shared" else b)
    fields = {"y": 1, "x": 2, "z": [3]}
    for key, value in fields.items():
        one.put(key, value, s, s)
    many.put_all(fields, s)
    assert _state(many) == _state(one)
    many.put("w", 4, a, b)  # a table of its own: another mapping's is never written
    assert "w" not in PDict().kspan


@pytest.mark.parametrize(
    "path",
    [
        "spec.containers[*].image",
        "spec.*",
        "spec.containers[-1].name",
        "spec.containers[5]",
        "metadata.*.*",
        "spec.containers[*].nope",
        "spec.containers[0]",
    ],
)
def test_values_at_are_the_values_resolve_finds(path: str) -> None:
    doc = _doc()
    segs = parse_path(path)
    hits = resolve_segs(doc, segs)
    assert values_at(doc, segs) == [h.value for h in hits]
    assert [h.span for h in hits] == [h.span for h in resolve(doc, path)]
    if path == "spec.containers[-1].name":
        assert hits[0].span == Span(8, 7, 8, 14)  # "name: b"
