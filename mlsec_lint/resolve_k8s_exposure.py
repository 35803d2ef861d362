"""What reaches a pod: Services (``LoadBalancer``, ``NodePort``, internal load balancers),
routes (Ingress, Gateway API, Istio ``VirtualService``, OpenShift ``Route``) with their
TLS, ``hostPort``/``hostNetwork``, and the ``service-port`` facts (one per Service port
and per container ``hostPort``).

A pass of :mod:`mlsec_lint.resolve_kubernetes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.facts.k8sobjects import api_group
from mlsec_lint.model import Span
from mlsec_lint.resolve_k8s_index import (
    Exposure,
    Objects,
    Pod,
    ServiceInfo,
    _d,
    _declared,
    _l,
    _labels,
    _plist,
    _record,
    _spec,
    _workload_name,
    ns_of,
    reached,
)
from mlsec_lint.tree import PDict, PList
from mlsec_lint.tree import resolve as lookup

EXPOSED_TYPES = ("LoadBalancer", "NodePort")

INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/oci-load-balancer-internal": ("true",),
}
"""Service annotations that make a cloud load balancer private (value, lower case)."""
GATEWAY_API = "gateway.networking.k8s.io"
ISTIO_NET = "networking.istio.io"
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
