"""Cross-file Kubernetes relations: exposure, policies, mesh, service accounts, storage."""

from __future__ import annotations

import time
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.facts.kubernetes import extract
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.resolve import resolve_all
from mlsec_lint.tree import get, to_plain

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ts, namespace: ml}
spec:
  template:
    metadata:
      labels: {app: ts, tier: model}
    spec:
      containers:
        - name: torchserve
          image: pytorch/torchserve:0.11.0-cpu
          ports:
            - {name: inference, containerPort: 8080}
            - {name: management, containerPort: 8081}
        - name: metrics
          image: prom/statsd-exporter:v0.26.0
          ports:
            - {containerPort: 9102}
"""


def scan(*files: str) -> tuple[list[Fact], list[Fact]]:
    """Facts of several files (one string each) after cross-file resolution."""
    facts: list[Fact] = []
    for i, text in enumerate(files):
        facts.extend(extract([d.value for d in load_stream(text).docs], f"f{i}.yaml"))
    return facts, resolve_all(facts)


def container(facts: list[Fact], name: str) -> Fact:
    return next(f for f in facts if f.kind == "container" and f.data.get("name") == name)


def ctx(facts: list[Fact], name: str) -> dict[str, Any]:
    value: dict[str, Any] = to_plain(container(facts, name).data["context"])
    return value


def test_load_balancer_service_exposes_only_the_container_with_the_port() -> None:
    svc = """\
apiVersion: v1
kind: Service
metadata: {name: ts, namespace: ml}
spec:
  type: LoadBalancer
  selector: {app: ts}
  ports:
    - {name: mgmt, port: 8081, targetPort: management}
"""
    facts, new = scan(DEPLOYMENT, svc)
    ts = ctx(facts, "torchserve")
    assert ts["exposed"] is True
    assert ts["exposure"] == [{"via": "Service/LoadBalancer", "name": "ts", "port": 8081}]
    assert ts["services"] == ["ts"] and ts["network_policy"] is False
    assert ctx(facts, "metrics")["exposed"] is False
    (port,) = new
    assert port.kind == "service-port" and port.path == "f1.yaml" and port.anchor.line == 8
    assert (port.data["admin"], port.data["role"], port.data["via"]) == (
        True,
        "management",
        "Service/LoadBalancer",
    )
    assert port.data["exposed_via"] == "Service 'ts' of type LoadBalancer"
    assert get(port.data, "targets[0].workload") == "Deployment/ts"


def test_ingress_routes_reach_the_pods_behind_a_cluster_ip_service() -> None:
    rest = """\
apiVersion: v1
kind: Service
metadata: {name: ts, namespace: ml}
spec:
  selector: {app: ts}
  ports:
    - {name: http, port: 80, targetPort: 8080}
    - {name: mgmt, port: 8081, targetPort: management}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: public, namespace: ml}
spec:
  tls: [{hosts: [ts.example.com], secretName: ts-tls}]
  rules:
    - host: ts.example.com
      http:
        paths:
          - {path: /predict, pathType: Prefix, backend: {service: {name: ts, port: {number: 80}}}}
    - host: plain.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: ts, port: {name: mgmt}}}}
"""
    facts, new = scan(DEPLOYMENT, rest)
    ts = ctx(facts, "torchserve")
    assert ts["exposure"] == [
        {
            "via": "Ingress",
            "name": "public",
            "port": 8080,
            "path": "/predict",
            "tls": True,
            "host": "ts.example.com",
        },
        {
            "via": "Ingress",
            "name": "public",
            "port": 8081,
            "path": "/",
            "tls": False,
            "host": "plain.example.com",
        },
    ]
    assert ts["tls_ingress"] is False  # one route is cleartext
    http, mgmt = new
    assert (http.data["exposed"], http.data["via"], mgmt.data["admin"]) == (True, "Ingress", True)
    assert mgmt.data["exposed_via"] == "Ingress 'public' through Service 'ts'"
    # the metrics container declares another port and is not reached
    assert ctx(facts, "metrics")["exposed"] is False


def test_gateway_api_and_istio_routes() -> None:
    routes = """\
