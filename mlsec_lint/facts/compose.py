"""docker-compose files -> ``container``, ``image`` and ``env`` facts.

A service's ``context.exposed`` is true when one of its ports is published on all host
interfaces (``"8081:8081"``, ``"8080"``, ``0.0.0.0:…``) or it uses the host network;
``"127.0.0.1:8081:8081"`` is not exposed. ``context.exposure[*]`` lists how.
``context.published`` is false when no port is published at all or every one only on a
loopback address (and the service is not on the host network nor on another
service's): a server that listens on every interface inside such a container is not an
open endpoint.
"""

from __future__ import annotations

from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.engine.classifiers import is_loopback
from mlsec_lint.facts import Fact, copy_field, hardening
from mlsec_lint.facts.common import env_fact, image_fact
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList


def is_compose(doc: Any, name: str) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        return False
    lowered = name.lower()
    if "compose" in lowered:
        return True
    services = doc["services"]
    return bool(services) and all(
        isinstance(s, dict) and ("image" in s or "build" in s) for s in services.values()
    )


def extract(doc: PDict, path: str) -> list[Fact]:
    facts: list[Fact] = []
    services = doc["services"]
    for name, svc in services.items():
        if not isinstance(svc, PDict):
            continue
        key = f"compose/{name}"
        data = PDict(svc.span)
        data.put("source", "compose", svc.span)
        data.put("name", name, services.kspan.get(name), services.kspan.get(name))
        for field in (
            "image",
            "command",
            "entrypoint",
            "ports",
            "environment",
            "user",
            "privileged",
            "network_mode",
            "cap_add",
            "volumes",
            "read_only",
            "pid",
            "ipc",
            "uts",
            "userns_mode",
            "devices",
            "security_opt",
            "cap_drop",
        ):
            copy_field(data, field, svc)
        image = svc.get("image")
        fam = knowledge.image_family(image) if isinstance(image, str) and image else None
        data.put("ml", bool(fam and fam.ml), svc.span)
        data.put("model_server", bool(fam and fam.server), svc.span)
        data.put("hardening", hardening.compose_record(svc), svc.span)
        data.put("context", exposure_context(svc), svc.span)
        facts.append(Fact("container", path, data, services.kspan.get(name, svc.span), key))
        if isinstance(svc.get("image"), str):
            # with build:, compose builds the image and image: only names the result
            extra = {"built_locally": True} if "build" in svc else {}
            facts.append(
                image_fact(svc["image"], svc.vspan["image"], path, "compose", key=key, **extra)
            )
        env = svc.get("environment")
        if isinstance(env, PDict):
            for var, value in env.items():
                facts.append(
                    env_fact(
                        str(var),
                        None if value is None else str(value),
                        env.kspan[var],
                        env.vspan.get(var),
                        path,
                        "compose",
                        key,
                        literal=value is not None,
                    )
                )
        elif isinstance(env, PList):
            for i, item in enumerate(env):
                if isinstance(item, str):
                    var, eq, value = item.partition("=")
                    span = env.item_span(i)
                    facts.append(
                        env_fact(
                            var,
                            value if eq else None,
                            span,
                            span,
                            path,
                            "compose",
                            key,
                            literal=bool(eq),
                        )
                    )
    return facts


def parse_port(value: Any) -> tuple[str | None, str | None, str] | None:
    """(host ip, published port, container port) of a short-syntax port entry."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().strip("\"'")
    text = text.split("/", 1)[0]
    host_ip: str | None = None
    if text.startswith("["):
        end = text.find("]")
        host_ip, text = text[1:end], text[end + 2 :]
    parts = text.rsplit(":", 2) if host_ip is None else text.split(":", 1)
    if host_ip is None and len(parts) == 3:
        host_ip = parts[0]
        parts = parts[1:]
    if len(parts) == 1:
        return host_ip, None, parts[0]
    return host_ip, parts[0] or None, parts[1]


def _published_on_all(host_ip: Any) -> bool:
    if host_ip is None or host_ip == "":
        return True
    text = str(host_ip)
    return "$" not in text and not is_loopback(text)


def exposure_context(svc: PDict) -> PDict:
    """``context`` of a compose service: its ports published on all host interfaces."""
    ctx = PDict(svc.span)
    exposure = PList(svc.span)
    ports = svc.get("ports")
    loopback_only = ports is None or isinstance(ports, PList)
    if isinstance(ports, PList):
        for i, item in enumerate(ports):
            span = ports.item_span(i)
            if isinstance(item, PDict):
                host_ip = item.get("host_ip")
                target = item.get("target")
                published = item.get("published")
            else:
                parsed = parse_port(item)
                if parsed is None:
                    loopback_only = False
                    continue
                host_ip, published, target = parsed
            if not (isinstance(host_ip, str) and is_loopback(host_ip)):
                loopback_only = False
            if not _published_on_all(host_ip):
                continue
            entry = PDict(span)
            entry.put("via", "compose/ports", span, span)
            # the mapping as written, for messages ("8080:8080")
            shown = f"{published}:{target}" if published is not None else str(target)
            entry.put("name", item if isinstance(item, str) else shown, span, span)
            entry.put("port", _number(target), span, span)
            if published is not None:
                entry.put("published", _number(published), span, span)
            exposure.push(entry, span)
    if svc.get("network_mode") == "host":
        span = svc.vspan.get("network_mode", svc.span)
        entry = PDict(span)
        entry.put("via", "compose/network_mode", span, span)
        entry.put("name", "host", span, span)
        exposure.push(entry, span)
    mode = str(svc.get("network_mode") or "")
    if loopback_only and mode != "host" and not mode.startswith(("service:", "container:")):
        # a listener on 0.0.0.0 inside the container is reachable only from the
        # stack's own network and, through a 127.0.0.1 publication, from the host
        ctx.put("published", False, svc.span, svc.span)
    if exposure:
        first: Span = exposure.item_span(0)
        ctx.put("exposed", True, first, first)
        ctx.put("exposure", exposure, first, first)
    elif isinstance(ports, PList) and len(ports) > 0:
        # ports published on the host's loopback only: nothing outside the host reaches
        # the service's own listeners directly
        ctx.put("unpublished", True, svc.span, svc.span)
    return ctx


def _number(value: Any) -> Any:
    text = str(value)
    return int(text) if text.isdigit() else value
