"""Cross-file relations between Kubernetes objects: what reaches a pod, what protects it,
what it uses.

Runs once over all facts of a scan (called by :func:`mlsec_lint.resolve.resolve_all`).
Every pass builds an index first (pods by namespace and label, objects by kind, namespace
and name), so the work grows with the number of objects, never with their pairs.

It fills, in place:

* ``container.context`` (shared with ``server`` and ``model-source`` facts of the same
  container): ``exposed``, ``exposure[*]``, ``network_policy``, ``network_policies``,
  ``mesh_mtls``, ``tls_ingress``, ``auth_policy``, ``services``, ``service_account``,
  ``env_from[*]``;
* ``k8s-object.context`` of workloads (the same summary over their pods), of
  ServiceAccounts, Secrets, ConfigMaps, PersistentVolumeClaims, PersistentVolumes and
  StorageClasses (``used_by``, ``used_by_model_server``, ``storage_class`` …);
* ``config-entry.context``: the workloads that read the entry;

and creates the ``service-port`` facts: one per Service port, plus one per container
``hostPort``, with the containers each reaches and how it is exposed.

Values written into a context carry the span of the fact that receives them, never a
span from another file, so a rule that points into a context still points into its own
file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.facts.kubernetes import api_group
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList
from mlsec_lint.tree import resolve as lookup

EXPOSED_TYPES = ("LoadBalancer", "NodePort")
ROUTE_VIAS = frozenset(
    {
        "Ingress",
        "HTTPRoute",
        "GRPCRoute",
        "TLSRoute",
        "TCPRoute",
        "VirtualService",
        "Route",
        "InferenceService",
        "LLMInferenceService",
        "KnativeService",
    }
)
"""Exposures that go through an HTTP(S) route (``tls_ingress`` is computed over these)."""

CLUSTER_SCOPED = frozenset({"ClusterServingRuntime", "ClusterStorageContainer"})
"""Templates whose pods run in the namespace of whatever uses them (never matched)."""
BORROWED_ACCOUNT = frozenset({"runtime", "runtime-worker", "storage-initializer"})
"""Components whose pods run as the ServiceAccount of the InferenceService that uses them."""

INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/oci-load-balancer-internal": ("true",),
}
"""Service annotations that make a cloud load balancer private (value, lower case)."""

MESH_ROOT = "istio-system"
GATEWAY_API = "gateway.networking.k8s.io"
ISTIO_NET = "networking.istio.io"
ISTIO_SEC = "security.istio.io"
OPENSHIFT_ROUTE = "route.openshift.io"
CERT_ANNOTATIONS = (
    "alb.ingress.kubernetes.io/certificate-arn",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
)
WELL_KNOWN_PORTS = {
    8081: "TorchServe management API",
    7071: "TorchServe gRPC management API",
    8265: "Ray dashboard and Jobs API",
    10001: "Ray client server",
    11434: "Ollama API",
    5572: "rclone remote control",
}


def ns_of(value: Any) -> str:
    return "default" if value in (None, "") else str(value)


# ------------------------------------------------------------------ records


@dataclass(eq=False)
class Pod:
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


@dataclass(eq=False)
class Exposure:
    via: str
    name: str
    port: int | None = None
    path: str | None = None
    tls: bool | None = None
    host: str | None = None
    host_port: int | None = None
    span: Span | None = None
    """Where the exposure is declared in the container (a hostPort's port item)."""


@dataclass(eq=False)
class ServiceInfo:
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


# ------------------------------------------------------------------ entry point


def resolve(by_kind: dict[str, list[Fact]]) -> list[Fact]:
    """Fill contexts in place; return the new ``service-port`` facts."""
    objects = Objects(by_kind.get("k8s-object", []))
    containers = [f for f in by_kind.get("container", []) if f.data.get("source") == "kubernetes"]
    if not containers and not objects.by_kind:
        return []
    pods = _pods(containers, objects)
    by_ns: dict[str, list[Pod]] = defaultdict(list)
    by_label: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
    for pod in pods:
        by_ns[pod.ns].append(pod)
        for k, v in pod.labels.items():
            by_label[(pod.ns, k, v)].append(pod)

    def select(ns: str, selector: Any) -> list[Pod]:
        if not isinstance(selector, dict) or not selector:
            return []
        first = next(iter(selector.items()))
        return [
            p
            for p in by_label.get((ns, str(first[0]), str(first[1])), [])
            if _map_matches(selector, p.labels)
        ]

    services = _services(objects, select)
    exposures: dict[int, list[tuple[Exposure, int | None]]] = defaultdict(list)
    _routes(objects, services)
    for svc in services.values():
        _service_exposures(svc, exposures)
    for pod in pods:
        _pod_exposures(pod, exposures)
    _network_policies(objects, by_ns)
    _mesh(objects, by_ns, pods)
    gateway_auth = _gateway_auth(objects)
    usage = _usage(objects, pods, by_kind.get("model-source", []))
    for pod in pods:
        for c in pod.containers + pod.init:
            _container_context(c, pod, exposures.get(id(c), []), objects)
    _object_contexts(objects, pods, gateway_auth)
    _usage_contexts(objects, usage, by_kind.get("config-entry", []))
    new = [_port_fact(svc, port, i) for svc in services.values() for i, port in _ports(svc.spec)]
    new.extend(_host_port_facts(pods))
    return new


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


# ------------------------------------------------------------------ services and routes


def _ports(spec: PDict) -> Iterator[tuple[int, PDict]]:
    ports = spec.get("ports")
    if isinstance(ports, PList):
        for i, p in enumerate(ports):
            if isinstance(p, PDict):
                yield i, p


def _services(objects: Objects, select: Any) -> dict[tuple[str, str], ServiceInfo]:
    out: dict[tuple[str, str], ServiceInfo] = {}
    for f in objects.kind("Service", ""):
        spec = _spec(f)
        ns, name = ns_of(f.data.get("namespace")), str(f.data.get("name") or "")
        stype = str(spec.get("type") or "ClusterIP")
        out[(ns, name)] = ServiceInfo(f, spec, ns, name, stype, select(ns, spec.get("selector")))
    return out


def _port_matches(port: PDict, ref: Any) -> bool:
    if ref is None:
        return True
    if isinstance(ref, dict):
        ref = ref.get("number", ref.get("name"))
    s = str(ref)
    return s in (str(port.get("port")), str(port.get("name")), str(port.get("targetPort")))


def _service_exposures(
    svc: ServiceInfo, exposures: dict[int, list[tuple[Exposure, int | None]]]
) -> None:
    # an internal load balancer serves the private network, not "outside the cluster"
    outside = svc.type in EXPOSED_TYPES and not _internal_lb(svc)
    direct = outside or bool(svc.spec.get("externalIPs"))
    via = f"Service/{svc.type}" if outside else "Service/externalIPs"
    for _, port in _ports(svc.spec):
        target = port.get("targetPort", port.get("port"))
        hits = [(c, n) for pod in svc.pods for c, n in reached(pod, target)]
        for pod in svc.pods:
            if svc.name not in pod.services:
                pod.services.append(svc.name)
        if direct:
            for c, n in hits:
                exposures[id(c)].append((Exposure(via, svc.name, n), n))
        for route, ref in svc.routes:
            if _port_matches(port, ref):
                for c, n in hits:
                    e = Exposure(route.via, route.name, n, route.path, route.tls, route.host)
                    exposures[id(c)].append((e, n))


def _backend(backend: Any) -> tuple[str | None, Any]:
    if not isinstance(backend, dict):
        return None, None
    service = backend.get("service")
    if isinstance(service, dict):
        port = service.get("port")
        ref = port.get("number", port.get("name")) if isinstance(port, dict) else None
        return (str(service.get("name")) if service.get("name") else None), ref
    if backend.get("serviceName"):
        return str(backend["serviceName"]), backend.get("servicePort")
    return None, None


def _ingress_routes(f: Fact) -> Iterator[tuple[str, Any, Exposure]]:
    spec = _spec(f)
    name = str(f.data.get("name") or "")
    ann = _d(f.data.get("annotations"))
    tls_value = spec.get("tls")
    tls_entries = tls_value if isinstance(tls_value, list) else []
    cert = any(a in ann for a in CERT_ANNOTATIONS)

    def tls_for(host: Any) -> bool:
        if cert:
            return True
        for entry in tls_entries:
            hosts = entry.get("hosts") if isinstance(entry, dict) else None
            if not hosts or host is None or host in _l(hosts):
                return True
        return False

    for key in ("defaultBackend", "backend"):
        svc, ref = _backend(spec.get(key))
        if svc:
            yield svc, ref, Exposure("Ingress", name, path="/", tls=tls_for(None))
    for rule in _l(spec.get("rules")):
        if not isinstance(rule, dict):
            continue
        host = rule.get("host")
        for p in lookup(rule, "http.paths[*]"):
            if isinstance(p.value, dict):
                svc, ref = _backend(p.value.get("backend"))
                if svc:
                    path = p.value.get("path") or "/"
                    yield svc, ref, Exposure("Ingress", name, None, str(path), tls_for(host), host)


def _gateway_tls(objects: Objects, ns: str, refs: Any) -> bool:
    """Gateway API: every listener the route attaches to terminates TLS."""
    listeners = []
    external = False
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, dict) or ref.get("kind", "Gateway") != "Gateway":
            continue
        external = True
        gw = objects.get("Gateway", ns_of(ref.get("namespace") or ns), str(ref.get("name")))
        if gw is None or api_group(gw.data.get("object")) != GATEWAY_API:
            return False
        for lst in _l(_spec(gw).get("listeners")):
            if isinstance(lst, dict) and (
                ref.get("sectionName") is None or lst.get("name") == ref.get("sectionName")
            ):
                listeners.append(lst)
    return (
        external
        and bool(listeners)
        and all(str(lst.get("protocol")).upper() in ("HTTPS", "TLS") for lst in listeners)
    )


