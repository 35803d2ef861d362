"""SARIF results carry their fix as artifactChanges/replacements, valid for both schemas."""

from __future__ import annotations

import json

import pytest

from mlsec_lint.cli import main

from ..conftest import SHARED
from ..reporters.sarif_checks import check_sarif

pytestmark = pytest.mark.skipif(
    not (SHARED / "schemas").is_dir(), reason="../shared/schemas not present"
)


def test_fixes_in_sarif_replace_exactly_what_fix_changes(project, capsys) -> None:
    text = 'import torch\nstate = torch.load("m.pt")  # w\nr = requests.get(u, verify=False)\n'
    project("svc.py", text)
    project(
        "deploy.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: c\n    image: vllm/vllm-openai:v0.6.3\n",
    )
    main(["scan", "--format", "sarif", "."])
    doc = json.loads(capsys.readouterr().out)
    check_sarif(doc)
    results = doc["runs"][0]["results"]
    torch_fix = next(r for r in results if r["ruleId"] == "MLS-PY-002")["fixes"][0]
    change = torch_fix["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "svc.py"
    rep = change["replacements"][0]
    assert rep["deletedRegion"] == {
        "startLine": 2,
        "startColumn": 26,
        "endLine": 2,
        "endColumn": 26,
    }
    assert rep["insertedContent"]["text"] == ", weights_only=True"
    verify_fix = next(r for r in results if r["ruleId"] == "MLS-PY-010")["fixes"][0]
    assert "unsafe" in verify_fix["description"]["text"]
    # MLS-K8S-004 is merged into the container line's most severe hardening finding (one
    # finding per line and category): its fix travels with the finding that is shown
    container = [r for r in results if r["ruleId"].startswith("MLS-K8S-")]
    yaml_fixes = [fix for r in container for fix in r.get("fixes", [])]
    inserted = [
        fix["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
        for fix in yaml_fixes
    ]
    assert any("allowPrivilegeEscalation: false" in text for text in inserted)
    # findings without a fix have none
    assert all("fixes" not in r for r in results if r["ruleId"] == "MLS-IMG-001")
