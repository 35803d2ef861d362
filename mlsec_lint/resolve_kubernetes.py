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

This module runs the passes and writes the container and object contexts; the passes
are :mod:`mlsec_lint.resolve_k8s_exposure` (Services, routes, host ports,
``service-port`` facts), :mod:`mlsec_lint.resolve_k8s_policies` (NetworkPolicies, mesh
mTLS, authorization) and :mod:`mlsec_lint.resolve_k8s_usage` (ServiceAccounts, Secrets,
ConfigMaps, volumes), over the indexes of :mod:`mlsec_lint.resolve_k8s_index`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.resolve_k8s_exposure import (
    _host_port_facts,
    _pod_exposures,
    _port_fact,
    _ports,
    _routes,
    _service_exposures,
    _services,
)
from mlsec_lint.resolve_k8s_index import (
    Exposure,
    Objects,
    Pod,
    _d,
    _l,
    _labels,
    _map_matches,
    _plist,
    _pods,
    _put,
    _record,
    sa_name,
)
from mlsec_lint.resolve_k8s_policies import _gateway_auth, _mesh, _network_policies
from mlsec_lint.resolve_k8s_usage import _usage, _usage_contexts
from mlsec_lint.tree import PDict, PList

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
