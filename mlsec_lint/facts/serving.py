"""Model-server configuration files -> ``server`` facts.

A ``server`` fact describes one model or app server: which server (``server``), where
the description comes from (``origin``), and its ``settings`` under the server's own key
names, each with the span of the line that sets it.
"""

from __future__ import annotations

from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.model import Span
from mlsec_lint.parsers import properties
from mlsec_lint.tree import PDict, PList

TORCHSERVE_KEYS = frozenset(
    {
        "inference_address",
        "management_address",
        "metrics_address",
        "grpc_inference_port",
        "grpc_management_port",
        "model_store",
        "load_models",
        "allowed_urls",
        "enable_model_api",
        "model_api_enabled",
        "disable_token_authorization",
        "enable_envvars_config",
        "keystore",
        "keystore_pass",
        "private_key_file",
        "certificate_file",
        "cors_allowed_origin",
        "install_py_dep_per_model",
        "blacklist_env_vars",
        "number_of_netty_threads",
        "job_queue_size",
        "default_workers_per_model",
        "workflow_store",
        "use_env_allowed_urls",
        "token_expiration_min",
    }
)


def is_torchserve_config(props: PDict, name: str) -> bool:
    hits = sum(1 for k in props if k in TORCHSERVE_KEYS)
    return hits >= 2 or (hits >= 1 and name == "config.properties")


_TS_LISTENERS = (
    ("inference", "inference_address"),
    ("management", "management_address"),
    ("metrics", "metrics_address"),
)


def server_fact(
    server: str,
    origin: str,
    settings: PDict,
    path: str,
    anchor: Span,
    key: str,
    listeners: PList | None = None,
) -> Fact:
    data = PDict(anchor)
    data.put("server", server, anchor)
    data.put("origin", origin, anchor)
    data.put("settings", settings, anchor)
    data.put("listeners", listeners if listeners is not None else PList(anchor), anchor)
    data.put("context", PDict(anchor), anchor)
    return Fact("server", path, data, anchor, key)


def torchserve_listeners(settings: PDict, anchor: Span) -> PList:
    """The HTTP listeners a TorchServe config declares, one entry per ``*_address``."""
    out = PList(anchor)
    for name, key in _TS_LISTENERS:
        if key not in settings:
            continue
        span = settings.field_span(key)
        address = str(settings[key])
        entry = PDict(span)
        for k, v in (
            ("name", name),
            ("key", key),
            ("address", address),
            ("tls", address.strip().lower().startswith("https://")),
        ):
            entry.put(k, v, span, settings.vspan.get(key, span) if k == "address" else span)
        out.push(entry, span)
    return out


def from_properties(text: str, path: str) -> FileAnalysis:
    props = properties.parse(text)
    name = path.rsplit("/", 1)[-1]
    if not is_torchserve_config(props, name):
        return FileAnalysis(path, "properties")
    first = min(props.kspan.values(), default=Span(1, 1, 1, 2))
    anchor = Span(first.line, first.col, first.end_line, first.end_col)
    fa = FileAnalysis(path, "torchserve-config")
    fa.facts.append(
        server_fact(
            "torchserve",
            "config-file",
            props,
            path,
            anchor,
            "torchserve",
            torchserve_listeners(props, anchor),
        )
    )
    return fa
