"""Cross-file resolution: relations between facts of different files in one scan.

Runs after every file is analysed and before rules are evaluated. It adds context to
existing facts (which Services expose a container, which package versions are pinned
near a Python file) and creates facts that only exist across files (``service-port``).
Every pass is linear or near-linear in the number of facts (indexes, no pairwise scans).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

EXPOSED_TYPES = ("LoadBalancer", "NodePort")


def resolve_all(facts: list[Fact]) -> list[Fact]:
    """Annotate ``facts`` in place and return new cross-file facts."""
    by_kind: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_kind[f.kind].append(f)
    _attach_versions(by_kind)
    return _service_ports(by_kind)


# ------------------------------------------------------------------ versions


def _attach_versions(by_kind: dict[str, list[Fact]]) -> None:
    """``context.versions``: exact pins from the nearest dependency manifests.

    For a file, pins in its own directory win, then its parents'; a package pinned to
    one version everywhere in the scan is used when nothing nearer pins it.
    """
    per_dir: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    global_pins: dict[str, set[str]] = defaultdict(set)
    where: dict[str, str] = {}
    for dep in by_kind.get("dependency", []):
        version = dep.data.get("version")
        if not dep.data.get("pinned") or not isinstance(version, str) or dep.data.get("dynamic"):
            continue
        name = dep.data["name"]
        loc = f"{dep.path}:{dep.anchor.line}"
        per_dir[posixpath.dirname(dep.path)].setdefault(name, (version, loc))
        global_pins[name].add(version)
        where.setdefault(f"{name}={version}", loc)
    if not global_pins:
        return
    unique = {n: next(iter(v)) for n, v in global_pins.items() if len(v) == 1}
    cache: dict[str, PDict] = {}

    def versions_for(path: str) -> PDict:
        directory = posixpath.dirname(path)
        if directory in cache:
            return cache[directory]
        merged: dict[str, tuple[str, str]] = {}
        cur = directory
        while True:
            for name, pin in per_dir.get(cur, {}).items():
                merged.setdefault(name, pin)
            if not cur or cur in ("/", "."):
                break
            parent = posixpath.dirname(cur)
            if parent == cur:
                break
            cur = parent
        for name, version in unique.items():
            merged.setdefault(name, (version, where[f"{name}={version}"]))
        versions = PDict()
        sources = PDict()
        for name, (version, loc) in sorted(merged.items()):
            versions.put(name, version, None)
            sources.put(name, loc, None)
        holder = PDict()
        holder.put("versions", versions, None)
        holder.put("sources", sources, None)
        cache[directory] = holder
        return holder

    for kind in ("python-call", "server", "container", "python-assign"):
        for fact in by_kind.get(kind, []):
            ctx = fact.data.get("context")
            if isinstance(ctx, PDict):
                holder = versions_for(fact.path)
                ctx.put("versions", holder["versions"], None)
                ctx.put("version_sources", holder["sources"], None)


# ------------------------------------------------------------------ services


def _ns(value: Any) -> str:
    return "default" if value in (None, "") else str(value)


def _container_ports(c: PDict) -> list[tuple[int, str | None]]:
    out = []
    ports = c.get("ports")
    if isinstance(ports, list):
        for p in ports:
            if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
                out.append((p["containerPort"], p.get("name")))
    return out


def _service_ports(by_kind: dict[str, list[Fact]]) -> list[Fact]:
    services = [f for f in by_kind.get("k8s-object", []) if f.data.get("kind") == "Service"]
    if not services:
        return []
    # index pod containers by namespace and label pairs
    containers = [f for f in by_kind.get("container", []) if f.data.get("source") == "kubernetes"]
    by_label: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)
    for c in containers:
        if c.data.get("init"):
            continue
        pod = c.data.get("pod") or {}
        labels = pod.get("labels") if isinstance(pod, dict) else None
        ns = _ns((c.data.get("workload") or {}).get("namespace"))
        if isinstance(labels, dict):
            for k, v in labels.items():
                by_label[(ns, str(k), str(v))].append(c)
    new: list[Fact] = []
    for svc in services:
        obj = svc.data["object"]
        spec = obj.get("spec")
        if not isinstance(spec, PDict):
            continue
        stype = spec.get("type") or "ClusterIP"
        ns = _ns(svc.data.get("namespace"))
        selector = spec.get("selector")
        selected = (
            _select(by_label, ns, selector) if isinstance(selector, dict) and selector else []
        )
        ports = spec.get("ports")
        if not isinstance(ports, PList):
            continue
        for i, port in enumerate(ports):
            if not isinstance(port, PDict):
                continue
            new.append(_port_fact(svc, spec, stype, port, ports.item_span(i), selected))
    return new


def _select(
    by_label: dict[tuple[str, str, str], list[Fact]], ns: str, selector: dict[str, Any]
) -> list[Fact]:
    items = [(ns, str(k), str(v)) for k, v in selector.items()]
    candidates = by_label.get(items[0], [])
    result = []
    for c in candidates:
        labels = (c.data.get("pod") or {}).get("labels") or {}
        if all(str(labels.get(k)) == v for _, k, v in items[1:]):
            result.append(c)
    return result


def _port_fact(
    svc: Fact, spec: PDict, stype: str, port: PDict, span: Span, selected: Iterable[Fact]
) -> Fact:
    number = port.get("port")
    target = port.get("targetPort", number)
    targets = PList(span)
    servers: list[str] = []
    roles: list[str] = []
    admin = False
    for c in selected:
        image = c.data.get("image") if isinstance(c.data.get("image"), str) else ""
        fam = knowledge.image_family(image) if image else None
        declared = _container_ports(c.data)
        matched_port = None
        if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
            tnum = int(target)
            if not declared or any(p == tnum for p, _ in declared):
                matched_port = tnum
        elif isinstance(target, str):
            for p, name in declared:
                if name == target:
                    matched_port = p
        if matched_port is None:
            continue
        role = fam.ports.get(matched_port) if fam else None
        is_admin = bool(fam and matched_port in fam.admin)
        admin = admin or is_admin
        t = PDict(c.anchor)
        for k, v in (
            ("container", c.data.get("name")),
            (
                "workload",
                f"{(c.data.get('workload') or {}).get('kind')}/"
                f"{(c.data.get('workload') or {}).get('name')}",
            ),
            ("image", image),
            ("server", fam.server if fam else None),
            ("ml", bool(fam and fam.ml)),
            ("role", role),
            ("admin", is_admin),
            ("container_port", matched_port),
            ("path", c.path),
        ):
            if v is not None:
                t.put(k, v, c.anchor)
        targets.push(t, c.anchor)
        if fam and fam.server:
            servers.append(fam.server)
        if role:
            roles.append(role)
    data = PDict(span)

    def put(key: str, value: Any, s: Span = span) -> None:
        data.put(key, value, s, s)

    put("service", svc.data.get("name"))
    put("namespace", _ns(svc.data.get("namespace")))
    put("type", stype, spec.vspan.get("type", span))
    put("exposed", stype in EXPOSED_TYPES or bool(spec.get("externalIPs")))
    put("port", number, port.vspan.get("port", span))
    put("targetPort", target, port.vspan.get("targetPort", span))
    if "nodePort" in port:
        put("nodePort", port["nodePort"], port.vspan.get("nodePort", span))
    if port.get("name"):
        put("port_name", port.get("name"))
    put("targets", targets)
    put("resolved", bool(targets))
    put("model_server", any(t.get("server") or t.get("ml") for t in targets))
    put("admin", admin)
    if servers:
        put("server", servers[0])
    if roles:
        put("role", roles[0])
    well_known = _well_known_port(number, target)
    if well_known:
        put("well_known", well_known)
    return Fact("service-port", svc.path, data, span, f"{svc.key}/port/{number}", svc.annotations)


def _well_known_port(port: Any, target: Any) -> str | None:
    """A port number that is, on its own, a strong sign of an ML admin surface."""
    table = {
        8081: "TorchServe management API",
        7071: "TorchServe gRPC management API",
        8265: "Ray dashboard and Jobs API",
        10001: "Ray client server",
        11434: "Ollama API",
        5572: "rclone remote control",
    }
    for value in (target, port):
        try:
            n = int(value)
        except (TypeError, ValueError):
            continue
        if n in table:
            return table[n]
    return None