apiVersion: v1
kind: Service
metadata: {name: ts, namespace: ml}
spec:
  selector: {app: ts}
  ports: [{port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  listeners: [{name: https, protocol: HTTPS, port: 443}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ml}
spec:
  parentRefs: [{name: edge, namespace: infra}]
  rules: [{backendRefs: [{name: ts, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mesh-only, namespace: ml}
spec:
  parentRefs: [{kind: Service, group: "", name: ts}]
  rules: [{backendRefs: [{name: ts, port: 8080}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: ml}
spec:
  gateways: [istio-system/public]
  http: [{route: [{destination: {host: ts.ml.svc.cluster.local, port: {number: 8080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: internal, namespace: ml}
spec:
  http: [{route: [{destination: {host: ts}}]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  servers: [{port: {number: 80, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: os, namespace: ml}
spec:
  to: {kind: Service, name: ts}
  tls: {termination: edge, insecureEdgeTerminationPolicy: Redirect}
"""
    facts, _ = scan(DEPLOYMENT, routes)
    vias = {(e["via"], e["name"], e["tls"]) for e in ctx(facts, "torchserve")["exposure"]}
    assert vias == {
        ("HTTPRoute", "r", True),
        ("VirtualService", "vs", False),
        ("Route", "os", True),
    }


def test_host_port_and_host_network() -> None:
    text = DEPLOYMENT.replace(
        "{name: management, containerPort: 8081}",
        "{name: management, containerPort: 8081, hostPort: 18081}",
    ).replace(
        "    spec:\n      containers:", "    spec:\n      hostNetwork: true\n      containers:"
    )
    facts, new = scan(text)
    ts = ctx(facts, "torchserve")
    assert {(e["via"], e["port"]) for e in ts["exposure"]} == {
        ("hostNetwork", 8080),
        ("hostPort", 8081),
    }
    assert ctx(facts, "metrics")["exposure"] == [
        {"via": "hostNetwork", "name": "metrics", "port": 9102}
    ]
    (hp,) = new
    assert (hp.data["type"], hp.data["port"], hp.data["targetPort"], hp.anchor.line) == (
        "hostPort",
        18081,
        8081,
        15,
    )
    assert hp.data["admin"] is True and hp.path == "f0.yaml"


POLICIES = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: expr, namespace: ml}
spec:
  podSelector:
    matchExpressions: [{key: tier, operator: In, values: [model]}]
  ingress: [{from: [{podSelector: {matchLabels: {role: gateway}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only, namespace: other}
spec:
  podSelector: {}
  policyTypes: [Egress]
"""


def test_network_policy_coverage() -> None:
    facts, _ = scan(DEPLOYMENT, POLICIES)
    ts = ctx(facts, "torchserve")
    assert (ts["network_policy"], ts["network_policies"]) == (True, ["expr"])
    open_policy = POLICIES.replace(
        "  ingress: [{from: [{podSelector: {matchLabels: {role: gateway}}}]}]",
        "  ingress: [{}]",
    )
    facts, _ = scan(DEPLOYMENT, open_policy)
    assert ctx(facts, "torchserve")["network_policy"] is False  # allows every source
    elsewhere = POLICIES.replace("namespace: ml", "namespace: prod")
    facts, _ = scan(DEPLOYMENT, elsewhere)
    assert ctx(facts, "torchserve")["network_policy"] is False


def test_mesh_mtls_precedence_and_sidecar() -> None:
    mesh = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: only-gw, namespace: ml}
spec:
  selector: {matchLabels: {app: ts}}
  rules: [{from: [{source: {principals: [cluster.local/ns/gw/sa/gw]}}]}]
"""
    facts, _ = scan(DEPLOYMENT, mesh)
    ts = ctx(facts, "torchserve")
    assert (ts["mesh_mtls"], ts["auth_policy"]) == (True, True)
    permissive = (
        mesh + "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        "metadata: {name: ns, namespace: ml}\nspec: {mtls: {mode: PERMISSIVE}}\n"
    )
    facts, _ = scan(DEPLOYMENT, permissive)
    assert ctx(facts, "torchserve")["mesh_mtls"] is False
    no_sidecar = DEPLOYMENT.replace(
        "labels: {app: ts, tier: model}",
        "labels: {app: ts, tier: model}\n      annotations: {sidecar.istio.io/inject: 'false'}",
    )
    facts, _ = scan(no_sidecar, mesh)
    assert ctx(facts, "torchserve")["mesh_mtls"] is False


def test_service_accounts_env_from_and_secret_usage() -> None:
    isvc = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris, namespace: ml}
spec:
  predictor:
    serviceAccountName: s3-reader
    model:
      modelFormat: {name: sklearn}
      storageUri: pvc://models/iris
    containers:
      - name: kserve-container
        envFrom: [{configMapRef: {name: settings}}]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: s3-reader
  namespace: ml
  annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/r"}
automountServiceAccountToken: false
secrets: [{name: s3-creds}]
---
apiVersion: v1
kind: Secret
metadata: {name: s3-creds, namespace: ml, annotations: {serving.kserve.io/s3-usehttps: "0"}}
stringData: {AWS_SECRET_ACCESS_KEY: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ml}
data: {LOG_LEVEL: debug}
"""
    facts, _ = scan(isvc)
    c = ctx(facts, "kserve-container")
    assert c["service_account"] == {
        "name": "s3-reader",
        "found": True,
        "automountServiceAccountToken": False,
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"},
        "workload_identity": True,
    }
    assert c["env_from"] == [
        {"kind": "ConfigMap", "name": "settings", "found": True, "values": {"LOG_LEVEL": "debug"}}
    ]
    objects = {f.data["name"]: to_plain(f.data["context"]) for f in facts if f.kind == "k8s-object"}
    assert objects["s3-creds"] == {
        "used_by": ["InferenceService/iris"],
        "used_by_model_server": True,
    }
    assert objects["iris"]["exposed"] is True
    assert objects["iris"]["exposure"][0]["via"] == "InferenceService"
    entry = next(f for f in facts if f.kind == "config-entry" and f.data["key"] == "LOG_LEVEL")
    assert to_plain(entry.data["context"])["used_by"] == ["InferenceService/iris"]
    # context values are written with spans of the receiving fact's own file
    svc_ctx = container(facts, "kserve-container").data["context"]
    assert svc_ctx.vspan["service_account"] == container(facts, "kserve-container").anchor


def test_storage_classes_claims_and_model_servers() -> None:
    storage = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: gp3
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: ebs.csi.aws.com
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: unused}
provisioner: ebs.csi.aws.com
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: models, namespace: ml}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris, namespace: ml}
spec:
  predictor:
    model: {modelFormat: {name: sklearn}, storageUri: "pvc://models/iris"}
"""
    facts, _ = scan(storage)
    objects = {f.data["name"]: to_plain(f.data["context"]) for f in facts if f.kind == "k8s-object"}
    assert objects["models"]["storage_class"] == {
        "name": "gp3",
        "found": True,
        "provisioner": "ebs.csi.aws.com",
    }
    assert objects["gp3"] == {
        "claims": ["ml/models"],
        "used_by": ["InferenceService/iris"],
        "used_by_model_server": True,
    }
    assert objects["unused"]["used_by_model_server"] is False


def test_model_sources_share_the_resolved_context() -> None:
    isvc = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris, namespace: ml, labels: {networking.kserve.io/visibility: cluster-local}}
spec:
  predictor:
    model: {modelFormat: {name: sklearn}, storageUri: "http://minio.ml:9000/iris"}
"""
    facts, _ = scan(
        isvc, POLICIES.replace("tier, operator: In, values: [model]", "component, operator: Exists")
    )
    src = next(f for f in facts if f.kind == "model-source")
    assert src.data["context"]["network_policy"] is True
    assert src.data["context"]["exposed"] is False


def test_resolution_is_linear_in_the_number_of_objects() -> None:
    docs = []
    for i in range(600):
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}}}\nspec:\n"
            f"  template:\n    metadata: {{labels: {{app: a{i}}}}}\n    spec:\n"
            f"      containers: [{{name: c, image: vllm/vllm-openai:v0.11.0, "
            f"ports: [{{containerPort: 8000}}]}}]\n"
            f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}}}\n"
            f"spec: {{type: NodePort, selector: {{app: a{i}}}, ports: [{{port: 8000}}]}}\n"
            f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: n{i}}}\nspec: {{podSelector: {{matchLabels: {{app: a{i}}}}}}}\n"
        )
    text = "---\n".join(docs)
    facts = extract([d.value for d in load_stream(text).docs], "big.yaml")
    start = time.perf_counter()
    new = resolve_all(facts)
    elapsed = time.perf_counter() - start
    assert len(new) == 600 and all(len(f.data["targets"]) == 1 for f in new)
    assert elapsed < 1.5, elapsed


BUNDLE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: ml}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          ports: [{containerPort: 8000}]
        - name: torchserve
          image: pytorch/torchserve:0.11.0-cpu
          ports: [{containerPort: 8081}]
---
apiVersion: v1
kind: Service
metadata: {name: llm, namespace: ml}
spec:
  type: LoadBalancer
  selector: {app: llm}
  ports: [{name: api, port: 80, targetPort: 8000}, {name: mgmt, port: 8081}]
"""

POLICY = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: llm, namespace: ml}
spec:
  podSelector: {matchLabels: {app: llm}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {name: gateway}}}]}]
"""


def _severities(tmp_path, text: str) -> dict[tuple[str, int], Any]:
    from mlsec_lint.api import ScanOptions
    from mlsec_lint.api import scan as run

    (tmp_path / "bundle.yaml").write_text(text, encoding="utf-8")
    result = run(ScanOptions(paths=["."], base=str(tmp_path))).result
    return {(f.rule_id, f.line): f for f in result.findings}


def test_exposed_model_server_ranks_above_the_same_server_behind_a_network_policy(
    tmp_path,
) -> None:
    exposed = _severities(tmp_path, BUNDLE)
    isolated = _severities(tmp_path, BUNDLE + POLICY)
    assert max(f.severity for f in exposed.values()) > max(f.severity for f in isolated.values())
    # every exposure-sensitive finding is lower, and the message says why
    lowered = 0
    for key, finding in exposed.items():
        other = isolated.get(key)
        assert other is not None, key
        assert other.severity <= finding.severity, key
        if other.severity < finding.severity:
            lowered += 1
            assert "NetworkPolicy" in other.message, other.message
    assert lowered >= 4
    mgmt = exposed[("MLS-IMG-002", 23)]
    assert mgmt.severity.label == "critical" and "management port of torchserve" in mgmt.message
    assert isolated[("MLS-IMG-002", 23)].severity.label == "high"


def test_malformed_manifests_never_raise() -> None:
    """Any field of the Kubernetes fixtures replaced by a value of the wrong type."""
    import random
    from pathlib import Path

    from mlsec_lint.engine.evaluate import Evaluator
    from mlsec_lint.engine.rules import builtin_rules

    root = Path(__file__).resolve().parent.parent / "fixtures"
    texts = [
        p.read_text(encoding="utf-8")
        for area in ("K8S", "KSV", "SEL", "RAY", "STO", "SEC", "IMG", "RBAC")
        for p in sorted(root.glob(f"MLS-{area}-*/**/*.yaml"))
        if "templates" not in p.parts  # Helm chart templates are not YAML until rendered
    ]
    weird: list[Any] = [None, 1, "x", True, [], {}, [1, None], {"a": None}, 3.5, [{"name": 1}]]
    rng = random.Random(7)
    evaluator = Evaluator(builtin_rules())

    def mutate(node: Any) -> None:
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for k in keys:
            if rng.random() < 0.15:
                node[k] = rng.choice(weird)
            elif isinstance(node[k], (dict, list)):
                mutate(node[k])

    produced = 0
    for _ in range(60):
        docs = [d.value for text in rng.sample(texts, 3) for d in load_stream(text).docs]
        for doc in docs:
            mutate(doc)
        facts = extract(docs, "fuzz.yaml")
        produced += len(facts)
        facts += resolve_all(facts)
        findings = evaluator.run(facts, lambda path, line: "")
        assert all(f.line >= 1 and f.column >= 1 for f in findings)
    assert produced > 300  # the mutated objects were still read


def test_cross_file_facts_carry_the_owning_object_annotations() -> None:
    annotated = DEPLOYMENT.replace(
        "metadata: {name: ts, namespace: ml}",
        "metadata: {name: ts, namespace: ml, annotations: {team: serving}}",
    ).replace("containerPort: 8081}", "containerPort: 8081, hostPort: 8081}")
    svc = (
        "apiVersion: v1\nkind: Service\n"
        "metadata: {name: ts, namespace: ml, annotations: {owner: netops}}\n"
        "spec: {selector: {app: ts}, ports: [{port: 80, targetPort: 8080}]}\n"
    )
    facts, new = scan(annotated, svc)
    assert all(f.annotations == {"team": "serving"} for f in facts if f.path == "f0.yaml")
    by_type = {f.data["type"]: f for f in new}
    assert by_type["hostPort"].annotations == {"team": "serving"}
    assert by_type["ClusterIP"].annotations == {"owner": "netops"}


def test_private_load_balancers_and_source_ranges_restrict_a_port() -> None:
    base = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: ts, namespace: ml%s}\n"
        "spec: {type: LoadBalancer, selector: {app: ts}, ports: [{port: 8081}]%s}\n"
    )
    cases = {
        "": (False, None),
        ", annotations: {service.beta.kubernetes.io/aws-load-balancer-internal: 'true'}": (
            True,
            "an internal load balancer (reachable from the private network only)",
        ),
    }
    for ann, (restricted, by) in cases.items():
        _, (port,) = scan(DEPLOYMENT, base % (ann, ""))
        assert (port.data["restricted"], port.data.get("restricted_by")) == (restricted, by)
    _, (port,) = scan(DEPLOYMENT, base % ("", ", loadBalancerSourceRanges: [10.0.0.0/8]"))
    assert port.data["restricted_by"] == "loadBalancerSourceRanges (10.0.0.0/8)"
    _, (port,) = scan(DEPLOYMENT, base % ("", ", loadBalancerSourceRanges: [0.0.0.0/0]"))
    assert port.data["restricted"] is False
    _, (port,) = scan(DEPLOYMENT, base % ("", ""), POLICIES)
    assert port.data["restricted_by"] == "NetworkPolicy 'expr'"
