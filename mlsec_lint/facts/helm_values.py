"""Helm values files read without their chart.

Repositories often hold only the values for an upstream chart (``values-prod.yaml`` for
the vLLM production stack, ``jupyterhub-values.yaml``). A values file is not a Kubernetes
manifest, but charts follow conventions (``image: {repository, tag}``,
``securityContext``, ``service.type``, ``ingress.enabled`` …). This module turns the
structures those conventions describe into the Kubernetes objects a chart would render
from them, with every span pointing at the values file's own lines, so the Kubernetes
rules apply unchanged.

What the chart's templates add on their own is unknown here, so only what the values
say is reported: findings about something *absent* (no ``runAsNonRoot`` …) are dropped
for these synthetic objects (their anchors are listed in :data:`ABSENCE_ANCHORS` of the
file analysis). See ``docs/helm.md`` for the recognised conventions and their limits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

ABSENCE_ANCHORS = "helm_absence_anchors"
"""Key of :attr:`FileAnalysis.extra`: spans of synthetic objects (absence findings there
say nothing about the deployed chart and are dropped)."""

_NAME = re.compile(r"^(values([-_.][^/]*)?|[^/]*[-_.]values)\.ya?ml$", re.I)

HELM_KEYS = frozenset(
    {
        "replicaCount",
        "nameOverride",
        "fullnameOverride",
        "imagePullSecrets",
        "podSecurityContext",
        "securityContext",
        "containerSecurityContext",
        "serviceAccount",
        "ingress",
        "service",
        "image",
        "autoscaling",
        "nodeSelector",
        "tolerations",
        "affinity",
        "podAnnotations",
        "podLabels",
        "resources",
        "global",
        "extraEnv",
        "extraArgs",
        "extraVolumes",
        "extraVolumeMounts",
    }
)
"""Top-level keys of charts made with ``helm create`` and their common additions."""

CHART_KEYS = frozenset({"servingEngineSpec", "routerSpec", "singleuser", "hub", "proxy"})
"""Top-level keys that alone identify the values of a well-known ML chart (vLLM
production stack, JupyterHub)."""

POD_KEYS = ("hostNetwork", "hostPID", "hostIPC", "serviceAccountName")
ENV_KEYS = ("env", "extraEnv", "extraEnvVars", "containerEnv", "envVars")
ARG_KEYS = ("args", "extraArgs", "containerArgs")
COMMAND_KEYS = ("command",)
COMPONENT_KEYS = frozenset(
    {
        "image",
        "securityContext",
        "containerSecurityContext",
        "podSecurityContext",
        "service",
        "ingress",
        "vllmConfig",
        "rayStartParams",
        *POD_KEYS,
        *ENV_KEYS,
        *ARG_KEYS,
    }
)
MAX_DEPTH = 8
MAX_COMPONENTS = 200


def named_like_values(path: str) -> bool:
    """``values.yaml``, ``values-prod.yaml``, ``values.gpu.yml``, ``jupyterhub-values.yaml``."""
    return bool(_NAME.match(os.path.basename(path)))


def looks_like_values(docs: list[Any], path: str) -> bool:
    """A single mapping that is not a Kubernetes object and that a chart would read: by
    name, or by holding several Helm-convention keys (or a known ML chart's keys)."""
    if len(docs) != 1 or not isinstance(docs[0], PDict):
        return False
    doc = docs[0]
    if "apiVersion" in doc and "kind" in doc:
        return False
    if named_like_values(path):
        return True
    keys = {k for k in doc if isinstance(k, str)}
    if keys & CHART_KEYS:
        return True
    return len(keys & HELM_KEYS) >= 3 and bool(keys & {"image", "securityContext", "service"})


def _str(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    return None


def _image(node: Any, holder: PDict, key: str | None) -> tuple[str, Span] | None:
    """The image reference a chart would render from ``image:`` (a string or a
    ``{registry, repository, tag, digest}`` mapping), and the span a person edits."""
    if isinstance(node, str):
        span = holder.vspan.get(key) if key is not None else None
        return (node, span or holder.span) if node.strip() else None
    if not isinstance(node, PDict):
        return None
    for full in ("imageName", "image", "fullName"):
        ref = _str(node.get(full))
        if ref is not None and isinstance(node.get(full), str):
            return ref, node.vspan.get(full, node.span)
    repo_key = next((k for k in ("repository", "name") if _str(node.get(k))), None)
    if repo_key is None:
        return None
    repo = str(_str(node.get(repo_key)))
    registry = _str(node.get("registry"))
    if registry and not repo.startswith(registry + "/"):
        repo = f"{registry}/{repo}"
    tag = _str(node.get("tag"))
    digest = _str(node.get("digest"))
    if tag is None and digest is None:
        # an empty tag means the chart's appVersion: not known without the chart
        return f"{repo}:{{{{ .Chart.AppVersion }}}}", node.vspan.get(repo_key, node.span)
    ref = repo + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    if digest:
        return ref, node.vspan.get("digest", node.span)
    return ref, node.vspan.get("tag", node.span)


def _env(node: Any, out: PList) -> None:
    """``env``-style lists (``[{name, value}]``) or mappings (``NAME: value``)."""
    if isinstance(node, PList):
        for i, item in enumerate(node):
            if isinstance(item, PDict) and isinstance(item.get("name"), str):
                out.push(item, node.item_span(i))
    elif isinstance(node, PDict):
        for name, value in node.items():
            if not isinstance(name, str):
                continue
            span = node.field_span(name)
            item = PDict(span)
            item.put("name", name, node.kspan.get(name, span), node.kspan.get(name, span))
            if isinstance(value, PDict):  # NAME: {valueFrom: …} or {value: …}
                for k, v in value.items():
                    item.put(k, v, value.kspan.get(k), value.vspan.get(k))
            elif value is not None and not isinstance(value, PList):
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                vspan = node.vspan.get(name, span)
                item.put("value", text, vspan, vspan)
            out.push(item, span)


def _args(node: Any, out: PList) -> None:
    if isinstance(node, PList):
        for i, item in enumerate(node):
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.push(str(item), node.item_span(i))


def _components(
    node: Any, path: str, depth: int, inherited: PDict | None = None
) -> Iterator[tuple[str, PDict, PDict | None]]:
    """Mappings that describe a container (own an image, a security context, a Service
    …), with a dotted name for messages and the nearest enclosing mapping that names an
    image (KubeRay's ``head``/``worker`` use the top-level ``image``)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(node, PDict):
        keys = {k for k in node if isinstance(k, str)}
        if keys & COMPONENT_KEYS or ({"repository", "tag"} <= keys and depth > 0):
            yield path, node, inherited
        if "image" in node:
            inherited = node
        for key, value in node.items():
            if isinstance(value, (PDict, PList)) and key not in ("image", "resources"):
                if key in ("securityContext", "podSecurityContext", "containerSecurityContext"):
                    continue
                if key in ("service", "ingress", "env", "extraEnv", "affinity", "tolerations"):
                    continue
                child = f"{path}.{key}" if path else str(key)
                yield from _components(value, child, depth + 1, inherited)
    elif isinstance(node, PList):
        for i, item in enumerate(node):
            name = item.get("name") if isinstance(item, PDict) else None
            label = f"{path}[{name}]" if isinstance(name, str) else f"{path}[{i}]"
            yield from _components(item, label, depth + 1, inherited)


def _put(dst: PDict, key: str, src: PDict, src_key: str) -> None:
    dst.put(key, src[src_key], src.kspan.get(src_key), src.vspan.get(src_key))


def _workload(
    name: str, comp: PDict, label: str, anchors: list[Span], inherited: PDict | None = None
) -> PDict | None:
    image = _image(comp.get("image"), comp, "image")
    if image is None and "repository" in comp:
        image = _image(comp, comp, None)
    if image is None and inherited is not None and isinstance(comp.get("rayStartParams"), PDict):
        image = _image(inherited.get("image"), inherited, "image")
    span = Span(comp.span.line, comp.span.col, comp.span.line, comp.span.col)
    anchors.append(span)
    container = PDict(span)
    container.put("name", name.rsplit(".", 1)[-1] or "main", span)
    if image is not None:
        container.put("image", image[0], image[1], image[1])
    for key in ("securityContext", "containerSecurityContext"):
        if isinstance(comp.get(key), PDict):
            _put(container, "securityContext", comp, key)
            break
    env = PList(span)
    for key in ENV_KEYS:
        _env(comp.get(key), env)
    if env:
        container.put("env", env, span)
    args = PList(span)
    for key in ARG_KEYS:
        _args(comp.get(key), args)
    vllm = comp.get("vllmConfig")
    if isinstance(vllm, PDict):
        _args(vllm.get("extraArgs"), args)
    if args:
        container.put("args", args, span)
    if isinstance(comp.get("command"), PList):
        _put(container, "command", comp, "command")
    port = _container_port(comp)
    ports = PList(span)
    if port is not None:
        item = PDict(port[1])
        item.put("containerPort", port[0], port[1], port[1])
        ports.push(item, port[1])
    else:
        for number in _image_ports(comp):
            item = PDict(span)
            item.put("containerPort", number, span)
            ports.push(item, span)
    if ports:
        container.put("ports", ports, span)
    if len(container) <= 1:
        return None
    pod = PDict(span)
    containers = PList(span)
    containers.push(container, span)
    pod.put("containers", containers, span)
    for key in POD_KEYS:
        if key in comp:
            _put(pod, key, comp, key)
    if isinstance(comp.get("podSecurityContext"), PDict):
        _put(pod, "securityContext", comp, "podSecurityContext")
    if isinstance(comp.get("rayStartParams"), PDict):
        return _ray_cluster(name, comp, pod, label, span)
    return _object("Deployment", "apps/v1", name, span, spec=_spec_template(pod, label, span))


def _ray_cluster(name: str, comp: PDict, pod: PDict, label: str, span: Span) -> PDict:
    """A KubeRay ``head``/``worker`` group (``rayStartParams``) as a RayCluster group."""
    template = _spec_template(pod, label, span)["template"]
    group = PDict(span)
    _put(group, "rayStartParams", comp, "rayStartParams")
    group.put("template", template, span)
    for key in ("serviceType", "enableIngress"):
        if key in comp:
            _put(group, key, comp, key)
    spec = PDict(span)
    last = name.rsplit(".", 1)[-1].lower()
    if "worker" in last:
        group.put("groupName", last, span)
        groups = PList(span)
        groups.push(group, span)
        spec.put("workerGroupSpecs", groups, span)
    else:
        spec.put("headGroupSpec", group, span)
    return _object("RayCluster", "ray.io/v1", name, span, spec)


def _container_port(comp: PDict) -> tuple[int, Span] | None:
    service = comp.get("service")
    for holder, key in (
        (service, "targetPort"),
        (comp, "containerPort"),
        (service, "port"),
    ):
        if isinstance(holder, PDict) and isinstance(holder.get(key), int):
            value = holder[key]
            if not isinstance(value, bool):
                return value, holder.vspan.get(key, holder.span)
    return None


def _image_ports(comp: PDict) -> list[int]:
    from mlsec_lint import knowledge

    image = _image(comp.get("image"), comp, "image")
    if image is None and "repository" in comp:
        image = _image(comp, comp, None)
    fam = knowledge.image_family(image[0]) if image is not None else None
    return sorted(fam.ports) if fam is not None else []


def _spec_template(pod: PDict, label: str, span: Span) -> PDict:
    labels = PDict(span)
    labels.put("app.kubernetes.io/instance", label, span)
    meta = PDict(span)
    meta.put("labels", labels, span)
    template = PDict(span)
    template.put("metadata", meta, span)
    template.put("spec", pod, span)
    selector = PDict(span)
    selector.put("matchLabels", labels, span)
    spec = PDict(span)
    spec.put("selector", selector, span)
    spec.put("template", template, span)
    return spec


def _object(kind: str, api: str, name: str, span: Span, spec: PDict) -> PDict:
    obj = PDict(span)
    obj.put("apiVersion", api, span)
    obj.put("kind", kind, span)
    meta = PDict(span)
    meta.put("name", name, span)
    obj.put("metadata", meta, span)
    obj.put("spec", spec, span)
    return obj


def _service(name: str, comp: PDict, label: str, anchors: list[Span]) -> PDict | None:
    service = comp.get("service")
    if not isinstance(service, PDict) or service.get("enabled") is False:
        return None
    stype = service.get("type")
    if not isinstance(stype, str):
        return None
    at = service.field_span("type")
    spec = PDict(at)
    spec.put("type", stype, service.kspan.get("type"), service.vspan.get("type"))
    selector = PDict(at)
    selector.put("app.kubernetes.io/instance", label, at)
    spec.put("selector", selector, at)
    ports = PList(at)
    item = PDict(at)
    port = service.get("port")
    if isinstance(port, int) and not isinstance(port, bool):
        item.put("port", port, at)
    target = _container_port(comp)
    if target is not None:
        item.put("targetPort", target[0], at)
        item.setdefault("port", target[0])
    if "port" in item:
        ports.push(item, at)
    else:  # the chart's own ports: those the image is known to serve
        for number in _image_ports(comp):
            known = PDict(at)
            known.put("port", number, at)
            known.put("targetPort", number, at)
            ports.push(known, at)
    if not ports:
        return None
    spec.put("ports", ports, at)
    for key in ("externalIPs", "loadBalancerSourceRanges"):
        if key in service:
            _put(spec, key, service, key)
    obj = _object("Service", "v1", name, at, spec)
    if isinstance(service.get("annotations"), PDict):
        _put(obj["metadata"], "annotations", service, "annotations")
    return obj


def _ingress(name: str, comp: PDict, anchors: list[Span]) -> PDict | None:
    ingress = comp.get("ingress")
    if not isinstance(ingress, PDict) or ingress.get("enabled") is not True:
        return None
    at = ingress.field_span("enabled")
    spec = PDict(at)
    tls = ingress.get("tls")
    if isinstance(tls, (PList, PDict, bool)) and tls:
        _put(spec, "tls", ingress, "tls")
    backend = PDict(at)
    service = PDict(at)
    service.put("name", name, at)
    svc = comp.get("service")
    port = svc.get("port") if isinstance(svc, PDict) else None
    if isinstance(port, int) and not isinstance(port, bool):
        number = PDict(at)
        number.put("number", port, at)
        service.put("port", number, at)
    backend.put("service", service, at)
    spec.put("defaultBackend", backend, at)
    obj = _object("Ingress", "networking.k8s.io/v1", name, at, spec)
    if isinstance(ingress.get("annotations"), PDict):
        _put(obj["metadata"], "annotations", ingress, "annotations")
    return obj


def documents(doc: PDict, path: str) -> tuple[list[PDict], list[Span]]:
    """Kubernetes objects a chart would render from a values document, and the anchors
    of the synthetic objects (whose absence findings are dropped)."""
    chart = os.path.splitext(os.path.basename(path))[0]
    objects: list[PDict] = []
    anchors: list[Span] = []
    for n, (where, comp, inherited) in enumerate(_components(doc, "", 0)):
        if n >= MAX_COMPONENTS:
            break
        name = f"{chart}:{where}" if where else chart
        label = f"helm-values-{n}"
        for obj in (
            _workload(name, comp, label, anchors, inherited),
            _service(name, comp, label, anchors),
            _ingress(name, comp, anchors),
        ):
            if obj is not None:
                objects.append(obj)
    return objects, anchors


def drop_absence_findings(findings: list[Any], analyses: list[Any]) -> list[Any]:
    """Findings without those at the anchor of a synthetic object (see module doc)."""
    anchors = {(fa.path, span) for fa in analyses for span in fa.extra.get(ABSENCE_ANCHORS, ())}
    if not anchors:
        return findings
    return [f for f in findings if (f.path, f.span) not in anchors]
