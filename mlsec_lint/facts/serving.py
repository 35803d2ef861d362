"""Model-server configuration files -> ``server`` and ``model-source`` facts.

A ``server`` fact describes one model or app server: which server (``server``), where
the description comes from (``origin``), and its ``settings`` under the canonical names
of ``data/servers.yaml``, each with the span of the text that sets it. Launches (command
lines, Dockerfiles, compose, scripts) are in :mod:`mlsec_lint.facts.launch`; this module
reads the servers' own configuration files:

* TorchServe ``config.properties`` (Java properties);
* MLServer ``settings.json`` and ``model-settings.json``;
* Ray Serve config files and RayService ``spec.serveConfigV2`` (YAML inside a string);
* BentoML ``bentofile.yaml`` and configuration YAML (``api_server:``);
* Jupyter ``jupyter_server_config.py`` / ``jupyter_notebook_config.py`` (read with
  :mod:`ast`, never executed);
* Streamlit ``.streamlit/config.toml``;
* MLflow ``basic_auth.ini``;
* the KServe ``inferenceservice-config`` ConfigMap (JSON inside string values).

Values embedded in a string of another document keep positions in the outer file.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.launch import from_container
from mlsec_lint.facts.launchargs import FileText
from mlsec_lint.facts.modelsource import model_source_fact
from mlsec_lint.facts.serversettings import (
    TS_GRPC_LISTENERS,
    Resolved,
    Value,
    apply_defaults,
    server_data,
    torchserve_listeners,
)
from mlsec_lint.facts.servertables import server_spec
from mlsec_lint.model import Span
from mlsec_lint.parsers import properties
from mlsec_lint.source import char_col
from mlsec_lint.tree import UNKNOWN, PDict, PList

TORCHSERVE_KEYS = frozenset(
    {
        "inference_address",
        "management_address",
        "metrics_address",
        "grpc_inference_address",
        "grpc_management_address",
        "grpc_inference_port",
        "grpc_management_port",
        "enable_grpc_ssl",
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


def server_fact(
    server: str,
    origin: str,
    settings: PDict,
    path: str,
    anchor: Span,
    key: str,
    listeners: PList | None = None,
) -> Fact:
    """A ``server`` fact from settings written under the server's canonical names."""
    spec = server_spec(server)
    if spec is None:
        data = PDict(anchor)
        data.put("server", server, anchor)
        data.put("origin", origin, anchor)
        data.put("settings", settings, anchor)
        data.put("listeners", listeners if listeners is not None else PList(anchor), anchor)
        data.put("context", PDict(anchor), anchor)
        return Fact("server", path, data, anchor, key)
    res = Resolved(spec)
    for name, value in settings.items():
        kspan = settings.kspan.get(name, anchor)
        res.values[str(name)] = Value(value, kspan, settings.vspan.get(name, kspan), origin)
    apply_defaults(res, anchor)
    data = server_data(res, origin, anchor, PDict(anchor))
    if listeners is not None:
        data.put("listeners", listeners, anchor)
    return Fact("server", path, data, anchor, key)


_TS_NO_GRPC_ADDRESS = re.compile(r"^v?0\.([0-9]|10)(\.|$)")
"""TorchServe releases before 0.11.0: no ``grpc_*_address`` keys, gRPC on every interface."""