def _gateway_api_routes(objects: Objects, f: Fact) -> Iterator[tuple[str, str, Any, Exposure]]:
    spec = _spec(f)
    kind, name = str(f.data.get("kind")), str(f.data.get("name") or "")
    ns = ns_of(f.data.get("namespace"))
    parents = spec.get("parentRefs")
    if not any(
        isinstance(r, dict) and r.get("kind", "Gateway") == "Gateway"
        for r in (parents if isinstance(parents, list) else [])
    ):
        return  # attached to a Service (mesh routing) or to nothing: not an entry point
    tls = kind == "TLSRoute" or _gateway_tls(objects, ns, parents)
    for rule in _l(spec.get("rules")):
        if not isinstance(rule, dict):
            continue
        paths = [m.value for m in lookup(rule, "matches[*].path.value")] or ["/"]
        for ref in _l(rule.get("backendRefs")):
            if not isinstance(ref, dict) or ref.get("kind", "Service") != "Service":
                continue
            if ref.get("group", "") not in ("", "core"):
                continue
            yield (
                ns_of(ref.get("namespace") or ns),
                str(ref.get("name")),
                ref.get("port"),
                Exposure(kind, name, None, str(paths[0]), tls),
            )


def _istio_host(host: str, ns: str) -> tuple[str, str] | None:
    parts = host.split(".")
    if len(parts) == 1:
        return ns, parts[0]
    if len(parts) == 2 or (len(parts) >= 3 and parts[2] == "svc"):
        return parts[1], parts[0]
    return None  # an external host name


