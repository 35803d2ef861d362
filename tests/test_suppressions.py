"""Inline suppressions: real comments only, targets, annotations, problems reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.cli import main
from mlsec_lint.suppressions import comment_directives, comments, parse_comment


def _directives(text: str, kind: str) -> list[tuple[str, int, int, list[str], str, str]]:
    return [
        (d.scope, d.first, d.last, [r for r, _ in d.ids], d.reason, d.problem)
        for d in comment_directives(text, kind, "f")
    ]


def test_trailing_and_own_line_targets() -> None:
    text = (
        "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned in the image\n"
        "# mlsec-lint: ignore[MLS-DEP-001, mls-dep-004] -- vendored\n"
        "\n"
        "# an ordinary comment\n"
        "vllm\n"
    )
    assert _directives(text, "requirements") == [
        ("line", 1, 1, ["MLS-DEP-001"], "pinned in the image", ""),
        ("next-line", 5, 5, ["MLS-DEP-001", "MLS-DEP-004"], "vendored", ""),
    ]


def test_id_positions_are_exact() -> None:
    (d,) = comment_directives("x  # mlsec-lint: ignore[MLS-A-001,  MLS-B-002] -- r\n", "shell", "f")
    line = "x  # mlsec-lint: ignore[MLS-A-001,  MLS-B-002] -- r"
    for rid, span in d.ids:
        assert line[span.col - 1 : span.end_col - 1] == rid


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("yaml", 'a: "# mlsec-lint: ignore[MLS-X-001] -- in a string"\n'),
        ("yaml", "a: 'it''s # mlsec-lint: ignore[MLS-X-001] -- quoted'\n"),
        ("yaml", "a: |\n  # mlsec-lint: ignore[MLS-X-001] -- block scalar\nb: 1\n"),
        ("yaml", "a: b#mlsec-lint: ignore[MLS-X-001] -- no blank before '#'\n"),
        ("python", 'x = "# mlsec-lint: ignore[MLS-X-001] -- string"\n'),
        ("python", 'x = """\n# mlsec-lint: ignore[MLS-X-001] -- docstring\n"""\n'),
        ("dockerfile", "FROM x\nRUN <<EOF\n# mlsec-lint: ignore[MLS-X-001] -- heredoc\nEOF\n"),
        ("dockerfile", "FROM x\nRUN echo hi # mlsec-lint: ignore[MLS-X-001] -- shell text\n"),
        ("shell", 'echo "# mlsec-lint: ignore[MLS-X-001] -- quoted"\n'),
        ("shell", "cat <<EOF\n# mlsec-lint: ignore[MLS-X-001] -- heredoc\nEOF\n"),
        ("pyproject", 'a = """\n# mlsec-lint: ignore[MLS-X-001] -- multi-line\n"""\n'),
        ("toml", "a = 'x # mlsec-lint: ignore[MLS-X-001] -- literal'\n"),
        ("properties", "a=b # mlsec-lint: ignore[MLS-X-001] -- part of the value\n"),
        ("json", '{"a": "# mlsec-lint: ignore[MLS-X-001] -- json"}\n'),
    ],
)
def test_text_that_is_not_a_comment_is_not_a_suppression(kind: str, text: str) -> None:
    assert comment_directives(text, kind, "f") == []


@pytest.mark.parametrize(
    ("kind", "text", "line"),
    [
        ("yaml", 'a: "x"  # mlsec-lint: ignore[MLS-X-001] -- r\n', 1),
        ("yaml", "a: [1, 2] # mlsec-lint: ignore[MLS-X-001] -- r\n", 1),
        ("python", "x = f(1)  # mlsec-lint: ignore[MLS-X-001] -- r\n", 1),
        ("dockerfile", "FROM x\n  # mlsec-lint: ignore[MLS-X-001] -- r\nRUN y\n", 2),
        ("shell", "pip install x # mlsec-lint: ignore[MLS-X-001] -- r\n", 1),
        ("dotenv", "A='b#c' # mlsec-lint: ignore[MLS-X-001] -- r\n", 1),
        ("pyproject", 'a = "#" # mlsec-lint: ignore[MLS-X-001] -- r\n', 1),
        ("setup-cfg", "# mlsec-lint: ignore[MLS-X-001] -- r\nx = 1\n", 1),
        ("properties", "# mlsec-lint: ignore[MLS-X-001] -- r\nx=1\n", 1),
        ("requirements", "torch # mlsec-lint: ignore[MLS-X-001] -- r\n", 1),
    ],
)
def test_real_comments_in_every_kind(kind: str, text: str, line: int) -> None:
    (d,) = comment_directives(text, kind, "f")
    assert d.span.line == line and d.reason == "r" and not d.problem