def torchserve_release_defaults(servers: list[Fact]) -> None:
    """TorchServe before 0.11.0 reads no ``grpc_*_address`` and binds both gRPC APIs to
    every interface. For servers whose release is known (the image tag of a launch, else
    a pin or versioned image near the file in ``context.versions``), the effective gRPC
    addresses become ``0.0.0.0`` (source ``release-default``): at the address the config
    writes, which is moved to ``ignored``, else at the ``grpc_*_port`` line, else at the
    anchor. A launch that names its config file (``--ts-config``) is left to that file.
    Runs after versions are attached (cross-file)."""
    for fact in servers:
        data = fact.data
        if data.get("server") != "torchserve":
            continue
        version = data.get("version")
        if not isinstance(version, str):
            ctx = data.get("context")
            versions = ctx.get("versions") if isinstance(ctx, PDict) else None
            version = versions.get("torchserve") if isinstance(versions, PDict) else None
        settings, sources = data.get("settings"), data.get("sources")
        if not isinstance(settings, PDict) or not isinstance(sources, PDict):
            continue
        if "ts_config" in settings:
            continue  # the config file it names is reported on its own
        if not isinstance(version, str) or not _TS_NO_GRPC_ADDRESS.match(version.strip()):
            continue
        changed: list[str] = []
        for _, key, port_key in TS_GRPC_LISTENERS:
            if str(settings.get(key, "")).strip() in ("0.0.0.0", "::", "[::]"):
                continue  # already every interface (the official image's own config)
            span = settings.field_span(port_key) if port_key in settings else fact.anchor
            if sources.get(key) in ("config-file", "env"):
                span = settings.field_span(key)  # the address written there has no effect
                ignored = data.get("ignored")
                if not isinstance(ignored, PDict):
                    ignored = PDict(fact.anchor)
                    data.put("ignored", ignored, fact.anchor)
                ignored.put(key, settings[key], settings.kspan.get(key), settings.vspan.get(key))
            settings.put(key, "0.0.0.0", span, span)
            sources.put(key, "release-default", span, span)
            changed.append(key)
        if changed:
            listeners = torchserve_listeners(settings, fact.anchor)
            for entry in listeners:
                if isinstance(entry, PDict) and entry.get("key") in changed:
                    entry.put("release_default", True, entry.span, entry.span)
            data.put("listeners", listeners, fact.anchor)


def from_properties(text: str, path: str) -> FileAnalysis:
    props = properties.parse(text)
    name = path.rsplit("/", 1)[-1]
    if not is_torchserve_config(props, name):
        return FileAnalysis(path, "properties")
    first = min(props.kspan.values(), default=Span(1, 1, 1, 2))
    anchor = Span(first.line, first.col, first.end_line, first.end_col)
    fa = FileAnalysis(path, "torchserve-config")
    fa.facts.append(server_fact("torchserve", "config-file", props, path, anchor, "torchserve"))
    return fa


_PICKLE_RUNTIMES = ("mlserver_sklearn.", "mlserver_mlflow.", "mlserver_alibi_explain.")


def _model_settings(doc: Any, path: str) -> list[Fact]:
    """MLServer ``model-settings.json``: the model's artifact and the runtime loading it."""
    if not isinstance(doc, PDict):
        return []
    params = doc.get("parameters")
    if not isinstance(params, PDict) or not isinstance(params.get("uri"), str):
        return []
    impl = doc.get("implementation")
    pickle = isinstance(impl, str) and impl.startswith(_PICKLE_RUNTIMES)
    version = params.get("version")
    revision = (str(version), params.vspan["version"]) if version is not None else None
    return [
        model_source_fact(
            params["uri"],
            params.vspan["uri"],
            path,
            "mlserver-model-settings",
            revision=revision,
            key=f"model-settings/{doc.get('name') or ''}",
            pickle=pickle,
        )
    ]


# --------------------------------------------------------------------------- config documents


def _lookup(doc: PDict, dotted: str) -> tuple[Any, Span, Span] | None:
    cur: Any = doc
    parent: dict[Any, Any] | None = None
    last = ""
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        parent, last, cur = cur, part, cur[part]
    if not isinstance(parent, PDict):
        return None
    kspan = parent.kspan.get(last, parent.span)
    return cur, kspan, parent.vspan.get(last, kspan)


