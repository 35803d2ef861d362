"""The indexes and records the Kubernetes cross-file passes share: objects by kind,
namespace and name; pods (the pod templates of workloads and serving resources) with
their labels, containers and declared ports; label selectors; and the helpers that write
values into a context with the receiving fact's own spans.

Used by :mod:`mlsec_lint.resolve_kubernetes` and its passes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.facts.k8sobjects import api_group
from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict, PList

CLUSTER_SCOPED = frozenset({"ClusterServingRuntime", "ClusterStorageContainer"})
"""Templates whose pods run in the namespace of whatever uses them (never matched)."""


def ns_of(value: Any) -> str:
    return "default" if value in (None, "") else str(value)


# ------------------------------------------------------------------ records


class Pod(Struct, eq=False):
    """The containers of one pod template, with what was learnt about the pod."""

    ns: str
    labels: dict[str, str]
    annotations: dict[str, str]
    containers: list[Fact]
    init: list[Fact] = field(default_factory=list)
    owner: Fact | None = None
    policies: list[str] = field(default_factory=list)
    open_policies: list[str] = field(default_factory=list)
    mtls: str | None = None
    injection: bool = False  # the namespace has Istio sidecar injection switched on
    auth: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    @property
    def network_policy(self) -> bool:
        return bool(self.policies) and not self.open_policies

    @property
    def model_server(self) -> bool:
        return any(c.data.get("model_server") for c in self.containers)

    @property
    def sidecar(self) -> bool:
        flag = self.annotations.get("sidecar.istio.io/inject") or self.labels.get(
            "sidecar.istio.io/inject"
        )
        return str(flag).lower() != "false"


class Exposure(Struct, eq=False):
    via: str
    name: str
    port: int | None = None
    path: str | None = None
    tls: bool | None = None
    host: str | None = None
    host_port: int | None = None
    span: Span | None = None
    """Where the exposure is declared in the container (a hostPort's port item)."""


class ServiceInfo(Struct, eq=False):
    fact: Fact
    spec: PDict
    ns: str
    name: str
    type: str
    pods: list[Pod]
    routes: list[tuple[Exposure, Any]] = field(default_factory=list)
    """(route exposure, the Service port it names: number, name or None for all)."""


def _d(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """A ``LabelSelector`` (``matchLabels`` and ``matchExpressions``); ``{}`` matches all."""
    if not isinstance(selector, dict):
        return False
    match = selector.get("matchLabels")
    if isinstance(match, dict):
        for k, v in match.items():
            if labels.get(str(k)) != str(v):
                return False
    exprs = selector.get("matchExpressions")
    if isinstance(exprs, list):
        for e in exprs:
            if not isinstance(e, dict):
                return False
            key, op = str(e.get("key")), str(e.get("operator"))
            values = {str(v) for v in _l(e.get("values"))}
            if op == "In" and labels.get(key) not in values:
                return False
            if op == "NotIn" and labels.get(key) in values:
                return False
            if op == "Exists" and key not in labels:
                return False
            if op == "DoesNotExist" and key in labels:
                return False
    return True


def _map_matches(selector: Any, labels: dict[str, str]) -> bool:
    """A plain ``key: value`` selector (Services, Istio ``selector.matchLabels``)."""
    return isinstance(selector, dict) and all(
        labels.get(str(k)) == str(v) for k, v in selector.items()
    )


class Objects:
    """Kubernetes objects of the scan by kind (and API group), namespace and name."""

    def __init__(self, facts: Iterable[Fact]) -> None:
        self.by_kind: dict[str, list[Fact]] = defaultdict(list)
        self.by_name: dict[tuple[str, str, str], Fact] = {}
        for f in facts:
            kind = str(f.data.get("kind"))
            group = api_group(f.data.get("object"))
            self.by_kind[kind].append(f)
            self.by_kind[f"{group}/{kind}"].append(f)
            key = (kind, ns_of(f.data.get("namespace")), str(f.data.get("name") or ""))
            self.by_name.setdefault(key, f)

    def kind(self, kind: str, group: str | None = None) -> list[Fact]:
        return self.by_kind.get(kind if group is None else f"{group}/{kind}", [])

    def get(self, kind: str, ns: str, name: str) -> Fact | None:
        return self.by_name.get((kind, ns, name))


def _spec(f: Fact) -> PDict:
    obj = f.data.get("object")
    spec = obj.get("spec") if isinstance(obj, PDict) else None
    return spec if isinstance(spec, PDict) else PDict(f.anchor)


# ------------------------------------------------------------------ pods


def _pods(containers: list[Fact], objects: Objects) -> list[Pod]:
    groups: dict[tuple[Any, ...], Pod] = {}
    order: list[Pod] = []
    for c in containers:
        data = c.data
        pod_value = data.get("pod")
        pod = pod_value if isinstance(pod_value, PDict) else PDict(c.anchor)
        wl = _d(data.get("workload"))
        key = (
            c.path,
            pod.span,
            str(data.get("component")),
            str(data.get("group")),
            str(wl.get("kind")),
            str(wl.get("name")),
        )
        p = groups.get(key)
        if p is None:
            owner = objects.get(
                str(wl.get("kind")), ns_of(wl.get("namespace")), str(wl.get("name"))
            )
            cluster_scoped = str(wl.get("kind")) in CLUSTER_SCOPED
            p = Pod(
                "" if cluster_scoped else ns_of(wl.get("namespace")),
                _labels(pod.get("labels")),
                _labels(pod.get("annotations")),
                [],
                owner=owner,
            )
            groups[key] = p
            order.append(p)
        (p.init if data.get("init") else p.containers).append(c)
    return order


def _declared(c: Fact) -> list[tuple[int, str | None, PDict]]:
    out = []
    ports = c.data.get("ports")
    if isinstance(ports, list):
        for p in ports:
            if isinstance(p, PDict) and isinstance(p.get("containerPort"), int):
                name = p.get("name")
                out.append((p["containerPort"], str(name) if name is not None else None, p))
    return out


def reached(pod: Pod, target: Any) -> list[tuple[Fact, int | None]]:
    """Containers of ``pod`` that a Service ``targetPort`` reaches, with the port."""
    if isinstance(target, str) and not target.isdigit():
        return [(c, n) for c in pod.containers for n, name, _ in _declared(c) if name == target]
    try:
        number = int(target)
    except (TypeError, ValueError):
        return [(c, None) for c in pod.containers]
    declaring = [c for c in pod.containers if any(n == number for n, _, _ in _declared(c))]
    if declaring:
        return [(c, number) for c in declaring]
    return [(c, number) for c in pod.containers if not _declared(c)]


def _workload_name(c: Fact) -> str:
    wl = _d(c.data.get("workload"))
    return f"{wl.get('kind')}/{wl.get('name')}"


def sa_name(c: Fact) -> str:
    pod = _d(c.data.get("pod"))
    return str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")


# ------------------------------------------------------------------ writing contexts


def _put(ctx: PDict, key: str, value: Any, span: Span) -> None:
    ctx.put(key, value, span, span)


def _plist(values: Iterable[Any], span: Span) -> PList:
    out = PList(span)
    for v in values:
        out.push(v, span)
    return out


def _record(span: Span, **fields: Any) -> PDict:
    d = PDict(span)
    for k, v in fields.items():
        if v is not None:
            d.put(k, v, span, span)
    return d
