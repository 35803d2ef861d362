"""RBAC resolution: grants of roles, and the workloads that get them through bindings."""

from __future__ import annotations

from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.facts.kubernetes import extract
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.resolve import resolve_all
from mlsec_lint.tree import to_plain

WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm, namespace: llm}
spec:
  template:
    spec:
      serviceAccountName: vllm
      containers: [{name: vllm, image: vllm/vllm-openai:v0.11.0}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: llm}
spec:
  template:
    spec:
      containers: [{name: web, image: nginx:1.27.0}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: batch}
spec:
  template:
    spec:
      containers: [{name: job, image: busybox:1.36.1}]
"""

RBAC = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
  - {apiGroups: [""], resources: [secrets, configmaps], verbs: [get, watch]}
  - {apiGroups: [""], resources: [pods, pods/exec], verbs: [create]}
  - {apiGroups: [apps], resources: ["*"], verbs: [get]}
  - {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [bind]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: llm}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects:
  - {kind: ServiceAccount, name: vllm}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: unbound, namespace: llm}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: everyone, namespace: batch}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
subjects:
  - {kind: Group, name: "system:serviceaccounts:batch"}
  - {kind: ServiceAccount, name: default, namespace: llm}
"""


def objects(*files: str) -> dict[str, Any]:
    facts: list[Fact] = []
    for i, text in enumerate(files):
        facts.extend(extract([d.value for d in load_stream(text).docs], f"f{i}.yaml"))
    resolve_all(facts)
    return {
        f"{f.data['kind']}/{f.data['name']}": to_plain(f.data["context"])
        for f in facts
        if f.kind == "k8s-object"
    }


def test_role_grants_and_the_workloads_that_get_them() -> None:
    got = objects(WORKLOADS, RBAC)
    reader = got["ClusterRole/reader"]
    assert [(g["power"], g["rule"]) for g in reader["grants"]] == [
        ("read-secrets", 1),
        ("create-pods", 2),
        ("exec-pods", 2),
        ("wildcard", 3),
        ("escalate", 4),
    ]
    assert reader["bound"] is True
    assert reader["workloads"] == ["Deployment/vllm"]
    assert reader["model_server"] is True
    # a ClusterRole given by a RoleBinding is scoped to that namespace
    assert reader["scope"] == "namespace 'llm'"
    assert "pods of Deployment/vllm (model server) run as it" in reader["bound_to"]

    unbound = got["Role/unbound"]
    assert unbound["bound"] is False and unbound["workloads"] == []
    assert "No binding" in unbound["bound_to"]


def test_bindings_resolve_groups_and_default_accounts() -> None:
    got = objects(WORKLOADS, RBAC)
    everyone = got["RoleBinding/everyone"]
    # the group holds every ServiceAccount of 'batch'; 'llm/default' runs 'web'
    assert sorted(everyone["workloads"]) == ["Deployment/other", "Deployment/web"]
    assert [d["name"] for d in everyone["default_subjects"]] == ["llm/default"]
    assert everyone["role_found"] is False and everyone["role_grants"] == []
    assert everyone["model_server"] is False

    reader = got["RoleBinding/reader"]
    assert reader["role_found"] is True
    assert reader["role_grants"] == [
        "read-secrets",
        "create-pods",
        "exec-pods",
        "wildcard",
        "escalate",
    ]
    assert reader["default_subjects"] == []
