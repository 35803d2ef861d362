"""What a pod uses: ServiceAccounts, Secrets, ConfigMaps, PersistentVolumeClaims,
PersistentVolumes and StorageClasses, recorded on each used object's context
(``used_by``, ``used_by_model_server``, ``storage_class`` …) and on ``config-entry``
facts (the workloads that read the entry).

A pass of :mod:`mlsec_lint.resolve_kubernetes`.
"""

from __future__ import annotations

from collections import defaultdict

from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.resolve_k8s_index import (
    Objects,
    Pod,
    _d,
    _l,
    _labels,
    _plist,
    _put,
    _record,
    _spec,
    _workload_name,
    ns_of,
    sa_name,
)
from mlsec_lint.tree import PDict, PList
from mlsec_lint.tree import resolve as lookup

BORROWED_ACCOUNT = frozenset({"runtime", "runtime-worker", "storage-initializer"})
"""Components whose pods run as the ServiceAccount of the InferenceService that uses them."""


# ------------------------------------------------------------------ usage


class Usage(Struct, eq=False):
    """Which workloads use a ServiceAccount, Secret, ConfigMap or claim."""

    users: dict[tuple[str, str, str], list[tuple[str, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, kind: str, ns: str, name: str, user: str, model_server: bool) -> None:
        entries = self.users[(kind, ns, name)]
        if (user, model_server) not in entries:
            entries.append((user, model_server))


def _usage(objects: Objects, pods: list[Pod], sources: list[Fact]) -> Usage:
    usage = Usage()
    seen: set[tuple[str, str, str, str, bool]] = set()

    def add(kind: str, ns: str, name: str, user: str, model_server: bool) -> None:
        """:meth:`Usage.add`, with a set instead of its test on the list of users (a
        namespace's default ServiceAccount has as many users as it has workloads)."""
        if (kind, ns, name, user, model_server) not in seen:
            seen.add((kind, ns, name, user, model_server))
            usage.users[(kind, ns, name)].append((user, model_server))

    for pod in pods:
        ms = pod.model_server
        for c in pod.containers + pod.init:
            user = _workload_name(c)
            if c.data.get("component") not in BORROWED_ACCOUNT:
                add("ServiceAccount", pod.ns, sa_name(c), user, ms)
            for e in _l(c.data.get("envFrom")):
                if isinstance(e, dict):
                    for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                        ref = e.get(key)
                        if isinstance(ref, dict) and ref.get("name"):
                            add(kind, pod.ns, str(ref["name"]), user, ms)
            for e in _l(c.data.get("env")):
                vf = e.get("valueFrom") if isinstance(e, dict) else None
                if isinstance(vf, dict):
                    for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                        ref = vf.get(key)
                        if isinstance(ref, dict) and ref.get("name"):
                            add(kind, pod.ns, str(ref["name"]), user, ms)
            for m in _l(c.data.get("mounts")):
                if not isinstance(m, dict):
                    continue
                if m.get("type") == "persistentVolumeClaim" and m.get("claim"):
                    add("PersistentVolumeClaim", pod.ns, str(m["claim"]), user, ms)
                if m.get("type") in ("configMap", "secret") and m.get("source_name"):
                    kind = "ConfigMap" if m["type"] == "configMap" else "Secret"
                    add(kind, pod.ns, str(m["source_name"]), user, ms)
    for s in sources:
        claim = s.data.get("claim")
        wl = _d(s.data.get("workload"))
        secret = s.data.get("env_secret")
        if isinstance(secret, str) and secret:
            # Seldon envSecretRefName: the storage initializer's rclone environment
            add(
                "Secret",
                ns_of(wl.get("namespace")),
                secret,
                f"{wl.get('kind')}/{wl.get('name')}",
                True,
            )
        if claim:
            add(
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
                    add("Secret", ns, str(ref["name"]), user, ms)
    # workloads with volumeClaimTemplates use the claims they template
    model_owners = {id(p.owner) for p in pods if p.model_server}
    for kind in ("StatefulSet", "ServerConfig"):
        for f in objects.kind(kind):
            ns = ns_of(f.data.get("namespace"))
            ms = id(f) in model_owners or kind == "ServerConfig"
            for hit in lookup(f.data.get("object"), "spec.volumeClaimTemplates[*]"):
                t = hit.value
                if isinstance(t, dict):
                    cls = lookup(t, "spec.storageClassName")
                    name = str(cls[0].value) if cls else ""
                    add("StorageClassTemplate", ns, name, f"{kind}/{f.data.get('name')}", ms)
    return usage


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
