"""The command line: exit codes, formats, selection, stdin, errors without tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlsec_lint.cli import main

VULNERABLE = "torch\nnumpy==2.1.1\n"
CLEAN = "torch==2.6.0\nrequests>=2\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_exit_1_clean_exit_0(project, capsys) -> None:
    project("bad/requirements.txt", VULNERABLE)
    project("good/requirements.txt", CLEAN)
    code, out, _ = run(capsys, "scan", "bad")
    assert code == 1
    assert "bad/requirements.txt:1:1: MLS-DEP-001 high" in out
    assert "     1 | torch" in out
    assert out.rstrip().endswith("1 file scanned.")
    code, out, _ = run(capsys, "scan", "good")
    assert code == 0 and "No findings" in out


def test_default_path_is_the_current_directory(project, capsys) -> None:
    project("requirements.txt", VULNERABLE)
    assert run(capsys, "scan")[0] == 1


def test_fail_on_threshold(project, capsys) -> None:
    project("requirements.txt", "transformers>=4\n")  # high
    assert run(capsys, "scan", "--fail-on", "critical")[0] == 0
    assert run(capsys, "scan", "--fail-on", "high")[0] == 1
    assert run(capsys, "scan", "--fail-on", "never")[0] == 0
    code, _, err = run(capsys, "scan", "--fail-on", "severe")
    assert code == 2 and "--fail-on" in err


def test_select_and_ignore(project, capsys) -> None:
    project("requirements.txt", "--extra-index-url https://x/simple\ntorch\n")
    _, out, _ = run(capsys, "scan", "--select", "MLS-DEP-003", "-q")
    assert "MLS-DEP-003" in out and "MLS-DEP-001" not in out
    _, out, _ = run(capsys, "scan", "--ignore", "supply-chain,MLS-DEP-004", "-q")
    assert "MLS-DEP-003" not in out and "MLS-DEP-001" in out
    code, _, err = run(capsys, "scan", "--select", "MLS-NOPE")
    assert code == 2 and "matches no rule" in err


def test_json_output_to_file(project, capsys) -> None:
    project("requirements.txt", VULNERABLE)
    code, out, _ = run(capsys, "scan", "--format", "json", "--output", "report.json")
    assert code == 1 and out == ""
    data = json.loads((project.root / "report.json").read_text())
    assert data["summary"]["findings"] == 1 and data["findings"][0]["line"] == 1


def test_reports_do_not_follow_links_planted_at_temporary_names(project, capsys) -> None:
    """The temporary file is created exclusively under a random name: links planted at
    every name an older release used (and at the report's neighbours) stay untouched."""
    import os

    project("requirements.txt", VULNERABLE)
    victim = project.root / "victim"
    victim.write_text("keep\n")
    for pid in range(os.getpid() - 50, os.getpid() + 50):
        (project.root / f".report.json.tmp{pid}").symlink_to(victim)
    code, _, _ = run(capsys, "scan", "--format", "json", "--output", "report.json")
    assert code == 1
    assert victim.read_text() == "keep\n"
    assert json.loads((project.root / "report.json").read_text())["summary"]["findings"] == 1
    assert not [p for p in project.root.iterdir() if p.name.endswith(".tmp")]
    assert oct((project.root / "report.json").stat().st_mode & 0o777) != "0o600"


def test_stdin_with_filename(project, capsys, monkeypatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"FROM pytorch/pytorch:latest\nUSER 1000\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "scan", "-", "--stdin-filename", "docker/Dockerfile", "-q")
    assert code == 1 and "docker/Dockerfile:1:6: MLS-IMG-001" in out


def test_stdin_defaults_to_yaml(project, capsys, monkeypatch) -> None:
    manifest = b"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec: {}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(manifest)))
    code, out, _ = run(capsys, "scan", "-", "-q")
    assert code == 1 and "<stdin>:1:1: MLS-K8S-001" in out


def test_explicit_unknown_files_are_skipped_with_a_note(project, capsys) -> None:
    project("README.md", "# hi\n")
    code, out, err = run(capsys, "scan", "README.md")
    assert code == 0 and "0 files scanned" in out
    assert "README.md: note: not a file type mlsec-lint reads; not scanned" in err
    code, out, err = run(capsys, "scan", "-q", "README.md")
    assert code == 0 and err == ""


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab", "junit", "html"])
def test_missing_path_is_a_usage_error_in_every_format(project, capsys, fmt) -> None:
    project("requirements.txt", VULNERABLE)
    code, out, err = run(capsys, "scan", "--format", fmt, "requirements.txt", "nope.yaml")
    assert code == 2 and out == ""
    assert err == "mlsec-lint: error: no such file or directory: 'nope.yaml'\n"


def test_missing_path_writes_no_report_that_looks_clean(project, capsys) -> None:
    code, _, _ = run(capsys, "scan", "nope", "--sarif-output", "out.sarif", "-o", "out.txt")
    assert code == 2
    assert not (project.root / "out.sarif").exists() and not (project.root / "out.txt").exists()


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"FROM pytorch/pytorch:latest\nUSER 1000\n", "MLS-IMG-001"),
        (b"torch\n--extra-index-url https://example.org/simple\n", "MLS-DEP-001"),
        (b"import torch\nmodel = torch.load(path)\n", "MLS-PY-002"),
    ],
)
def test_unnamed_stdin_is_classified_by_content(project, capsys, monkeypatch, data, rule) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "scan", "-", "-q")
    assert code == 1 and "<stdin>:" in out and rule in out, out


