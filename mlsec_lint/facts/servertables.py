"""What ``data/servers.yaml`` knows about each model server: its settings with their
kinds and defaults, the flag, environment and config-key spellings of each setting, how
it is started (programs, ``python -m`` modules, scripts, runners), and the defaults that
known images set (entrypoint, command, environment, settings).

The table is read once from the bundled data; launches are read in
:mod:`mlsec_lint.facts.launch`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.records import Struct, field

# --------------------------------------------------------------------------- tables


class SettingSpec(Struct, frozen=True):
    name: str
    kind: str = "value"
    default: Any = None
    has_default: bool = False


class ServerSpec(Struct):
    """What ``data/servers.yaml`` knows about one server."""

    name: str
    title: str
    settings: dict[str, SettingSpec]
    flags: dict[str, tuple[str, bool]]
    env: dict[str, str]
    keys: dict[str, str]
    positionals: tuple[str, ...] = ()
    roles: dict[str, Any] = field(default_factory=dict)
    model: dict[str, str] = field(default_factory=dict)
    not_with: frozenset[str] = frozenset()
    underscores: bool = False
    key_flags: bool = False
    unquote: bool = False
    env_prefix: tuple[str, str] | None = None
    config: str | None = None
    program_settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def flag(self, spelling: str) -> tuple[str, bool] | None:
        """(setting, negated) for a flag as written, or None when unknown."""
        hit = self.flags.get(spelling)
        if hit is None and self.underscores and spelling.startswith("--"):
            body = spelling[2:]
            hit = self.flags.get("--" + body.replace("_", "-")) or self.flags.get(
                "--" + body.replace("-", "_")
            )
        if hit is None and self.key_flags and spelling.startswith("--"):
            name = self.keys.get(spelling[2:])
            if name is not None:
                hit = (name, False)
        return hit


class ImageDefault(Struct, frozen=True):
    pattern: re.Pattern[str]
    tag: re.Pattern[str] | None
    server: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    aliases: dict[str, tuple[str, ...]]
    env: dict[str, str]
    settings: dict[str, Any]
    settings_file: str | None = None
    """The file in the image that holds ``settings`` (replacing it drops them)."""


class Tables(Struct, frozen=True):
    servers: dict[str, ServerSpec]
    programs: dict[str, tuple[str, tuple[str, ...] | None]]
    modules: dict[str, tuple[str, str | None]]
    scripts: dict[str, str]
    runners: dict[str, tuple[str | None, frozenset[str]]]
    images: tuple[ImageDefault, ...]


def _server_spec(name: str, raw: dict[str, Any]) -> ServerSpec:
    settings: dict[str, SettingSpec] = {}
    flags: dict[str, tuple[str, bool]] = {}
    env: dict[str, str] = {}
    keys: dict[str, str] = {}
    for sname, given in (raw.get("settings") or {}).items():
        sraw = given or {}
        settings[sname] = SettingSpec(
            sname, str(sraw.get("kind", "value")), sraw.get("default"), "default" in sraw
        )
        for spelling in sraw.get("flags", []):
            flags[str(spelling)] = (sname, False)
        for spelling in sraw.get("negation", []):
            flags[str(spelling)] = (sname, True)
        for var in sraw.get("env", []):
            env[str(var)] = sname
        for key in sraw.get("keys", []):
            keys[str(key)] = sname
    prefix = raw.get("env_prefix")
    return ServerSpec(
        name=name,
        title=str(raw.get("title", name)),
        settings=settings,
        flags=flags,
        env=env,
        keys=keys,
        positionals=tuple(raw.get("positionals", ())),
        roles=dict(raw.get("roles") or {}),
        model={k: str(v) for k, v in (raw.get("model") or {}).items()},
        not_with=frozenset(raw.get("not_with", ())),
        underscores=bool(raw.get("underscores", False)),
        key_flags=bool(raw.get("key_flags", False)),
        unquote=bool(raw.get("unquote", False)),
        env_prefix=(str(prefix["prefix"]), str(prefix["requires"])) if prefix else None,
        config=raw.get("config"),
        program_settings={
            str(k): dict(v or {}) for k, v in (raw.get("program_settings") or {}).items()
        },
    )


@functools.lru_cache(maxsize=1)
def tables() -> Tables:
    data = knowledge.table("servers")
    servers: dict[str, ServerSpec] = {}
    programs: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    modules: dict[str, tuple[str, str | None]] = {}
    scripts: dict[str, str] = {}
    for name, raw in data["servers"].items():
        servers[name] = _server_spec(name, raw)
        for prog, subs in (raw.get("programs") or {}).items():
            programs[str(prog)] = (name, tuple(subs) if subs else None)
        for module, prog in (raw.get("modules") or {}).items():
            modules[str(module)] = (name, str(prog) if prog else None)
        for script in raw.get("scripts", []):
            scripts[str(script)] = name
    runners = {
        str(k): (v.get("subcommand"), frozenset(v.get("with_value") or ()))
        for k, v in (data.get("runners") or {}).items()
    }
    images = tuple(
        ImageDefault(
            pattern=re.compile(entry["match"]),
            tag=re.compile(entry["tag"]) if entry.get("tag") else None,
            server=str(entry["server"]),
            entrypoint=tuple(str(w) for w in entry.get("entrypoint", ())),
            cmd=tuple(str(w) for w in entry.get("cmd", ())),
            aliases={str(k): tuple(map(str, v)) for k, v in (entry.get("aliases") or {}).items()},
            env={str(k): str(v) for k, v in (entry.get("env") or {}).items()},
            settings=dict(entry.get("settings") or {}),
            settings_file=str(entry["settings_file"]) if entry.get("settings_file") else None,
        )
        for entry in data.get("images", [])
    )
    return Tables(servers, programs, modules, scripts, runners, images)


def server_spec(name: str) -> ServerSpec | None:
    return tables().servers.get(name)


@functools.lru_cache(maxsize=512)
def image_default(ref: str) -> ImageDefault | None:
    """What an official image launches when nothing overrides it."""
    img = knowledge.parse_image(ref)
    if img.dynamic:
        return None
    name = img.match_name.lower()
    for entry in tables().images:
        if entry.pattern.search(name) and (entry.tag is None or entry.tag.search(img.tag or "")):
            return entry
    return None


_VERSION = re.compile(r"^v?(\d+(?:\.\d+)+)")


def image_version(ref: str) -> str | None:
    """The release an image tag names (``0.11.0-cpu`` -> ``0.11.0``, ``24.05-py3`` -> ``24.05``)."""
    tag = knowledge.parse_image(ref).tag or ""
    m = _VERSION.match(tag)
    return m.group(1) if m else None
