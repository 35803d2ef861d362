"""One finding per cause: same-cause findings are merged, distinct causes are kept."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.dedupe import same_cause_groups
from mlsec_lint.engine.rules import builtin_rules

from .conftest import FIXTURES

FIXTURE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def _findings(base: Path):
    return scan(ScanOptions(paths=["."], base=str(base), respect_gitignore=False)).result.findings


@pytest.mark.parametrize("directory", FIXTURE_DIRS, ids=lambda p: p.name)
def test_no_file_line_and_category_carries_two_findings(directory: Path) -> None:
    groups = defaultdict(list)
    for f in _findings(directory):
        groups[(f.path, f.span.line, f.category)].append(f.rule_id)
    assert {key: rules for key, rules in groups.items() if len(rules) > 1} == {}


def test_the_cause_table_names_real_rules() -> None:
    ids = {r.id for r in builtin_rules()}
    for group in same_cause_groups():
        assert set(group) <= ids, set(group) - ids
        assert len(group) >= 2 and len(set(group)) == len(group)


def test_different_problems_of_one_category_are_named_by_the_kept_finding(project) -> None:
    project(
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n"
        "  selector: {matchLabels: {app: a}}\n  template:\n"
        "    metadata: {labels: {app: a}}\n    spec:\n      containers:\n"
        f"        - name: a\n          image: vllm/vllm-openai:v0.11.0@sha256:{'d' * 64}\n",
    )
    hardening = [f for f in _findings(project.root) if f.category == "runtime-hardening"]
    on_container = [f for f in hardening if f.span.line == 10]
    (kept,) = on_container
    assert len(kept.also) >= 1 and kept.rule_id not in kept.also
    for rule in kept.also:
        assert rule in kept.message
    assert kept.message.endswith(".")


def test_default_credential_is_one_finding_naming_the_literal_credential_rule(project) -> None:
    project(
        "docker-compose.yml",
        "services:\n  minio:\n    image: minio/minio:RELEASE.2024-08-03T04-33-23Z\n"
        "    environment:\n      MINIO_ROOT_PASSWORD: minioadmin\n",
    )
    found = [f for f in _findings(project.root) if f.category == "secrets"]
    assert [f.rule_id for f in found] == ["MLS-SEC-002"]
    assert "Same cause as MLS-SEC-001" in found[0].message
    assert found[0].severity.label == "critical" and found[0].message.endswith(".")


def test_vulnerable_server_image_is_reported_by_the_specific_rule(project) -> None:
    project("Dockerfile", "FROM nvcr.io/nvidia/tritonserver:24.05-py3\nUSER 1000\n")
    found = [f for f in _findings(project.root) if f.span.line == 1]
    rules = sorted(f.rule_id for f in found)
    assert "MLS-TRT-004" in rules and "MLS-IMG-004" not in rules
    (trt,) = [f for f in found if f.rule_id == "MLS-TRT-004"]
    assert "MLS-IMG-004" in trt.message and "MLS-IMG-004" in trt.also
    # no digest: a different problem of the same category, named by the kept finding
    assert "MLS-IMG-001" in trt.also and "MLS-IMG-001" in trt.message


def test_one_rule_on_one_line_is_one_finding_naming_the_rest(project) -> None:
    project(
        "config.properties",
        "inference_address=http://0.0.0.0:8080\nmanagement_address=http://0.0.0.0:8081\n",
    )
    project(
        "Dockerfile",
        "FROM pytorch/torchserve:0.12.0-cpu@sha256:" + "a" * 64 + "\nUSER 1000\n"
        'CMD ["torchserve", "--start"]\n',
    )
    found = _findings(project.root)
    keys = [(f.path, f.span.line, f.rule_id) for f in found]
    assert len(keys) == len(set(keys))


def test_distinct_causes_on_one_listener_stay_distinct(project) -> None:
    project(
        "Dockerfile",
        "FROM vllm/vllm-openai:v0.8.5@sha256:" + "b" * 64 + "\nUSER 1000\n"
        'CMD ["--host", "0.0.0.0"]\n',
    )
    on_cmd = {f.rule_id: f.category for f in _findings(project.root) if f.span.line == 3}
    assert on_cmd.get("MLS-LLM-001") == "endpoint" and on_cmd.get("MLS-LLM-004") == "tls"


def test_many_causes_of_one_rule_on_one_line_keep_the_message_short(project) -> None:
    packages = "torch transformers vllm ray mlflow tensorflow keras jax diffusers onnxruntime"
    project(
        "Dockerfile",
        f"FROM python:3.12-slim@sha256:{'c' * 64}\nRUN pip install {packages}\nUSER 1000\n",
    )
    (dep,) = [f for f in _findings(project.root) if f.rule_id == "MLS-DEP-001"]
    assert "On this line also:" in dep.message and "more." in dep.message
    assert len(dep.message) < 1500


def test_json_lists_the_merged_rules(project, capsys) -> None:
    import json

    from mlsec_lint.cli import main

    project(
        "docker-compose.yml",
        "services:\n  minio:\n    image: minio/minio:RELEASE.2024-08-03T04-33-23Z\n"
        "    environment:\n      MINIO_ROOT_PASSWORD: minioadmin\n",
    )
    main(["scan", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    (sec,) = [f for f in data["findings"] if f["category"] == "secrets"]
    assert sec["rule_id"] == "MLS-SEC-002" and sec["also"] == ["MLS-SEC-001"]