@pytest.mark.parametrize("args", [(), ("--stdin-filename", "notes.md")])
def test_unrecognised_stdin_is_refused(project, capsys, monkeypatch, args) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"just some words\n")))
    code, out, err = run(capsys, "scan", "-", *args)
    assert code == 2 and out == "" and "--stdin-filename" in err and "Traceback" not in err


def test_bad_file_is_a_notice_and_other_findings_still_count(project, capsys) -> None:
    project("broken.yaml", "a: [unclosed\n")
    project("requirements.txt", VULNERABLE)
    code, out, err = run(capsys, "scan")
    assert code == 1 and "MLS-DEP-001" in out
    assert "broken.yaml:2: warning: invalid YAML" in err


def test_usage_errors_exit_2(capsys) -> None:
    assert run(capsys, "scan", "--no-such-flag")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2
    code, _, err = run(capsys, "explain", "MLS-NOPE-001")
    assert code == 2 and "unknown rule" in err


def test_internal_errors_exit_2_without_traceback(project, capsys, monkeypatch) -> None:
    import mlsec_lint.api

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(mlsec_lint.api, "scan", boom)
    code, _, err = run(capsys, "scan")
    assert code == 2 and "internal error: RuntimeError: kaboom" in err and "Traceback" not in err


def test_unwritable_output_exits_2(project, capsys) -> None:
    project("requirements.txt", CLEAN)
    code, _, err = run(capsys, "scan", "--output", "missing-dir/out.txt")
    assert code == 2 and "cannot write" in err


def test_rules_and_explain(capsys) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "MLS-PY-002" in out and "torch-load-without-weights-only" in out
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0 and any(r["id"] == "MLS-TS-001" for r in json.loads(out))
    code, out, _ = run(capsys, "explain", "mls-py-002")
    assert code == 0
    for section in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## References",
    ):
        assert section in out
    assert run(capsys, "explain", "torch-load-without-weights-only")[0] == 0


def test_version_and_help(capsys) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("mlsec-lint ")
    code, out, _ = run(capsys, "scan", "--help")
    assert code == 0 and "--fail-on" in out


def test_color_only_when_asked(project, capsys, monkeypatch) -> None:
    project("requirements.txt", VULNERABLE)
    _, out, _ = run(capsys, "scan")
    assert "\x1b[" not in out
    monkeypatch.delenv("NO_COLOR")
    _, out, _ = run(capsys, "scan", "--color", "always")
    assert "\x1b[" in out