def _istio_gateway_tls(objects: Objects, ns: str, gateways: list[Any]) -> bool:
    servers: list[dict[Any, Any]] = []
    for ref in gateways:
        gns, _, gname = str(ref).rpartition("/")
        gw = objects.get("Gateway", ns_of(gns or ns), gname)
        if gw is None or api_group(gw.data.get("object")) != ISTIO_NET:
            return False
        servers.extend(s for s in _l(_spec(gw).get("servers")) if isinstance(s, dict))
    if not servers:
        return False
    for s in servers:
        tls = _d(s.get("tls"))
        proto = str(_d(s.get("port")).get("protocol", "")).upper()
        if not (tls.get("httpsRedirect") is True or tls.get("mode") or proto in ("HTTPS", "TLS")):
            return False
    return True


def _virtual_service_routes(objects: Objects, f: Fact) -> Iterator[tuple[str, str, Any, Exposure]]:
    spec = _spec(f)
    gateways = [g for g in _l(spec.get("gateways")) if str(g) != "mesh"]
    if not gateways:
        return  # sidecar routing inside the mesh only
    ns, name = ns_of(f.data.get("namespace")), str(f.data.get("name") or "")
    tls = _istio_gateway_tls(objects, ns, gateways)
    for section in ("http", "tls", "tcp"):
        for route in _l(spec.get(section)):
            if not isinstance(route, dict):
                continue
            prefixes = [m.value for m in lookup(route, "match[*].uri.prefix")] or ["/"]
            for dest in lookup(route, "route[*].destination"):
                d = dest.value
                if not isinstance(d, dict) or not isinstance(d.get("host"), str):
                    continue
                target = _istio_host(d["host"], ns)
                if target is not None:
                    port = d.get("port")
                    ref = port.get("number") if isinstance(port, dict) else None
                    yield (
                        *target,
                        ref,
                        Exposure("VirtualService", name, None, str(prefixes[0]), tls),
                    )


def _openshift_routes(f: Fact) -> Iterator[tuple[str, str, Any, Exposure]]:
    spec = _spec(f)
    to = spec.get("to")
    if not isinstance(to, dict) or to.get("kind", "Service") != "Service":
        return
    tls_spec = spec.get("tls")
    tls = (
        isinstance(tls_spec, dict)
        and bool(tls_spec.get("termination"))
        and str(tls_spec.get("insecureEdgeTerminationPolicy", "")) != "Allow"
    )
    port = spec.get("port")
    ref = port.get("targetPort") if isinstance(port, dict) else None
    yield (
        ns_of(f.data.get("namespace")),
        str(to.get("name")),
        ref,
        Exposure(
            "Route",
            str(f.data.get("name") or ""),
            None,
            str(spec.get("path") or "/"),
            tls,
            spec.get("host"),
        ),
    )


def _routes(objects: Objects, services: dict[tuple[str, str], ServiceInfo]) -> None:
    """Attach every entry-point route to the Service it sends traffic to."""
    for f in objects.kind("Ingress"):
        ns = ns_of(f.data.get("namespace"))
        for svc_name, ref, e in _ingress_routes(f):
            svc = services.get((ns, svc_name))
            if svc is not None:
                svc.routes.append((e, ref))
    found: list[tuple[str, str, Any, Exposure]] = []
    for kind in ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"):
        for f in objects.kind(kind, GATEWAY_API):
            found.extend(_gateway_api_routes(objects, f))
    for f in objects.kind("VirtualService", ISTIO_NET):
        found.extend(_virtual_service_routes(objects, f))
    for f in objects.kind("Route", OPENSHIFT_ROUTE):
        found.extend(_openshift_routes(f))
    for ns, name, ref, e in found:
        svc = services.get((ns, name))
        if svc is not None:
            svc.routes.append((e, ref))


