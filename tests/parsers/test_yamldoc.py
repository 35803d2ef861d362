from __future__ import annotations

import pytest

from mlsec_lint.model import Span
from mlsec_lint.parsers.yamldoc import YamlError, load_stream, looks_templated
from mlsec_lint.tree import PDict, PList


def test_positions_of_keys_values_and_items() -> None:
    stream = load_stream("a: 1\nb:\n  - x\n  - {y: '2'}\n---\nkind: K\n")
    first, second = stream.docs
    assert isinstance(first.value, PDict)
    assert first.value.kspan["a"] == Span(1, 1, 1, 2)
    assert first.value.vspan["a"] == Span(1, 4, 1, 5)
    items = first.value["b"]
    assert isinstance(items, PList)
    assert items.ispan[1].line == 4 and items.ispan[1].col == 5
    assert items[1]["y"] == "2"  # quoted scalars stay strings
    assert second.value.kspan["kind"].line == 6


def test_scalars_are_resolved_safely() -> None:
    doc = (
        load_stream("i: 0x10\nf: 1.5\nb: yes\nn: ~\nq: 'yes'\nt: !Ref thing\nd: 2024-01-01\n")
        .docs[0]
        .value
    )
    assert doc == {
        "i": 16,
        "f": 1.5,
        "b": True,
        "n": None,
        "q": "yes",
        "t": "thing",
        "d": "2024-01-01",
    }


def test_python_tags_are_never_constructed() -> None:
    doc = load_stream("x: !!python/object/apply:os.system ['true']\n").docs[0].value
    assert isinstance(doc["x"], list)


def test_merge_keys_and_anchors() -> None:
    doc = load_stream("base: &b {k: v, n: 1}\nm:\n  <<: *b\n  n: 2\n").docs[0].value
    assert doc["m"] == {"k": "v", "n": 2}


def test_alias_bomb_is_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(YamlError, match="alias bomb"):
        load_stream("\n".join(lines))


def test_syntax_error_has_a_line() -> None:
    with pytest.raises(YamlError) as info:
        load_stream("a: b\nc: [unclosed\nd: e\n")
    assert info.value.line is not None


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(YamlError):
        load_stream("a: " + "[" * 300 + "]" * 300)


def test_duplicate_keys_are_recorded() -> None:
    stream = load_stream("a: 1\na: 2\n")
    assert stream.docs[0].value["a"] == 2
    assert stream.duplicate_keys == [("a", 2)]


def test_template_detection() -> None:
    assert looks_templated("image: {{ .Values.image }}")
    assert looks_templated("{% if x %}")
    assert not looks_templated("text: '{not a template}'")
