"""Kubernetes object basics shared by the manifest readers: recognising objects in a
document stream (``kind: List`` expanded), their API group, metadata, annotations and
key, and the :class:`PodUnit` record that core workloads (:mod:`mlsec_lint.facts.kubernetes`)
and ML custom resources (:mod:`mlsec_lint.facts.crds`) normalise their pod templates into.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict, PList

CONTAINER_LISTS = (("containers", False), ("initContainers", True), ("ephemeralContainers", True))


class PodUnit(Struct):
    """One pod template of a workload object, normalized across core kinds and CRDs."""

    pod: PDict
    """The pod spec, or the mapping that holds pod-level fields (KServe components)."""
    meta: PDict | None
    """Template metadata (labels, annotations) when the object has one."""
    component: str = ""
    """Role inside the object: ``predictor``, ``runtime``, ``head``, ``worker`` …"""
    group: str | None = None
    """KubeRay worker group name."""
    containers: list[tuple[PDict, bool]] | None = None
    """Explicit containers (container, init); ``None`` reads the pod's container lists."""
    labels: list[tuple[str, str, Span]] = field(default_factory=list)
    """Labels the controller adds to the pods (``ray.io/node-type``, KServe's …)."""
    annotations: PDict | None = None
    """Pod annotations when they do not come from ``meta`` (propagated by the controller)."""
    launch_params: PDict | None = None
    """Flags given as a map (KubeRay ``rayStartParams``), for the first container."""
    runtime_argv: PList | None = None
    """The command a platform runs in the first container when the object names none
    (KServe's default runtime for a predictor's model format)."""
    ml: bool = False
    model_server: bool = False
    """The pod's main container (the first) is an ML runtime / a model server."""
    every_container: bool = False
    """``ml`` and ``model_server`` hold for every container, not only the first (Seldon)."""
    hints: list[PDict] = field(default_factory=list)
    """Exposure the object itself creates (a route, a load-balanced head Service)."""


def is_k8s_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("kind"), str)
        and isinstance(value.get("apiVersion"), str)
    )


def api_group(obj: Any) -> str:
    version = str(obj.get("apiVersion") or "") if isinstance(obj, dict) else ""
    return version.rsplit("/", 1)[0] if "/" in version else ""


def iter_objects(docs: list[Any]) -> Iterator[PDict]:
    """Objects in a stream, with ``kind: List`` (and ``*List``) expanded."""
    for doc in docs:
        if not is_k8s_object(doc):
            continue
        if doc["kind"] == "List" or (
            doc["kind"].endswith("List") and isinstance(doc.get("items"), list)
        ):
            for item in doc["items"] if isinstance(doc.get("items"), list) else []:
                if is_k8s_object(item):
                    yield item
            continue
        yield doc


def meta_of(obj: PDict) -> PDict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, PDict) else PDict(obj.span)


def annotations_of(obj: PDict) -> PDict | None:
    ann = meta_of(obj).get("annotations")
    return ann if isinstance(ann, PDict) else None


def object_key(obj: PDict) -> str:
    meta = meta_of(obj)
    return f"{obj.get('kind')}/{meta.get('namespace') or ''}/{meta.get('name') or ''}"
