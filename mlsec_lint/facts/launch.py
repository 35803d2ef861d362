"""Model-server launches -> ``server`` and ``model-source`` facts.

A server is started in many places: a container's ``command``/``args`` (including
``sh -c "…"`` strings and an image's own entrypoint), a Dockerfile's ``CMD`` and
``ENTRYPOINT``, a compose service, a shell entrypoint script, ``python -m …``. This
module turns each of them into one ``server`` fact whose ``settings`` use the canonical
names of ``data/servers.yaml``, so one rule covers every launch form.

Settings are resolved by precedence: a flag on the command line, then the environment
(the container's, the Dockerfile's ``ENV``, ``VAR=… cmd`` prefixes and ``export``
lines of a script), then what the image sets (``source: image-default``, pointing at the
image reference), then the server's own default (``source: default``, pointing at the
command). ``sources.<name>`` records which one won.

Nothing is executed: shell words are split with :mod:`mlsec_lint.parsers.shell` and
``$VAR`` / ``$(VAR)`` references are replaced only with values written in the same
container, stage or script.
"""

from __future__ import annotations

import bisect
import functools
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.linear import sub_variables
from mlsec_lint.model import Span
from mlsec_lint.parsers.shell import Command, Word, split_commands, strip_wrappers, tokenize
from mlsec_lint.tree import UNKNOWN, PDict, PList

# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    kind: str = "value"
    default: Any = None
    has_default: bool = False


@dataclass(slots=True)
class ServerSpec:
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


@dataclass(frozen=True, slots=True)
class ImageDefault:
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


@dataclass(frozen=True, slots=True)
class Tables:
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


# --------------------------------------------------------------------------- text


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts."""
    starts = [0]
    i = text.find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = text.find("\n", i + 1)
    return starts


class Doc:
    """A text and the source position of each of its characters."""

    __slots__ = ("_pos", "text")

    def __init__(self, text: str, pos: Callable[[int], tuple[int, int]]) -> None:
        self.text = text
        self._pos = pos

    @classmethod
    def of_file(cls, text: str, line: int = 1, col: int = 1) -> Doc:
        return cls.with_starts(text, line_starts(text), line, col)

    @classmethod
    def with_starts(cls, text: str, starts: list[int], line: int = 1, col: int = 1) -> Doc:
        def pos(offset: int) -> tuple[int, int]:
            i = bisect.bisect_right(starts, offset) - 1
            return (line + i, (col if i == 0 else 1) + offset - starts[i])

        return cls(text, pos)

    def position(self, offset: int) -> tuple[int, int]:
        return self._pos(max(0, offset))

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        eline, ecol = self.position(max(start, end - 1))
        return Span(line, col, eline, ecol + 1)


class FileText:
    """Offsets of line/column positions in a whole file (to re-read YAML scalars)."""

    __slots__ = ("doc", "starts")

    def __init__(self, text: str) -> None:
        self.starts = line_starts(text)
        self.doc = Doc.with_starts(text, self.starts)

    def offset(self, line: int, col: int) -> int:
        if line - 1 >= len(self.starts):
            return len(self.doc.text)
        return min(len(self.doc.text), self.starts[max(0, line - 1)] + col - 1)


def align(text: str, src: str, start: int, end: int) -> list[int]:
    """For each character of ``text`` (a decoded string), its offset in ``src[start:end]``.

    ``text`` is what a YAML scalar, a JSON string or a shell word decodes to; ``src`` is
    what is written (quotes, escapes, block indentation, continuation lines). Characters
    are matched in order; decoding artefacts (folded line breaks, escapes) keep the
    position of the nearest written character.
    """
    out: list[int] = []
    j = start
    last = max(start, end - 1)
    for ch in text:
        if j >= end:
            out.append(last)
            continue
        if ch in " \t\n":
            if src[j] in " \t\n":
                out.append(j)
                j += 1
            else:
                out.append(j)
            continue
        k = src.find(ch, j, min(end, j + 256))
        if k < 0:
            out.append(j)
            continue
        out.append(k)
        j = k + 1
    out.append(min(j, end))
    return out


@dataclass(slots=True)
class Arg:
    """One argv word and where it is written (or the image it comes from)."""

    text: str
    doc: Doc | None = None
    start: int = 0
    end: int = 0
    fixed: Span | None = None
    source: str = "flag"
    dynamic: bool = False
    expanded: bool = False
    _aligned: list[int] | None = None
    raw: str | None = None
    """The text before variables were expanded (positions are aligned against it)."""
    _span: Span | None = None

    @classmethod
    def image(cls, text: str, span: Span) -> Arg:
        return cls(text, fixed=span, source="image-default", dynamic="$" in text)

    def _map(self) -> list[int]:
        if self._aligned is None:
            assert self.doc is not None
            text = self.raw if self.raw is not None else self.text
            self._aligned = align(text, self.doc.text, self.start, self.end)
        return self._aligned

    @property
    def span(self) -> Span:
        if self.fixed is not None or self.doc is None:
            return self.fixed or Span(1, 1, 1, 2)
        if self._span is None:
            self._span = self.doc.span(self.start, self.end)
        return self._span

    def sub_span(self, i: int, j: int) -> Span:
        """The span of ``text[i:j]`` (after expansion: from ``i`` to the end of the word,
        as long as the text before ``i`` did not change)."""
        if self.fixed is not None or self.doc is None or i >= j:
            return self.span
        m = self._map()
        if self.expanded:
            if self.raw is None or self.raw[:i] != self.text[:i] or i >= len(self.raw):
                return self.span
            return self.doc.span(m[i], max(m[i] + 1, self.end))
        i = min(i, len(m) - 1)
        j = min(max(j, i + 1), len(m) - 1)
        start = m[i]
        end = m[j - 1] + 1
        return self.doc.span(start, max(start + 1, end))

    def inner(self) -> Doc:
        """This word's text as a document whose positions map to the source (``sh -c``)."""
        if self.fixed is not None or self.doc is None or self.expanded:
            span = self.span
            return Doc(self.text, lambda _o: (span.line, span.col))
        m = self._map()
        doc = self.doc
        return Doc(self.text, lambda o: doc.position(m[min(o, len(m) - 1)]))


