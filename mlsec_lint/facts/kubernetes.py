"""Kubernetes manifests -> ``k8s-object``, ``container``, ``image`` and ``env`` facts.

Pod templates are found through :data:`POD_SPECS`, a table of kind -> paths to pod specs,
so supporting another workload kind or CRD that embeds a pod spec is one table entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlsec_lint.facts import Fact, copy_field, record
from mlsec_lint.facts.common import env_facts_from_k8s, image_fact
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList, resolve

POD_SPECS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec.template.spec",),
    "StatefulSet": ("spec.template.spec",),
    "DaemonSet": ("spec.template.spec",),
    "ReplicaSet": ("spec.template.spec",),
    "ReplicationController": ("spec.template.spec",),
    "Job": ("spec.template.spec",),
    "CronJob": ("spec.jobTemplate.spec.template.spec",),
    "PodTemplate": ("template.spec",),
}
"""Where each kind keeps its pod specs (a kind may have several, e.g. head and workers)."""

CONTAINER_LISTS = (("containers", False), ("initContainers", True), ("ephemeralContainers", True))


def is_k8s_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("kind"), str)
        and isinstance(value.get("apiVersion"), str)
    )


def iter_objects(docs: list[Any]) -> Iterator[PDict]:
    """Objects in a stream, with ``kind: List`` (and ``*List``) expanded."""
    for doc in docs:
        if not is_k8s_object(doc):
            continue
        if doc["kind"] == "List" or (
            doc["kind"].endswith("List") and isinstance(doc.get("items"), list)
        ):
            for item in doc.get("items") or []:
                if is_k8s_object(item):
                    yield item
            continue
        yield doc


def _meta(obj: PDict) -> PDict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, PDict) else PDict(obj.span)


def annotations_of(obj: PDict) -> PDict | None:
    ann = _meta(obj).get("annotations")
    return ann if isinstance(ann, PDict) else None


def object_key(obj: PDict) -> str:
    meta = _meta(obj)
    return f"{obj.get('kind')}/{meta.get('namespace') or ''}/{meta.get('name') or ''}"


def object_fact(obj: PDict, path: str) -> Fact:
    meta = _meta(obj)
    data = PDict(obj.span)
    copy_field(data, "kind", obj)
    copy_field(data, "apiVersion", obj)
    copy_field(data, "name", meta)
    copy_field(data, "namespace", meta)
    copy_field(data, "labels", meta)
    copy_field(data, "annotations", meta)
    data.put("object", obj, obj.span, obj.span)
    data.put("context", PDict(obj.span), obj.span, obj.span)
    return Fact("k8s-object", path, data, obj.span, object_key(obj), annotations_of(obj))


def pod_specs(obj: PDict) -> Iterator[tuple[PDict, PDict | None]]:
    """(pod spec, pod template metadata) pairs of a workload object."""
    for spec_path in POD_SPECS.get(str(obj.get("kind")), ()):
        for hit in resolve(obj, spec_path):
            if isinstance(hit.value, PDict):
                meta = None
                parent = spec_path.rsplit(".", 1)[0] if "." in spec_path else ""
                if parent:
                    for m in resolve(obj, parent + ".metadata"):
                        if isinstance(m.value, PDict):
                            meta = m.value
                elif str(obj.get("kind")) == "Pod":
                    meta = _meta(obj)
                yield hit.value, meta


def container_fact(
    container: PDict,
    pod: PDict,
    pod_meta: PDict | None,
    owner: PDict,
    path: str,
    init: bool,
    source: str = "kubernetes",
) -> Fact:
    meta = _meta(owner)
    workload = record(
        owner.span,
        kind=(owner.get("kind"), owner.kspan.get("kind", owner.span)),
        name=(meta.get("name"), meta.vspan.get("name", owner.span)),
        namespace=(meta.get("namespace"), meta.vspan.get("namespace", owner.span)),
    )
    data = PDict(container.span)
    data.put("source", source, container.span)
    data.put("workload", workload, owner.span)
    data.put("init", init, container.span)
    for key in (
        "name",
        "image",
        "command",
        "args",
        "env",
        "envFrom",
        "ports",
        "volumeMounts",
        "resources",
        "securityContext",
        "workingDir",
        "imagePullPolicy",
    ):
        copy_field(data, key, container)
    podinfo = PDict(pod.span)
    for key in (
        "securityContext",
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "serviceAccountName",
        "automountServiceAccountToken",
        "volumes",
        "nodeSelector",
        "runtimeClassName",
    ):
        copy_field(podinfo, key, pod)
    if pod_meta is not None:
        copy_field(podinfo, "labels", pod_meta)
        copy_field(podinfo, "annotations", pod_meta)
    data.put("pod", podinfo, pod.span)
    data.put("context", PDict(container.span), container.span)
    name = container.get("name") or "?"
    return Fact(
        "container",
        path,
        data,
        container.span,
        f"{object_key(owner)}/{name}",
        annotations_of(owner),
    )


def containers_of(obj: PDict, path: str) -> Iterator[Fact]:
    for pod, pod_meta in pod_specs(obj):
        for list_key, init in CONTAINER_LISTS:
            items = pod.get(list_key)
            if not isinstance(items, PList):
                continue
            for item in items:
                if isinstance(item, PDict):
                    yield container_fact(item, pod, pod_meta, obj, path, init)


def extract(docs: list[Any], path: str) -> list[Fact]:
    facts: list[Fact] = []
    for obj in iter_objects(docs):
        facts.append(object_fact(obj, path))
        for cfact in containers_of(obj, path):
            facts.append(cfact)
            c = cfact.data
            if isinstance(c.get("image"), str):
                facts.append(
                    image_fact(
                        c["image"],
                        c.vspan.get("image", cfact.anchor),
                        path,
                        origin="kubernetes",
                        key=cfact.key,
                    )
                )
            env = c.get("env")
            if isinstance(env, PList):
                facts.extend(env_facts_from_k8s(env, path, cfact.key, origin="kubernetes"))
    return facts


def anchor_of(obj: PDict) -> Span:
    return obj.span
