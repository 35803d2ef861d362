"""Runtime-hardening facts shared by Kubernetes containers and compose services.

:func:`k8s_record` and :func:`compose_record` build the ``hardening`` record of a
``container`` fact: the capabilities it adds (normalised: ``cap_sys_admin`` ->
``SYS_ADMIN``), whether it drops ``ALL``, its effective seccomp profile, the host paths
it mounts and whether they are sensitive node paths or container runtime sockets, and
whether it holds credentials (which raises the severity of its hardening findings).
The node paths, sockets, capabilities and service images are data
(``data/hardening.yaml``).
"""

from __future__ import annotations

import functools
import posixpath
import re
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

_SECCOMP_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
_CONTAINER_SECCOMP = "container.seccomp.security.alpha.kubernetes.io/"
_MAX_PATH = 4096


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    data: dict[str, Any] = knowledge.table("hardening")
    return data


@functools.lru_cache(maxsize=1)
def _service_patterns() -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    return tuple(
        (category, tuple(re.compile(p) for p in patterns))
        for category, patterns in _table()["exposed_services"].items()
    )


def capability(value: Any) -> str | None:
    """``cap_sys_admin`` / ``SYS_ADMIN`` / ``all`` -> ``SYS_ADMIN`` / ``ALL``."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    name = value.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def dangerous_capability(name: str) -> bool:
    return name in _table()["dangerous_capabilities"]


def host_path_kind(path: Any) -> str | None:
    """``socket`` for a container runtime socket (or the directory that holds one),
    ``sensitive`` for a node path from the table, ``None`` otherwise."""
    if not isinstance(path, str) or not path.startswith("/") or len(path) > _MAX_PATH:
        return None
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    table = _table()
    if posixpath.basename(norm) in table["runtime_sockets"]:
        return "socket"
    if norm in table["runtime_socket_dirs"]:
        return "socket"
    if norm in table["exact_only"]:
        return "sensitive"
    for root in table["sensitive_host_paths"]:
        if norm == root or norm.startswith(root + "/"):
            return "sensitive"
    return None


def service_category(image: Any) -> str | None:
    """The kind of data or admin surface an image serves (``database``, ``notebook`` …)."""
    if not isinstance(image, str) or not image or len(image) > 512:
        return None
    name = knowledge.parse_image(image).match_name.lower()
    for category, patterns in _service_patterns():
        if any(p.search(name) for p in patterns):
            return category
    return None


def _put(rec: PDict, key: str, value: Any, span: Span) -> None:
    rec.put(key, value, span, span)


def _caps(rec: PDict, caps: Any, container_span: Span) -> None:
    """``caps_added[*]`` (every added capability) and ``caps_dangerous[*].name``."""
    added = PList(container_span)
    dangerous = PList(container_span)
    if isinstance(caps, PList):
        for i, item in enumerate(caps):
            name = capability(item)
            if name is None:
                continue
            span = caps.item_span(i)
            added.push(name, span)
            if dangerous_capability(name):
                rec_cap = PDict(span)
                _put(rec_cap, "name", name, span)
                dangerous.push(rec_cap, span)
    _put(rec, "caps_added", added, added.span)
    _put(rec, "caps_dangerous", dangerous, dangerous.span)


def _drops_all(drop: Any) -> bool:
    return isinstance(drop, list) and any(capability(d) == "ALL" for d in drop)


def _credential(env: Any, env_from: Any) -> tuple[str, Span] | None:
    """The first credential the container receives: a credential-named variable, a
    ``secretKeyRef`` or an ``envFrom`` Secret."""
    if isinstance(env, PList):
        for i, item in enumerate(env):
            if not isinstance(item, PDict):
                continue
            name = item.get("name")
            vf = item.get("valueFrom")
            from_secret = isinstance(vf, dict) and isinstance(vf.get("secretKeyRef"), dict)
            if isinstance(name, str) and (from_secret or knowledge.is_credential_name(name)):
                return name, env.item_span(i)
    if isinstance(env_from, PList):
        for i, item in enumerate(env_from):
            ref = item.get("secretRef") if isinstance(item, PDict) else None
            if isinstance(ref, dict) and ref.get("name"):
                return f"Secret {ref['name']}", env_from.item_span(i)
    return None


def _secret_mount(container: PDict, pod: PDict) -> tuple[str, Span] | None:
    """A Secret volume the container mounts (credentials as files)."""
    vols = pod.get("volumes")
    secrets = {}
    for v in vols if isinstance(vols, PList) else []:
        src = v.get("secret") if isinstance(v, PDict) else None
        if isinstance(src, PDict) and src.get("secretName"):
            secrets[str(v.get("name"))] = str(src["secretName"])
    mounts = container.get("volumeMounts")
    if not secrets or not isinstance(mounts, PList):
        return None
    for i, m in enumerate(mounts):
        if isinstance(m, PDict) and str(m.get("name")) in secrets:
            return f"Secret {secrets[str(m.get('name'))]} (mounted)", mounts.item_span(i)
    return None


def _seccomp_type(value: Any) -> str | None:
    """A seccomp profile as written (field or legacy annotation) -> its type."""
    if not isinstance(value, str):
        return None
    low = value.strip().lower()
    if low in ("runtimedefault", "runtime/default", "docker/default"):
        return "RuntimeDefault"
    if low == "unconfined":
        return "Unconfined"
    if low == "localhost" or low.startswith("localhost/"):
        return "Localhost"
    return value


def _seccomp(container: PDict, pod: PDict, annotations: Any) -> tuple[str, Span] | None:
    """The seccomp profile that applies to a container: its own, the pod's, then the
    legacy annotations."""
    name = container.get("name")
    for holder in (container.get("securityContext"), pod.get("securityContext")):
        profile = holder.get("seccompProfile") if isinstance(holder, PDict) else None
        if isinstance(profile, PDict) and "type" in profile:
            kind = _seccomp_type(profile["type"])
            if kind is not None:
                return kind, profile.vspan.get("type", profile.span)
    if isinstance(annotations, PDict):
        for key in (f"{_CONTAINER_SECCOMP}{name}", _SECCOMP_ANNOTATION):
            kind = _seccomp_type(annotations.get(key))
            if kind is not None:
                return kind, annotations.vspan.get(key, annotations.span)
    return None


def _host_volumes(pod: PDict, containers: list[PDict]) -> PList:
    """``hostPath`` volumes of a pod: ``name``, ``path``, ``kind`` (socket, sensitive),
    ``mounted_by[*]``, ``read_only`` (every mount of it is read-only)."""
    vols = pod.get("volumes")
    out = PList(pod.span)
    if not isinstance(vols, PList):
        return out
    for i, vol in enumerate(vols):
        if not isinstance(vol, PDict) or not isinstance(vol.get("hostPath"), PDict):
            continue
        src = vol["hostPath"]
        path = src.get("path")
        span = src.vspan.get("path", vols.item_span(i))
        rec = PDict(span)
        _put(rec, "name", vol.get("name"), span)
        _put(rec, "path", path, span)
        kind = host_path_kind(path)
        if kind is not None:
            _put(rec, "kind", kind, span)
        users = PList(span)
        read_only = True
        for c in containers:
            mounts = c.get("volumeMounts")
            for m in mounts if isinstance(mounts, PList) else []:
                if isinstance(m, PDict) and m.get("name") == vol.get("name"):
                    users.push(str(c.get("name")), span)
                    read_only = read_only and bool(m.get("readOnly"))
        _put(rec, "mounted_by", users, span)
        _put(rec, "read_only", read_only and bool(users), span)
        out.push(rec, span)
    return out


def pod_containers(pod: PDict) -> list[PDict]:
    out: list[PDict] = []
    for key in ("containers", "initContainers", "ephemeralContainers"):
        lst = pod.get(key)
        if isinstance(lst, PList):
            out.extend(c for c in lst if isinstance(c, PDict))
    return out


def k8s_record(container: PDict, pod: PDict, annotations: Any, primary: bool) -> PDict:
    """The ``hardening`` record of a Kubernetes container (pod-level parts on the
    primary container only, so a pod is reported once)."""
    span = container.span
    rec = PDict(span)
    sc = container.get("securityContext")
    caps = sc.get("capabilities") if isinstance(sc, PDict) else None
    _caps(rec, caps.get("add") if isinstance(caps, PDict) else None, span)
    _put(rec, "drops_all", _drops_all(caps.get("drop") if isinstance(caps, PDict) else None), span)
    seccomp = _seccomp(container, pod, annotations)
    if seccomp is not None:
        _put(rec, "seccomp", seccomp[0], seccomp[1])
    cred = _credential(container.get("env"), container.get("envFrom")) or _secret_mount(
        container, pod
    )
    _put(rec, "credentials", cred is not None, span)
    if cred is not None:
        _put(rec, "credential", cred[0], cred[1])
    if primary:
        _put(rec, "host_volumes", _host_volumes(pod, pod_containers(pod)), span)
    return rec


# ------------------------------------------------------------------ compose


def _bind_source(item: Any) -> tuple[str, bool] | None:
    """Host source and read-only flag of a compose volume entry that binds a host path."""
    if isinstance(item, PDict):
        if item.get("type") not in (None, "bind"):
            return None
        src = item.get("source")
        return (src, bool(item.get("read_only"))) if isinstance(src, str) else None
    if not isinstance(item, str) or len(item) > _MAX_PATH:
        return None
    parts = item.split(":")
    if len(parts) < 2 or not parts[0].startswith(("/", "~")):
        return None
    return parts[0], len(parts) > 2 and "ro" in parts[2].split(",")


def _security_opts(rec: PDict, opts: Any, span: Span) -> None:
    """``seccomp`` / ``apparmor`` (``unconfined`` when switched off) and
    ``no_new_privileges`` (true, false, or absent) from ``security_opt``."""
    if not isinstance(opts, PList):
        return
    for i, item in enumerate(opts):
        if not isinstance(item, str) or len(item) > 1024:
            continue
        text = item.strip().lower()
        ispan = opts.item_span(i)
        parts = re.split(r"[:=]", text)
        if parts and parts[0] == "label" and len(parts) > 1:
            parts = parts[1:]
        key = parts[0]
        value = parts[1] if len(parts) > 1 else ""
        if key in ("seccomp", "apparmor"):
            _put(rec, key, "unconfined" if value == "unconfined" else value, ispan)
        elif key == "no-new-privileges":
            _put(rec, "no_new_privileges", value in ("", "true", "1"), ispan)


_GPU_DEVICE = re.compile(r"^/dev/(nvidia[a-z0-9-]*|dri(/.*)?|kfd)$")


def _devices(devices: Any, span: Span) -> PList:
    """``devices[*]``: ``device`` (the host side) and ``gpu`` (a GPU device node)."""
    out = PList(span)
    if not isinstance(devices, PList):
        return out
    for i, item in enumerate(devices):
        if isinstance(item, PDict):
            host = item.get("source")
        elif isinstance(item, str) and len(item) <= _MAX_PATH:
            host = item.split(":", 1)[0]
        else:
            continue
        if not isinstance(host, str) or not host:
            continue
        ispan = devices.item_span(i)
        rec = PDict(ispan)
        _put(rec, "device", host, ispan)
        _put(rec, "gpu", bool(_GPU_DEVICE.match(host)), ispan)
        out.push(rec, ispan)
    return out


def compose_record(svc: PDict) -> PDict:
    """The ``hardening`` record of a compose service."""
    span = svc.span
    rec = PDict(span)
    _caps(rec, svc.get("cap_add"), span)
    _put(rec, "drops_all", _drops_all(svc.get("cap_drop")), span)
    _security_opts(rec, svc.get("security_opt"), span)
    user = svc.get("user")
    if user is not None:
        text = str(user).strip()
        _put(rec, "root_user", is_root_user(text), svc.vspan.get("user", span))
    binds = PList(span)
    vols = svc.get("volumes")
    if isinstance(vols, PList):
        for i, item in enumerate(vols):
            bound = _bind_source(item)
            if bound is None:
                continue
            ispan = vols.item_span(i)
            b = PDict(ispan)
            _put(b, "path", bound[0], ispan)
            _put(b, "read_only", bound[1], ispan)
            kind = host_path_kind(bound[0])
            if kind is not None:
                _put(b, "kind", kind, ispan)
            binds.push(b, ispan)
    _put(rec, "host_volumes", binds, span)
    _put(rec, "devices", _devices(svc.get("devices"), span), span)
    env = svc.get("environment")
    cred = None
    if isinstance(env, PDict):
        cred = next((str(k) for k in env if knowledge.is_credential_name(str(k))), None)
    elif isinstance(env, PList):
        names = [str(e).partition("=")[0] for e in env if isinstance(e, str)]
        cred = next((n for n in names if knowledge.is_credential_name(n)), None)
    _put(rec, "credentials", cred is not None, span)
    if cred is not None:
        _put(rec, "credential", cred, span)
    category = service_category(svc.get("image"))
    if category is not None:
        _put(rec, "service", category, svc.vspan.get("image", span))
    return rec


_ROOT_NAME = re.compile(r"^\+?0+$")


def is_root_user(user: str) -> bool:
    """Whether a user spec (``root``, ``0``, ``000``, ``+0``, ``0:1000``, ``root:wheel``)
    names UID 0. The group does not matter."""
    name = user.strip().strip("\"'").split(":", 1)[0].strip()
    return name.lower() == "root" or bool(_ROOT_NAME.match(name))
