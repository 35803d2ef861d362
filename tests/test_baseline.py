"""Baselines: line-independent, counted, stable and reviewable."""

from __future__ import annotations

import json

import pytest

from mlsec_lint.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


DOCKERFILE = "FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime\nUSER 1000\n"
CODE = 'import torch\n\nstate = torch.load("a.pt")\n'


def test_baseline_survives_a_code_move_and_catches_new_instances(project, capsys) -> None:
    project("Dockerfile", DOCKERFILE)
    project("app/serve.py", CODE)
    code, _, err = run(capsys, "scan", "--write-baseline", ".mlsec-lint-baseline.json")
    assert code == 0 and "wrote 2 findings" in err
    assert run(capsys, "scan", "--baseline", ".mlsec-lint-baseline.json")[0] == 0

    # the code moves down and gets re-indented: still the accepted findings
    project("Dockerfile", "# syntax=docker/dockerfile:1\n\n" + DOCKERFILE)
    project("app/serve.py", "import torch\n\n\ndef load():\n    return torch.load('a.pt')\n")
    code, out, _ = run(capsys, "scan", "--baseline", ".mlsec-lint-baseline.json")
    assert code == 0, out
    assert "2 in the baseline" in out

    # a second, identical call is a new instance of an old problem
    project(
        "app/serve.py",
        "import torch\n\nstate = torch.load('a.pt')\nagain = torch.load('a.pt')\n",
    )
    code, out, _ = run(capsys, "scan", "--baseline", ".mlsec-lint-baseline.json", "-q")
    assert code == 1 and out.count("MLS-PY-002") == 1

    # a different problem of the same rule is new too
    project("app/serve.py", CODE + 'other = torch.load("b.pt")\n')
    code, out, _ = run(capsys, "scan", "--baseline", ".mlsec-lint-baseline.json", "-q")
    assert code == 1 and "serve.py:4:" in out


def test_baseline_file_is_stable_sorted_and_reviewable(project, capsys) -> None:
    project("b/requirements.txt", "torch\nvllm\n")
    project("a/requirements.txt", "torch\ntorch\n")
    project(".env", "HF_TOKEN=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\n")
    run(capsys, "scan", "--write-baseline", "one.json")
    run(capsys, "scan", "--write-baseline", "two.json")
    one = (project.root / "one.json").read_text(encoding="utf-8")
    assert one == (project.root / "two.json").read_text(encoding="utf-8")
    data = json.loads(one)
    assert data["version"] == 1
    entries = data["findings"]
    keys = [(e["path"], e["rule"], e["key"], e["fingerprint"]) for e in entries]
    assert keys == sorted(keys)
    assert set(entries[0]) == {"path", "rule", "key", "fingerprint", "count"}
    assert "hf_ZyXw" not in one  # matched text is hashed, never copied
    torch_a = [e for e in entries if e["path"] == "a/requirements.txt" and "torch" in e["key"]]
    assert [e["count"] for e in torch_a if e["rule"] == "MLS-DEP-001"] == [2]


def test_baseline_from_configuration_and_errors(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    project(".mlsec-lint.yaml", "baseline: ci/baseline.json\n")
    code, _, err = run(capsys, "scan")
    assert code == 2 and "baseline ci/baseline.json not found" in err.replace(
        str(project.root) + "/", ""
    )
    (project.root / "ci").mkdir()
    assert run(capsys, "scan", "--write-baseline", "ci/baseline.json")[0] == 0
    assert run(capsys, "scan")[0] == 0
    (project.root / "ci" / "baseline.json").write_text('{"version": 7}', encoding="utf-8")
    code, _, err = run(capsys, "scan")
    assert code == 2 and "not a mlsec-lint baseline" in err


def test_json_summary_counts_baselined(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    run(capsys, "scan", "--write-baseline", "b.json")
    _, out, _ = run(capsys, "scan", "--baseline", "b.json", "--format", "json")
    summary = json.loads(out)["summary"]
    assert summary["findings"] == 0 and summary["suppressed"] == 1 and summary["baselined"] == 1
