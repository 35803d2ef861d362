"""A server's settings: flags, environment and defaults -> the ``settings`` of a
``server`` fact.

Flags are read with the server's spellings; settings are resolved by precedence (a flag,
then the environment, then what the image sets, then the server's default) and
``sources.<name>`` records which one won.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlsec_lint.facts.launchargs import Arg, Env
from mlsec_lint.facts.servertables import ServerSpec
from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import UNKNOWN, PDict, PList

# --------------------------------------------------------------------------- settings


class Value(Struct):
    value: Any
    kspan: Span
    vspan: Span
    source: str


_BOOL_WORDS = {"true", "false", "1", "0", "yes", "no", "on", "off"}


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_flags(spec: ServerSpec, args: Sequence[Arg]) -> tuple[dict[str, Value], PDict, list[Arg]]:
    """Known settings, every flag as written (``flags``) and the positional arguments."""
    found: dict[str, Value] = {}
    raw = PDict(args[0].span if args else Span(1, 1, 1, 2))
    positionals: list[Arg] = []
    i = 0
    n = len(args)
    only_positional = False
    while i < n:
        a = args[i]
        t = a.text
        if only_positional or not t.startswith("-") or t == "-" or _is_number(t):
            positionals.append(a)
            i += 1
            continue
        if t == "--":
            only_positional = True
            i += 1
            continue
        name, eq, inline = t.partition("=")
        hit = spec.flag(name)
        kind = spec.settings[hit[0]].kind if hit else "value"
        values: list[tuple[Any, Span]] = []
        if eq:
            values.append((inline, a.sub_span(len(name) + 1, len(t))))
        elif kind == "flag":
            values.append((not hit[1] if hit else True, a.span))
        elif kind == "bool":
            if i + 1 < n and args[i + 1].text.lower() in _BOOL_WORDS:
                values.append((args[i + 1].text, args[i + 1].span))
                i += 1
            else:
                values.append((True, a.span))
        elif i + 1 < n and not _is_flag(args[i + 1].text):
            values.append((args[i + 1].text, args[i + 1].span))
            i += 1
            while kind == "list" and hit and i + 1 < n and not _is_flag(args[i + 1].text):
                values.append((args[i + 1].text, args[i + 1].span))
                i += 1
        elif hit is None:
            values.append((True, a.span))
        else:
            values.append(("", a.span))
        i += 1
        if spec.unquote:
            values = [(_unquote(v) if isinstance(v, str) else v, s) for v, s in values]
        key = name.lstrip("-")
        if hit is None:
            raw.put(key, values[-1][0], a.span, values[-1][1])
            continue
        setting = hit[0]
        if kind == "list":
            prev = found.get(setting)
            lst = prev.value if prev is not None and isinstance(prev.value, PList) else None
            if lst is None:
                lst = PList(a.span)
            for v, s in values:
                lst.push(v, s)
            found[setting] = Value(lst, a.span, lst.span if len(lst) > 1 else values[0][1], "flag")
            raw.put(key, lst, a.span, values[0][1])
        else:
            v, s = values[-1]
            found[setting] = Value(v, a.span, s, "flag")
            raw.put(key, v, a.span, s)
    return found, raw, positionals


def _is_flag(text: str) -> bool:
    return text.startswith("-") and text != "-" and not _is_number(text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on", "y")


def _present(value: Any) -> bool:
    """A setting that is set to something (a secret reference counts)."""
    if value is UNKNOWN:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return any(_present(v) for v in value)
    return value is not None and str(value).strip() not in ("", "''", '""')


class Resolved(Struct):
    """The settings of one server instance, with their spans and sources."""

    spec: ServerSpec
    values: dict[str, Value] = field(default_factory=dict)
    ignored: dict[str, Value] = field(default_factory=dict)
    flags: PDict | None = None
    env: Env = field(default_factory=dict)

    def set_default(self, name: str, value: Value) -> None:
        if name not in self.values:
            self.values[name] = value


def apply_env(res: Resolved, env: Env) -> None:
    """Environment variables the server reads (after flags, before image defaults)."""
    spec = res.spec
    for var in env.values():
        if var.source == "arg":
            continue
        name = spec.env.get(var.name)
        if name is not None:
            kind = spec.settings[name].kind
            value: Any = var.value
            if kind == "list" and isinstance(value, str):
                lst = PList(var.span)
                lst.push(value, var.span)
                value = lst
            res.set_default(name, Value(value, var.kspan, var.span, var.source))
    if spec.env_prefix is None:
        return
    prefix, requires = spec.env_prefix
    prefixed = {
        var.name[len(prefix) :].lower(): var
        for var in env.values()
        if var.name.startswith(prefix) and var.name not in spec.env and var.source != "arg"
    }
    if not prefixed:
        return
    gate = res.values.get(requires)
    honoured = gate is not None and _truthy(gate.value)
    for name, var in prefixed.items():
        value = Value(var.value, var.kspan, var.span, var.source)
        if honoured:
            res.set_default(name, value)
        else:
            res.ignored.setdefault(name, value)


def apply_defaults(res: Resolved, anchor: Span) -> None:
    for name, sspec in res.spec.settings.items():
        if sspec.has_default:
            res.set_default(name, Value(sspec.default, anchor, anchor, "default"))


_TS_LISTENERS = (
    ("inference", "inference_address"),
    ("management", "management_address"),
    ("metrics", "metrics_address"),
)
TS_GRPC_LISTENERS = (
    ("gRPC inference", "grpc_inference_address", "grpc_inference_port"),
    ("gRPC management", "grpc_management_address", "grpc_management_port"),
)


def torchserve_listeners(settings: PDict, anchor: Span) -> PList:
    """The listeners a TorchServe config declares: one entry per HTTP ``*_address`` (TLS
    with an ``https://`` address) and per gRPC ``grpc_*_address`` (TLS when
    ``enable_grpc_ssl=true`` with ``certificate_file`` and ``private_key_file``, which
    both gRPC APIs share; TorchServe reads no keystore for gRPC)."""
    out = PList(anchor)
    for name, key in _TS_LISTENERS:
        if key in settings:
            address = str(settings[key])
            tls = address.strip().lower().startswith("https://")
            out.push(_listener(settings, name, key, address, tls), settings.field_span(key))
    grpc_tls = (
        str(settings.get("enable_grpc_ssl", "")).strip().lower() == "true"
        and _present(settings.get("certificate_file"))
        and _present(settings.get("private_key_file"))
    )
    for name, key, port_key in TS_GRPC_LISTENERS:
        if key in settings:
            entry = _listener(settings, name, key, str(settings[key]), grpc_tls)
            if port_key in settings:
                span = settings.field_span(port_key)
                entry.put("port", str(settings[port_key]), span, span)
            out.push(entry, settings.field_span(key))
    return out


def _listener(settings: PDict, name: str, key: str, address: str, tls: bool) -> PDict:
    span = settings.field_span(key)
    entry = PDict(span)
    entry.put("name", name, span, span)
    entry.put("key", key, span, span)
    entry.put("address", address, span, settings.vspan.get(key, span))
    entry.put("tls", tls, span, span)
    return entry


def server_data(
    res: Resolved,
    origin: str,
    anchor: Span,
    context: PDict,
    extra: dict[str, tuple[Any, Span]] | None = None,
) -> PDict:
    """The ``server`` fact tree for resolved settings (see docs/facts.md)."""
    spec = res.spec
    data = PDict(anchor)
    data.put("server", spec.name, anchor)
    data.put("title", spec.title, anchor)
    data.put("origin", origin, anchor)
    for key, (value, span) in (extra or {}).items():
        data.put(key, value, span, span)
    settings = PDict(anchor)
    sources = PDict(anchor)
    for name in sorted(res.values, key=lambda k: (res.values[k].kspan, k)):
        v = res.values[name]
        settings.put(name, v.value, v.kspan, v.vspan)
        sources.put(name, v.source, v.kspan, v.kspan)
    data.put("settings", settings, anchor)
    data.put("sources", sources, anchor)
    if res.ignored:
        ignored = PDict(anchor)
        for name, v in res.ignored.items():
            ignored.put(name, v.value, v.kspan, v.vspan)
        data.put("ignored", ignored, anchor)
    if res.flags is not None:
        data.put("flags", res.flags, res.flags.span)
    runtime_env = [var for var in res.env.values() if var.source != "arg"]
    if runtime_env:
        env = PDict(anchor)
        for var in runtime_env:
            env.put(var.name, var.value, var.kspan, var.span)
        data.put("env", env, anchor)
    roles = spec.roles
    bind = roles.get("bind")
    uds = roles.get("uds")
    if uds and uds in res.values and _present(res.values[uds].value):
        v = res.values[uds]
        data.put("bind", f"unix:{v.value}", v.kspan, v.vspan)
        data.put("bind_source", v.source, v.kspan, v.kspan)
    elif bind and bind in res.values:
        v = res.values[bind]
        value, vspan = v.value, v.vspan
        if isinstance(value, PList) and value:  # several listeners: the first one
            value, vspan = value[0], value.item_span(0)
        data.put("bind", value, v.kspan, vspan)
        data.put("bind_source", v.source, v.kspan, v.kspan)
    tls_keys = roles.get("tls") or []
    tls = bool(tls_keys) and all(
        k in res.values and _present(res.values[k].value) for k in tls_keys
    )
    data.put("tls", tls, anchor)
    auth_keys = roles.get("auth") or []
    auth = any(k in res.values and _present(res.values[k].value) for k in auth_keys)
    data.put("auth", auth, anchor)
    listeners = (
        torchserve_listeners(settings, anchor) if spec.name == "torchserve" else PList(anchor)
    )
    data.put("listeners", listeners, anchor)
    data.put("context", context, anchor)
    return data