def test_test_rules_command(tmp_path: Path, capsys) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME-ENV-001.yaml").write_text(
        "id: ACME-ENV-001\nname: debug-env\ntitle: Debug mode enabled in the environment\n"
        "category: runtime-hardening\nseverity: low\ntarget: env\n"
        "when: {all: [{path: name, equals: DEBUG}, {path: value, is: truthy}]}\n"
        "message: DEBUG is enabled.\n"
        "docs: {what: Checks DEBUG variables., why: Debug modes leak data.,\n"
        "       example: DEBUG=1, use_instead: DEBUG=0}\n"
        "references: {cwe: [CWE-489]}\n",
        encoding="utf-8",
    )
    fx = tmp_path / "fixtures" / "ACME-ENV-001"
    fx.mkdir(parents=True)
    (fx / ".env").write_text(
        "# expect: ACME-ENV-001\nDEBUG=1\n# ok: ACME-ENV-001\nDEBUG=0\n", encoding="utf-8"
    )
    code, out, _ = run(capsys, "test-rules", str(tmp_path / "fixtures"), "--rules-dir", str(rules))
    assert code == 0, out
    (fx / ".env").write_text(
        "# expect: ACME-ENV-001\nDEBUG=0\n# ok: ACME-ENV-001\nDEBUG=1\n", encoding="utf-8"
    )
    code, out, _ = run(capsys, "test-rules", str(tmp_path / "fixtures"), "--rules-dir", str(rules))
    assert code == 1 and "expected ACME-ENV-001, not reported" in out


def test_invalid_user_rule_is_a_config_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "X-001.yaml").write_text("id: X-001\nname: x\n", encoding="utf-8")
    code, _, err = run(capsys, "scan", str(tmp_path), "--rules-dir", str(tmp_path))
    assert code == 2 and "invalid rule" in err


def test_python_dash_m_entry_point(project) -> None:
    project("requirements.txt", VULNERABLE)
    proc = subprocess.run(
        [sys.executable, "-m", "mlsec_lint", "scan", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "MLS-DEP-001" in proc.stdout


def test_explain_links_the_rule_reference(capsys) -> None:
    code, out, _ = run(capsys, "explain", "MLS-SUP-002")
    assert code == 0 and "# MLS-SUP-002: suppression-without-reason" in out
    assert out.rstrip().endswith(
        "Documentation: https://github.com/mlsec-lint/mlsec-lint/blob/main/docs/rules/MLS-SUP-002.md"
    )


def test_every_format_is_accepted_and_rules_list_only_text_or_json(project, capsys) -> None:
    project("requirements.txt", CLEAN)
    for fmt in ("text", "json", "sarif", "github", "gitlab", "junit"):
        assert run(capsys, "scan", "--format", fmt)[0] == 0, fmt
    assert run(capsys, "rules", "--format", "sarif")[0] == 2


def test_format_from_the_environment(project, capsys, monkeypatch) -> None:
    project("requirements.txt", CLEAN)
    monkeypatch.setenv("MLSEC_LINT_FORMAT", "json")
    _, out, _ = run(capsys, "scan")
    assert json.loads(out)["findings"] == []


def test_html_format_and_extra_output(project, capsys) -> None:
    project("requirements.txt", VULNERABLE)
    code, out, _ = run(capsys, "scan", "--format", "html")
    assert code == 1 and out.startswith("<!DOCTYPE html>") and "MLS-DEP-001" in out
    assert "Selected rules" in out  # the scan's configuration is part of the report
    code, out, _ = run(capsys, "scan", "--format", "json", "--html-output", "report.html")
    assert code == 1 and json.loads(out)["summary"]["findings"] == 1
    assert "MLS-DEP-001" in (project.root / "report.html").read_text(encoding="utf-8")


def test_statistics_go_to_stdout_for_text_and_stderr_for_machine_formats(project, capsys) -> None:
    project("requirements.txt", VULNERABLE)
    project("ok/requirements.txt", "torch  # mlsec-lint: ignore[MLS-DEP-001] -- sandbox only\n")
    code, out, _ = run(capsys, "scan", "--statistics")
    assert code == 1 and "Statistics" in out
    import re

    row = re.search(r"MLS-DEP-001 ml-framework-not-pinned\s+(\d+)\s+(\d+)\s+(\d+)", out)
    assert row and row.groups() == ("1", "1", "0")
    assert re.search(r"requirements\s+2\s+1\s+1\s+0", out)
    code, out, err = run(capsys, "scan", "--statistics", "--format", "json")
    assert "Statistics" not in out and "Statistics" in err
    json.loads(out)


def test_no_progress_line_when_stderr_is_not_a_terminal(project, capsys) -> None:
    project("requirements.txt", VULNERABLE)
    _, _, err = run(capsys, "scan")
    assert "\x1b[2K" not in err and "files  analysing" not in err


def test_an_unknown_command_is_suggested_once(capsys) -> None:
    code, out, err = run(capsys, "scna")
    assert code == 2
    assert (out + err).count("Did you mean 'scan'?") == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["scan", "rules", "explain", "init", "test-rules"]),
        (["scan", "--help"], ["--format", "--fail-on", "--baseline"]),
        (["rules", "--help"], ["--format"]),
        (["--version", "scan"], ["mlsec-lint "]),
    ],
)
def test_help_and_version_whatever_the_subcommand(capsys, args, expected) -> None:
    """Only the subcommand being run is built; the top level still lists every command."""
    code, out, _ = run(capsys, *args)
    assert code == 0
    for text in expected:
        assert text in out


