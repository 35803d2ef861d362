"""docker-compose files -> ``container``, ``image`` and ``env`` facts."""

from __future__ import annotations

from typing import Any

from mlsec_lint.facts import Fact, copy_field
from mlsec_lint.facts.common import env_fact, image_fact
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
        ):
            copy_field(data, field, svc)
        data.put("context", PDict(svc.span), svc.span)
        facts.append(Fact("container", path, data, services.kspan.get(name, svc.span), key))
        if isinstance(svc.get("image"), str):
            facts.append(image_fact(svc["image"], svc.vspan["image"], path, "compose", key=key))
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
