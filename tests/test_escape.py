"""Outputs cannot be forged: hostile file names and contents reach every format escaped."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlsec_lint import escape
from mlsec_lint.cli import main

FORGED = "::error file=x.py,line=1::forged"
HOSTILE_DIRS = [
    FORGED,
    "##[add-mask]secret",
    "line\n::add-mask::x",
    "cr\r::warning::x",
    "esc\x1b[31mred",
]


def _tree(root: Path, copies: int = 1) -> None:
    for i, name in enumerate(HOSTILE_DIRS):
        for k in range(copies):
            d = root / f"{name}{k or ''}"
            d.mkdir(parents=True)
            # one finding on line 2, its source line holds terminal escapes and a command
            (d / "requirements.txt").write_text(f"# \x1b]0;title\x07 ::error::{i}\ntorch\n")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", ".", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _forged(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if (
            (stripped.startswith("::") and not stripped.startswith(allowed))
            or "##[" in line
            or "\x1b" in line
            or "\r" in line
        ):
            bad.append(line)
    return bad


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "gitlab", "junit", "html"])
def test_no_line_starts_a_workflow_command(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "--format", fmt, "--color", "never")
    assert code == 1
    assert not _forged(out), _forged(out)
    assert not _forged(err), _forged(err)


def test_github_annotations_are_ours_also_past_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(tmp_path, copies=7)  # 35 findings: more than GitHub shows
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "--format", "github")
    assert code == 1
    commands = [line for line in out.splitlines() if line.startswith("::")]
    assert len(commands) > 10
    for line in commands:
        head, _, message = line[2:].partition("::")
        assert head.split(" ", 1)[0] in ("error", "warning", "notice")
        assert "\n" not in message and "\r" not in message
        assert "::" not in head.split(" ", 1)[1] if " " in head else True
    rest = [line for line in out.splitlines() if not line.startswith("::")]
    assert any("requirements.txt" in line for line in rest)  # the findings left out
    assert not _forged("\n".join(rest))
    assert not _forged(err)


def test_undecodable_file_names_give_valid_utf8_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9\xff"
    try:
        os.mkdir(raw)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    with open(raw + b"/requirements.txt", "wb") as fh:
        fh.write(b"torch\n# \xed\xa0\x80 lone surrogate bytes\n")
    monkeypatch.chdir(tmp_path)
    for fmt, shown in (
        ("json", "caf\\\\xe9\\\\xff"),
        ("gitlab", "caf\\\\xe9\\\\xff"),
        ("sarif", "caf%E9%FF"),
    ):  # a URI: the bytes, percent-encoded
        _, out, _ = _run(capsys, "--format", fmt)
        out.encode("utf-8")  # no lone surrogates
        text = json.dumps(json.loads(out))
        assert shown in text, fmt
    for fmt in ("junit",):
        _, out, _ = _run(capsys, "--format", fmt)
        ET.fromstring(out.encode("utf-8"))  # well-formed
        assert "caf\\xe9\\xff" in out
    _, out, _ = _run(capsys, "--format", "html")
    out.encode("utf-8")
    _, out, _ = _run(capsys, "--format", "text")
    assert "caf\\xe9\\xff" in out


def test_xml_reports_are_well_formed_with_control_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "ctl\x01\x0b"
    d.mkdir()
    (d / "requirements.txt").write_text("torch  # \x08\x1b\n")
    monkeypatch.chdir(tmp_path)
    _, out, _ = _run(capsys, "--format", "junit")
    root = ET.fromstring(out.encode("utf-8"))
    assert root.get("failures") == "1"
    assert "ctl" in out and "\x01" not in out and "\x1b" not in out


def test_escape_helpers() -> None:
    assert escape.text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape.text("::error::x") == "\\x3a:error::x"
    assert escape.text("  ::add-mask::x") == "  \\x3a:add-mask::x"
    assert escape.text("ok ::fine") == "ok ::fine"
    assert escape.text("x ##[group]y") == "x ##\\x5bgroup]y"
    assert escape.text("caf\udce9") == "caf\\xe9"
    assert escape.log("a\n::error::x\n  ::warning::y\nz") == (
        "a\n\\x3a:error::x\n  \\x3a:warning::y\nz"
    )
    assert escape.github_data("100% done\r\n::x") == "100%25 done%0D%0A::x"
    assert escape.github_property("a:b,c") == "a%3Ab%2Cc"
    assert json.loads(escape.json_output(json.dumps("##[x]", ensure_ascii=False))) == "##[x]"
    assert json.loads(escape.json_output('"\udcff"')) == "\\xff"
    assert escape.xml_output("a\x00b\udcffc##[") == "a\\x00b\\xffc##&#91;"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://example.com/x", "data:text/html,x"])
def test_user_rule_links_must_be_https(url: str, tmp_path: Path) -> None:
    from mlsec_lint.engine.rules import load_ruleset
    from mlsec_lint.errors import MlsecLintError

    d = tmp_path / "rules"
    d.mkdir()
    (d / "X-001.yaml").write_text(
        "id: X-001\nname: x-rule\ntitle: Image matches a pattern\ncategory: tls\n"
        "severity: low\ntarget: container\nwhen: {path: image, exists: true}\n"
        "message: The image matches.\n"
        "docs: {what: Checks the image., why: Because it matters., example: x, use_instead: y}\n"
        f"references: {{docs: '{url}', urls: ['{url}']}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MlsecLintError, match="does not match"):
        load_ruleset([d])


def test_error_messages_naming_scanned_files_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x\n::error::forged.yaml").write_text("id: X-001\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "--rules-dir", str(rules))
    assert code == 2
    assert "invalid rule" in err
    assert not _forged(err), err
    assert len(err.splitlines()) == 1


def test_line_output_escapes_as_the_whole_report_would_be_escaped() -> None:
    import io

    from mlsec_lint.escape import LineOutput

    pieces = [
        "path/a.py\n",
        "  a.py:1:1: MLS-X high msg\n",
        "::error file=x::injected\n",
        "  ##[group]x\n",
        "bad \udcff byte\n",
        "partial ",
        "line :",
        ":warning::still one line\n",
        *[f"  line {i} " + "x" * (i % 97) + "\n" for i in range(3000)],
        "::set-output name=a::b",  # unfinished last line
    ]
    for fmt in ("text", "github"):
        out = io.StringIO()
        lines = LineOutput(out, fmt)
        for piece in pieces:
            assert lines.write(piece) == len(piece)
        lines.close()
        assert out.getvalue() == escape.output("".join(pieces), fmt)
        assert out.getvalue().count("\n") == "".join(pieces).count("\n")