def test_statement_extents_for_own_line_comments() -> None:
    py = "# mlsec-lint: ignore[MLS-X-001] -- r\nstate = torch.load(\n    p,\n)\nother()\n"
    assert _directives(py, "python")[0][:3] == ("next-line", 2, 4)
    df = "FROM x\n# mlsec-lint: ignore[MLS-X-001] -- r\nRUN pip install \\\n  torch\nUSER 1\n"
    assert _directives(df, "dockerfile")[0][:3] == ("next-line", 3, 4)
    # a trailing comment covers its physical line only
    py2 = "x = f(\n  a)  # mlsec-lint: ignore[MLS-X-001] -- r\n"
    assert _directives(py2, "python")[0][:3] == ("line", 2, 2)


def test_yaml_document_markers_are_skipped() -> None:
    text = "a: 1\n# mlsec-lint: ignore[MLS-X-001] -- r\n---\n\nkind: Ingress\n"
    assert _directives(text, "yaml")[0][:3] == ("next-line", 5, 5)


def test_comment_at_end_of_file_targets_nothing() -> None:
    assert _directives("x\n# mlsec-lint: ignore[MLS-X-001] -- r\n", "requirements")[0][1] == 0


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("ignore -- r", "needs the rule ids"),
        ("ignore[] -- r", "needs the rule ids"),
        ("ignore[MLS-X-001 -- r", "needs the rule ids"),
        ("skip[MLS-X-001] -- r", "unknown directive 'skip'"),
        ("", "expected 'ignore[RULE-ID] -- reason'"),
        ("ignore[MLS-X-001] because", "the reason must follow ' -- '"),
        ("ignore[not an id] -- r", "is not a rule id"),
        ("ignore[MLS-SUP-003] -- r", "cannot be suppressed inline"),
    ],
)
def test_malformed_directives(body: str, problem: str) -> None:
    from mlsec_lint.suppressions import Comment

    d = parse_comment(Comment(1, 1, f"# mlsec-lint: {body}", False), "f")
    assert d is not None and problem in d.problem


def test_files_without_the_marker_are_not_scanned() -> None:
    assert comment_directives("# just a comment\ntorch\n", "requirements", "f") == []
    assert [c.line for c in comments("# a\nb  # c\n", "requirements")] == [1, 2]


def _scan(project_root: Path) -> dict[str, list[tuple[str, str | int, int | str]]]:
    result = scan(ScanOptions(paths=["."], base=str(project_root))).result
    return {
        "findings": sorted((f.rule_id, f.path, f.line) for f in result.findings),
        "suppressed": sorted(
            (f.rule_id, f.line, f.suppression.kind if f.suppression else "")
            for f in result.suppressed
        ),
    }


def test_suppressed_findings_are_counted_and_kept(project) -> None:
    project(
        "requirements.txt",
        "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned by the base image\n",
    )
    out = _scan(project.root)
    assert out["findings"] == []
    assert out["suppressed"] == [("MLS-DEP-001", 1, "inline")]