def config_server(
    server: str,
    doc: PDict,
    path: str,
    anchor: Span,
    key: str,
    *,
    origin: str = "config-file",
    context: PDict | None = None,
    defaults: dict[str, Any] | None = None,
    fill_defaults: bool = True,
) -> Fact:
    """A ``server`` fact from a config document, mapped through the server's ``keys``."""
    spec = server_spec(server)
    assert spec is not None
    res = Resolved(spec)
    for dotted, name in spec.keys.items():
        hit = _lookup(doc, dotted)
        if hit is not None and name not in res.values:
            res.values[name] = Value(hit[0], hit[1], hit[2], origin)
    for name, value in (defaults or {}).items():
        res.set_default(name, Value(value, anchor, anchor, "default"))
    if fill_defaults:
        apply_defaults(res, anchor)
    data = server_data(res, origin, anchor, context if context is not None else PDict(anchor))
    data.put("config", doc, doc.span)
    return Fact("server", path, data, anchor, key)


def _first_key_span(doc: PDict) -> Span:
    spans = list(doc.kspan.values())
    return min(spans) if spans else doc.span


_MLSERVER_KEYS = frozenset(
    {
        "host",
        "http_port",
        "grpc_port",
        "metrics_port",
        "debug",
        "parallel_workers",
        "model_repository_root",
        "load_models_at_startup",
        "cors_settings",
        "server_name",
        "kafka_enabled",
        "metrics_endpoint",
    }
)


def _is_serve_config(doc: PDict) -> bool:
    apps = doc.get("applications")
    return (isinstance(apps, PList) and all(isinstance(a, dict) for a in apps)) or isinstance(
        doc.get("http_options"), PDict
    )


def from_documents(
    docs: list[Any], path: str, name: str | None = None
) -> tuple[str, list[Fact]] | None:
    """Server config files among YAML/JSON documents that are neither Kubernetes nor compose.

    ``name`` is the file name that decides the format when it differs from ``path`` (a
    ConfigMap key)."""
    if len(docs) != 1 or not isinstance(docs[0], PDict):
        return None
    doc = docs[0]
    name = os.path.basename(name or path).lower()
    anchor = _first_key_span(doc)
    if name == "model-settings.json":
        return "mlserver-model-settings", _model_settings(doc, path)
    if name == "settings.json" and any(k in _MLSERVER_KEYS for k in doc):
        return "mlserver-settings", [config_server("mlserver", doc, path, anchor, "mlserver")]
    if _is_serve_config(doc):
        facts = [
            config_server("ray-serve", doc, path, anchor, "ray-serve", defaults={"host": "0.0.0.0"})
        ]
        facts.extend(_serve_models(doc, path, facts[0].data["context"]))
        return "ray-serve-config", facts
    if name in ("bentofile.yaml", "bentofile.yml") and isinstance(doc.get("service"), str):
        return "bentofile", _bentofile(doc, path, anchor)
    if is_bentoml_config(doc, name):
        return "bentoml-config", [
            config_server("bentoml", doc, path, anchor, "bentoml", fill_defaults=False)
        ]
    return None


_BENTOML_CONFIG_NAMES = frozenset(
    f"{stem}.{ext}"
    for stem in ("bentoml_configuration", "bentoml_config")
    for ext in ("yaml", "yml")
)
_BENTOML_SERVICE_KEYS = frozenset({"http", "grpc", "ssl", "traffic", "metrics"})
_BENTOML_RUNNER_KEYS = frozenset(
    {"batching", "resources", "workers_per_resource", "traffic", "timeout", "logging", "metrics"}
)


def is_bentoml_config(doc: PDict, name: str) -> bool:
    """A BentoML configuration file (the YAML ``BENTOML_CONFIG`` names): named
    ``bentoml_configuration.yaml``, or holding an ``api_server:`` mapping (version 1 and
    older), a ``version: 2`` ``services:`` mapping of service settings, or a ``runners:``
    mapping of runner settings. A bare ``configuration.yaml`` is recognised by content only."""
    if name in _BENTOML_CONFIG_NAMES or isinstance(doc.get("api_server"), PDict):
        return True
    services = doc.get("services")
    if str(doc.get("version")) == "2" and isinstance(services, PDict):
        # not a compose file whose services happen to be named http, grpc …
        return any(
            k in _BENTOML_SERVICE_KEYS and isinstance(v, dict) for k, v in services.items()
        ) and not any(
            isinstance(v, dict) and ("image" in v or "build" in v or "extends" in v)
            for v in services.values()
        )
    runners = doc.get("runners")
    return isinstance(runners, PDict) and any(k in _BENTOML_RUNNER_KEYS for k in runners)


