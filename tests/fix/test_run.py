"""scan --fix, --unsafe-fixes, --diff and --fix-only from the command line."""

from __future__ import annotations

import io
import sys

import pytest

from mlsec_lint.cli import main

SERVICE = """\
import torch
import requests

model = torch.load("model.pt")  # released weights
resp = requests.get("https://models.internal/x", verify=False, timeout=5)
"""

DEPLOYMENT = """\
# inference
apiVersion: apps/v1
kind: Deployment
metadata: {name: ts}
spec:
  template:
    spec:
      containers:
        - name: ts  # the server
          image: pytorch/torchserve:0.12.0
          securityContext:
            privileged: true   # GPUs
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_writes_nothing_and_exits_1(project, capsys) -> None:
    p = project("svc.py", SERVICE)
    code, out, err = run(capsys, "scan", "--diff", "svc.py")
    assert code == 1
    assert '+model = torch.load("model.pt", weights_only=True)  # released weights' in out
    assert "verify=False" not in "".join(x for x in out.splitlines() if x.startswith("+"))
    assert "1 fix would be applied" in err
    assert p.read_text(encoding="utf-8") == SERVICE


def test_fix_applies_safe_fixes_and_counts_what_remains(project, capsys) -> None:
    p = project("svc.py", SERVICE)
    code, out, err = run(capsys, "scan", "svc.py")
    assert "[*] 1 fixable with --fix; 1 more with --fix --unsafe-fixes." in out
    code, out, err = run(capsys, "scan", "--fix", "svc.py")
    assert code == 1  # verify=False needs --unsafe-fixes
    assert "fixed 1 finding in 1 file" in err
    assert "weights_only=True)  # released weights" in p.read_text(encoding="utf-8")
    assert "MLS-PY-002" not in out and "MLS-PY-010" in out
    code, out, err = run(capsys, "scan", "--fix", "--unsafe-fixes", "svc.py")
    assert code == 0
    assert "verify" not in p.read_text(encoding="utf-8")
    fixed = p.read_text(encoding="utf-8")
    code, out, err = run(capsys, "scan", "--fix", "--unsafe-fixes", "svc.py")
    assert p.read_text(encoding="utf-8") == fixed and "fixed" not in err
    code, out, _ = run(capsys, "scan", "--diff", "--unsafe-fixes", "svc.py")
    assert code == 0 and out == ""


def test_fixes_that_enable_other_fixes_converge_in_one_run(project, capsys) -> None:
    p = project("deploy.yaml", DEPLOYMENT)
    _, diff, _ = run(capsys, "scan", "--diff", "--unsafe-fixes", "deploy.yaml")
    assert "+            allowPrivilegeEscalation: false" in diff  # --diff shows every round
    assert p.read_text(encoding="utf-8") == DEPLOYMENT
    run(capsys, "scan", "--fix", "--unsafe-fixes", "deploy.yaml")
    text = p.read_text(encoding="utf-8")
    assert "privileged: false   # GPUs" in text
    # allowed only once the container is no longer privileged
    assert "allowPrivilegeEscalation: false" in text
    assert text.startswith("# inference\n") and "- name: ts  # the server" in text
    run(capsys, "scan", "--fix", "--unsafe-fixes", "deploy.yaml")
    assert p.read_text(encoding="utf-8") == text


def test_fix_only_reports_nothing_and_exits_0(project, capsys) -> None:
    project("svc.py", SERVICE)
    code, out, err = run(capsys, "scan", "--fix-only", "svc.py")
    assert code == 0 and out == ""
    assert "fixed 1 finding" in err


def test_fix_of_standard_input_prints_the_fixed_text(
    project, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    class In:
        buffer = io.BytesIO(SERVICE.encode("utf-8"))

    monkeypatch.setattr(sys, "stdin", In)
    code, out, err = run(capsys, "scan", "--fix", "-", "--stdin-filename", "svc.py")
    assert out == SERVICE.replace('"model.pt")', '"model.pt", weights_only=True)')
    assert "MLS-PY-010" in err  # the report of what remains goes to stderr
    assert code == 1


def test_a_fix_that_cannot_be_applied_says_why(project, capsys) -> None:
    text = DEPLOYMENT.replace("privileged: true   # GPUs", "privileged: &p true")
    text += "        - name: b\n          image: x\n          securityContext: {privileged: *p}\n"
    p = project("deploy.yaml", text)
    _code, out, err = run(capsys, "scan", "--fix", "--unsafe-fixes", "--select", "MLS-K8S-002", ".")
    assert "fix not applied" in err
    assert "The fix was not applied:" in out
    assert p.read_text(encoding="utf-8") == text


def test_fix_writes_scanned_trees_anywhere_but_never_through_an_escaping_symlink(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    repo = tmp_path / "repo"
    (repo / "svc").mkdir(parents=True)
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the scanned tree is not below the working directory
    (repo / "svc" / "svc.py").write_text(SERVICE, encoding="utf-8")
    outside = tmp_path / "outside.py"
    outside.write_text(SERVICE, encoding="utf-8")
    (repo / "svc" / "link.py").symlink_to(outside)
    run(capsys, "scan", "--fix", str(repo / "svc"))
    assert "weights_only=True" in (repo / "svc" / "svc.py").read_text(encoding="utf-8")
    assert outside.read_text(encoding="utf-8") == SERVICE


def test_json_findings_say_how_they_are_fixed(project, capsys) -> None:
    import json
    from pathlib import Path

    import jsonschema

    import mlsec_lint

    schema_path = Path(mlsec_lint.__file__).parent / "schemas" / "report.schema.json"
    project("svc.py", SERVICE)
    project(
        "hub.py",
        "from transformers import AutoModel\n"
        'AutoModel.from_pretrained("o/m", trust_remote_code=True)\n',
    )
    _, out, _ = run(capsys, "scan", "--format", "json", ".")
    doc = json.loads(out)
    jsonschema.Draft202012Validator(json.loads(schema_path.read_text("utf-8"))).validate(doc)
    fixes = {f["rule_id"]: f.get("fix") for f in doc["findings"]}
    assert fixes["MLS-PY-006"] is None
    hub = next(f for f in doc["findings"] if f["rule_id"] == "MLS-PY-006")
    assert "revision=" in hub["suggestion"]
    assert fixes["MLS-PY-002"]["applicability"] == "safe"
    assert fixes["MLS-PY-010"]["applicability"] == "unsafe"


def test_fix_edits_the_text_as_read_while_reports_mask_credentials(project, capsys) -> None:
    token = "hf_" + "Q7vLm2XpR9sT4uW8yZ1aB3cD5eF6gH0jK"
    text = (
        DEPLOYMENT + f"          env:\n            - name: HF_TOKEN\n              value: {token}\n"
    )
    p = project("deploy.yaml", text)
    code, out, err = run(capsys, "scan", "--diff", "--unsafe-fixes", "deploy.yaml")
    assert code == 1
    assert token not in out + err  # the diff is a report too: the credential is masked there
    code, out, err = run(capsys, "scan", "--fix", "--unsafe-fixes", "deploy.yaml")
    assert code == 1  # the literal token remains a finding
    fixed = p.read_text(encoding="utf-8")
    assert "privileged: false" in fixed
    assert f"value: {token}" in fixed  # the masked copy is never written back
    assert token not in out + err


def test_diff_marks_a_last_line_without_newline(project, capsys) -> None:
    project("a.py", 'import torch\nx = torch.load("m")')
    project("b.py", 'import torch\ny = torch.load("m")\n')
    _, out, _ = run(capsys, "scan", "--diff", ".")
    assert (
        '+x = torch.load("m", weights_only=True)\n\\ No newline at end of file\n--- a/b.py' in out
    )