def args_of_words(words: Iterable[Word], doc: Doc) -> list[Arg]:
    return [Arg(w.text, doc, w.start, w.end, dynamic=w.dynamic) for w in words]


# --------------------------------------------------------------------------- environment


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    value: Any
    span: Span
    kspan: Span
    source: str = "env"


Env = dict[str, EnvVar]

_SHELL_VAR = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?:(:?[-=+?])([^}]*))?\}|([A-Za-z_]\w*))")
_K8S_VAR = re.compile(r"(?<!\$)\$\(([A-Za-z_][\w.-]*)\)")


def expand(text: str, env: Env, style: str) -> tuple[str, bool]:
    """Replace variable references with values written in ``env``.

    ``style`` is ``shell`` (``$VAR``, ``${VAR}``, ``${VAR:-default}``) or ``k8s``
    (``$(VAR)``). Returns the text and whether every reference was resolved.
    """
    if "+" in style:
        ok = True
        for part in style.split("+"):
            text, done = expand(text, env, part)
            ok = ok and done
        return text, ok
    resolved = True

    def value_of(name: str) -> str | None:
        var = env.get(name)
        if var is None or not isinstance(var.value, str):
            return None
        return var.value

    if style == "k8s":

        def k8s(m: re.Match[str]) -> str:
            nonlocal resolved
            v = value_of(m.group(1))
            if v is None:
                resolved = False
                return m.group(0)
            return v

        return _K8S_VAR.sub(k8s, text), resolved

    def shell(m: re.Match[str]) -> str:
        nonlocal resolved
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        v = value_of(name)
        if op in (":-", "-", ":=", "="):
            if v:
                return v
            if name in env and op in ("-", "=") and v == "":
                return ""
            if "$" in word:
                resolved = False
            return word
        if op in (":+", "+"):
            return word if v else ""
        if v is None:
            resolved = False
            return m.group(0)
        return v

    return sub_variables(_SHELL_VAR, shell, text), resolved