def _pod_exposures(pod: Pod, exposures: dict[int, list[tuple[Exposure, int | None]]]) -> None:
    host_network = any(_d(c.data.get("pod")).get("hostNetwork") is True for c in pod.containers)
    for c in pod.containers:
        for n, _, p in _declared(c):
            if p.get("hostPort") is not None:
                e = Exposure(
                    "hostPort", str(c.data.get("name")), n, host_port=p["hostPort"], span=p.span
                )
                exposures[id(c)].append((e, n))
            elif host_network:
                exposures[id(c)].append((Exposure("hostNetwork", str(c.data.get("name")), n), n))
        if host_network and not _declared(c):
            exposures[id(c)].append((Exposure("hostNetwork", str(c.data.get("name"))), None))
        for h in _l(c.data.get("exposure_hints")):
            if isinstance(h, dict):
                port = h.get("port")
                exposures[id(c)].append(
                    (
                        Exposure(
                            str(h.get("via")), str(h.get("name") or ""), port, None, h.get("tls")
                        ),
                        port,
                    )
                )


# ------------------------------------------------------------------ policies


def _allows_all(rule: Any) -> bool:
    """An ingress rule that admits every source on every port."""
    if not isinstance(rule, dict):
        return False
    if rule.get("ports"):
        return False
    sources = rule.get("from")
    if not sources:
        return True
    for s in _l(sources):
        block = s.get("ipBlock") if isinstance(s, dict) else None
        if (
            isinstance(block, dict)
            and str(block.get("cidr")) in ("0.0.0.0/0", "::/0")
            and not block.get("except")
        ):
            return True
    return False


def _network_policies(objects: Objects, by_ns: dict[str, list[Pod]]) -> None:
    for f in objects.kind("NetworkPolicy", "networking.k8s.io"):
        spec = _spec(f)
        types = spec.get("policyTypes")
        if isinstance(types, list) and "Ingress" not in types:
            continue
        name = str(f.data.get("name") or "")
        selector = spec.get("podSelector")
        if selector is None:
            continue
        open_ = any(_allows_all(r) for r in _l(spec.get("ingress")))
        for pod in by_ns.get(ns_of(f.data.get("namespace")), []):
            if selector_matches(selector, pod.labels):
                pod.policies.append(name)
                if open_:
                    pod.open_policies.append(name)


def _istio_selects(spec: PDict, pod: Pod) -> bool | None:
    """True/False for a workload selector, None for a namespace- or mesh-wide policy."""
    sel = spec.get("selector")
    match = sel.get("matchLabels") if isinstance(sel, dict) else None
    if not match:
        return None
    return _map_matches(match, pod.labels)


def _has_selector(spec: PDict) -> bool:
    sel = spec.get("selector")
    return isinstance(sel, dict) and bool(sel.get("matchLabels"))


def _mesh(objects: Objects, by_ns: dict[str, list[Pod]], pods: list[Pod]) -> None:
    mesh_mode: str | None = None
    ns_mode: dict[str, str] = {}
    workload: dict[int, str] = {}
    for f in objects.kind("PeerAuthentication", ISTIO_SEC):
        spec = _spec(f)
        mtls = spec.get("mtls")
        mode = str(mtls.get("mode") or "UNSET").upper() if isinstance(mtls, dict) else "UNSET"
        if mode == "UNSET":
            continue
        ns = ns_of(f.data.get("namespace"))
        if not _has_selector(spec):
            if ns == MESH_ROOT:
                mesh_mode = mode
            ns_mode[ns] = mode
            continue
        for pod in by_ns.get(ns, []):
            if _istio_selects(spec, pod):
                workload[id(pod)] = mode
    for f in objects.kind("AuthorizationPolicy", ISTIO_SEC):
        spec = _spec(f)
        action = str(spec.get("action") or "ALLOW").upper()
        rules = spec.get("rules")
        if action == "ALLOW" and isinstance(rules, list) and any(r == {} for r in rules):
            continue  # allows everything
        ns, name = ns_of(f.data.get("namespace")), str(f.data.get("name") or "")
        if ns == MESH_ROOT and _has_selector(spec):
            continue  # a gateway or system workload (see _gateway_auth)
        for pod in pods if ns == MESH_ROOT else by_ns.get(ns, []):
            if _istio_selects(spec, pod) is not False:
                pod.auth.append(name)
    injected: set[str] = set()
    for f in objects.kind("Namespace", ""):
        labels = _labels(f.data.get("labels"))
        if labels.get("istio-injection") == "enabled" or labels.get("istio.io/rev"):
            injected.add(str(f.data.get("name") or ""))
    for pod in pods:
        pod.mtls = workload.get(id(pod)) or ns_mode.get(pod.ns) or mesh_mode
        pod.injection = pod.ns in injected


def _gateway_auth(objects: Objects) -> list[str]:
    """AuthorizationPolicies on the Istio ingress gateway (they guard every route)."""
    out = []
    for f in objects.kind("AuthorizationPolicy", ISTIO_SEC):
        spec = _spec(f)
        sel = spec.get("selector")
        match = _labels(sel.get("matchLabels")) if isinstance(sel, dict) else {}
        if match.get("istio") == "ingressgateway" or match.get("app") == "istio-ingressgateway":
            out.append(str(f.data.get("name") or ""))
    return out


# ------------------------------------------------------------------ usage


