"""The composite GitHub Action, read as a user (and a reviewer) would, and its scripts run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {s.get("id") or s["name"]: s for s in ACTION["runs"]["steps"]}
BASH = shutil.which("bash")


def test_metadata() -> None:
    assert ACTION["name"] == "mlsec-lint" and ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    for name, spec in ACTION["inputs"].items():
        assert spec["description"] and "default" in spec, name
    assert set(ACTION["outputs"]) == {"sarif-file", "exit-code"}


def test_inputs_never_reach_a_script_by_interpolation() -> None:
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash"
            for value in step.get("env", {}).values():
                assert re.fullmatch(r"\$\{\{ [\w.-]+ \}\}", value), value


def test_upload_only_after_a_completed_scan_then_the_gate() -> None:
    names = [s["name"] for s in ACTION["runs"]["steps"]]
    upload = next(s for s in ACTION["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    cond = upload["if"]
    assert "steps.scan.outputs.exit-code == '0'" in cond
    assert "steps.scan.outputs.exit-code == '1'" in cond
    assert "always()" in cond and "inputs.upload-sarif == 'true'" in cond
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    assert names.index(upload["name"]) < names.index("Apply the failure gate")
    assert STEPS["Apply the failure gate"]["if"] == "${{ always() }}"


def _bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run(
        [BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],  # as GitHub runs it
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("paths", "fail_on", "exit_code"),
    [(".", "", "1"), ("requirements.txt\nDockerfile", "critical", "0"), ("", "", "1")],
)
def test_scan_step(project, paths: str, fail_on: str, exit_code: str) -> None:
    project("requirements.txt", "torch\n")
    project("Dockerfile", "FROM python:3.12-slim\nUSER 1000\n")
    out_file = project.root / "github-output"
    env = {
        "MLSEC_LINT": str(Path(sys.executable).parent / "mlsec-lint"),
        "MLSEC_PATHS": paths,
        "MLSEC_FAIL_ON": fail_on,
        "MLSEC_ARGS": "--no-inline-suppressions",
        "MLSEC_CATEGORY": "mlsec-lint/test",
        "GITHUB_OUTPUT": str(out_file),
        "RUNNER_TEMP": str(project.root),
    }
    proc = _bash(STEPS["scan"]["run"], env, project.root)
    assert proc.returncode == 0, proc.stderr
    assert "::error file=requirements.txt,line=1" in proc.stdout
    outputs = _outputs(out_file)
    assert outputs["exit-code"] == exit_code
    doc: dict[str, Any] = json.loads(Path(outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert doc["runs"][0]["automationDetails"]["id"] == "mlsec-lint/test/"
    assert doc["runs"][0]["results"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_scan_step_does_not_evaluate_inputs(project) -> None:
    out_file = project.root / "github-output"
    env = {
        "MLSEC_LINT": str(Path(sys.executable).parent / "mlsec-lint"),
        "MLSEC_PATHS": "$(touch pwned) `touch pwned2`; touch pwned3",
        "MLSEC_FAIL_ON": "",
        "MLSEC_ARGS": "",
        "MLSEC_CATEGORY": "mlsec-lint",
        "GITHUB_OUTPUT": str(out_file),
        "RUNNER_TEMP": str(project.root),
    }
    proc = _bash(STEPS["scan"]["run"], env, project.root)
    assert proc.returncode == 0
    assert not list(project.root.glob("pwned*"))
    assert _outputs(out_file)["exit-code"] == "2"  # the odd names are just missing paths


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(("rc", "expected"), [("0", 0), ("1", 1), ("2", 2), ("", 2)])
def test_failure_gate(tmp_path: Path, rc: str, expected: int) -> None:
    proc = _bash(STEPS["Apply the failure gate"]["run"], {"RC": rc}, tmp_path)
    assert proc.returncode == expected


def test_third_party_actions_are_pinned_to_full_commit_shas() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", text, flags=re.MULTILINE)
    assert len(uses) >= 2
    for ref, rest in uses:
        action, _, version = ref.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", version), f"{action} is not pinned to a commit SHA"
        assert re.match(r"\s+# v\d+(\.\d+)*\s*$", rest), f"{action}: say which release the SHA is"


def test_the_jobs_python_is_left_alone() -> None:
    (setup,) = [s for s in ACTION["runs"]["steps"] if "setup-python" in s.get("uses", "")]
    assert setup["with"]["update-environment"] is False
    assert setup["id"] == "python"
    install = STEPS["install"]
    assert install["env"]["MLSEC_PYTHON"] == "${{ steps.python.outputs.python-path }}"
    assert '"$MLSEC_PYTHON" -m venv' in install["run"]
    for step in ACTION["runs"]["steps"]:
        script = step.get("run", "")
        # nothing runs the job's python or pip, or changes PATH for later steps
        assert not re.search(r"(?<![\w/\"-])(?<!-m )(python3?|pip3?)\s", script), step["name"]
        assert "GITHUB_PATH" not in script and "GITHUB_ENV" not in script, step["name"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("paths", "args", "exit_code"),
    [
        # one argument per line: spaces inside an argument are kept
        ("deploy dir/requirements.txt\n", "--config\nci/mlsec lint.yaml\n", "0"),
        ("deploy dir/requirements.txt\n", "--config\r\nci/mlsec lint.yaml\r\n", "0"),
        # a single line is split at spaces, as before
        ("'deploy dir'", "--fail-on never", "2"),
        ("deploy dir/requirements.txt\nDockerfile", "--isolated", "1"),
        ("deploy dir/requirements.txt", "", "2"),  # one line: two paths, neither exists
    ],
)
def test_arguments_one_per_line_may_contain_spaces(project, paths, args, exit_code) -> None:
    project("deploy dir/requirements.txt", "torch\n")
    project("ci/mlsec lint.yaml", "fail-on: never\n")
    project("Dockerfile", "FROM python:3.12-slim\nUSER 1000\n")
    out_file = project.root / "github-output"
    env = {
        "MLSEC_LINT": str(Path(sys.executable).parent / "mlsec-lint"),
        "MLSEC_PATHS": paths,
        "MLSEC_FAIL_ON": "",
        "MLSEC_ARGS": args,
        "MLSEC_CATEGORY": "mlsec-lint",
        "GITHUB_OUTPUT": str(out_file),
        "RUNNER_TEMP": str(project.root),
    }
    proc = _bash(STEPS["scan"]["run"], env, project.root)
    assert proc.returncode == 0, proc.stderr
    assert _outputs(out_file)["exit-code"] == exit_code, proc.stdout + proc.stderr


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_untrusted_input_ignores_the_checkouts_settings(project) -> None:
    project(".git/HEAD", "ref: refs/heads/main\n")
    project(".mlsec-lint.yaml", "ignore: [MLS-DEP-001, MLS-SUP]\n")
    project("requirements.txt", "torch  # mlsec-lint: ignore[MLS-DEP-001] fine\n")
    out_file = project.root / "github-output"
    env = {
        "MLSEC_LINT": str(Path(sys.executable).parent / "mlsec-lint"),
        "MLSEC_PATHS": ".",
        "MLSEC_FAIL_ON": "",
        "MLSEC_ARGS": "",
        "MLSEC_CATEGORY": "mlsec-lint",
        "MLSEC_UNTRUSTED": "true",
        "GITHUB_OUTPUT": str(out_file),
        "RUNNER_TEMP": str(project.root),
    }
    proc = _bash(STEPS["scan"]["run"], env, project.root)
    assert proc.returncode == 0, proc.stderr
    assert "::error file=requirements.txt,line=1" in proc.stdout
    assert _outputs(out_file)["exit-code"] == "1"
    env["MLSEC_UNTRUSTED"] = "false"
    proc = _bash(STEPS["scan"]["run"], env, project.root)
    assert _outputs(out_file)["exit-code"] == "0"
