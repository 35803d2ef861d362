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


# ---------------------------------------------------------------- the two builders

from typing import Any  # noqa: E402

import yaml  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mlsec_lint.parsers.yamldoc import _load_exactly, _may_nest_deeply  # noqa: E402

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=12),
)
_docs = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text("abcdefgh-_.", min_size=1, max_size=6), inner, max_size=4),
    ),
    max_leaves=25,
)


def _shape(value: Any) -> Any:
    """Values and every span, for comparing trees exactly."""
    if isinstance(value, PDict):
        return (
            "map",
            value.span,
            [(k, value.kspan.get(k), value.vspan.get(k), _shape(v)) for k, v in value.items()],
        )
    if isinstance(value, PList):
        return ("seq", value.span, value.ispan, [_shape(v) for v in value])
    return value


def _outcome(read: Any) -> Any:
    """Everything a reading produces: trees, spans, notices, or the error refusing it."""
    try:
        stream = read()
    except YamlError as exc:
        return ("refused", type(exc), exc.message, exc.line)
    stopped = stream.stopped and (stream.stopped.message, stream.stopped.line)
    return [(_shape(d.value), d.span, d.index) for d in stream.docs] + [
        stream.duplicate_keys,
        stream.scalar_spans,
        stopped,
    ]


def _both(text: str) -> tuple[Any, Any]:
    fast = _outcome(lambda: load_stream(text))
    assert fast == _outcome(lambda: _load_exactly(text, force_events=False))
    return fast, _outcome(lambda: load_stream(text, force_events=True))


@settings(max_examples=150, deadline=None)
@given(_docs, st.sampled_from([True, False, None]))
def test_composer_and_event_builders_agree(doc: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    fast, slow = _both(text)
    assert fast == slow


_UNUSUAL = [
    "a: &x 1\nb: &x 2\nc: *x\n",  # an anchor named twice: the composer refuses it
    "a: &x [1, &x 2]\n",
    "a: *nowhere\n",
    "a: &r [1, *r]\n",  # an alias inside its own anchor
    "a: ! '12'\nb: ! 12\nc: !!int '7'\nd: !!str 7\n",  # non-specific and explicit tags
    "m:\n  <<: 3\n",  # an invalid merge key...
    "m:\n  <<: 3\nn: [unclosed\n",  # ...and a syntax error later in the document
    "x: 1\n---\nm: {<<: [1]}\n",
    "<<: {a: 1}\n",  # a mapping holding only a merge key
    "{? [1, 2] : x, ? {a: b} : y}\n",  # complex keys
    "a: &x [1]\n? *x\n: v\n&k key: 1\n*k : 2\nb: &s {k: v}\nc: [*s, *s]\n",  # aliases
    "a: " + "[" * 199 + "]" * 199 + "\n",  # nesting just within and just past the limit
    "a: " + "[" * 200 + "]" * 200 + "\n",
    "a: " + "[" * 201 + "]" * 201 + "\n",
    "- " * 150 + "x\n",
    "a: 1\n---\n" + "a: " + "[" * 300 + "]" * 300 + "\n",
    "ok: 1\n---\n"
    + "\n".join(
        [f"l0: &l0 [{', '.join(['x'] * 20)}]"]
        + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 20)}]" for i in range(1, 6)]
    ),  # an alias bomb in the second document: the first is kept
    "a: [1, 2\n",  # syntax errors
    "a: b\n- c\n",
    "\tx: 1\n",
    "",
    "---\n---\n",
    "just a scalar\n",
    "? \n: v\n",
]


@pytest.mark.parametrize("text", _UNUSUAL)
def test_unusual_input_reads_as_before(text: str) -> None:
    # the flat builder hands anything unusual to the builder whose behaviour applies
    expected = _outcome(lambda: _load_exactly(text, force_events=_may_nest_deeply(text)))
    assert _outcome(lambda: load_stream(text)) == expected


def test_builders_agree_on_anchors_merges_tags_and_multidoc() -> None:
    text = (
        "base: &b {k: v, n: 1}\nm:\n  <<: [*b, {z: 9}]\n  n: 2\nl: &l [1, 2]\nr: *l\n"
        "t: !Ref x\nq: '0x10'\nblock: |\n  a\n  b\n---\n- a\n- a: 1\n  a: 2\n---\n"
    )
    fast, slow = _both(text)
    assert fast == slow
    doc = load_stream(text).docs[0].value
    assert doc["m"] == {"n": 2, "k": "v", "z": 9} and doc["r"] == doc["l"] == [1, 2]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "- " * 90_000 + "x\n",
        "a: " + "{b: " * 50_000 + "1" + "}" * 50_000,
        "".join("  " * i + "- - - - - - - k:\n" for i in range(400)) + "v\n",
    ],
)
def test_hostile_nesting_is_refused_quickly_without_crashing(text: str) -> None:
    import time

    assert _may_nest_deeply(text)
    start = time.perf_counter()
    # Refused (by our depth limit or by libyaml's own, whichever comes first: the wording is
    # the library's business), quickly, as a YamlError that analysis turns into a notice.
    with pytest.raises(YamlError) as refused:
        load_stream(text)
    assert time.perf_counter() - start < 1.0
    assert str(refused.value).strip()


def test_ordinary_manifests_take_the_fast_path() -> None:
    manifest = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      args: [--x, '1']\n"
    )
    assert not _may_nest_deeply(manifest * 50)


@pytest.mark.parametrize("force_events", [False, True])
def test_equal_spans_and_keys_are_shared_across_documents(force_events: bool) -> None:
    text = "name: a\nimage: x\n---\nname: a\nimage: y\n"
    first, second = load_stream(text, force_events=force_events).docs
    # the same key at the same position in another file or document: one object each
    again = load_stream("name: a\n", force_events=force_events).docs[0].value
    assert again.kspan["name"] is first.value.kspan["name"]
    assert again.vspan["name"] is first.value.vspan["name"]
    key_here = next(iter(first.value))
    key_there = next(iter(second.value))
    assert key_here is key_there
    assert second.value.kspan["name"] == Span(4, 1, 4, 5)


def test_ordinary_input_is_read_once_without_the_nesting_bound(monkeypatch: Any) -> None:
    from mlsec_lint.parsers import yamldoc

    def unexpected(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("read again")

    monkeypatch.setattr(yamldoc, "_load_exactly", unexpected)
    monkeypatch.setattr(yamldoc, "_may_nest_deeply", unexpected)
    text = (
        "base: &b {k: v}\nm:\n  <<: *b\n  n: 0x10\nflags: [yes, ~, 1.5, '2', 2020-01-01]\n"
        "a: 1\na: 2\n---\n- text: |\n    two\n    lines\n"
    )
    stream = load_stream(text)
    first, second = (d.value for d in stream.docs)
    assert first["m"] == {"n": 16, "k": "v"} and first["a"] == 2
    assert first["flags"] == [True, None, 1.5, "2", "2020-01-01"]
    assert second == [{"text": "two\nlines\n"}]
    assert stream.duplicate_keys == [("a", 7)] and stream.scalar_spans == [Span(9, 9, 12, 1)]
