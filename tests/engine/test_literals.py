"""The text every match of a pattern holds: read from the pattern, never missed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.engine.literals import (
    caseless_text,
    match_starts,
    may_match,
    required_literal,
    required_prefixes,
)


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("ab*c", None),
        ("a{2,3}bcd", ("bcd", False)),
        (r"x\.y\d+zz", ("x.y", False)),
        ("(ab|cd)ef", ("ef", False)),
        ("ab|cd", None),
        (r"\x41bc", None),
        ("(?i)AbC=", ("abc=", True)),
        ("(?x)abc", None),
        ("a+?bc", ("bc", False)),
        (r"[\]x(]yz", ("yz", False)),
        ("ab(?:c)?de", ("ab", False)),
        ("(?i)Straße", None),
    ],
)
def test_the_text_every_match_of_a_pattern_holds(
    pattern: str, literal: tuple[str, bool] | None
) -> None:
    assert required_literal(pattern) == literal


def _hint_patterns() -> list[str]:
    from mlsec_lint.redact import _token_hints

    return [h.pattern for _, h in _token_hints() if h is not None]


@pytest.mark.parametrize("pattern", [*_hint_patterns(), "a{2,3}bcd", r"x\.y\d+zz", "(?i)kiss="])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_match_of_a_hint_holds_its_literal(pattern: str, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(pattern))
    starts = match_starts(pattern)
    assert starts is None or any(s in text for s in starts)
    assert re.search(pattern, text)
    needed = required_literal(pattern)
    if needed is not None:
        literal, caseless = needed
        assert literal in (caseless_text(text) if caseless else text)


@pytest.mark.parametrize(
    ("pattern", "text", "possible"),
    [
        (r"^torch\.load$", "torch.load", True),
        (r"^torch\.load$", "numpy.load", False),
        ("(?i)^Bearer ", "bearer x", True),
        ("(?i)^Bearer ", "BEARER x", True),
        ("(?i)skip", "\u017fkip", True),  # the long s matches s in any case
        ("a|b", "c", True),  # an alternative: no literal, anything may match
    ],
)
def test_a_pattern_may_match_only_where_its_literal_is(
    pattern: str, text: str, possible: bool
) -> None:
    assert may_match(pattern, text) is possible
    if not possible:
        assert re.search(pattern, text) is None


_PREFIXED = [
    (r"^(requests|httpx)\.get", ("requests", "httpx")),
    (r"^(?:ab?|c\.d)", ("a", "c.d")),
    (r"^(a\.b|c\d)x", ("a.b", "c")),
    (r"^(ab|cd)+e", ("ab", "cd")),
    (r"^(mlflow\.(tracking\.)?Client|openai\.)", ("mlflow.", "openai.")),
    (r"^(a|b)?c", None),  # the group may be absent
    (r"^(ab|cd){0,2}e", None),
    (r"^(ab|cd)\.|x", None),  # an alternative at the top level
    (r"^(ab|[cd]e)", None),  # an alternative that starts with a class
    (r"^(ab|(cd|ef))", ("ab", "cd", "ef")),
    (r"^(a|b)\.x$|^(c|a)y", ("a", "b", "c")),  # every alternative anchored
    (r"^(boto3|aioboto3)(\.session)?\.(client)", ("boto3", "aioboto3")),
    (r"^((x|y)?z|w)", None),
    (r"^(?i:ab|cd)", None),
    (r"(?m)^(ab|cd)", None),
    (r"(^|\.)(ab|cd)", None),
]


@pytest.mark.parametrize(("pattern", "prefixes"), _PREFIXED)
def test_the_texts_an_anchored_pattern_starts_with(
    pattern: str, prefixes: tuple[str, ...] | None
) -> None:
    assert required_prefixes(pattern) == prefixes


@pytest.mark.parametrize("pattern", [p for p, _ in _PREFIXED])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_match_of_an_anchored_pattern_has_its_prefix(
    pattern: str, data: st.DataObject
) -> None:
    text = data.draw(st.from_regex(pattern))
    assert re.search(pattern, text)
    assert may_match(pattern, text)
    if required_prefixes(pattern) is not None:
        assert not may_match(pattern, "z" + text)


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        ("(AKIA|ASIA)[0-9A-Z]{16}", ("AKIA", "ASIA")),
        ("(gh[pousr]_[a-z]{36}|github_pat_[a-z]{60,})", ("gh", "github_pat_")),
        ("hf_[a-z]+", ("hf_",)),
        ("(a|bc)d", None),  # a start too short to rule texts out
        ("(?i)(abc|def)", None),
        ("[ab]cd", None),
    ],
)
def test_the_texts_every_match_starts_with(pattern: str, starts: tuple[str, ...] | None) -> None:
    assert match_starts(pattern) == starts


def _rule_patterns() -> list[str]:
    """Every regular expression of the built-in rules' conditions and of the
    credential tables."""
    from typing import Any

    from mlsec_lint import knowledge
    from mlsec_lint.engine.rules import builtin_rules

    found: set[str] = set()

    def walk(spec: Any) -> None:
        if isinstance(spec, dict):
            for key, value in spec.items():
                if key in ("regex", "not-regex") and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(spec, list):
            for item in spec:
                walk(item)

    for rule in builtin_rules():
        walk(rule.when_spec)
    data = knowledge.table("credentials")
    found.update(str(v["regex"]) for v in data["value_patterns"])
    found.update(str(p) for p in data["placeholders"])
    return sorted(found)


@pytest.mark.parametrize("pattern", _rule_patterns())
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_rule_pattern_may_match_where_it_matches(pattern: str, data: st.DataObject) -> None:
    text = data.draw(st.from_regex(pattern))
    assert re.search(pattern, text)
    assert may_match(pattern, text)
