"""The optional Semgrep engine: one subprocess per scan, results as ordinary findings."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from mlsec_lint import semgrep
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.cli import main

FAKE = """#!{python}
import json, os, sys
args = sys.argv[1:]
log = os.environ["FAKE_SEMGREP_LOG"]
with open(log, "a") as fh:
    fh.write(json.dumps(args) + "\\n")
targets = args[args.index("--") + 1:]
configs = [args[i + 1] for i, a in enumerate(args) if a == "--config"]
results = []
for t in targets:
    for n, line in enumerate(open(t).read().split("\\n"), start=1):
        if "exec(" in line:
            col = line.index("exec(") + 1
            for c in configs:
                rid = "MLS-PY-009" if c.endswith("MLS-PY-009.yaml") else "my-rules.no-exec"
                results.append({{"check_id": "tmp.x." + rid, "path": t,
                    "start": {{"line": n, "col": col}}, "end": {{"line": n, "col": col + 4}},
                    "extra": {{"message": "exec is called", "severity": "ERROR"}}}})
print(json.dumps({{"results": results, "errors": []}}))
"""


@pytest.fixture
def fake_semgrep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in executable that records its arguments and reports every exec( call."""
    exe = tmp_path / "bin" / "semgrep"
    exe.parent.mkdir()
    exe.write_text(FAKE.format(python=sys.executable), encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_SEMGREP_LOG", str(log))
    monkeypatch.setattr(semgrep, "find_executable", lambda: str(exe))
    semgrep._cache.clear()
    return log


def calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]


USER_RULES = """rules:
  - id: no-exec
    languages: [python]
    severity: WARNING
    message: exec is called
    metadata: {category: runtime-hardening, cwe: ["CWE-95: Eval injection"]}
    pattern: exec(...)
"""


def test_one_offline_subprocess_for_all_python_files(project, fake_semgrep: Path) -> None:
    project("a.py", "exec(x)\n")
    project("pkg/b.py", "import os\n\nexec(y)\n")
    project("Dockerfile", "FROM python:3.12\n")
    result = scan(ScanOptions(paths=["."], select=["MLS-PY-009"])).result
    (args,) = calls(fake_semgrep)
    for flag in ("--metrics=off", "--disable-version-check", "--disable-nosem", "--json"):
        assert flag in args
    assert sorted(Path(t).name for t in args[args.index("--") + 1 :]) == ["a.py", "b.py"]
    got = [(f.rule_id, f.path, f.line, f.column, f.severity.label) for f in result.findings]
    assert got == [("MLS-PY-009", "a.py", 1, 1, "high"), ("MLS-PY-009", "pkg/b.py", 3, 1, "high")]
    assert result.findings[1].message.startswith("Output of a language model reaches 'exec(y)'")
    assert result.findings[1].source_line == "exec(y)"


def test_not_run_without_python_files_or_semgrep_rules(project, fake_semgrep: Path) -> None:
    project("Dockerfile", "FROM python:3.12\n")
    scan(ScanOptions(paths=["."], select=["ALL"]))
    project("a.py", "exec(x)\n")
    scan(ScanOptions(paths=["."], select=["ALL"], ignore=["MLS-PY-009", "MLS-PY-016"]))
    # off by default: the hot path of a plain scan never starts Semgrep
    scan(ScanOptions(paths=["."]))
    assert calls(fake_semgrep) == []


def test_user_rule_files_become_findings(project, fake_semgrep: Path) -> None:
    project("a.py", "exec(x)\n")
    rules_file = project("my-rules.yaml", USER_RULES)
    out = scan(
        ScanOptions(paths=["a.py"], select=["MLS-PY-001"], semgrep_configs=[str(rules_file)])
    )
    (finding,) = out.result.findings
    assert (finding.rule_id, finding.severity.label, finding.category) == (
        "no-exec",
        "medium",
        "runtime-hardening",
    )
    assert finding.message == "exec is called"
    (rule,) = [r for r in out.rules if r.id == "no-exec"]
    assert rule.cwe == ("CWE-95",) and not rule.builtin
    assert calls(fake_semgrep)[0].count("--config") == 1


def test_standard_input_is_scanned_through_a_temporary_file(fake_semgrep: Path) -> None:
    result = scan(
        ScanOptions(paths=["-"], stdin=b"exec(x)\n", stdin_filename="tool.py", select=["MLS-PY"])
    ).result
    assert [(f.rule_id, f.path, f.line) for f in result.findings] == [("MLS-PY-009", "tool.py", 1)]


def test_missing_semgrep_is_one_notice_and_keeps_the_exit_code(
    project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(semgrep, "find_executable", lambda: None)
    project("clean.py", "import json\nexec(x)\n")
    assert main(["scan", ".", "--select", "ALL"]) == 0
    err = capsys.readouterr().err
    assert err.count("semgrep-missing") == 1 and "mlsec-lint[semgrep]" in err
    assert "MLS-PY-009" in err and "MLS-PY-016" in err


def test_semgrep_errors_are_notices(project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    exe = tmp_path / "broken-semgrep"
    exe.write_text("#!/bin/sh\necho 'rule parse error' >&2\nexit 7\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(semgrep, "find_executable", lambda: str(exe))
    semgrep._cache.clear()
    project("a.py", "exec(x)\n")
    result = scan(ScanOptions(paths=["."], select=["MLS-PY-009"])).result
    assert result.findings == []
    assert [n.code for n in result.notices] == ["semgrep-error"]
    assert "code 7" in result.notices[0].message


@pytest.mark.skipif(not semgrep.available(), reason="Semgrep is not installed")
def test_real_semgrep_runs_a_user_rule_file(project, capsys: pytest.CaptureFixture[str]) -> None:
    project("tool.py", "import os\n\n\ndef f(cmd):\n    exec(cmd)\n")
    project("rules.yaml", USER_RULES)
    code = main(
        [
            "scan",
            "tool.py",
            "--select",
            "MLS-PY-001",
            "--semgrep-config",
            "rules.yaml",
            "-f",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    (finding,) = report["findings"]
    assert finding["rule_id"] == "no-exec" and finding["line"] == 5 and finding["column"] == 5
    assert os.environ.get("SEMGREP_SEND_METRICS") is None  # set for the child only


def test_every_builtin_semgrep_rule_has_its_patterns_and_fixtures() -> None:
    import yaml

    from mlsec_lint.engine.rules import builtin_rules

    from .conftest import FIXTURES

    deep = [r for r in builtin_rules() if r.target == semgrep.TARGET]
    assert {r.id for r in deep} == {"MLS-PY-009", "MLS-PY-016"}
    for rule in deep:
        assert not rule.enabled  # a Semgrep start-up costs seconds: opt in
        patterns = yaml.safe_load(
            (semgrep.builtin_patterns_dir() / f"{rule.id}.yaml").read_text(encoding="utf-8")
        )
        assert [r["id"] for r in patterns["rules"]] == [rule.id]
        assert (FIXTURES / rule.id).is_dir()