def _bentofile(doc: PDict, path: str, anchor: Span) -> list[Fact]:
    from mlsec_lint.facts.common import env_facts_from_k8s

    facts = [config_server("bentoml", doc, path, anchor, "bentofile", fill_defaults=False)]
    args = doc.get("args")
    if isinstance(args, PDict):
        _bentofile_args(args, facts[0].data)
    envs = doc.get("envs")
    if isinstance(envs, PList):
        facts.extend(env_facts_from_k8s(envs, path, "bentofile", origin="bentofile"))
    python = doc.get("python")
    packages = python.get("packages") if isinstance(python, PDict) else None
    if isinstance(packages, PList):
        from mlsec_lint.facts.dependencies import image_packages

        # BentoML pip-installs these into the Bento's image at build time
        items = ((item, packages.item_span(i)) for i, item in enumerate(packages))
        facts.extend(image_packages(items, path, "bentofile", f"{path} (BentoML build)"))
    return facts


def _bentofile_args(args: PDict, data: PDict) -> None:
    """Template ``args`` that pass ``--trust-remote-code`` to the runtime the service
    starts (``cli_args: [--trust-remote-code]``) set ``trust_remote_code`` (and ``model``
    from ``model_id``/``model``) on the bentofile's server."""
    from mlsec_lint.facts.manifests import TRUST_REMOTE_CODE

    settings, sources = data.get("settings"), data.get("sources")
    if not isinstance(settings, PDict) or not isinstance(sources, PDict):
        return
    for key, value in args.items():
        if isinstance(value, PList):
            spans = [(v, value.item_span(i)) for i, v in enumerate(value)]
        else:
            spans = [(value, args.vspan.get(key, args.span))]
        for item, span in spans:
            if isinstance(item, str) and TRUST_REMOTE_CODE.fullmatch(item.strip()):
                settings.put("trust_remote_code", True, span, span)
                sources.put("trust_remote_code", "config-file", span, span)
                for mkey in ("model_id", "model"):
                    model = args.get(mkey)
                    if isinstance(model, str) and model.strip() and "model" not in settings:
                        mspan = args.vspan.get(mkey, args.span)
                        settings.put("model", model.strip(), args.kspan.get(mkey, mspan), mspan)
                        sources.put("model", "config-file", mspan, mspan)
                return


def _serve_models(doc: PDict, path: str, context: PDict) -> list[Fact]:
    """Models a Serve LLM application loads (``model_loading_config.model_source``)."""
    from mlsec_lint.tree import resolve

    out = []
    pattern = "applications[*].args.llm_configs[*].model_loading_config"
    for hit in resolve(doc, pattern):
        cfg = hit.value
        if not isinstance(cfg, PDict) or not isinstance(cfg.get("model_source"), str):
            continue
        uri = cfg["model_source"]
        if "$" in uri:
            continue
        out.append(
            model_source_fact(
                uri,
                cfg.vspan["model_source"],
                path,
                "ray-serve-llm",
                context=context,
                key=f"ray-serve/model/{uri}",
            )
        )
    return out


# --------------------------------------------------------------------------- embedded documents


def parse_embedded(value: str, span: Span, text: FileText | None) -> Any:
    """A YAML or JSON document written inside a string scalar, with positions mapped back
    into the outer file. Returns None when the string does not parse."""
    from mlsec_lint.facts.launch import _scalar_arg
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    try:
        stream = load_stream(value)
    except YamlError:
        return None
    if not stream.docs:
        return None
    conv = _converter(value, _scalar_arg(value, span, text).inner())
    return _remap(stream.docs[0].value, conv)


