"""ML job launchers whose YAML holds shell: SkyPilot tasks, dstack configurations, Cog builds.

These files say what runs on a cloud machine or goes into a model image, mostly as shell
written inside YAML:

=====================  ==========================================  ============================
launcher               shell                                        environment and packages
=====================  ==========================================  ============================
SkyPilot task          ``setup``, ``run`` (strings)                 ``envs``, ``secrets`` (maps)
dstack configuration   ``commands``, ``init`` (lists of strings)    ``env`` (map or ``K=V`` list)
Cog (``cog.yaml``)     ``build.run`` (strings or ``{command}``)     ``build.python_packages``,
                                                                    ``build.python_requirements``
=====================  ==========================================  ============================

Each script goes through the shell analysis (installs, downloads, ``curl | sh``, printed
credentials) and the server-launch analysis (``vllm serve --host 0.0.0.0`` …) with the
file's environment, every position mapped back to the characters of the YAML scalar.
Literal values in the environment maps are ``env`` facts (credentials). Cog installs its
``python_packages`` and ``python_requirements`` into the model image, so they are
dependencies installed into an image (as a Dockerfile's ``pip install``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlsec_lint.facts import Fact
from mlsec_lint.facts.common import env_fact
from mlsec_lint.model import Notice, Span
from mlsec_lint.tree import PDict, PList

if TYPE_CHECKING:
    from mlsec_lint.facts.launchargs import Env, FileText
    from mlsec_lint.parsers.shell import Word

MAX_SCRIPT_CHARS = 200_000
"""Longer scalars are not analysed as shell (data, not a script)."""

_SKYPILOT_KEYS = frozenset(
    {"resources", "envs", "secrets", "num_nodes", "file_mounts", "workdir", "service", "setup"}
)
_DSTACK_TYPES = frozenset({"task", "service", "dev-environment"})


def detect(doc: Any, name: str) -> str | None:
    """Which launcher a YAML document configures: ``skypilot``, ``dstack``, ``cog`` or
    ``None``. Cog by its file name; dstack by its ``type`` and commands; SkyPilot by a
    ``run`` or ``setup`` script next to the keys of a task."""
    if not isinstance(doc, PDict) or "apiVersion" in doc or "services" in doc:
        return None
    lower = name.lower()
    if lower in ("cog.yaml", "cog.yml") and isinstance(doc.get("build"), PDict):
        return "cog"
    if str(doc.get("type")) in _DSTACK_TYPES and (
        isinstance(doc.get("commands"), PList)
        or isinstance(doc.get("init"), PList)
        or lower.endswith((".dstack.yml", ".dstack.yaml"))
    ):
        return "dstack"
    scripts = any(isinstance(doc.get(k), str) for k in ("run", "setup"))
    if scripts and any(k in doc for k in _SKYPILOT_KEYS):
        return "skypilot"
    return None


def extract(
    doc: PDict, path: str, text: str, launcher: str, notices: list[Notice] | None = None
) -> list[Fact]:
    """Facts of one launcher document (see :func:`detect`); notices of the analysis
    (a script with more commands than are analysed) go to ``notices``."""
    from mlsec_lint.facts.launchargs import FileText

    ft = FileText(text)
    facts: list[Fact] = []
    said = notices if notices is not None else []
    if launcher == "skypilot":
        env = _env_map(doc, ("envs", "secrets"), path, facts)
        context = _skypilot_exposure(doc)
        for key in ("setup", "run"):
            script = doc.get(key)
            if isinstance(script, str):
                owner = f"skypilot/{key}"
                facts.extend(_script(script, doc.vspan[key], ft, path, owner, env, said, context))
    elif launcher == "dstack":
        env = _env_map(doc, ("env",), path, facts)
        context = _dstack_exposure(doc)
        for key in ("init", "commands"):
            items = doc.get(key)
            if isinstance(items, PList):
                for i, item in enumerate(items):
                    if isinstance(item, str):
                        owner = f"dstack/{key}/{i}"
                        span = items.item_span(i)
                        facts.extend(_script(item, span, ft, path, owner, env, said, context))
    elif launcher == "cog":
        build = doc["build"]
        facts.extend(_cog_packages(build, path))
        runs = build.get("run")
        if isinstance(runs, PList):
            for i, item in enumerate(runs):
                script, span = item, runs.item_span(i)
                if isinstance(item, PDict) and isinstance(item.get("command"), str):
                    script, span = item["command"], item.vspan["command"]
                if isinstance(script, str):
                    facts.extend(_script(script, span, ft, path, f"cog/run/{i}", {}, said))
        reqs = build.get("python_requirements")
        if isinstance(reqs, str) and reqs.strip():
            span = build.vspan["python_requirements"]
            # what Cog runs for it, positioned at the file name
            command = f"pip install -r {reqs.strip()}"
            facts.extend(_script(command, span, None, path, "cog", {}, said))
    return facts


def _exposed(span: Span, via: str, port: Any) -> PDict:
    """An exposure context (as the cross-file pass writes for containers) for the servers
    a launcher starts: reachable from outside the machine, and how."""
    entry = PDict(span)
    entry.put("via", via, span, span)
    if port is not None and not isinstance(port, (PDict, PList)):
        entry.put("port", port, span, span)
    exposure = PList(span)
    exposure.push(entry, span)
    context = PDict(span)
    context.put("exposed", True, span, span)
    context.put("exposure", exposure, span, span)
    return context


def _skypilot_exposure(doc: PDict) -> PDict | None:
    """``resources.ports`` opens the ports on the cloud machine to any address; a
    ``service`` section puts a SkyServe load balancer in front of the replicas."""
    resources = doc.get("resources")
    if isinstance(resources, PDict) and resources.get("ports") not in (None, "", []):
        ports = resources["ports"]
        return _exposed(resources.vspan["ports"], "SkyPilot resources.ports", ports)
    if isinstance(doc.get("service"), PDict):
        return _exposed(doc.kspan["service"], "SkyServe service", None)
    return None


def _dstack_exposure(doc: PDict) -> PDict | None:
    """A dstack ``service`` is published through the gateway; with ``auth: false`` the
    gateway lets every caller through."""
    if str(doc.get("type")) != "service" or doc.get("auth") is not False:
        return None
    return _exposed(doc.vspan["auth"], "dstack service with auth: false", doc.get("port"))


def _env_map(doc: PDict, keys: tuple[str, ...], path: str, facts: list[Fact]) -> Env:
    """``env`` facts of the literal values and the environment scripts start with."""
    from mlsec_lint.facts.launchargs import EnvVar

    env: Env = {}
    for key in keys:
        value = doc.get(key)
        pairs: list[tuple[str, Any, Span, Span]] = []
        if isinstance(value, PDict):
            pairs = [
                (str(k), v, value.kspan.get(k, value.span), value.vspan.get(k, value.span))
                for k, v in value.items()
            ]
        elif isinstance(value, PList):  # dstack: ["HF_TOKEN", "MODEL=org/name"]
            for i, item in enumerate(value):
                if isinstance(item, str):
                    name, eq, val = item.partition("=")
                    span = value.item_span(i)
                    pairs.append((name.strip(), val if eq else None, span, span))
        for name, val, kspan, vspan in pairs:
            if not name or isinstance(val, (PDict, PList)):
                continue
            text = None if val is None else str(val)
            facts.append(env_fact(name, text, kspan, vspan, path, key, key, text is not None))
            if text is not None:
                env[name] = EnvVar(name, text, vspan, kspan, "env")
    return env


def _script(
    script: str,
    span: Span,
    ft: FileText | None,
    path: str,
    owner: str,
    env: Env,
    notices: list[Notice],
    context: PDict | None = None,
) -> list[Fact]:
    """Shell and launch facts of one script written as a YAML scalar at ``span``
    (``ft``: the file's text, to map each character; ``None``: every word at ``span``)."""
    if len(script) > MAX_SCRIPT_CHARS or not script.strip():
        return []
    from mlsec_lint.facts import launch, launchargs, launchcommands, shellcmds, shellsession

    if ft is not None:
        start = ft.offset(span.line, span.col)
        end = ft.offset(span.end_line, span.end_col)
        doc = launchargs.Arg(script, ft.doc, start, max(end, start + 1)).inner()
    else:
        doc = launchargs.Doc(script, lambda _o: (span.line, span.col))

    def span_of(w: Word) -> Span:
        if ft is None:
            return span
        return doc.span(w.start, w.end)

    session = shellsession.Session(path, "shell", owner)
    session.variables.update({k: str(v.value) for k, v in env.items()})
    shellcmds.run_text(session, script, span_of)
    notice = shellcmds.budget_notice(session, path)
    if notice is not None:
        notices.append(notice)
    facts = list(session.facts)
    site = launch.Site(path, "shell", owner, context if context is not None else PDict(span))
    facts.extend(launch.launch_facts(launchcommands.run_script(doc, env), site))
    return facts


def _cog_packages(build: PDict, path: str) -> list[Fact]:
    """``build.python_packages``: pip-installed into the model image by ``cog build``."""
    from mlsec_lint.facts.dependencies import image_packages

    packages = build.get("python_packages")
    if not isinstance(packages, PList):
        return []
    where = f"{path}:{build.kspan['python_packages'].line} (Cog build)"
    items = ((item, packages.item_span(i)) for i, item in enumerate(packages))
    return image_packages(items, path, "cog", where)
