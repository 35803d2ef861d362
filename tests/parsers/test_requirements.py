from __future__ import annotations

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
