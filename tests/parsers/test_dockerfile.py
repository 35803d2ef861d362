from __future__ import annotations

from mlsec_lint.parsers.dockerfile import parse, substitute


def test_continuations_comments_and_positions() -> None:
    df = parse("FROM python:3.12\nRUN pip install \\\n    # note\n    torch==2.6.0\nUSER 1000\n")
    run = df.instructions[1]
    assert run.keyword == "RUN" and run.span.line == 2 and run.span.end_line == 4
    offset = run.args.index("torch")
    span = run.span_of(offset, offset + 5)
    assert (span.line, span.col) == (4, 5)


def test_escape_directive() -> None:
    df = parse("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\n")
    assert df.escape == "`"
    assert df.instructions[1].args.startswith("dir")
    assert "c:\\" in df.instructions[1].args


def test_heredoc_bodies_and_unterminated_heredoc() -> None:
    df = parse("FROM x\nRUN <<EOF\npip install torch\nEOF\nRUN <<-'END'\n\tcurl a\n")
    first, second = df.instructions[1], df.instructions[2]
    assert first.heredocs[0].body == "pip install torch" and first.heredocs[0].line == 3
    assert second.heredocs[0].body == "curl a"
    assert any(n.code == "dockerfile-heredoc" for n in df.notices)


def test_exec_form_flags_and_stages() -> None:
    text = (
        "ARG BASE=python:3.12\nFROM --platform=linux/amd64 ${BASE} AS build\n"
        'COPY --from=build --chown=1:1 a b\nFROM build\nCMD ["vllm", "serve"]\n'
    )
    df = parse(text)
    assert df.stages[0].base == "python:3.12" and df.stages[0].name == "build"
    assert df.instructions[1].flags == {"platform": "linux/amd64"}
    assert df.stages[1].parent_stage == 0
    assert df.instructions[-1].exec_form == ["vllm", "serve"]
    assert df.instructions[2].flags["from"] == "build"


def test_unknown_instruction_is_a_notice() -> None:
    df = parse("FROM x\nFOO bar\n")
    assert [n.code for n in df.notices] == ["dockerfile-instruction"]


def test_substitute() -> None:
    assert substitute("${A:-x}/${B}:$C", {"B": "b", "C": "c"}) == "x/b:c"
    assert substitute("${A:+set}", {"A": "1"}) == "set"
