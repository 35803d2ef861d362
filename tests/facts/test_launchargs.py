"""Positioned arguments and environment: variable expansion and position alignment."""

from __future__ import annotations

import pytest

from mlsec_lint.facts.launchargs import align, expand


def test_expand() -> None:
    from mlsec_lint.facts.launchargs import EnvVar
    from mlsec_lint.model import Span

    s = Span(1, 1, 1, 2)
    env = {"A": EnvVar("A", "x", s, s), "E": EnvVar("E", "", s, s)}
    assert expand("$A-${A}-${B:-d}-${E:-d}-${A:+y}", env, "shell") == ("x-x-d-d-y", True)
    assert expand("$(A)/$(B)", env, "k8s") == ("x/$(B)", False)
    assert expand("$B", env, "shell") == ("$B", False)


def test_align_skips_quotes_escapes_and_indentation() -> None:
    src = 'args: ["--host=\\"x\\""]'
    text = '--host="x"'
    start = src.index('"--')
    offsets = align(text, src, start, len(src))
    assert [src[o] for o in offsets[: len(text)]] == list(text)
    block = "key: |\n    a b\n    c\n"
    offsets = align("a b\nc\n", block, 6, len(block))
    assert block[offsets[4]] == "c"


@pytest.mark.parametrize(
    "text", ["", "a", "a\n", "\n\n", "ab\ncd\n\nef", "é\nü\n", "x\n" * 5 + "y"]
)
def test_file_text_lines_start_where_the_source_says(text: str) -> None:
    from mlsec_lint.facts.launchargs import FileText
    from mlsec_lint.source import line_starts

    ft = FileText(text)
    assert list(ft.starts) == list(line_starts(text))
    assert ft.offset(len(ft.starts) + 1, 1) == len(text)
