"""Loading user rules or a configuration file does not import jsonschema's format backends."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlsec_lint.schemacheck import FORMAT_BACKENDS, draft202012_validator

RULE = (
    "id: ACME-ENV-001\nname: debug-env\ntitle: Debug mode enabled in the environment\n"
    "category: runtime-hardening\nseverity: low\ntarget: env\n"
    "when: {all: [{path: name, equals: DEBUG}, {path: value, is: truthy}]}\n"
    "message: DEBUG is enabled.\n"
    "docs: {what: Checks DEBUG variables., why: Debug modes leak data.,\n"
    "       example: DEBUG=1, use_instead: DEBUG=0}\n"
    "references: {cwe: [CWE-489]}\n"
)


def test_user_rules_load_without_format_backends(tmp_path: Path) -> None:
    installed = [m for m in FORMAT_BACKENDS if importlib.util.find_spec(m) is not None]
    if not installed:
        pytest.skip("no optional jsonschema format backend is installed")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ACME-ENV-001.yaml").write_text(RULE, encoding="utf-8")
    (tmp_path / ".env").write_text("DEBUG=1\n", encoding="utf-8")
    (tmp_path / ".mlsec-lint.yaml").write_text("fail-on: [high]\n", encoding="utf-8")
    code = (
        "import sys, json, contextlib, io\n"
        "from mlsec_lint.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):\n"
        "    rc = main(['scan', '--isolated', '--rules-dir', 'rules', '.env'])\n"
        "    rc2 = main(['scan', '.env'])\n"
        "print(json.dumps([rc, rc2, 'jsonschema' in sys.modules,"
        f" [m for m in {installed!r} if m in sys.modules]]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    rc, rc2, loaded, backends = json.loads(proc.stdout.strip().splitlines()[-1])
    # the user rule was validated and reported; the invalid configuration was refused
    assert (rc, rc2, loaded) == (1, 2, True)
    assert backends == []


def test_the_validator_still_validates() -> None:
    validator = draft202012_validator({"type": "object", "required": ["id"]})
    assert [e.message for e in validator.iter_errors({})]
    assert list(validator.iter_errors({"id": 1})) == []
