"""Severity adjustments of the serving rules, which fixtures (rule, line) do not pin down."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.engine.evaluate import Evaluator
from mlsec_lint.engine.rules import builtin_rules
from mlsec_lint.facts import kubernetes
from mlsec_lint.facts.launch import from_container
from mlsec_lint.facts.launchargs import FileText
from mlsec_lint.parsers.yamldoc import load_stream


def findings(root: Path, prefix: str) -> dict[tuple[str, int], str]:
    # only the rules under test run: findings of other rules of the same category on the
    # same line would otherwise absorb them (one finding per file, line and category)
    result = scan(
        ScanOptions(paths=["."], base=str(root), respect_gitignore=False, select=[prefix])
    ).result
    return {
        (f.path, f.line): f.severity.label for f in result.findings if f.rule_id.startswith(prefix)
    }


def test_torchserve_env_switch_without_envvars_config_is_info(project) -> None:
    project(
        "docker-compose.yml",
        "services:\n"
        "  ts:\n"
        "    image: pytorch/torchserve:0.12.0-cpu\n"
        "    environment:\n"
        '      TS_DISABLE_TOKEN_AUTHORIZATION: "true"\n',
    )
    project("run.sh", "torchserve --start --disable-token-auth --ts-config /c/config.properties\n")
    got = findings(project.root, "MLS-TS-002")
    assert got == {("docker-compose.yml", 5): "info", ("run.sh", 1): "high"}


def test_llm_server_in_a_serving_platform_is_medium() -> None:
    runtime = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: vllm}
spec:
  containers:
    - name: kserve-container
      image: vllm/vllm-openai:v0.11.0
      args: ["--model=/mnt/models"]
"""
    docs = [d.value for d in load_stream(runtime).docs]
    (container,) = [f for f in kubernetes.extract(docs, "rt.yaml") if f.kind == "container"]
    (server,) = [f for f in from_container(container, FileText(runtime)) if f.kind == "server"]
    rules = [r for r in builtin_rules() if r.id in ("MLS-LLM-001", "MLS-LLM-004")]
    got = {f.rule_id: f.severity.label for f in Evaluator(rules).run([server], lambda p, n: "")}
    assert got == {"MLS-LLM-001": "medium", "MLS-LLM-004": "low"}


def test_jupyter_without_token_is_critical_on_a_public_bind(project) -> None:
    project(
        "a/jupyter_server_config.py",
        "c = get_config()\nc.ServerApp.ip = '0.0.0.0'\nc.ServerApp.token = ''\n",
    )
    project("b/jupyter_server_config.py", "c = get_config()\nc.ServerApp.token = ''\n")
    got = findings(project.root, "MLS-NBK-001")
    assert got == {
        ("a/jupyter_server_config.py", 3): "critical",
        ("b/jupyter_server_config.py", 2): "high",
    }


def test_trust_remote_code_severity_follows_the_revision(project) -> None:
    project(
        "serve.sh",
        "vllm serve org/m --trust-remote-code\n"
        "vllm serve org/m --trust-remote-code --revision " + "a" * 40 + "\n"
        "vllm serve /models/m --trust-remote-code\n",
    )
    got = findings(project.root, "MLS-XRT-002")
    assert got == {
        ("serve.sh", 1): "critical",
        ("serve.sh", 2): "high",
        ("serve.sh", 3): "medium",
    }


def test_vllm_default_cors_is_low_only_on_a_public_bind(project) -> None:
    project(
        "serve.sh",
        "vllm serve org/m --api-key k\n"
        "vllm serve org/m --host 127.0.0.1\n"
        "vllm serve org/m --allowed-origins '[\"*\"]' --allow-credentials\n",
    )
    got = findings(project.root, "MLS-XRT-001")
    assert got == {("serve.sh", 1): "low", ("serve.sh", 3): "high"}


_SERVER_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: srv, namespace: ml}}
spec:
  selector: {{matchLabels: {{app: srv}}}}
  template:
    metadata: {{labels: {{app: srv}}}}
    spec:
      containers:
        - name: srv
          image: {image}
          command: {command}
          ports: [{{containerPort: {port}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: srv, namespace: ml}}
spec:
  type: {service_type}
  selector: {{app: srv}}
  ports: [{{port: {port}, targetPort: {port}}}]
"""
_POLICY = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: srv-gateway-only, namespace: ml}
spec:
  podSelector: {matchLabels: {app: srv}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: gateway}}}]}]
"""


@pytest.mark.parametrize(
    ("rule", "image", "command", "port"),
    [
        (
            "MLS-MLF-001",
            "ghcr.io/mlflow/mlflow:v2.16.2",
            '["mlflow", "server", "--host", "0.0.0.0"]',
            5000,
        ),
        (
            "MLS-TRT-001",
            "nvcr.io/nvidia/tritonserver:25.08-py3",
            '["tritonserver", "--model-repository=/models", "--model-control-mode=explicit"]',
            8000,
        ),
        (
            "MLS-TRT-002",
            "nvcr.io/nvidia/tritonserver:25.08-py3",
            '["tritonserver", "--model-repository=/models"]',
            8000,
        ),
        (
            "MLS-LLM-001",
            "vllm/vllm-openai:v0.11.0",
            '["vllm", "serve", "org/model", "--host", "0.0.0.0"]',
            8000,
        ),
        ("MLS-LLM-003", "ollama/ollama:0.12.3", '["ollama", "serve"]', 11434),
        (
            "MLS-TS-001",
            "pytorch/torchserve:0.12.0-cpu",
            '["torchserve", "--start", "--foreground"]',
            8081,
        ),
    ],
)
def test_an_exposed_server_ranks_above_the_same_server_behind_a_network_policy(
    tmp_path: Path, rule: str, image: str, command: str, port: int
) -> None:
    def severity(name: str, service_type: str, policy: str) -> tuple[int, str]:
        root = tmp_path / name
        root.mkdir()
        text = _SERVER_DEPLOYMENT.format(
            image=image, command=command, port=port, service_type=service_type
        )
        (root / "bundle.yaml").write_text(text + policy, encoding="utf-8")
        result = scan(ScanOptions(paths=["."], base=str(root), respect_gitignore=False)).result
        found = [f for f in result.findings if f.rule_id == rule]
        assert len(found) <= 1
        # not reported at all ranks below every severity
        return (int(found[0].severity), found[0].message) if found else (-1, "")

    exposed, why_exposed = severity("exposed", "LoadBalancer", "")
    isolated, why_isolated = severity("isolated", "ClusterIP", _POLICY)
    assert exposed > isolated >= -1 and exposed >= 0
    assert isolated == -1 or "NetworkPolicy" in why_isolated
    assert "published outside" in why_exposed or "LoadBalancer" in why_exposed