def _remap(node: Any, conv: Callable[[Span], Span]) -> Any:
    if isinstance(node, PDict):
        d = PDict(conv(node.span))
        for k, v in node.items():
            ks = node.kspan.get(k)
            vs = node.vspan.get(k)
            d.put(k, _remap(v, conv), conv(ks) if ks else None, conv(vs) if vs else None)
        return d
    if isinstance(node, PList):
        lst = PList(conv(node.span))
        for i, v in enumerate(node):
            lst.push(_remap(v, conv), conv(node.item_span(i)))
        return lst
    return node


def derived(facts: list[Fact], text: str) -> list[Fact]:
    """Facts derived from the containers and objects of one file: server launches,
    RayService ``serveConfigV2`` and the KServe ``inferenceservice-config`` ConfigMap."""
    ftext: FileText | None = None
    out: list[Fact] = []
    for fact in facts:
        if fact.kind == "container":
            ftext = ftext or FileText(text)
            out.extend(from_container(fact, ftext))
        elif fact.kind == "k8s-object":
            kind = fact.data.get("kind")
            if kind == "RayService" or (
                kind == "ConfigMap" and fact.data.get("name") == ("inferenceservice-config")
            ):
                ftext = ftext or FileText(text)
                out.extend(_from_object(fact, ftext))
            elif kind == "ConfigMap":
                ftext = ftext or FileText(text)
                out.extend(_configmap_files(fact, ftext))
    return out


def _configmap_files(fact: Fact, text: FileText) -> list[Fact]:
    """Server config files and start scripts stored as ConfigMap keys (``config.properties``,
    ``settings.json``, ``serve_config.yaml``, ``basic_auth.ini``, ``entrypoint.sh`` …), read
    as if they were files, with positions in the manifest."""
    from mlsec_lint.discovery import name_kind
    from mlsec_lint.facts.launch import _scalar_arg, from_shell
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    data = fact.data["object"].get("data")
    if not isinstance(data, PDict):
        return []
    out: list[Fact] = []
    for key, value in data.items():
        if not isinstance(value, str) or not isinstance(key, str):
            continue
        kind = name_kind(key)
        inner: list[Fact] = []
        if kind == "properties":
            inner = from_properties(value, key).facts
        elif kind in ("json", "yaml"):
            try:
                docs = [d.value for d in load_stream(value).docs]
            except YamlError:
                continue
            found = from_documents(docs, key)
            inner = found[1] if found else []
        elif kind == "ini":
            inner = from_ini(value, key).facts
        elif kind == "python" and is_jupyter_config(key):
            inner = from_jupyter_config(value, key, value.split("\n"))
        elif kind == "shell" or key.endswith(".sh"):
            inner = from_shell(value, key)
        if not inner:
            continue
        conv = _converter(value, _scalar_arg(value, data.vspan[key], text).inner())
        for f in inner:
            f.data = _remap(f.data, conv)
            f.anchor = conv(f.anchor)
            f.path = fact.path
            f.key = f"{fact.key}/{key}/{f.key}"
            f.annotations = fact.annotations
            if f.kind == "server":
                f.data.put("configmap_key", key, data.kspan[key], data.kspan[key])
            out.append(f)
    return out


def _converter(value: str, inner: Any) -> Callable[[Span], Span]:
    """Spans in ``value`` (1-based lines/columns) -> spans in the outer file."""
    starts = [0]
    for i, c in enumerate(value):
        if c == "\n":
            starts.append(i + 1)

    def off(line: int, col: int) -> int:
        if line - 1 >= len(starts):
            return len(value)
        return min(len(value), starts[max(0, line - 1)] + col - 1)

    def conv(s: Span) -> Span:
        a = off(s.line, s.col)
        b = off(s.end_line, s.end_col)
        if b > a and value[b - 1] == "\n":
            b -= 1
        result: Span = inner.span(a, max(a + 1, b))
        return result

    return conv