def _expand_arg(arg: Arg, env: Env, style: str) -> Arg:
    if not arg.dynamic or style == "none":
        return arg
    text, ok = expand(arg.text, env, style)
    if text == arg.text:
        return arg
    raw = arg.raw if arg.raw is not None else arg.text
    return Arg(text, arg.doc, arg.start, arg.end, arg.fixed, arg.source, not ok, True, None, raw)


def _is_assignment(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return bool(eq) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


def _assign(env: Env, arg: Arg, source: str = "env", style: str = "shell") -> None:
    name, _, value = arg.text.partition("=")
    expanded, _ok = expand(value, env, style) if "$" in value else (value, True)
    vspan = arg.sub_span(len(name) + 1, len(arg.text)) if value else arg.span
    env[name] = EnvVar(name, expanded, vspan, arg.span, source)


# --------------------------------------------------------------------------- commands


@dataclass(slots=True)
class Launch:
    spec: ServerSpec
    program: Arg
    program_name: str
    argv: list[Arg]
    args: list[Arg]
    env: Env


_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?$")
_SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh"}
_PY_OPTS_WITH_VALUE = {"-X", "-W", "-Q"}


def _base(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _strip(words: list[Arg], env: Env) -> list[Arg]:
    """Drop wrappers (``exec``, ``env A=1``, ``uv run`` …); their assignments go to ``env``."""
    runners = tables().runners
    for _ in range(8):
        if not words:
            return words
        head = words[:24]  # wrappers never take more words than this
        skip = len(head) - len(strip_wrappers([Word(a.text, 0, 0) for a in head]))
        for a in words[:skip]:
            if _is_assignment(a.text):
                _assign(env, a)
        words = words[skip:]
        if not words:
            return words
        base = _base(words[0].text)
        runner = runners.get(base)
        if runner is None:
            return words
        sub, with_value = runner
        i = 1
        if sub is not None:
            if len(words) < 2 or words[1].text != sub:
                return words
            i = 2
        while i < len(words) and words[i].text.startswith("-"):
            if words[i].text == "--":
                i += 1
                break
            i += 2 if words[i].text in with_value else 1
        words = words[i:]
    return words


def _identify(words: list[Arg]) -> tuple[ServerSpec, int, str] | None:
    """(server, index of its first argument, program name) for a start command."""
    t = tables()
    if not words:
        return None
    prog = _base(words[0].text)
    i = 1
    program: str | None = None
    server: str | None = None
    if _PYTHON.match(prog):
        while i < len(words):
            text = words[i].text
            if text == "-m" and i + 1 < len(words):
                module = words[i + 1].text
                i += 2
                hit = t.modules.get(module)
                if hit is None:
                    return None
                server, program = hit
                break
            if text.startswith("-m") and len(text) > 2:
                hit = t.modules.get(text[2:])
                i += 1
                if hit is None:
                    return None
                server, program = hit
                break
            if text == "-c":
                return None
            if text in _PY_OPTS_WITH_VALUE:
                i += 2
                continue
            if text.startswith("-"):
                i += 1
                continue
            script = _base(text)
            i += 1
            if script in t.scripts:
                server = t.scripts[script]
                program = None
                break
            return None
        if server is None:
            return None
        if program is None:
            return t.servers[server], i, _base(words[i - 1].text)
        prog = program
    hit2 = t.programs.get(prog)
    if hit2 is None:
        return None
    server, subs = hit2
    if subs is not None:
        if i >= len(words) or words[i].text not in subs:
            return None
        i += 1
    spec = t.servers[server]
    if spec.not_with and any(w.text.partition("=")[0] in spec.not_with for w in words[i:]):
        return None
    return spec, i, prog


def parse_command(words: list[Arg], env: Env, style: str) -> Launch | None:
    """A server start command, or None when ``words`` start something else."""
    env = dict(env)
    words = _strip(words, env)
    words = [_expand_arg(w, env, style) for w in words]
    found = _identify(words)
    if found is None:
        return None
    spec, index, prog = found
    return Launch(spec, words[0], prog, words, words[index:], env)


def _script_of(words: list[Arg]) -> Arg | None:
    if len(words) < 3 or _base(words[0].text) not in _SHELLS:
        return None
    i = 1
    while i < len(words) and words[i].text.startswith("-"):
        flag = words[i].text
        if flag.startswith("--"):
            i += 1
            continue
        if "c" in flag[1:]:
            return words[i + 1] if i + 1 < len(words) else None
        i += 1
    return None


def run_script(doc: Doc, env: Env, depth: int = 0, outer: str = "none") -> Iterator[Launch]:
    """Launches in a shell script, following ``export``/assignments in order.

    ``outer`` is the expansion that happened before the shell saw the script (Kubernetes
    replaces ``$(VAR)`` in a container's command); it is applied word by word so
    positions stay exact.
    """
    env = dict(env)
    style = "shell" if outer in ("none", "shell") else f"{outer}+shell"
    for cmd in split_commands(doc.text):
        yield from _run_command(cmd, doc, env, depth, style)


def _run_command(
    cmd: Command, doc: Doc, env: Env, depth: int, style: str = "shell"
) -> Iterator[Launch]:
    assigns = [_dyn(a) for a in args_of_words(cmd.assigns, doc)]
    words = [_dyn(a) for a in args_of_words(cmd.words, doc)]
    if not words:
        for a in assigns:
            _assign(env, a, style=style)
        return
    if words[0].text in ("export", "declare", "typeset", "readonly", "local"):
        for a in words[1:]:
            if _is_assignment(a.text):
                _assign(env, a, style=style)
        return
    prefix = dict(env)
    for a in assigns:
        _assign(prefix, a, style=style)
    yield from run_argv(words, prefix, style, depth)


def _dyn(arg: Arg) -> Arg:
    if not arg.dynamic and "$" in arg.text:
        arg.dynamic = True
    return arg


def run_argv(words: list[Arg], env: Env, style: str, depth: int = 0) -> Iterator[Launch]:
    """Launches started by one argv: a server command or a shell running a script."""
    if not words:
        return
    probe = _strip(list(words), dict(env))
    script = _script_of(probe)
    if script is not None and depth < 4:
        yield from run_script(script.inner(), env, depth + 1, outer=style)
        return
    launch = parse_command(words, env, style)
    if launch is not None:
        yield launch


# --------------------------------------------------------------------------- settings


@dataclass(slots=True)
class Value:
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


@dataclass(slots=True)
class Resolved:
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


def _torchserve_listeners(settings: PDict, anchor: Span) -> PList:
    from mlsec_lint.facts.serving import torchserve_listeners

    return torchserve_listeners(settings, anchor)


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
        _torchserve_listeners(settings, anchor) if spec.name == "torchserve" else PList(anchor)
    )
    data.put("listeners", listeners, anchor)
    data.put("context", context, anchor)
    return data


# --------------------------------------------------------------------------- launches -> facts


@dataclass(slots=True)
class Site:
    """Where launches are found: the file, the owner and its shared context."""

    path: str
    origin: str
    key: str
    context: PDict
    image: tuple[str, Span] | None = None
    extra: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    annotations: PDict | None = None
    replaced: tuple[str, ...] = ()
    """Paths the deployment puts its own files at (mounts, ``COPY`` destinations)."""


def _replaces(paths: Iterable[str], target: str | None) -> bool:
    """A mount or copy at ``target`` or at a directory above it."""
    if not target:
        return False
    for p in paths:
        norm = posixpath.normpath(p) if p else ""
        if norm and (target == norm or target.startswith(norm.rstrip("/") + "/")):
            return True
    return False


def launch_facts(launches: Iterable[Launch], site: Site) -> list[Fact]:
    facts: list[Fact] = []
    counts: dict[str, int] = {}
    img = image_default(site.image[0]) if site.image else None
    for launch in launches:
        spec = launch.spec
        found, raw, positionals = parse_flags(spec, launch.args)
        res = Resolved(spec, dict(found), flags=raw, env=launch.env)
        for name, arg in zip(spec.positionals, positionals, strict=False):
            res.set_default(name, Value(arg.text, arg.span, arg.span, arg.source))
        anchor = _anchor(launch)
        for name, value in spec.program_settings.get(launch.program_name, {}).items():
            res.set_default(name, Value(value, anchor, anchor, "flag"))
        apply_env(res, launch.env)
        # a config file named on the command line decides what the command does not say
        if spec.config is None or spec.config not in res.values:
            if (
                img is not None
                and site.image is not None
                and img.server == spec.name
                and not _replaces(site.replaced, img.settings_file)
            ):
                ispan = site.image[1]
                for name, value in img.settings.items():
                    res.set_default(name, Value(value, ispan, ispan, "image-default"))
            apply_defaults(res, anchor)
        n = counts.get(spec.name, 0)
        counts[spec.name] = n + 1
        key = f"{site.key}/server/{spec.name}" + (f"/{n}" if n else "")
        extra = dict(site.extra)
        extra["program"] = (launch.program_name, anchor)
        argv = PList(anchor)
        for a in launch.argv:
            argv.push(a.text, a.span)
        extra["argv"] = (argv, anchor)
        if site.image is not None:
            extra["image"] = site.image
            version = image_version(site.image[0]) if _runs(site.image[0], spec.name) else None
            if version:
                extra["version"] = (version, site.image[1])
        data = server_data(res, site.origin, anchor, site.context, extra)
        facts.append(Fact("server", site.path, data, anchor, key, site.annotations))
        ms = model_source_of(data, spec, site, key)
        if ms is not None:
            facts.append(ms)
    return facts


def _anchor(launch: Launch) -> Span:
    """Where absence findings point: the command as written (the program, or the first
    written argument when the image supplies the program), else the image."""
    for arg in launch.argv:
        if arg.source != "image-default":
            return arg.span
    return launch.program.span


def _runs(ref: str, server: str) -> bool:
    """The image is a build of this server (so its tag is the server's version)."""
    img = image_default(ref)
    fam = knowledge.image_family(ref)
    return (img is not None and img.server == server) or (fam is not None and fam.server == server)


def model_source_of(data: PDict, spec: ServerSpec, site: Site, key: str) -> Fact | None:
    """A ``model-source`` fact for the model a launch serves (vLLM, TGI, SGLang …)."""
    from mlsec_lint.facts.serving import model_source_fact

    model = spec.model
    if not model:
        return None
    settings = data["settings"]
    sources = data["sources"]
    name = model["setting"]
    if name not in settings or sources.get(name) == "default":
        return None
    uri = settings[name]
    if not isinstance(uri, str) or not uri or "$" in uri or "{{" in uri:
        return None
    rev_name = model.get("revision", "")
    revision = None
    if rev_name in settings and isinstance(settings[rev_name], str):
        revision = (settings[rev_name], settings.vspan[rev_name])
    return model_source_fact(
        uri,
        settings.vspan[name],
        site.path,
        model.get("via", spec.name),
        revision=revision,
        context=site.context,
        key=f"{key}/model",
        annotations=site.annotations,
    )


# --------------------------------------------------------------------------- containers


def _container_env(c: PDict) -> Env:
    env: Env = {}
    items = c.get("env")
    if isinstance(items, PList):  # Kubernetes
        for i, item in enumerate(items):
            if not isinstance(item, PDict) or not isinstance(item.get("name"), str):
                continue
            name = item["name"]
            span = items.item_span(i)
            if "value" in item:
                value = item["value"]
                text = "" if value is None else value if isinstance(value, str) else str(value)
                if isinstance(value, bool):
                    text = "true" if value else "false"
                env[name] = EnvVar(name, text, item.vspan.get("value", span), span)
            elif "valueFrom" in item:
                env[name] = EnvVar(name, UNKNOWN, item.vspan.get("valueFrom", span), span)
    comp = c.get("environment")
    if isinstance(comp, PDict):  # compose mapping
        for name, value in comp.items():
            kspan = comp.kspan.get(name, comp.span)
            vspan = comp.vspan.get(name, kspan)
            if value is None:
                continue
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            env[str(name)] = EnvVar(str(name), text, vspan, kspan)
    elif isinstance(comp, PList):  # compose list of NAME=value
        for i, item in enumerate(comp):
            if isinstance(item, str) and "=" in item:
                name, _, value = item.partition("=")
                span = comp.item_span(i)
                env[name] = EnvVar(name, value, span, span)
    return env


def _words_of(value: Any, span: Span, text: FileText | None) -> list[Arg]:
    """argv words from a list of strings or a command string (compose)."""
    if isinstance(value, PList):
        out = []
        for i, item in enumerate(value):
            if item is None or isinstance(item, (dict, list)):
                continue
            s = item if isinstance(item, str) else str(item)
            out.append(_scalar_arg(s, value.item_span(i), text))
        return out
    if isinstance(value, str):
        whole = _scalar_arg(value, span, text)
        doc = whole.inner()
        return args_of_words((t for t in tokenize(value) if isinstance(t, Word)), doc)
    return []


def _scalar_arg(s: str, span: Span, text: FileText | None) -> Arg:
    dynamic = "$" in s
    if text is None:
        return Arg(s, fixed=span, dynamic=dynamic)
    start = text.offset(span.line, span.col)
    end = text.offset(span.end_line, span.end_col)
    return Arg(s, text.doc, start, max(end, start + 1), dynamic=dynamic)


def from_container(fact: Fact, text: FileText | None) -> list[Fact]:
    """Server launches of one ``container`` fact (Kubernetes, CRDs, compose)."""
    c = fact.data
    context = c.get("context")
    if not isinstance(context, PDict):
        context = PDict(fact.anchor)
    image = c.get("image") if isinstance(c.get("image"), str) else None
    image_span = c.vspan.get("image", fact.anchor) if image else fact.anchor
    site = Site(
        fact.path,
        str(c.get("source") or "kubernetes"),
        fact.key,
        context,
        (image, image_span) if image else None,
        annotations=fact.annotations,
    )
    site.replaced = tuple(_mount_paths(c))
    if isinstance(c.get("name"), str):
        site.extra["container"] = (c["name"], c.field_span("name"))
    workload = c.get("workload")
    if isinstance(workload, PDict):
        site.extra["workload"] = (workload, workload.span)
    compose = c.get("source") == "compose"
    env = _container_env(c)
    img = image_default(image) if image else None
    if img is not None:
        for name, value in img.env.items():
            env.setdefault(name, EnvVar(name, value, image_span, image_span, "image-default"))
    command_key, args_key = ("entrypoint", "command") if compose else ("command", "args")
    command = _words_of(c.get(command_key), c.vspan.get(command_key, fact.anchor), text)
    args = _words_of(c.get(args_key), c.vspan.get(args_key, fact.anchor), text)
    written = command + args  # what the manifest runs (not the image's defaults)
    runtime = c.get("runtime_argv")
    if not command and image is None and isinstance(runtime, PList):
        command = [Arg.image(str(w), runtime.item_span(i)) for i, w in enumerate(runtime)]
    argv = _effective_argv(command, args, img, image_span)
    style = "none" if compose else "k8s"
    launches = list(run_argv(argv, env, style)) if argv else []
    facts = launch_facts(launches, site)
    params = c.get("launch_params")
    if isinstance(params, PDict):
        facts.extend(_params_facts(params, c.kspan.get("launch_params", fact.anchor), env, site))
    if written:
        from mlsec_lint.facts.shellcmds import from_argv

        origin = "compose" if compose else "kubernetes"
        inner = [_inner_spans(a) for a in written]
        facts.extend(
            from_argv([(a.text, a.span) for a in written], fact.path, origin, fact.key, inner)
        )
    return facts


def _inner_spans(arg: Arg) -> Callable[[int, int], Span]:
    """Spans of character ranges of a word's text (a ``sh -c`` script's commands)."""
    doc: list[Doc] = []

    def span(start: int, end: int) -> Span:
        if not doc:
            doc.append(arg.inner())
        return doc[0].span(start, end)

    return span


def _effective_argv(
    command: list[Arg], args: list[Arg], img: ImageDefault | None, image_span: Span
) -> list[Arg]:
    """ENTRYPOINT + CMD as the container runtime assembles them."""
    if command:
        return command + args
    entry = [Arg.image(w, image_span) for w in img.entrypoint] if img else []
    if not args and img is not None:
        args = [Arg.image(w, image_span) for w in img.cmd]
    if img is not None and args and args[0].text in img.aliases:
        first = args[0]
        alias = [Arg(w, fixed=first.span, source=first.source) for w in img.aliases[first.text]]
        args = alias + args[1:]
    overrides = (
        img is not None
        and bool(args)
        and args[0].source != "image-default"
        and args[0].text not in img.cmd
        and _is_command(args[0].text)
    )
    if entry and not overrides:
        return entry + args
    return args


_BIN_DIRS = ("/bin/", "/usr/bin/", "/usr/local/bin/", "/opt/conda/bin/")


def _is_command(text: str) -> bool:
    """A first argument that names a program rather than a server argument.

    ``CMD ["python", "serve.py"]`` on an image whose ENTRYPOINT is a server would be passed
    to that server; the author meant to run the program (and usually also resets the
    ENTRYPOINT somewhere not visible), so the program is what is analysed.
    """
    if text.startswith("-") or not text:
        return False
    base = _base(text)
    t = tables()
    if (
        _PYTHON.match(base)
        or base in _SHELLS
        or base in t.programs
        or base in t.runners
        or base.endswith((".sh", ".py"))
    ):
        return True
    return text.startswith(_BIN_DIRS)


def _params_facts(params: PDict, anchor: Span, env: Env, site: Site) -> list[Fact]:
    """``launch_params`` (KubeRay ``rayStartParams``): flag name -> value, no ``--``."""
    spec = tables().servers["ray"]
    res = Resolved(spec, env=env)
    raw = PDict(params.span)
    for key, value in params.items():
        k = str(key)
        kspan = params.kspan.get(key, params.span)
        vspan = params.vspan.get(key, kspan)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        raw.put(k, text, kspan, vspan)
        hit = spec.flag("--" + k)
        if hit is not None:
            res.values[hit[0]] = Value(text, kspan, vspan, "flag")
    res.flags = raw
    apply_env(res, env)
    apply_defaults(res, anchor)
    extra = dict(site.extra)
    extra["program"] = ("ray", anchor)
    if site.image is not None:
        extra["image"] = site.image
    data = server_data(res, site.origin, anchor, site.context, extra)
    key = f"{site.key}/server/ray-params"
    return [Fact("server", site.path, data, anchor, key, site.annotations)]


# --------------------------------------------------------------------------- Dockerfiles


def from_dockerfile(df: Any, path: str) -> list[Fact]:
    """The launch of a Dockerfile's final stage: ENTRYPOINT/CMD with ENV and ARG."""
    from mlsec_lint.parsers import dockerfile as dparser

    if not df.stages:
        return []
    chain: list[dparser.Stage] = []
    cur: dparser.Stage | None = df.stages[-1]
    seen: set[int] = set()
    while cur is not None and cur.index not in seen:
        seen.add(cur.index)
        chain.append(cur)
        cur = df.stages[cur.parent_stage] if cur.parent_stage is not None else None
    chain.reverse()
    root = chain[0]
    base = root.base if root.base.lower() != "scratch" else None
    img = image_default(base) if base else None
    env: Env = {}
    if img is not None:
        for name, value in img.env.items():
            env[name] = EnvVar(name, value, root.base_span, root.base_span, "image-default")
    variables: Env = {
        k: EnvVar(k, v, root.base_span, root.base_span) for k, v in df.global_args.items()
    }
    entry: dparser.Instruction | None = None
    cmd: dparser.Instruction | None = None
    for stage in chain:
        for inst in stage.instructions:
            if inst.keyword in ("ENV", "ARG"):
                for arg in _env_args(inst):
                    name, eq, _ = arg.text.partition("=")
                    if not eq:
                        continue
                    # Docker substitutes ARG and ENV values into ENV at build time
                    _assign(variables, arg)
                    if inst.keyword == "ENV":
                        env[name] = variables[name]
                    elif name not in env or env[name].source == "arg":
                        # not in the runtime environment, but what the author meant
                        # when a shell-form CMD refers to it
                        var = variables[name]
                        env[name] = EnvVar(name, var.value, var.span, var.kspan, "arg")
            elif inst.keyword == "ENTRYPOINT":
                entry = inst
            elif inst.keyword == "CMD":
                cmd = inst
    image_span = root.base_span
    if entry is not None:
        command = _instruction_words(entry)
        args = _instruction_words(cmd) if cmd is not None and entry.exec_form is not None else []
        argv = command + args
    elif cmd is not None:
        argv = _effective_argv([], _instruction_words(cmd), img, image_span)
    else:
        argv = _effective_argv([], [], img, image_span)
    context = PDict(df.stages[-1].from_instruction.span)
    site = Site(
        path,
        "dockerfile",
        f"stage/{df.stages[-1].name or df.stages[-1].index}",
        context,
        (base, root.base_span) if base else None,
        replaced=tuple(_copy_destinations(chain)),
    )
    return launch_facts(run_argv(argv, env, "none"), site)


def _mount_paths(c: PDict) -> Iterator[str]:
    """Where a container gets files of its own: volume mounts (Kubernetes), and the
    container side of compose ``volumes``."""
    for key in ("volumeMounts", "volumes"):
        items = c.get(key)
        if not isinstance(items, list):
            continue
        for m in items:
            if isinstance(m, dict) and isinstance(m.get("mountPath"), str):
                yield str(m["mountPath"])
            elif isinstance(m, dict) and isinstance(m.get("target"), str):
                yield str(m["target"])
            elif isinstance(m, str) and ":" in m:
                parts = m.split(":")
                if len(parts) >= 2 and parts[1].startswith("/"):
                    yield parts[1]


def _copy_destinations(chain: list[Any]) -> Iterator[str]:
    """Absolute destinations of ``COPY``/``ADD`` in the final stage's chain."""
    for stage in chain:
        workdir = "/"
        for inst in stage.instructions:
            if inst.keyword == "WORKDIR":
                workdir = posixpath.join(workdir, inst.rest.strip())
            elif inst.keyword in ("COPY", "ADD"):
                words = [t.text for t in tokenize(inst.rest) if isinstance(t, Word)]
                words = [w for w in words if not w.startswith("--")]
                if len(words) < 2 or "$" in words[-1]:
                    continue
                dest = posixpath.normpath(posixpath.join(workdir, words[-1]))
                if words[-1].endswith("/") or len(words) > 2:
                    # into a directory: each source keeps its name
                    for src in words[:-1]:
                        yield posixpath.join(dest, posixpath.basename(src.rstrip("/")))
                else:
                    yield dest


def _instruction_words(inst: Any) -> list[Arg]:
    """argv of CMD/ENTRYPOINT: exec form words, or ``/bin/sh -c <text>``."""
    from mlsec_lint.facts.dockerfile import exec_words

    doc = Doc(inst.args, inst.args_map.position)
    if inst.exec_form is not None:
        return [Arg(w.text, doc, w.start, w.end, dynamic="$" in w.text) for w in exec_words(inst)]
    start = inst.rest_offset
    script = Arg(inst.rest, doc, start, start + len(inst.rest), dynamic="$" in inst.rest)
    span = script.span
    return [
        Arg("/bin/sh", fixed=Span(span.line, span.col, span.line, span.col + 1)),
        Arg("-c", fixed=Span(span.line, span.col, span.line, span.col + 1)),
        script,
    ]


def _env_args(inst: Any) -> list[Arg]:
    """``ENV``/``ARG`` pairs as ``NAME=value`` words (legacy ``ENV NAME value`` too)."""
    doc = Doc(inst.args, inst.args_map.position)
    base = inst.rest_offset
    words = [t for t in tokenize(inst.rest) if isinstance(t, Word)]
    if words and "=" not in words[0].text and inst.keyword == "ENV" and len(words) > 1:
        name = words[0]
        value = inst.rest[words[1].start :].strip()
        vstart = base + words[1].start
        arg = Arg(f"{name.text}={_unquote(value)}", doc, base + name.start, vstart + len(value))
        return [arg]
    return [Arg(w.text, doc, base + w.start, base + w.end) for w in words]


# --------------------------------------------------------------------------- shell scripts


def from_shell(text: str, path: str) -> list[Fact]:
    """Server launches in a shell script (entrypoint and start scripts)."""
    doc = Doc.of_file(text)
    context = PDict(Span(1, 1, 1, 2))
    site = Site(path, "shell", "shell", context)
    return launch_facts(run_script(doc, {}), site)
