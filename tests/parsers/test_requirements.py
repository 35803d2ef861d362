from __future__ import annotations

import pytest

from mlsec_lint.parsers.requirements import parse


def test_options_hashes_continuations_and_comments() -> None:
    lines = parse(
        "--extra-index-url https://x\n-rbase.txt\ntorch==2.6.0 \\\n  --hash=sha256:ab  # c\n"
        "-e git+https://g/x@main#egg=x\n# only a comment\n"
    )
    assert [o.name for o in lines[0].options] == ["--extra-index-url"]
    assert lines[1].options[0].name == "--requirement" and lines[1].options[0].value == "base.txt"
    assert lines[2].text == "torch==2.6.0" and [o.value for o in lines[2].options] == ["sha256:ab"]
    assert lines[3].editable and lines[3].text.startswith("git+") and lines[3].span.col == 4
    assert len(lines) == 4


def test_marker_with_spaces_is_one_requirement() -> None:
    (line,) = parse('numpy==2.0.0 ; python_version >= "3.10"\n')
    assert line.text == 'numpy==2.0.0 ; python_version >= "3.10"'


PIP_SEPARATORS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def test_the_separators_are_those_pip_splits_on() -> None:
    """pip reads requirements files with str.splitlines()."""
    for sep in PIP_SEPARATORS:
        assert len(f"a{sep}b".splitlines()) == 2
    others = {chr(c) for c in range(0x3000) if len(f"a{chr(c)}b".splitlines()) == 2}
    assert others - {"\n", "\r"} == set(PIP_SEPARATORS)


@pytest.mark.parametrize("sep", PIP_SEPARATORS, ids=[f"U+{ord(s):04X}" for s in PIP_SEPARATORS])
def test_lines_end_where_pip_ends_them(sep: str) -> None:
    text = (
        f"numpy==1.26.0  # pinned{sep}torch\n--extra-index-url https://a.example{sep}-i https://b\n"
    )
    lines = parse(text)
    assert [(r.text, r.span.line, r.span.col) for r in lines if r.text] == [
        ("numpy==1.26.0", 1, 1),
        ("torch", 1, 25),
    ]
    assert [(o.name, o.value, o.span.line) for r in lines for o in r.options] == [
        ("--extra-index-url", "https://a.example", 2),
        ("--index-url", "https://b", 2),
    ]


@pytest.mark.parametrize("sep", PIP_SEPARATORS, ids=[f"U+{ord(s):04X}" for s in PIP_SEPARATORS])
def test_a_framework_hidden_after_a_separator_is_found(sep: str, tmp_path) -> None:
    from mlsec_lint.api import ScanOptions, scan

    (tmp_path / "requirements.txt").write_text(f"numpy==1.26.0{sep}vllm\n", encoding="utf-8")
    result = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path))).result
    assert [(f.rule_id, f.line, f.column) for f in result.findings] == [("MLS-DEP-001", 1, 15)]
