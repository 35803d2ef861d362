"""Runtime-hardening records of Kubernetes containers and compose services."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec_lint.facts import compose, kubernetes
from mlsec_lint.facts.hardening import (
    capability,
    host_path_kind,
    is_root_user,
    service_category,
)
from mlsec_lint.parsers.yamldoc import load_stream

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {}
spec:
  securityContext:
    seccompProfile: {type: RuntimeDefault}
  volumes:
    - name: sock
      hostPath: {path: /var/run/docker.sock}
    - name: models
      hostPath: {path: /srv/models}
  containers:
    - name: main
      image: redis:7.4.1
      envFrom: [{secretRef: {name: creds}}]
      securityContext:
        seccompProfile: {type: Unconfined}
        capabilities: {add: [cap_sys_admin, NET_BIND_SERVICE], drop: [all]}
      volumeMounts: [{name: sock, mountPath: /var/run/docker.sock, readOnly: true}]
    - name: side
      image: nginx:1.27.0
"""


def _containers(text: str) -> list[Any]:
    facts = kubernetes.extract([d.value for d in load_stream(text).docs], "p.yaml")
    return [f.data for f in facts if f.kind == "container"]


def test_kubernetes_record() -> None:
    main, side = _containers(POD)
    h = main["hardening"]
    assert list(h["caps_added"]) == ["SYS_ADMIN", "NET_BIND_SERVICE"]
    assert [c["name"] for c in h["caps_dangerous"]] == ["SYS_ADMIN"]
    assert h["drops_all"] is True
    assert h["seccomp"] == "Unconfined"  # the container's own profile wins
    assert h["credentials"] is True and h["credential"] == "Secret creds"
    vols = h["host_volumes"]
    assert [(v["path"], v.get("kind"), v["read_only"]) for v in vols] == [
        ("/var/run/docker.sock", "socket", True),
        ("/srv/models", None, False),
    ]
    # pod-level volumes are judged once, on the primary container
    assert "host_volumes" not in side["hardening"]
    assert side["hardening"]["seccomp"] == "RuntimeDefault"
    assert side["hardening"]["credentials"] is False
    assert side["hardening"]["drops_all"] is False


def test_a_mounted_secret_is_a_credential() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  volumes: [{name: creds, secret: {secretName: s3}}, {name: tmp, emptyDir: {}}]\n"
        "  containers:\n"
        "    - {name: a, image: x:1, volumeMounts: [{name: creds, mountPath: /c}]}\n"
        "    - {name: b, image: x:1, volumeMounts: [{name: tmp, mountPath: /t}]}\n"
    )
    a, b = _containers(text)
    assert a["hardening"]["credential"] == "Secret s3 (mounted)"
    assert b["hardening"]["credentials"] is False


def test_legacy_seccomp_annotation() -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n"
        "    metadata:\n      annotations:\n"
        "        seccomp.security.alpha.kubernetes.io/pod: runtime/default\n"
        "        container.seccomp.security.alpha.kubernetes.io/b: unconfined\n"
        "    spec:\n      containers:\n        - {name: a, image: x:1}\n"
        "        - {name: b, image: x:1}\n"
    )
    a, b = _containers(deployment)
    assert a["hardening"]["seccomp"] == "RuntimeDefault"
    assert b["hardening"]["seccomp"] == "Unconfined"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "sensitive"),
        ("/etc/kubernetes", "sensitive"),
        ("/var/lib/kubelet/pods", "sensitive"),
        ("/run/containerd/containerd.sock", "socket"),
        ("/var/run", "socket"),
        ("//var/run/docker.sock", "socket"),
        ("/root", "sensitive"),
        ("/root/.cache/huggingface", None),
        ("/home/user/models", None),
        ("/srv/data", None),
        ("relative/etc", None),
        (None, None),
    ],
)
def test_host_path_kind(path: object, kind: str | None) -> None:
    assert host_path_kind(path) == kind


@pytest.mark.parametrize(
    ("user", "root"),
    [
        ("root", True),
        ("0", True),
        ("000", True),
        ("+0", True),
        ("0:1000", True),
        ("root:wheel", True),
        ('"0"', True),
        ("1000:0", False),
        ("rootless", False),
        ("10001", False),
        ("", False),
    ],
)
def test_is_root_user(user: str, root: bool) -> None:
    assert is_root_user(user) is root


