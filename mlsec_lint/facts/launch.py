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

This module reads each launch form into ``server`` facts; the server tables are
:mod:`mlsec_lint.facts.servertables`, positioned arguments and the environment
:mod:`mlsec_lint.facts.launchargs`, identifying the server of a command line
:mod:`mlsec_lint.facts.launchcommands`, and flags and settings resolution
:mod:`mlsec_lint.facts.serversettings`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.facts.launchargs import Arg, Doc, Env, EnvVar, FileText, _assign, args_of_words
from mlsec_lint.facts.launchcommands import _PYTHON, Launch, _base, run_argv, run_script
from mlsec_lint.facts.serversettings import (
    Resolved,
    Value,
    _unquote,
    apply_defaults,
    apply_env,
    parse_flags,
    server_data,
)
from mlsec_lint.facts.servertables import (
    ImageDefault,
    ServerSpec,
    image_default,
    image_version,
    tables,
)
from mlsec_lint.model import Span
from mlsec_lint.parsers.shell import SHELLS, Word, tokenize
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import UNKNOWN, PDict, PList

# --------------------------------------------------------------------------- launches -> facts


class Site(Struct):
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
    from mlsec_lint.facts.modelsource import model_source_fact

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
        or base in SHELLS
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
    entry: dparser.Instruction | None = None
    cmd: dparser.Instruction | None = None
    for stage in chain:
        for inst in stage.instructions:
            if inst.keyword == "ENTRYPOINT":
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
    if not any("$" in a.text for a in argv) and next(run_argv(argv, {}, "none"), None) is None:
        # without a variable in the command line the environment cannot make it a launch
        return []
    env: Env = {}
    if img is not None:
        for name, value in img.env.items():
            env[name] = EnvVar(name, value, root.base_span, root.base_span, "image-default")
    variables: Env = {
        k: EnvVar(k, v, root.base_span, root.base_span) for k, v in df.global_args.items()
    }
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
    from mlsec_lint.parsers.dockerfile import exec_words

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
