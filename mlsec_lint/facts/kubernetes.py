"""Kubernetes manifests -> ``k8s-object``, ``container``, ``image``, ``env``,
``model-source`` and ``config-entry`` facts.

Pod templates of core kinds are found through :data:`POD_SPECS`, a table of kind -> paths
to pod specs, so supporting another workload kind that embeds a pod spec is one table
entry. ML custom resources (KServe, Seldon, KubeRay, Knative) embed pods, containers and
model locations in their own shapes; :mod:`mlsec_lint.facts.crds` walks them into the
same :class:`~mlsec_lint.facts.k8sobjects.PodUnit` records, so every container becomes
the same ``container`` fact.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterator
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact, copy_field, copy_fields, hardening, record
from mlsec_lint.facts.common import env_facts_from_k8s, image_fact
from mlsec_lint.facts.k8sobjects import (
    CONTAINER_LISTS,
    PodUnit,
    annotations_of,
    api_group,
    iter_objects,
    meta_of,
    object_key,
)
from mlsec_lint.model import Span
from mlsec_lint.tree import UNKNOWN, PDict, PList, resolve

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
    "DeploymentConfig": ("spec.template.spec",),
}
"""Where each core kind keeps its pod specs; the template metadata sits next to ``spec``."""

CORE_GROUPS = frozenset({"", "v1", "apps", "batch", "extensions", "apps.openshift.io"})
"""API groups of the kinds in :data:`POD_SPECS` (a CRD may reuse a core kind name);
OpenShift's ``DeploymentConfig`` embeds the same pod template."""

CONTAINER_FIELDS = (
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
    # KServe predictor shorthand (the mapping is the container)
    "runtime",
    "runtimeVersion",
    "modelFormat",
    "storageUri",
    "protocolVersion",
)

POD_FIELDS = (
    "securityContext",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "volumes",
    "nodeSelector",
    "runtimeClassName",
)

VOLUME_TYPES = (
    "hostPath",
    "emptyDir",
    "persistentVolumeClaim",
    "configMap",
    "secret",
    "projected",
    "nfs",
    "csi",
    "ephemeral",
    "downwardAPI",
    "image",
    "awsElasticBlockStore",
    "gcePersistentDisk",
    "azureDisk",
    "azureFile",
)


def object_fact(obj: PDict, path: str) -> Fact:
    meta = meta_of(obj)
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


def _core_units(obj: PDict) -> Iterator[PodUnit]:
    kind = str(obj.get("kind"))
    for spec_path in POD_SPECS.get(kind, ()):
        parent_path, _, last = spec_path.rpartition(".")
        parents = [obj] if not parent_path else [h.value for h in resolve(obj, parent_path)]
        for parent in parents:
            if not isinstance(parent, PDict) or not isinstance(parent.get(last), PDict):
                continue
            meta = parent.get("metadata")
            yield PodUnit(parent[last], meta if isinstance(meta, PDict) else None)


def pod_units(obj: PDict) -> Iterator[PodUnit]:
    """Every pod template of an object: core workload kinds and ML custom resources."""
    from mlsec_lint.facts import crds

    if str(obj.get("kind")) in POD_SPECS and api_group(obj) in CORE_GROUPS:
        yield from _core_units(obj)
        return
    yield from crds.pod_units(obj)


def pod_specs(obj: PDict) -> Iterator[tuple[PDict, PDict | None]]:
    """(pod spec, pod template metadata) pairs of a workload object."""
    for unit in pod_units(obj):
        yield unit.pod, unit.meta


def _volume_index(pod: PDict) -> dict[str, PDict]:
    vols = pod.get("volumes")
    out: dict[str, PDict] = {}
    if isinstance(vols, PList):
        for v in vols:
            if isinstance(v, PDict) and isinstance(v.get("name"), str):
                out[v["name"]] = v
    return out


@functools.lru_cache(maxsize=1)
def _cache_knowledge() -> tuple[tuple[re.Pattern[str], ...], frozenset[str]]:
    table = knowledge.table("kubernetes")
    return (
        tuple(re.compile(p) for p in table["model_cache_paths"]),
        frozenset(table["cache_env"]),
    )


def _cache_dirs(container: PDict) -> list[str]:
    """Directories the container's environment names as model caches (``HF_HOME`` …)."""
    _, names = _cache_knowledge()
    out = []
    env = container.get("env")
    if isinstance(env, PList):
        for item in env:
            if isinstance(item, PDict) and str(item.get("name")) in names:
                value = item.get("value")
                if isinstance(value, str) and value.startswith("/"):
                    out.append(value.rstrip("/") or "/")
    return out


def _is_model_cache(mount_path: Any, host_path: Any, cache_dirs: list[str]) -> bool:
    patterns, _ = _cache_knowledge()
    paths = [str(p) for p in (mount_path, host_path) if isinstance(p, str)]
    if any(p.search(path) for p in patterns for path in paths):
        return True
    if isinstance(mount_path, str):
        root = mount_path.rstrip("/") or "/"
        return any(d == root or d.startswith(root + "/") for d in cache_dirs)
    return False


