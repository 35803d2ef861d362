"""GitHub annotations, GitLab Code Quality and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mlsec_lint.api import Scan
from mlsec_lint.cli import main
from mlsec_lint.model import Finding, ScanResult, Severity, Span
from mlsec_lint.reporters.github import annotation, escape_data, escape_property


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _finding(message: str, span: Span, severity: Severity = Severity.HIGH) -> Finding:
    return Finding("MLS-X-001", "x-rule", "Title", "tls", severity, "a,b:c.yaml", span, message, "")


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    scan = Scan(ScanResult(), [], relpaths={"a,b:c.yaml": "dir/a,b:c.yaml"})
    line = annotation(scan, _finding("Line one.\nLine two: 50%.", Span(3, 5, 3, 9)))
    assert line == (
        "::error file=dir/a%2Cb%3Ac.yaml,line=3,col=5,endColumn=9,"
        "title=MLS-X-001 x-rule::Line one.%0ALine two: 50%25. [MLS-X-001, high]"
    )


def test_github_columns_only_on_single_line_regions() -> None:
    scan = Scan(ScanResult(), [])
    line = annotation(scan, _finding("M.", Span(3, 5, 6, 2), Severity.MEDIUM))
    assert line.startswith("::warning file=a%2Cb%3Ac.yaml,line=3,endLine=6,title=")
    assert "col=" not in line and "endColumn=" not in line


def test_github_caps_annotations_and_summarises(project, capsys) -> None:
    for i in range(13):
        project(f"svc{i:02}/requirements.txt", "torch\n")
    code, out, _ = run(capsys, "scan", "--format", "github")
    lines = out.splitlines()
    errors = [x for x in lines if x.startswith("::error ")]
    assert code == 1 and len(errors) == 10
    (summary,) = [x for x in lines if x.startswith("::notice title=mlsec-lint::")]
    assert summary.startswith("::notice title=mlsec-lint::3 more findings")
    plain = [x for x in lines if x.startswith("svc")]
    assert plain == [f"svc{i}/requirements.txt:1:1: MLS-DEP-001 high" for i in (10, 11, 12)] or (
        [x.split(" ML framework")[0] for x in plain]
        == [f"svc{i}/requirements.txt:1:1: MLS-DEP-001 high" for i in (10, 11, 12)]
    )
    assert lines[-1].startswith("mlsec-lint: 13 findings")


def test_github_notices_are_annotations_too(project, capsys) -> None:
    project("broken.yaml", "a: [\n")
    _, out, _ = run(capsys, "scan", "--format", "github")
    assert "::warning file=broken.yaml,line=2,title=mlsec-lint parse-error::invalid YAML" in out


def test_gitlab_code_quality(project, capsys) -> None:
    project("requirements.txt", "torch\ntorch\nvllm\n")
    project("sub/requirements.txt", "torch\n")
    code, out, _ = run(capsys, "scan", "--format", "gitlab")
    issues = json.loads(out)
    assert code == 1 and isinstance(issues, list) and len(issues) >= 4
    fps = [i["fingerprint"] for i in issues]
    assert len(fps) == len(set(fps)), "fingerprints must be unique"
    first = issues[0]
    assert set(first) >= {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["description"].startswith(first["check_name"] + ": ")
    assert first["severity"] in ("info", "minor", "major", "critical", "blocker")
    assert first["location"]["lines"]["begin"] >= 1
    assert not out.startswith("\ufeff")
    # fingerprints do not depend on lines
    project("requirements.txt", "\n\n# moved\ntorch\ntorch\nvllm\n")
    _, out2, _ = run(capsys, "scan", "--format", "gitlab")
    assert sorted(fps) == sorted(i["fingerprint"] for i in json.loads(out2))


def test_junit(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    project("broken.yaml", "a: [\n")
    project("ctl.yaml", 'a: "\x01"\n')
    code, out, _ = run(capsys, "scan", "--format", "junit")
    root = ET.fromstring(out)
    assert code == 1 and root.tag == "testsuites"
    cases = root.findall(".//testcase")
    failures = root.findall(".//failure")
    assert len(failures) == 1 and failures[0].get("type") == "high"
    assert any(c.find("error") is not None for c in cases)
    assert root.get("tests") == str(len(cases))
    case = next(c for c in cases if c.find("failure") is not None)
    assert case.get("file") == "requirements.txt" and case.get("line") == "1"
    assert case.get("name", "").startswith("MLS-DEP-001")


def test_junit_clean_run_is_one_passing_case(project, capsys) -> None:
    project("requirements.txt", "torch==2.6.0\n")
    code, out, _ = run(capsys, "scan", "--format", "junit")
    root = ET.fromstring(out)
    assert code == 0 and root.get("tests") == "1" and root.get("failures") == "0"


def test_exit_codes_do_not_depend_on_the_format(project, capsys) -> None:
    project("requirements.txt", "transformers>=4\n")
    for fmt in ("text", "json", "sarif", "github", "gitlab", "junit"):
        assert run(capsys, "scan", "--format", fmt)[0] == 1, fmt
        assert run(capsys, "scan", "--format", fmt, "--fail-on", "critical")[0] == 0, fmt
