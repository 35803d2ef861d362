"""KubeAI ``Model`` resources (``kubeai.org``): the model server pod the operator builds.

A ``Model`` names no pod: the operator runs one server container per replica from the
engine (``spec.engine``), the model location (``spec.url``), extra ``spec.args`` and an
``env`` *map*. The engine's command, with the model flag the operator adds, is a data table
(``kubeai_engines`` in ``data/kubernetes.yaml``); the container's arguments and environment
point at the lines of the ``Model`` that set them. Pod security settings come from the
operator's own configuration, not from the ``Model``, so the container carries no
``securityContext`` of its own (hardening of the operator's pods is judged where that
configuration is scanned).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts.k8sobjects import PodUnit, meta_of
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

GROUP = "kubeai.org"


def _engine(spec: PDict) -> dict[str, Any] | None:
    engines: dict[str, Any] = knowledge.table("kubernetes").get("kubeai_engines", {})
    entry = engines.get(str(spec.get("engine") or ""))
    return entry if isinstance(entry, dict) else None


def model_ref(url: Any) -> tuple[str, str] | None:
    """``(scheme, ref)`` of a KubeAI model URL (``hf://org/name`` -> ``("hf", "org/name")``)."""
    if not isinstance(url, str) or "://" not in url:
        return None
    scheme, _, ref = url.strip().partition("://")
    return scheme.lower(), ref.strip("/")


def _flagged_ref(spec: PDict, engine: dict[str, Any] | None) -> str | None:
    """The hub repository the engine's command names with its model flag, if it does."""
    ref = model_ref(spec.get("url"))
    if engine is None or not engine.get("model_flag") or ref is None:
        return None
    return ref[1] if ref[0] in engine.get("hub_schemes", []) else None


def launches_model(obj: PDict) -> bool:
    """Whether the engine's command names the model (its launch facts then carry the model
    source); otherwise the ``url`` is the model source."""
    spec = obj.get("spec")
    return isinstance(spec, PDict) and _flagged_ref(spec, _engine(spec)) is not None


def _env_list(env: Any, span: Span) -> PList | None:
    """KubeAI's ``env`` map as a container ``env`` list, each entry at its own lines."""
    if not isinstance(env, PDict):
        return None
    out = PList(env.span)
    for name, value in env.items():
        item = PDict(env.field_span(name))
        item.put("name", str(name), env.kspan.get(name, span), env.kspan.get(name, span))
        item.put("value", value, env.kspan.get(name, span), env.vspan.get(name, span))
        out.push(item, item.span)
    return out


def model(obj: PDict) -> Iterator[PodUnit]:
    spec = obj.get("spec")
    if not isinstance(spec, PDict):
        return
    engine = _engine(spec)
    url_span = spec.vspan.get("url", spec.span)
    container = PDict(spec.field_span("engine") if "engine" in spec else spec.span)
    container.put("name", "server", container.span, container.span)
    if isinstance(spec.get("image"), str):
        container.put("image", spec["image"], spec.kspan["image"], spec.vspan["image"])
    args = spec.get("args")
    if isinstance(args, PList):
        container.put("args", args, spec.kspan["args"], args.span)
    env = _env_list(spec.get("env"), spec.span)
    if env is not None:
        container.put("env", env, spec.kspan["env"], env.span)
    if engine is not None:
        # the operator sets the command whatever the image; the model flag comes first
        command = PList(container.span)
        for word in engine.get("command", []):
            command.push(str(word), container.span)
        ref = _flagged_ref(spec, engine)
        if ref is not None:
            command.push(str(engine["model_flag"]), url_span)
            command.push(ref, url_span)
        container.put("command", command, container.span, command.span)
    name = meta_of(obj).get("name")
    yield PodUnit(
        container,
        None,
        component="server",
        containers=[(container, False)],
        labels=[("model", str(name), meta_of(obj).vspan.get("name", obj.span))] if name else [],
        ml=True,
        model_server=True,
    )