def _mounts(container: PDict, volumes: dict[str, PDict]) -> PList:
    """``volumeMounts`` joined with the pod's ``volumes``: what each mount path holds."""
    mounts = container.get("volumeMounts")
    out = PList(container.span)
    if not isinstance(mounts, PList):
        return out
    cache_dirs = _cache_dirs(container)
    for i, m in enumerate(mounts):
        if not isinstance(m, PDict):
            continue
        span = mounts.item_span(i)
        rec = PDict(span)
        copy_field(rec, "name", m)
        copy_field(rec, "mountPath", m)
        copy_field(rec, "subPath", m)
        rec.put(
            "readOnly",
            bool(m.get("readOnly")),
            m.field_span("readOnly") if "readOnly" in m else span,
        )
        vol = volumes.get(str(m.get("name")))
        if vol is not None:
            vtype = next((t for t in VOLUME_TYPES if t in vol), "other")
            rec.put("type", vtype, vol.field_span(vtype) if vtype in vol else vol.span)
            src = vol.get(vtype)
            if isinstance(src, PDict):
                if vtype == "hostPath":
                    copy_field(rec, "host_path", src, "path")
                elif vtype == "emptyDir":
                    copy_field(rec, "medium", src)
                elif vtype == "persistentVolumeClaim":
                    copy_field(rec, "claim", src, "claimName")
                elif vtype in ("configMap", "secret"):
                    copy_field(
                        rec, "source_name", src, "name" if vtype == "configMap" else "secretName"
                    )
                elif vtype == "nfs":
                    copy_field(rec, "server", src)
                    copy_field(rec, "host_path", src, "path")
            elif vtype == "emptyDir":
                rec.put("medium", "", vol.field_span(vtype))
        rec.put(
            "model_cache",
            _is_model_cache(m.get("mountPath"), rec.get("host_path"), cache_dirs),
            span,
        )
        out.push(rec, span)
    return out


def _merged_labels(unit: PodUnit) -> PDict | None:
    template = unit.meta.get("labels") if unit.meta is not None else None
    if not unit.labels:
        return template if isinstance(template, PDict) else None
    merged = PDict(template.span if isinstance(template, PDict) else unit.labels[0][2])
    if isinstance(template, PDict):
        for k, v in template.items():
            merged.put(k, v, template.kspan.get(k), template.vspan.get(k))
    for k, v, span in unit.labels:
        merged.put(k, v, span, span)
    return merged


def container_fact(
    container: PDict,
    unit: PodUnit,
    owner: PDict,
    path: str,
    init: bool,
    source: str = "kubernetes",
    primary: bool = False,
    launch_params: PDict | None = None,
    runtime_argv: PList | None = None,
) -> Fact:
    meta = meta_of(owner)
    pod = unit.pod
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
    copy_fields(data, CONTAINER_FIELDS, container)
    if not isinstance(data.get("name"), str) or not data.get("name"):
        # the name the platform gives an unnamed container, so messages never name ''
        data.put("name", _default_container_name(owner), container.span)
    podinfo = PDict(pod.span)
    copy_fields(podinfo, POD_FIELDS, pod)
    labels = _merged_labels(unit)
    if labels is not None:
        podinfo.put("labels", labels, labels.span, labels.span)
    if unit.meta is not None and isinstance(unit.meta.get("annotations"), PDict):
        copy_field(podinfo, "annotations", unit.meta)
    elif unit.annotations is not None:
        podinfo.put("annotations", unit.annotations, unit.annotations.span)
    data.put("pod", podinfo, pod.span)
    image = container.get("image")
    fam = knowledge.image_family(image) if isinstance(image, str) and image else None
    info = PDict(container.span)
    if fam is not None:
        info.put("family", fam.family, container.span)
        info.put("ml", fam.ml, container.span)
        if fam.server:
            info.put("server", fam.server, container.span)
        if fam.user:
            info.put("user", fam.user, container.span)
    data.put("image_info", info, container.span)
    main = primary or (unit.every_container and not init)
    data.put("ml", (unit.ml and main) or bool(fam and fam.ml), container.span)
    data.put(
        "model_server",
        not init and ((unit.model_server and main) or bool(fam and fam.server)),
        container.span,
    )
    data.put("primary", primary, container.span)
    if unit.component:
        data.put("component", unit.component, container.span)
    if unit.group:
        data.put("group", unit.group, container.span)
    if launch_params is not None:
        data.put("launch_params", launch_params, launch_params.span)
    if runtime_argv is not None:
        data.put("runtime_argv", runtime_argv, runtime_argv.span)
    data.put("mounts", _mounts(container, _volume_index(pod)), container.span)
    pod_annotations = unit.meta.get("annotations") if unit.meta is not None else None
    data.put(
        "hardening",
        hardening.k8s_record(container, pod, pod_annotations or unit.annotations, primary),
        container.span,
    )
    hints = PList(container.span)
    for h in unit.hints:
        hints.push(h, h.span)
    data.put("exposure_hints", hints, container.span)
    data.put("context", PDict(container.span), container.span)
    name = container.get("name") or "?"
    parts = [object_key(owner), unit.component, unit.group or "", str(name)]
    key = "/".join(p for p in parts if p)
    return Fact("container", path, data, container.span, key, annotations_of(owner))