def test_annotation_covers_every_fact_of_the_object(project) -> None:
    project(
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: llm\n  annotations:\n"
        '    mlsec-lint.io/ignore.MLS-IMG-001: "digest pinned by the CD system"\n'
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: vllm\n          image: vllm/vllm-openai:v0.6.0\n"
        "---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n"
        "spec:\n  template:\n    spec:\n      containers:\n"
        "        - name: vllm\n          image: vllm/vllm-openai:v0.6.0\n",
    )
    out = _scan(project.root)
    # the unsuppressed object's missing digest is reported, in the finding kept for its
    # line and category (one finding per file, line and category)
    result = scan(ScanOptions(paths=["."], base=str(project.root))).result
    assert any(f.line == 23 and "MLS-IMG-001" in (f.rule_id, *f.also) for f in result.findings)
    assert ("MLS-IMG-001", 12, "annotation") in out["suppressed"]
    assert not any(r.startswith("MLS-SUP") for r, _, _ in out["findings"])


def test_unused_is_not_reported_for_rules_that_did_not_run(project) -> None:
    project("requirements.txt", "numpy==2.1.1  # mlsec-lint: ignore[MLS-DEP-001] -- old\n")
    result = scan(ScanOptions(paths=["."], base=str(project.root), select=["MLS-SUP"])).result
    assert result.findings == []
    result = scan(ScanOptions(paths=["."], base=str(project.root))).result
    assert [f.rule_id for f in result.findings] == ["MLS-SUP-003"]


def test_no_inline_suppressions_for_audits(project, capsys) -> None:
    project("requirements.txt", "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned\n")
    assert main(["scan", "-q"]) == 0
    capsys.readouterr()
    assert main(["scan", "-q", "--no-inline-suppressions"]) == 1
    assert "MLS-DEP-001" in capsys.readouterr().out


def test_show_suppressed(project, capsys) -> None:
    project("requirements.txt", "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned\n")
    assert main(["scan"]) == 0
    out = capsys.readouterr().out
    assert "1 suppressed" in out and "MLS-DEP-001" not in out
    main(["scan", "--show-suppressed"])
    out = capsys.readouterr().out
    assert "MLS-DEP-001" in out and "suppressed (inline): pinned" in out
    main(["scan", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["suppressed"][0]["suppression"] == {"kind": "inline", "reason": "pinned", "line": 1}


def test_files_that_were_not_analysed_report_no_unused_suppressions(project) -> None:
    project(
        "chart/templates/deploy.yaml",
        "# mlsec-lint: ignore[MLS-IMG-001] -- pinned by the chart\nimage: {{ .Values.image }}\n",
    )
    project("broken.py", "# mlsec-lint: ignore[MLS-PY-002] -- ok\ndef (:\n")
    result = scan(ScanOptions(paths=["."], base=str(project.root))).result
    assert result.findings == []
    assert {n.code for n in result.notices} == {"helm-template", "parse-error"}


def test_the_most_specific_suppression_is_used(project) -> None:
    project(
        "requirements.txt",
        "# mlsec-lint: file-ignore[MLS-DEP-001] -- vendored wheels\n"
        "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned by the base image\n"
        "vllm\n",
    )
    result = scan(ScanOptions(paths=["."], base=str(project.root))).result
    assert result.findings == []
    reasons = sorted(f.suppression.reason for f in result.suppressed if f.suppression)
    assert reasons == ["pinned by the base image", "vendored wheels"]


def test_severity_override_of_a_rule_that_is_not_selected(project) -> None:
    project("requirements.txt", "torch\n")
    options = ScanOptions(
        paths=["."], base=str(project.root), select=["MLS-PY"], severity={"MLS-DEP-001": "low"}
    )
    assert scan(options).result.findings == []


def test_json_report_with_suppressions_matches_its_schema(project, capsys) -> None:
    import jsonschema

    from mlsec_lint.reporters.json import SCHEMA_VERSION

    project(
        "requirements.txt",
        "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned\nvllm  # mlsec-lint: ignore[X]\n",
    )
    main(["scan", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    schema_path = Path(__file__).resolve().parents[1] / "mlsec_lint" / "schemas"
    schema = json.loads((schema_path / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    assert data["schema_version"] == SCHEMA_VERSION
    assert {f["category"] for f in data["findings"]} == {"pinning", "suppression"}