def _from_object(fact: Fact, text: FileText) -> list[Fact]:
    obj = fact.data["object"]
    if fact.data.get("kind") == "RayService":
        spec = obj.get("spec")
        if not isinstance(spec, PDict) or not isinstance(spec.get("serveConfigV2"), str):
            return []
        vspan = spec.vspan["serveConfigV2"]
        doc = parse_embedded(spec["serveConfigV2"], vspan, text)
        if not isinstance(doc, PDict):
            return []
        anchor = spec.kspan["serveConfigV2"]
        context = PDict(anchor)
        server = config_server(
            "ray-serve",
            doc,
            fact.path,
            anchor,
            f"{fact.key}/serveConfigV2",
            origin="rayservice",
            context=context,
            defaults={"host": "0.0.0.0"},
        )
        server.annotations = fact.annotations
        facts = [server, *_serve_models(doc, fact.path, context)]
        for f in facts[1:]:
            f.key = f"{fact.key}/{f.key}"
            f.annotations = fact.annotations
        return facts
    data = obj.get("data")
    if not isinstance(data, PDict):
        return []
    settings = PDict(data.span)
    for key, value in data.items():
        if key == "_example" or not isinstance(value, str):
            continue
        parsed = parse_embedded(value, data.vspan[key], text)
        if isinstance(parsed, (PDict, PList)):
            settings.put(key, parsed, data.kspan.get(key), data.vspan.get(key))
    anchor = obj.kspan.get("data", fact.anchor)
    out = PDict(anchor)
    out.put("server", "kserve", anchor)
    out.put("title", "KServe", anchor)
    out.put("origin", "configmap", anchor)
    out.put("settings", settings, anchor)
    out.put("listeners", PList(anchor), anchor)
    out.put("context", PDict(anchor), anchor)
    return [Fact("server", fact.path, out, anchor, f"{fact.key}/kserve", fact.annotations)]


# --------------------------------------------------------------------------- Jupyter (Python)

_JUPYTER_CONFIG = re.compile(r"^jupyter_(server|notebook|lab|nbclassic)_config\.py$")


def is_jupyter_config(path: str) -> bool:
    return _JUPYTER_CONFIG.match(os.path.basename(path)) is not None


def _col(lines: list[str], line: int, byte_col: int) -> int:
    return char_col(lines[line - 1], byte_col) if 1 <= line <= len(lines) else byte_col + 1


def _node_span(lines: list[str], node: ast.AST) -> Span:
    line = getattr(node, "lineno", 1)
    eline = getattr(node, "end_lineno", None) or line
    col = _col(lines, line, getattr(node, "col_offset", 0))
    ecol = _col(lines, eline, getattr(node, "end_col_offset", None) or 0)
    return Span(line, col, eline, max(ecol, col + 1) if eline == line else ecol)


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def from_jupyter_config(text: str, path: str, lines: list[str]) -> list[Fact]:
    """``c.ServerApp.token = ''`` and friends, read with :mod:`ast` (never executed)."""
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    doc = PDict(Span(1, 1, max(1, len(lines)), 1))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            dotted = _dotted(target)
            if dotted is None or dotted.count(".") != 2:
                continue
            _, cls, trait = dotted.split(".")
            try:
                value: Any = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                value = UNKNOWN
            section = doc.get(cls)
            if not isinstance(section, PDict):
                section = PDict(_node_span(lines, target))
                doc.put(cls, section, _node_span(lines, target))
            section.put(trait, value, _node_span(lines, target), _node_span(lines, node.value))
    if not doc:
        return []
    anchor = _first_key_span(doc)
    return [config_server("jupyter", doc, path, anchor, "jupyter-config")]


# --------------------------------------------------------------------------- TOML and INI