@dataclass(eq=False)
class Usage:
    """Which workloads use a ServiceAccount, Secret, ConfigMap or claim."""

    users: dict[tuple[str, str, str], list[tuple[str, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, kind: str, ns: str, name: str, user: str, model_server: bool) -> None:
        entries = self.users[(kind, ns, name)]
        if (user, model_server) not in entries:
            entries.append((user, model_server))


def _workload_name(c: Fact) -> str:
    wl = _d(c.data.get("workload"))
    return f"{wl.get('kind')}/{wl.get('name')}"


def sa_name(c: Fact) -> str:
    pod = _d(c.data.get("pod"))
    return str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")


def _usage(objects: Objects, pods: list[Pod], sources: list[Fact]) -> Usage:
    usage = Usage()
    for pod in pods:
        ms = pod.model_server
        for c in pod.containers + pod.init:
            user = _workload_name(c)
            if c.data.get("component") not in BORROWED_ACCOUNT:
                usage.add("ServiceAccount", pod.ns, sa_name(c), user, ms)
            for e in _l(c.data.get("envFrom")):
                if isinstance(e, dict):
                    for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                        ref = e.get(key)
                        if isinstance(ref, dict) and ref.get("name"):
                            usage.add(kind, pod.ns, str(ref["name"]), user, ms)
            for e in _l(c.data.get("env")):
                vf = e.get("valueFrom") if isinstance(e, dict) else None
                if isinstance(vf, dict):
                    for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                        ref = vf.get(key)
                        if isinstance(ref, dict) and ref.get("name"):
                            usage.add(kind, pod.ns, str(ref["name"]), user, ms)
            for m in _l(c.data.get("mounts")):
                if not isinstance(m, dict):
                    continue
                if m.get("type") == "persistentVolumeClaim" and m.get("claim"):
                    usage.add("PersistentVolumeClaim", pod.ns, str(m["claim"]), user, ms)
                if m.get("type") in ("configMap", "secret") and m.get("source_name"):
                    kind = "ConfigMap" if m["type"] == "configMap" else "Secret"
                    usage.add(kind, pod.ns, str(m["source_name"]), user, ms)
    for s in sources:
        claim = s.data.get("claim")
        wl = _d(s.data.get("workload"))
        secret = s.data.get("env_secret")
        if isinstance(secret, str) and secret:
            # Seldon envSecretRefName: the storage initializer's rclone environment
            usage.add(
                "Secret",
                ns_of(wl.get("namespace")),
                secret,
                f"{wl.get('kind')}/{wl.get('name')}",
                True,
            )
        if claim:
            usage.add(
                "PersistentVolumeClaim",
                ns_of(wl.get("namespace")),
                str(claim),
                f"{wl.get('kind')}/{wl.get('name')}",
                True,
            )
    # ServiceAccounts pass their usage on to the Secrets they list (KServe S3 credentials)
    for sa in objects.kind("ServiceAccount", ""):
        ns, name = ns_of(sa.data.get("namespace")), str(sa.data.get("name") or "")
        users = usage.users.get(("ServiceAccount", ns, name), [])
        obj = sa.data.get("object")
        for ref in _l(_d(obj).get("secrets")):
            if isinstance(ref, dict) and ref.get("name"):
                for user, ms in users:
                    usage.add("Secret", ns, str(ref["name"]), user, ms)
    # workloads with volumeClaimTemplates use the claims they template
    for kind in ("StatefulSet", "ServerConfig"):
        for f in objects.kind(kind):
            ns = ns_of(f.data.get("namespace"))
            ms = any(p.owner is f and p.model_server for p in pods) or kind == "ServerConfig"
            for hit in lookup(f.data.get("object"), "spec.volumeClaimTemplates[*]"):
                t = hit.value
                if isinstance(t, dict):
                    cls = lookup(t, "spec.storageClassName")
                    name = str(cls[0].value) if cls else ""
                    usage.add("StorageClassTemplate", ns, name, f"{kind}/{f.data.get('name')}", ms)
    return usage


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


def _container_context(
    c: Fact, pod: Pod, found: list[tuple[Exposure, int | None]], objects: Objects
) -> None:
    ctx = c.data.get("context")
    if not isinstance(ctx, PDict):
        return
    span = c.anchor
    entries = PList(span)
    seen: set[tuple[Any, ...]] = set()
    for e, _ in found:
        ident = (e.via, e.name, e.port, e.path)
        if ident in seen:
            continue
        seen.add(ident)
        where = e.span or span
        entries.push(
            _record(
                where,
                via=e.via,
                name=e.name,
                port=e.port,
                host_port=e.host_port,
                path=e.path,
                tls=e.tls,
                host=e.host,
            ),
            where,
        )
    routes = [e for e, _ in found if e.via in ROUTE_VIAS]
    _put(ctx, "exposed", bool(entries) and not c.data.get("init"), span)
    _put(ctx, "exposure", entries, span)
    _put(ctx, "network_policy", pod.network_policy, span)
    _put(ctx, "network_policies", _plist(pod.policies, span), span)
    _put(ctx, "mesh_mtls", pod.mtls == "STRICT" and pod.sidecar, span)
    _put(ctx, "mesh_mode", pod.mtls, span)
    _put(ctx, "mesh_injection", pod.injection, span)
    _put(ctx, "sidecar", pod.sidecar, span)
    tls_routes = bool(routes) and all(e.tls is True for e in routes)
    _put(ctx, "tls_ingress", tls_routes, span)
    # every way in from outside is a route that terminates TLS: no client outside the
    # cluster reaches the server's own listener in cleartext
    _put(ctx, "tls_only", tls_routes and len(routes) == len(found), span)
    _put(ctx, "auth_policy", bool(pod.auth), span)
    _put(ctx, "services", _plist(pod.services, span), span)
    # the ServiceAccount whose token the pod gets
    name = sa_name(c)
    sa = objects.get("ServiceAccount", pod.ns, name)
    info = _record(span, name=name, found=sa is not None)
    if sa is not None:
        obj = _d(sa.data.get("object"))
        ann = _labels(sa.data.get("annotations"))
        if "automountServiceAccountToken" in obj:
            _put(info, "automountServiceAccountToken", obj["automountServiceAccountToken"], span)
        annotations = PDict(span)
        for k, v in ann.items():
            annotations.put(k, v, span, span)
        _put(info, "annotations", annotations, span)
        _put(
            info,
            "workload_identity",
            any(
                k in ann
                for k in (
                    "eks.amazonaws.com/role-arn",
                    "iam.gke.io/gcp-service-account",
                    "azure.workload.identity/client-id",
                )
            ),
            span,
        )
    _put(ctx, "service_account", info, span)
    # ConfigMaps and Secrets pulled in whole with envFrom
    env_from = PList(span)
    for item in _l(c.data.get("envFrom")):
        if not isinstance(item, dict):
            continue
        for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = item.get(ref_key)
            if not isinstance(ref, dict) or not ref.get("name"):
                continue
            src = objects.get(kind, pod.ns, str(ref["name"]))
            rec = _record(
                span,
                kind=kind,
                name=str(ref["name"]),
                prefix=item.get("prefix"),
                found=src is not None,
            )
            if src is not None:
                data = PDict(span)
                src_obj = _d(src.data.get("object"))
                for field_name in ("data", "stringData"):
                    values = src_obj.get(field_name)
                    if isinstance(values, dict) and not (kind == "Secret" and field_name == "data"):
                        for k, v in values.items():
                            data.put(str(k), v if isinstance(v, str) else str(v), span, span)
                    elif isinstance(values, dict):
                        for k in values:
                            data.put(str(k), None, span, span)
                _put(rec, "values", data, span)
            env_from.push(rec, span)
    _put(ctx, "env_from", env_from, span)


def _object_contexts(objects: Objects, pods: list[Pod], gateway_auth: list[str]) -> None:
    by_owner: dict[int, list[Pod]] = defaultdict(list)
    for pod in pods:
        if pod.owner is not None:
            by_owner[id(pod.owner)].append(pod)
    for facts in objects.by_kind.values():
        for f in facts:
            owned = by_owner.get(id(f))
            ctx = f.data.get("context")
            if not owned or not isinstance(ctx, PDict) or "exposed" in ctx:
                continue
            span = f.anchor
            mains = [c for p in owned for c in p.containers]
            exposure = PList(span)
            seen: set[tuple[Any, ...]] = set()
            for c in mains:
                for e in _l(_d(c.data.get("context")).get("exposure")):
                    key = (e.get("via"), e.get("name"), e.get("port"))
                    if key not in seen:
                        seen.add(key)
                        exposure.push(e, span)
            _put(ctx, "exposed", bool(exposure), span)
            _put(ctx, "exposure", exposure, span)
            _put(ctx, "network_policy", all(p.network_policy for p in owned), span)
            _put(ctx, "mesh_mtls", all(p.mtls == "STRICT" and p.sidecar for p in owned), span)
            _put(ctx, "auth_policy", all(bool(p.auth) for p in owned), span)
            _put(ctx, "gateway_auth", _plist(gateway_auth, span), span)
            _put(ctx, "model_server", any(p.model_server for p in owned), span)


def _users_record(span: Span, users: list[tuple[str, bool]]) -> tuple[PList, bool]:
    return _plist([u for u, _ in users], span), any(ms for _, ms in users)


def _usage_contexts(objects: Objects, usage: Usage, entries: list[Fact]) -> None:
    for kind in ("ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim"):
        for f in objects.kind(kind, ""):
            ctx = f.data.get("context")
            if not isinstance(ctx, PDict):
                continue
            users = usage.users.get(
                (kind, ns_of(f.data.get("namespace")), str(f.data.get("name"))), []
            )
            lst, ms = _users_record(f.anchor, users)
            _put(ctx, "used_by", lst, f.anchor)
            _put(ctx, "used_by_model_server", ms, f.anchor)
    for e in entries:
        ctx = e.data.get("context")
        if isinstance(ctx, PDict):
            users = usage.users.get(
                (str(e.data.get("kind")), ns_of(e.data.get("namespace")), str(e.data.get("name"))),
                [],
            )
            lst, ms = _users_record(e.anchor, users)
            _put(ctx, "used_by", lst, e.anchor)
            _put(ctx, "used_by_model_server", ms, e.anchor)
    _storage(objects, usage)


def _storage(objects: Objects, usage: Usage) -> None:
    classes = {str(f.data.get("name") or ""): f for f in objects.kind("StorageClass")}
    default = next(
        (
            f
            for f in classes.values()
            if str(
                _labels(f.data.get("annotations")).get(
                    "storageclass.kubernetes.io/is-default-class"
                )
            ).lower()
            == "true"
        ),
        None,
    )
    class_users: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    class_claims: dict[str, list[str]] = defaultdict(list)
    pv_users: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for f in objects.kind("PersistentVolumeClaim", ""):
        spec = _spec(f)
        ns, name = ns_of(f.data.get("namespace")), str(f.data.get("name") or "")
        users = usage.users.get(("PersistentVolumeClaim", ns, name), [])
        if "storageClassName" in spec:
            cls_name = str(spec.get("storageClassName") or "")
        else:
            cls_name = str(default.data.get("name")) if default is not None else ""
        sc = classes.get(cls_name) if cls_name else None
        ctx = f.data.get("context")
        if isinstance(ctx, PDict):
            rec = _record(f.anchor, name=cls_name or None, found=sc is not None)
            if sc is not None:
                sc_obj = _d(sc.data.get("object"))
                _put(rec, "provisioner", sc_obj.get("provisioner"), f.anchor)
            _put(ctx, "storage_class", rec, f.anchor)
        if cls_name:
            class_claims[cls_name].append(f"{ns}/{name}")
            class_users[cls_name].extend(users)
        if spec.get("volumeName"):
            pv_users[str(spec["volumeName"])].extend(users)
    for (kind, _ns, cls_name), users in list(usage.users.items()):
        if kind == "StorageClassTemplate":
            name = cls_name or (str(default.data.get("name")) if default is not None else "")
            if name:
                class_users[name].extend(users)
    for name, f in classes.items():
        ctx = f.data.get("context")
        if isinstance(ctx, PDict):
            lst, ms = _users_record(f.anchor, class_users.get(name, []))
            _put(ctx, "claims", _plist(class_claims.get(name, []), f.anchor), f.anchor)
            _put(ctx, "used_by", lst, f.anchor)
            _put(ctx, "used_by_model_server", ms, f.anchor)
    for f in objects.kind("PersistentVolume", ""):
        ctx = f.data.get("context")
        if isinstance(ctx, PDict):
            users = list(pv_users.get(str(f.data.get("name")), []))
            claim = lookup(f.data.get("object"), "spec.claimRef")
            if claim and isinstance(claim[0].value, dict):
                ref = claim[0].value
                users.extend(
                    usage.users.get(
                        (
                            "PersistentVolumeClaim",
                            ns_of(ref.get("namespace")),
                            str(ref.get("name")),
                        ),
                        [],
                    )
                )
            lst, ms = _users_record(f.anchor, users)
            _put(ctx, "used_by", lst, f.anchor)
            _put(ctx, "used_by_model_server", ms, f.anchor)


# ------------------------------------------------------------------ service-port facts


def _target_record(c: Fact, port: int | None) -> PDict:
    image = c.data.get("image") if isinstance(c.data.get("image"), str) else ""
    fam = knowledge.image_family(image) if image else None
    role = fam.ports.get(port) if fam and port is not None else None
    ctx = _d(c.data.get("context"))
    t = PDict(c.anchor)
    for k, v in (
        ("container", c.data.get("name")),
        ("workload", _workload_name(c)),
        ("image", image),
        ("server", fam.server if fam else None),
        ("ml", bool(c.data.get("ml"))),
        ("model_server", bool(c.data.get("model_server"))),
        ("role", role),
        ("admin", bool(fam and port in fam.admin)),
        ("container_port", port),
        ("path", c.path),
        ("network_policy", bool(ctx.get("network_policy"))),
        ("network_policies", [str(n) for n in _l(ctx.get("network_policies"))]),
        ("mesh_mtls", bool(ctx.get("mesh_mtls"))),
    ):
        if v is not None:
            t.put(k, v, c.anchor)
    return t


def _internal_lb(svc: ServiceInfo) -> bool:
    """A LoadBalancer Service that a cloud annotation makes internal (private network)."""
    if svc.type != "LoadBalancer":
        return False
    ann = _labels(svc.fact.data.get("annotations"))
    return any(ann.get(k, "").lower() in v for k, v in INTERNAL_LB.items())


def _restriction(data: PDict, svc: ServiceInfo | None, span: Span) -> None:
    """``restricted``/``restricted_by``: a control that limits who reaches the port."""
    targets = data.get("targets") or []
    by = ""
    if data.get("network_policy"):
        names = [n for t in targets for n in t.get("network_policies") or []]
        by = f"NetworkPolicy '{names[0]}'" if names else "a NetworkPolicy"
    elif svc is not None and svc.type == "LoadBalancer":
        if _internal_lb(svc):
            by = "an internal load balancer (reachable from the private network only)"
        else:
            ranges = [str(r) for r in _l(svc.spec.get("loadBalancerSourceRanges"))]
            if ranges and not any(r in ("0.0.0.0/0", "::/0") for r in ranges):
                by = f"loadBalancerSourceRanges ({', '.join(ranges[:3])})"
    data.put("restricted", bool(by), span, span)
    internal = svc is not None and _internal_lb(svc)
    data.put("reach", "to the private network" if internal else "outside the cluster", span, span)
    if by:
        data.put("restricted_by", by, span, span)


def _summarize(data: PDict, targets: PList, span: Span) -> None:
    def put(key: str, value: Any) -> None:
        data.put(key, value, span, span)

    put("targets", targets)
    put("resolved", bool(targets))
    put(
        "model_server",
        any(t.get("model_server") or t.get("server") or t.get("ml") for t in targets),
    )
    put("admin", any(t.get("admin") for t in targets))
    put("network_policy", bool(targets) and all(t.get("network_policy") for t in targets))
    put("mesh_mtls", bool(targets) and all(t.get("mesh_mtls") for t in targets))
    servers = [t["server"] for t in targets if t.get("server")]
    roles = [t["role"] for t in targets if t.get("role")]
    admin_roles = [t["role"] for t in targets if t.get("admin") and t.get("role")]
    if servers:
        put("server", servers[0])
    if roles:
        put("role", admin_roles[0] if admin_roles else roles[0])


def _port_fact(
    svc: ServiceInfo,
    port: PDict,
    index: int,
) -> Fact:
    ports = svc.spec.get("ports")
    span = ports.item_span(index) if isinstance(ports, PList) else svc.fact.anchor
    number = port.get("port")
    target = port.get("targetPort", number)
    targets = PList(span)
    for pod in svc.pods:
        for c, n in reached(pod, target):
            targets.push(_target_record(c, n), c.anchor)
    data = PDict(span)

    def put(key: str, value: Any, s: Span = span) -> None:
        data.put(key, value, s, s)

    direct = svc.type in EXPOSED_TYPES or bool(svc.spec.get("externalIPs"))
    exposed_by = PList(span)
    if direct:
        via = f"Service/{svc.type}" if svc.type in EXPOSED_TYPES else "Service/externalIPs"
        exposed_by.push(_record(span, via=via, name=svc.name), span)
    for route, ref in svc.routes:
        if _port_matches(port, ref):
            exposed_by.push(
                _record(span, via=route.via, name=route.name, path=route.path, tls=route.tls),
                span,
            )
    put("service", svc.name)
    put("namespace", svc.ns)
    put("type", svc.type, svc.spec.vspan.get("type", span))
    put("exposed", bool(exposed_by))
    put("exposed_by", exposed_by)
    if exposed_by:
        first = exposed_by[0]
        put("via", first["via"])
        put(
            "exposed_via",
            f"Service '{svc.name}' of type {svc.type}"
            if direct and svc.type in EXPOSED_TYPES
            else f"Service '{svc.name}' with externalIPs"
            if direct
            else f"{first['via']} '{first['name']}' through Service '{svc.name}'",
        )
    put("port", number, port.vspan.get("port", span))
    put("targetPort", target, port.vspan.get("targetPort", span))
    if "nodePort" in port:
        put("nodePort", port["nodePort"], port.vspan.get("nodePort", span))
    if port.get("name"):
        put("port_name", port.get("name"))
    _describe(data, targets, svc, number, target, span)
    return Fact(
        "service-port",
        svc.fact.path,
        data,
        span,
        f"{svc.fact.key}/port/{number}",
        svc.fact.annotations,
    )


def _describe(
    data: PDict, targets: PList, svc: ServiceInfo | None, number: Any, target: Any, span: Span
) -> None:
    """What a service port and a host port share: the pods behind it, who may reach it,
    and the well-known server port it is."""
    _summarize(data, targets, span)
    _restriction(data, svc, span)
    well_known = _well_known(number, target)
    if well_known:
        data.put("well_known", well_known, span, span)


def _host_port_facts(pods: list[Pod]) -> Iterator[Fact]:
    for pod in pods:
        for c in pod.containers:
            for n, _, p in _declared(c):
                if p.get("hostPort") is None:
                    continue
                span = p.field_span("hostPort")
                data = PDict(span)

                def put(key: str, value: Any, s: Span = span, d: PDict = data) -> None:
                    d.put(key, value, s, s)

                name = str(c.data.get("name"))
                put("service", None)
                put("namespace", pod.ns)
                put("type", "hostPort")
                put("exposed", True)
                put("exposed_by", _plist([_record(span, via="hostPort", name=name)], span))
                put("via", "hostPort")
                put("exposed_via", f"hostPort {p['hostPort']} of container '{name}'")
                put("port", p["hostPort"], p.vspan.get("hostPort", span))
                put("targetPort", n, p.vspan.get("containerPort", span))
                targets = _plist([_target_record(c, n)], span)
                _describe(data, targets, None, n, None, span)
                yield Fact(
                    "service-port",
                    c.path,
                    data,
                    span,
                    f"{c.key}/hostPort/{p['hostPort']}",
                    c.annotations,
                )


def _well_known(port: Any, target: Any) -> str | None:
    """A port number that is, on its own, a strong sign of an ML admin surface."""
    for value in (target, port):
        try:
            n = int(value)
        except (TypeError, ValueError):
            continue
        if n in WELL_KNOWN_PORTS:
            return WELL_KNOWN_PORTS[n]
    return None
