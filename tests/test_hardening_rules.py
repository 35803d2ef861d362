"""Runtime-hardening rules over whole deployments: every workload is judged, and the
severity (and the message) follow the context of each container."""

from __future__ import annotations

from pathlib import Path

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.model import Finding

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm, namespace: llm}
spec:
  selector: {matchLabels: {app: vllm}}
  template:
    metadata: {labels: {app: vllm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          securityContext: {privileged: true}
---
apiVersion: v1
kind: Service
metadata: {name: vllm, namespace: llm}
spec:
  type: LoadBalancer
  selector: {app: vllm}
  ports: [{port: 8000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: llm}
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          securityContext: {privileged: true}
        - name: loader
          image: busybox:1.36.1
          env: [{name: AWS_SECRET_ACCESS_KEY, valueFrom: {secretKeyRef: {name: s3, key: k}}}]
          securityContext: {privileged: true}
"""

COMPOSE = """\
services:
  db:
    image: postgres:16.4
    ports: ["5432:5432"]
  db-local:
    image: postgres:16.4
    ports: ["127.0.0.1:5433:5432"]
"""


def _findings(tmp_path: Path, name: str, text: str) -> list[Finding]:
    (tmp_path / name).write_text(text)
    return scan(ScanOptions(paths=["."], base=str(tmp_path))).result.findings


def test_severity_follows_exposure_role_and_credentials(tmp_path: Path) -> None:
    got = {
        f.message.split("'")[1]: f
        for f in _findings(tmp_path, "deploy.yaml", MANIFESTS)
        if f.rule_id == "MLS-K8S-002"
    }
    assert got["vllm"].severity.label == "critical"
    assert "Service/LoadBalancer 'vllm'" in got["vllm"].message
    assert got["loader"].severity.label == "high"
    assert "AWS_SECRET_ACCESS_KEY" in got["loader"].message
    assert got["redis"].severity.label == "medium"
    assert "helper" in got["redis"].message


def test_compose_data_services_published_on_all_interfaces(tmp_path: Path) -> None:
    found = [
        (f.line, f.severity.label)
        for f in _findings(tmp_path, "docker-compose.yml", COMPOSE)
        if f.rule_id == "MLS-CMP-009"
    ]
    assert found == [(4, "high")]
