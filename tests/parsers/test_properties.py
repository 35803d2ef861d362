from __future__ import annotations

from mlsec_lint.parsers.properties import parse


def test_separators_comments_escapes_and_continuations() -> None:
    props = parse(
        "# c\n! bang\na=1\nb : 2\nc 3\nkey\\ sp = v\\u0041\nlong = one \\\n    two\nempty\n"
    )
    assert props == {"a": "1", "b": "2", "c": "3", "key sp": "vA", "long": "one two", "empty": ""}
    assert props.kspan["b"].line == 4 and props.vspan["b"].col == 5
    assert props.vspan["long"].end_line == 8


def test_later_keys_win() -> None:
    assert parse("a=1\na=2\n")["a"] == "2"


def test_long_continuations_take_linear_time() -> None:
    import time

    text = "a=" + "x\\\n" * 200_000 + "y\n"
    start = time.perf_counter()
    doc = parse(text)
    assert time.perf_counter() - start < 5
    assert doc["a"] == "x" * 200_000 + "y"


def test_a_continuation_through_a_line_of_backslashes() -> None:
    # "b\" continues; the next line "\\\" joined gives "b\\\" (odd): continues again
    doc = parse("a=b\\\n\\\\\\\nc\nd=e\n")
    assert doc["a"] == "b\\c"
    assert doc["d"] == "e"