def _severities(capsys, *args: str) -> list[str]:
    from collections import Counter

    code = main(["scan", "--format", "json", *args])
    data = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    return sorted(Counter(f["severity"] for f in data["findings"]).elements())


def test_severity_selection_acts_on_the_findings_own_severity(capsys) -> None:
    examples = str(Path(__file__).resolve().parent.parent / "examples" / "vulnerable")
    every = _severities(capsys, examples)
    assert {"critical", "high", "medium"} <= set(every)
    for sev in ("critical", "high", "medium"):
        assert _severities(capsys, examples, "--select", sev) == [s for s in every if s == sev]
    order = ["info", "low", "medium", "high", "critical"]
    at_least_high = [s for s in every if order.index(s) >= order.index("high")]
    assert _severities(capsys, examples, "--min-severity", "high") == at_least_high
    assert _severities(capsys, examples, "--select", "high,critical") == at_least_high
    assert _severities(capsys, examples, "--ignore", "medium") == [
        s for s in every if s != "medium"
    ]
    # a rule selector and a severity: that rule's findings of that severity
    only = _severities(capsys, examples, "--select", "MLS-IMG,high")
    assert only and set(only) == {"high"}


def test_min_severity_is_validated_and_documented(capsys) -> None:
    code, _, err = run(capsys, "scan", "--min-severity", "severe")
    assert code == 2 and "--min-severity" in err
    code, out, _ = run(capsys, "scan", "--help")
    text = " ".join(out.split())
    assert "--min-severity" in text and "own, contextual severity" in text


def test_stdin_is_bounded_while_it_is_read(tmp_path: Path) -> None:
    """An endless producer: the scan reads one byte past the limit and stops."""
    import resource
    import time

    script = (
        "import sys\nchunk = b'#' * 65536 + b'\\n'\n"
        "while True:\n    sys.stdout.buffer.write(chunk)\n"
    )
    producer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-m", "mlsec_lint", "scan", "-", "--stdin-filename", "x.yaml"],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
    finally:
        producer.kill()
        producer.wait()
        assert producer.stdout is not None
        producer.stdout.close()
    assert time.perf_counter() - start < 60
    assert proc.returncode == 0
    assert "too-large" in proc.stderr
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1024 * 1024
