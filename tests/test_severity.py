"""Severity calibrated with the exposure graph (docs/severity.md)."""

from __future__ import annotations

from pathlib import Path

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.model import Finding

DIGEST = "@sha256:" + "a" * 64


def _findings(root: Path) -> list[Finding]:
    return scan(ScanOptions(paths=["."], base=str(root), respect_gitignore=False)).result.findings


def _compose(ports: str) -> str:
    return (
        "services:\n"
        "  ts:\n"
        f"    image: pytorch/torchserve:0.12.0-cpu{DIGEST}\n"
        '    command: ["torchserve", "--start"]\n'
        f"    ports: {ports}\n"
        "  vllm:\n"
        f"    image: vllm/vllm-openai:v0.11.0{DIGEST}\n"
        '    command: ["--model", "m", "--host", "0.0.0.0", "--api-key", "${KEY}"]\n'
        f"    ports: {ports}\n"
    )


def test_listeners_published_only_on_loopback_are_not_cleartext_findings(project) -> None:
    project("docker-compose.yml", _compose('["127.0.0.1:8080:8080", "127.0.0.1:8000:8000"]'))
    rules = {f.rule_id for f in _findings(project.root)}
    assert "MLS-TS-004" not in rules and "MLS-LLM-004" not in rules


def test_listeners_published_on_all_interfaces_are(project) -> None:
    project("docker-compose.yml", _compose('["8080:8080", "8000:8000"]'))
    rules = {f.rule_id for f in _findings(project.root)}
    assert {"MLS-TS-004", "MLS-LLM-004"} <= rules


INTERNAL_LB = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ts, namespace: ml}}
spec:
  selector: {{matchLabels: {{app: ts}}}}
  template:
    metadata: {{labels: {{app: ts}}}}
    spec:
      containers:
        - name: ts
          image: pytorch/torchserve:0.12.0-cpu{DIGEST}
          ports: [{{containerPort: 8081}}]
---
apiVersion: v1
kind: Service
metadata:
  name: ts
  namespace: ml
  annotations: {{{{ANNOTATION}}}}
spec:
  type: LoadBalancer
  selector: {{app: ts}}
  ports: [{{name: mgmt, port: 8081, targetPort: 8081}}]
"""


def test_an_internal_load_balancer_is_not_outside_the_cluster(project) -> None:
    annotation = 'service.beta.kubernetes.io/aws-load-balancer-internal: "true"'
    project("deploy.yaml", INTERNAL_LB.replace("{{ANNOTATION}}", "{" + annotation + "}"))
    found = _findings(project.root)
    (img,) = [f for f in found if f.rule_id == "MLS-IMG-002"]
    assert "to the private network" in img.message and "outside the cluster" not in img.message
    assert img.severity.label == "high"
    assert not [f.message for f in found if "outside the cluster" in f.message]


def test_a_public_load_balancer_is(project) -> None:
    project("deploy.yaml", INTERNAL_LB.replace("{{ANNOTATION}}", "{}"))
    found = _findings(project.root)
    (img,) = [f for f in found if f.rule_id == "MLS-IMG-002"]
    assert "outside the cluster" in img.message and img.severity.label == "critical"


PYPROJECT = "[project]\nname = 'svc'\nversion = '1'\ndependencies = ['torch>=2.6']\n"


def test_project_metadata_ranges_without_lock_or_install_are_medium(project) -> None:
    project("pyproject.toml", PYPROJECT)
    (dep,) = [f for f in _findings(project.root) if f.rule_id == "MLS-DEP-001"]
    assert dep.severity.label == "medium" and "lock file" in dep.message


def test_the_same_ranges_installed_into_an_image_are_high(project) -> None:
    project("pyproject.toml", PYPROJECT)
    project(
        "Dockerfile",
        f"FROM python:3.12-slim{DIGEST}\nWORKDIR /app\nCOPY . .\nRUN pip install .\nUSER 1000\n",
    )
    (dep,) = [f for f in _findings(project.root) if f.rule_id == "MLS-DEP-001"]
    assert dep.severity.label == "high"


VLLM_IN_CLUSTER = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: llm, namespace: ml}}
spec:
  selector: {{matchLabels: {{app: llm}}}}
  template:
    metadata: {{labels: {{app: llm}}}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0{DIGEST}
          args: ["--model", "m", "--host", "0.0.0.0", "--api-key", "$(KEY)"]
---
apiVersion: v1
kind: Service
metadata: {{name: llm, namespace: ml}}
spec:
  selector: {{app: llm}}
  ports: [{{port: 8000}}]
"""

POLICY = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: llm, namespace: ml}
spec:
  podSelector: {matchLabels: {app: llm}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {role: gateway}}}]
"""


def test_a_cluster_internal_listener_behind_a_network_policy_is_not_cleartext(project) -> None:
    project("deploy.yaml", VLLM_IN_CLUSTER)
    assert "MLS-LLM-004" in {f.rule_id for f in _findings(project.root)}
    project("deploy.yaml", VLLM_IN_CLUSTER + POLICY)
    assert "MLS-LLM-004" not in {f.rule_id for f in _findings(project.root)}


INGRESS = """\
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: llm, namespace: ml}
spec:
  tls: [{hosts: [llm.example.com], secretName: llm-tls}]
  rules:
    - host: llm.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: llm, port: {number: 8000}}}}
"""

PUBLIC_LB = """\
---
apiVersion: v1
kind: Service
metadata: {name: llm-lb, namespace: ml}
spec:
  type: LoadBalancer
  selector: {app: llm}
  ports: [{port: 8000}]
"""


def test_a_listener_reached_only_through_a_tls_ingress_is_not_cleartext(project) -> None:
    project("deploy.yaml", VLLM_IN_CLUSTER + INGRESS)
    assert "MLS-LLM-004" not in {f.rule_id for f in _findings(project.root)}
    # a LoadBalancer beside the Ingress reaches the listener in cleartext
    project("deploy.yaml", VLLM_IN_CLUSTER + INGRESS + PUBLIC_LB)
    assert "MLS-LLM-004" in {f.rule_id for f in _findings(project.root)}