def _section_positions(text: str, comment: str) -> dict[tuple[str, str], tuple[Span, Span]]:
    """(section, key) -> (key span, value span) for INI and simple TOML files."""
    out: dict[tuple[str, str], tuple[Span, Span]] = {}
    section = ""
    for i, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in comment:
            continue
        if stripped.startswith("[") and "]" in stripped:
            section = stripped[1 : stripped.index("]")].strip().strip("[]").strip()
            continue
        found = _assignment(line)
        if found is None:
            continue
        key, kstart, vstart, vend = found
        kspan = Span(i, kstart + 1, i, kstart + 1 + len(key))
        vspan = Span(i, vstart + 1, i, max(vstart + 2, vend + 1))
        out.setdefault((section, key), (kspan, vspan))
    return out


_SPECIAL = re.compile("[=:\"']")


def _assignment(line: str) -> tuple[str, int, int, int] | None:
    """``key = value`` or ``key: value`` (the key optionally quoted): the stripped key,
    its offset, and the offsets of the stripped value's start and end. Linear: one scan
    for the first separator or quote, no backtracking."""
    start = len(line) - len(line.lstrip())
    quote = line[start] if line[start : start + 1] in ("'", '"') else ""
    kbegin = start + len(quote)
    special = _SPECIAL.search(line, kbegin)
    if special is None or special.start() == kbegin:
        return None
    after = special.start()
    if quote:
        if line[after] != quote:
            return None
        after += 1
        after += len(line[after:]) - len(line[after:].lstrip())
        if line[after : after + 1] not in ("=", ":"):
            return None
    elif line[after] not in "=:":
        return None
    raw = line[kbegin : special.start()]
    key = raw.strip()
    if not key:
        return None
    kstart = kbegin + (len(raw) - len(raw.lstrip()))
    value = line[after + 1 :]
    vstart = after + 1 + (len(value) - len(value.lstrip()))
    vend = after + 1 + len(value.rstrip())
    return key, kstart, vstart, max(vstart, vend)


def is_streamlit_config(path: str) -> bool:
    parts = path.replace(os.sep, "/").split("/")
    return len(parts) >= 2 and parts[-2] == ".streamlit" and parts[-1] == "config.toml"


def from_streamlit_toml(text: str, path: str) -> FileAnalysis:
    fa = FileAnalysis(path, "toml")
    if not is_streamlit_config(path):
        return fa
    import importlib

    tomllib: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return fa
    positions = _section_positions(text, "#")
    doc = PDict(Span(1, 1, 1, 2))
    for section, table in data.items():
        if not isinstance(table, dict):
            continue
        sec = PDict(Span(1, 1, 1, 2))
        for key, value in table.items():
            kspan, vspan = positions.get((section, key), (Span(1, 1, 1, 2), Span(1, 1, 1, 2)))
            sec.put(key, value, kspan, vspan)
        first = min(sec.kspan.values(), default=Span(1, 1, 1, 2))
        doc.put(section, sec, first)
    if not doc:
        return fa
    fa.kind = "streamlit-config"
    fa.facts.append(config_server("streamlit", doc, path, _first_key_span(doc), "streamlit"))
    return fa


def from_ini(text: str, path: str) -> FileAnalysis:
    """MLflow ``basic_auth.ini`` (any INI file with an ``[mlflow]`` section)."""
    import configparser

    fa = FileAnalysis(path, "ini")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error:
        return fa
    if not parser.has_section("mlflow"):
        return fa
    positions = _section_positions(text, "#;")
    doc = PDict(Span(1, 1, 1, 2))
    sec = PDict(Span(1, 1, 1, 2))
    for key, value in parser.items("mlflow"):
        kspan, vspan = positions.get(("mlflow", key), (Span(1, 1, 1, 2), Span(1, 1, 1, 2)))
        sec.put(key, value, kspan, vspan)
    doc.put("mlflow", sec, min(sec.kspan.values(), default=Span(1, 1, 1, 2)))
    fa.kind = "mlflow-auth-config"
    fa.facts.append(
        config_server("mlflow", doc, path, _first_key_span(sec), "mlflow-auth", fill_defaults=False)
    )
    return fa
