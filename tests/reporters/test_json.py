from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from mlsec_lint.cli import main

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "mlsec_lint" / "schemas" / "report.schema.json"
    ).read_text(encoding="utf-8")
)


def _report(capsys, *paths: str) -> dict[str, Any]:
    main(["scan", "--format", "json", *paths])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_report_validates_against_its_schema(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    project(
        "Dockerfile",
        "FROM vllm/vllm-openai:latest\nENV HF_TOKEN=hf_aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH\n",
    )
    project("broken.yaml", "a: [\n")
    data = _report(capsys)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    assert data["summary"]["findings"] == len(data["findings"]) >= 4
    assert data["notices"][0]["code"] == "parse-error"


def test_clean_report_validates_too(project, capsys) -> None:
    project("requirements.txt", "torch==2.6.0\n")
    data = _report(capsys)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["findings"] == [] and data["summary"]["files_scanned"] == 1


def test_output_is_deterministic(project, capsys) -> None:
    for i in range(5):
        project(f"d{i}/requirements.txt", "torch\nvllm\n")
    first = _report(capsys)
    assert _report(capsys) == first
    assert [f["path"] for f in first["findings"]] == sorted(f["path"] for f in first["findings"])
