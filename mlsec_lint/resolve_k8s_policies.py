"""What protects a pod: NetworkPolicies that select it (and whether they allow all
ingress), Istio mesh mTLS (``PeerAuthentication``) and ``AuthorizationPolicy`` at the
gateway.

A pass of :mod:`mlsec_lint.resolve_kubernetes`.
"""

from __future__ import annotations

from typing import Any

from mlsec_lint.resolve_k8s_index import (
    Objects,
    Pod,
    _l,
    _labels,
    _map_matches,
    _spec,
    ns_of,
    selector_matches,
)
from mlsec_lint.tree import PDict

MESH_ROOT = "istio-system"
ISTIO_SEC = "security.istio.io"


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