def test_capability_spellings() -> None:
    assert capability("cap_net_raw") == "NET_RAW"
    assert capability(" all ") == "ALL"
    assert capability(3) is None


def test_service_categories() -> None:
    assert service_category("postgres:16.4") == "database"
    assert service_category("bitnami/redis:7.4") == "cache or queue"
    assert service_category("dpage/pgadmin4:8") == "admin UI"
    assert service_category("mongo-express:1") == "admin UI"
    assert service_category("quay.io/jupyter/scipy-notebook:2024-10-07") == "notebook"
    assert service_category("ghcr.io/mlflow/mlflow:v2.17.2") == "tracking server"
    assert service_category("nginx:1.27.0") is None


COMPOSE = """\
services:
  app:
    image: redis:7.4.1
    user: "0:0"
    cap_add: [sys_admin]
    cap_drop: [ALL]
    security_opt: ["label:seccomp:unconfined", "apparmor=unconfined", "no-new-privileges"]
    devices: ["/dev/nvidia0:/dev/nvidia0", "/dev/sda"]
    environment: {HF_TOKEN: x}
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - ./data:/data
      - {type: bind, source: /etc, target: /e}
      - {type: volume, source: cache, target: /cache}
  local:
    image: ollama/ollama:0.5.7
    ports: ["127.0.0.1:11434:11434"]
  open:
    image: ollama/ollama:0.5.7
    ports: ["11434:11434"]
  sidecar:
    image: ollama/ollama:0.5.7
    network_mode: "service:open"
"""


def test_compose_record_and_publication() -> None:
    doc = load_stream(COMPOSE).docs[0].value
    facts = {f.key: f.data for f in compose.extract(doc, "compose.yaml") if f.kind == "container"}
    h = facts["compose/app"]["hardening"]
    assert [c["name"] for c in h["caps_dangerous"]] == ["SYS_ADMIN"]
    assert h["drops_all"] is True
    assert h["seccomp"] == "unconfined" and h["apparmor"] == "unconfined"
    assert h["no_new_privileges"] is True
    assert h["root_user"] is True
    assert [(d["device"], d["gpu"]) for d in h["devices"]] == [
        ("/dev/nvidia0", True),
        ("/dev/sda", False),
    ]
    assert [(v["path"], v.get("kind"), v["read_only"]) for v in h["host_volumes"]] == [
        ("/var/run/docker.sock", "socket", True),
        ("/etc", "sensitive", False),
    ]
    assert h["credentials"] is True and h["service"] == "cache or queue"
    # no ports: reachable only inside the stack's network
    assert facts["compose/app"]["context"]["published"] is False
    assert facts["compose/local"]["context"]["published"] is False
    assert "published" not in facts["compose/open"]["context"]
    assert facts["compose/open"]["context"]["exposed"] is True
    # on another service's network: published (or not) through that service
    assert "published" not in facts["compose/sidecar"]["context"]


def test_malformed_compose_services_never_raise() -> None:
    """Any field of the compose fixtures replaced by a value of the wrong type."""
    import random
    from pathlib import Path

    from mlsec_lint.engine.evaluate import Evaluator
    from mlsec_lint.engine.rules import builtin_rules

    root = Path(__file__).resolve().parents[2] / "fixtures"
    texts = [p.read_text(encoding="utf-8") for p in sorted(root.glob("MLS-CMP-*/*.y*ml"))]
    weird: list[Any] = [None, 1, "x", True, [], {}, [1, None], {"a": None}, 3.5, ["a:b:c:d"]]
    rng = random.Random(11)
    evaluator = Evaluator(builtin_rules())

    def mutate(node: Any) -> None:
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for k in keys:
            if rng.random() < 0.2:
                node[k] = rng.choice(weird)
            elif isinstance(node[k], (dict, list)):
                mutate(node[k])

    produced = 0
    for _ in range(80):
        doc = load_stream(rng.choice(texts)).docs[0].value
        services = doc.get("services")
        if isinstance(services, dict):
            mutate(services)
        facts = compose.extract(doc, "compose.yaml") if isinstance(services, dict) else []
        produced += len(facts)
        findings = evaluator.run(facts, lambda path, line: "")
        assert all(f.line >= 1 and f.column >= 1 for f in findings)
    assert produced > 100