def _default_container_name(owner: PDict) -> str:
    kind, api = str(owner.get("kind") or ""), str(owner.get("apiVersion") or "")
    if api.startswith("serving.knative.dev/"):
        return "user-container"
    if kind in ("InferenceService", "LLMInferenceService"):
        return "kserve-container"
    return "(unnamed)"


def containers_of(obj: PDict, path: str) -> Iterator[Fact]:
    for unit in pod_units(obj):
        items: list[tuple[PDict, bool]] = []
        if unit.containers is not None:
            items = list(unit.containers)
        else:
            for list_key, init in CONTAINER_LISTS:
                lst = unit.pod.get(list_key)
                if isinstance(lst, PList):
                    items.extend((c, init) for c in lst if isinstance(c, PDict))
        first = True
        for container, init in items:
            primary = first and not init
            yield container_fact(
                container,
                unit,
                obj,
                path,
                init,
                primary=primary,
                launch_params=unit.launch_params if primary else None,
                runtime_argv=unit.runtime_argv if primary else None,
            )
            if primary:
                first = False


# ------------------------------------------------------------------ ConfigMaps, Secrets


def _decode(value: str) -> str | None:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def config_entries(obj: PDict, path: str) -> Iterator[Fact]:
    """One ``config-entry`` fact per key of a ConfigMap or Secret."""
    kind = str(obj.get("kind"))
    if kind not in ("ConfigMap", "Secret") or api_group(obj) not in CORE_GROUPS:
        return
    meta = meta_of(obj)
    for field_name in ("data", "stringData", "binaryData"):
        entries = obj.get(field_name)
        if not isinstance(entries, PDict):
            continue
        encoded = field_name == "binaryData" or (kind == "Secret" and field_name == "data")
        for key, raw in entries.items():
            span = entries.field_span(key)
            vspan = entries.vspan.get(key, span)
            data = PDict(span)
            data.put("kind", kind, obj.kspan.get("kind", obj.span), obj.vspan.get("kind"))
            copy_field(data, "name", meta)
            copy_field(data, "namespace", meta)
            data.put("key", str(key), entries.kspan.get(key, span), entries.kspan.get(key, span))
            data.put("field", field_name, span)
            data.put("encoded", encoded, span)
            if raw is None:
                text: Any = ""
            elif encoded:
                decoded = _decode(str(raw))
                text = UNKNOWN if decoded is None else decoded
            elif isinstance(raw, bool):
                text = "true" if raw else "false"
            else:
                text = raw if isinstance(raw, str) else str(raw)
            data.put("value", text, vspan, vspan)
            if kind == "Secret":
                copy_field(data, "secret_type", obj, "type")
            copy_field(data, "annotations", meta)
            data.put("context", PDict(span), span)
            yield Fact(
                "config-entry",
                path,
                data,
                span,
                f"{object_key(obj)}/{field_name}/{key}",
                annotations_of(obj),
            )


# ------------------------------------------------------------------ extraction


def extract(docs: list[Any], path: str) -> list[Fact]:
    from mlsec_lint.facts import crds

    facts: list[Fact] = []
    for obj in iter_objects(docs):
        ofact = object_fact(obj, path)
        facts.append(ofact)
        crds.object_extras(obj, ofact)
        containers: list[Fact] = []
        for cfact in containers_of(obj, path):
            containers.append(cfact)
            facts.append(cfact)
            c = cfact.data
            if isinstance(c.get("image"), str):
                img = image_fact(
                    c["image"],
                    c.vspan.get("image", cfact.anchor),
                    path,
                    origin="kubernetes",
                    key=cfact.key,
                )
                if c.get("ml") and not img.data.get("ml"):
                    # an image placed in a serving CRD is a model-server runtime image
                    img.data.put("ml", True, img.anchor)
                if api_group(obj) not in CORE_GROUPS:
                    img.data.put("crd", obj.get("kind"), img.anchor)
                img.annotations = annotations_of(obj)
                facts.append(img)
            env = c.get("env")
            if isinstance(env, PList):
                for efact in env_facts_from_k8s(env, path, cfact.key, origin="kubernetes"):
                    efact.annotations = annotations_of(obj)
                    facts.append(efact)
        crds.container_extras(ofact, containers)
        facts.extend(crds.model_sources(obj, path, containers))
        facts.extend(config_entries(obj, path))
    return facts


def anchor_of(obj: PDict) -> Span:
    return obj.span
