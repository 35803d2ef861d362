"""Shell commands run at build or start time -> ``command`` facts and what they install
and download.

The same analysis serves Dockerfile ``RUN`` instructions (shell form, exec form and
heredocs) and shell scripts. Each simple command becomes a ``command`` fact; the
commands the supply chain depends on are understood with their arguments:

* ``pip`` / ``pip3`` / ``python -m pip`` / ``uv pip`` / ``pip-sync``: ``dependency``,
  ``package-index`` and a ``dependency-manifest`` for the packages named inline;
  ``-r`` / ``-c`` files are recorded so :mod:`mlsec_lint.resolve` can follow them;
* ``conda`` / ``mamba`` / ``micromamba install|create|update`` with conda match-spec
  semantics and channels, ``conda env create -f``, ``conda config --add channels``;
* ``uv sync``, ``poetry install``, ``pipenv install --deploy``, ``pdm sync``: installs
  from a lock file;
* ``apt-get`` / ``apt install``: packages and their versions;
* ``curl``, ``wget``, ``aria2c`` and Dockerfile ``ADD <url>``: URL, scheme, TLS
  verification switches, output file, and a checksum verification later in the same
  stage or script (``sha256sum -c``, ``ADD --checksum``);
* ``huggingface-cli download`` / ``hf download`` and ``git clone`` of hub repositories
  (with a later ``git checkout``): ``model-source`` facts with the revision;
* ``PIP_EXTRA_INDEX_URL``, ``PIP_TRUSTED_HOST``, ``UV_INDEX_STRATEGY`` … set for a
  command, exported, or set with ``pip config set``: ``package-index`` facts.

Nothing is executed; variables are expanded only from values written in the file.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.common import env_fact
from mlsec_lint.facts.dependencies import (
    ManifestInfo,
    conda_spec_info,
    dependency_fact,
    expand,
    index_fact,
    install_facts,
    manifest_fact,
    parse_pip_install,
)
from mlsec_lint.model import Notice, Span
from mlsec_lint.parsers.shell import Command, OffsetMap, Word, split_commands, strip_wrappers
from mlsec_lint.tree import PDict, PList

SpanOf = Callable[[Word], Span]

SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh"}
_SHELL_C = re.compile(r"^-[a-zA-Z]*c[a-zA-Z]*$")
# a script that is the output of a download: "$(curl …)", `wget -O- …`, <(curl …)
_FETCHED_SCRIPT = re.compile(r"(\$\(|`|<\()\s*(curl|wget)\b")
_RUN_WRAPPERS = {"conda", "mamba", "micromamba", "poetry", "pipenv", "pdm", "pixi"}
_RUN_WRAPPER_VALUE = {"-n", "--name", "-p", "--prefix", "-e", "--environment", "--cwd"}

# environment variables that configure package indexes -> (pip option, installer)
INDEX_ENV = {
    "PIP_INDEX_URL": ("--index-url", "pip"),
    "PIP_EXTRA_INDEX_URL": ("--extra-index-url", "pip"),
    "PIP_TRUSTED_HOST": ("--trusted-host", "pip"),
    "PIP_FIND_LINKS": ("--find-links", "pip"),
    "PIP_PRE": ("--pre", "pip"),
    "UV_INDEX_URL": ("--index-url", "uv"),
    "UV_DEFAULT_INDEX": ("--index-url", "uv"),
    "UV_EXTRA_INDEX_URL": ("--extra-index-url", "uv"),
    "UV_INDEX": ("--extra-index-url", "uv"),
    "UV_FIND_LINKS": ("--find-links", "uv"),
    "UV_INSECURE_HOST": ("--trusted-host", "uv"),
    "UV_PRERELEASE": ("--pre", "uv"),
}
_PIP_CONFIG_KEYS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "trusted-host": "--trusted-host",
    "find-links": "--find-links",
    "pre": "--pre",
}
_TRUTHY = {"1", "true", "yes", "on", "allow"}

_CHECKSUM_PROGRAMS = {
    "sha256sum",
    "sha512sum",
    "sha384sum",
    "sha224sum",
    "sha1sum",
    "md5sum",
    "b2sum",
    "shasum",
}
_MODEL_PATH_HINT = re.compile(r"(^|[/_.-])(models?|weights?|checkpoints?|ckpts?)([/_.-]|$)", re.I)
_ARCHIVE = re.compile(r"\.(tar\.gz|tgz|tar|zip|tar\.xz|tar\.zst|7z)$", re.I)
_PICKLE_FORMATS = {"pt", "pth", "bin", "ckpt", "pkl", "pickle", "joblib", "mar", "dill"}
_HF_HOSTS = {"huggingface.co", "hf.co", "www.huggingface.co"}


@dataclass(slots=True)
class Copy:
    """A Dockerfile ``COPY``/``ADD`` from the build context."""

    sources: list[str]
    dest: str  # absolute container path
    dest_dir: bool


@dataclass(slots=True)
class Session:
    """State shared by the commands of one Dockerfile stage or one script, in order."""

    path: str
    origin: str  # "dockerfile" | "shell"
    owner: str  # "stage/<name>" or "script"
    variables: dict[str, str] = field(default_factory=dict)
    workdir: str = ""
    copies: list[Copy] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    downloads: list[PDict] = field(default_factory=list)
    clones: list[tuple[str, PDict]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def key(self, what: str) -> str:
        n = self.counts.get(what, 0)
        self.counts[what] = n + 1
        return f"{self.owner}/{what}/{n}"

    def context_paths(self, p: str, cwd: str) -> list[str]:
        """Build-context paths that may hold the file a command names as ``p``."""
        if self.origin != "dockerfile":
            return [posixpath.normpath(p)] if p and not p.startswith("/") else []
        absolute = posixpath.normpath(posixpath.join(cwd or "/", p))
        out: list[str] = []
        for copy in reversed(self.copies):
            dest = posixpath.normpath(copy.dest)
            if copy.dest_dir:
                if absolute == dest:
                    out.extend(posixpath.normpath(src) for src in copy.sources)
                elif absolute.startswith(dest.rstrip("/") + "/"):
                    rest = absolute[len(dest.rstrip("/")) + 1 :]
                    for src in copy.sources:
                        if posixpath.basename(src.rstrip("/")) == rest:
                            out.append(posixpath.normpath(src))
                        out.append(posixpath.normpath(posixpath.join(src, rest)))
            elif absolute == dest:
                out.extend(posixpath.normpath(s) for s in copy.sources)
            if out:
                break
        if not p.startswith("/"):
            out.append(posixpath.normpath(p))
        seen: list[str] = []
        for c in out:
            if c not in seen and not c.startswith(".."):
                seen.append(c)
        return seen


@dataclass(slots=True)
class _Shell:
    """Per-shell state: each ``RUN`` starts a new shell; a script is one shell."""

    cwd: str
    variables: dict[str, str]


def run_script(session: Session, commands: Iterable[Command], span_of: SpanOf) -> None:
    """Analyse the simple commands of one shell (a ``RUN`` or a script), in order."""
    shell = _Shell(session.workdir, dict(session.variables))
    previous: Command | None = None
    for cmd in commands:
        _command(session, shell, cmd, span_of, previous)
        previous = cmd


def run_text(session: Session, text: str, span_of: SpanOf) -> None:
    run_script(session, split_commands(text), span_of)


def strip_run_wrappers(words: list[Word]) -> list[Word]:
    """``conda run -n env pip …``, ``poetry run pip …`` -> ``pip …``."""
    words = strip_wrappers(words)
    while len(words) >= 2 and _base(words[0].text) in _RUN_WRAPPERS and words[1].text == "run":
        i = 2
        while i < len(words) and words[i].text.startswith("-"):
            flag = words[i].text
            i += 2 if flag in _RUN_WRAPPER_VALUE else 1
        words = strip_wrappers(words[i:])
    return words


def _base(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _command(
    session: Session, shell: _Shell, cmd: Command, span_of: SpanOf, previous: Command | None
) -> None:
    # VAR=value before a command or alone on a line
    for w in cmd.assigns:
        name, _, value = w.text.partition("=")
        if not cmd.words:
            shell.variables[name] = expand(value, shell.variables)
        _assignment(session, name, value, w, span_of, shell.variables)
    words = strip_run_wrappers(list(cmd.words))
    if not words:
        return
    program = _base(words[0].text)
    if program in ("export", "declare", "typeset", "readonly", "local"):
        for w in words[1:]:
            if "=" in w.text and not w.text.startswith("-"):
                name, _, value = w.text.partition("=")
                shell.variables[name] = expand(value, shell.variables)
                _assignment(session, name, value, w, span_of, shell.variables)
        return
    if program == "env":
        for w in words[1:]:
            if "=" in w.text and not w.text.startswith("-"):
                name, _, value = w.text.partition("=")
                _assignment(session, name, value, w, span_of, shell.variables)
    if program == "cd" and len(words) >= 2:
        target = expand(words[1].text, shell.variables)
        if "$" not in target:
            shell.cwd = posixpath.normpath(posixpath.join(shell.cwd or "/", target))
        return
    if program in SHELLS and len(words) >= 3 and _SHELL_C.match(words[1].text):
        if _FETCHED_SCRIPT.search(words[2].text[:4096]):
            # sh -c "$(curl -fsSL https://…)": the downloaded text is the script
            session.facts.append(_command_fact(session, words, span_of))
        _nested(session, words[2], span_of)
        return
    done = session.counts.get("_commands", 0)
    if done >= MAX_COMMANDS:
        skipped = session.extra.setdefault("commands_not_analysed", [])
        if not skipped:
            skipped.append(span_of(words[0]).line)
        session.counts["not-analysed"] = session.counts.get("not-analysed", 0) + 1
        return
    session.counts["_commands"] = done + 1
    fact = _command_fact(session, words, span_of)
    data = fact.data
    if previous is not None and previous.separator == "|" and previous.words:
        # curl … | sh: what feeds this command's standard input
        upstream = strip_run_wrappers(list(previous.words))
        if upstream:
            first = span_of(upstream[0])
            piped = PDict(first)
            _put(piped, "program", _base(upstream[0].text), first)
            argv = PList(first)
            for w in upstream:
                argv.push(w.text, span_of(w))
            _put(piped, "argv", argv, first)
            _put(data, "piped_from", piped, first)
    if program in ("echo", "printf") and cmd.separator != "|" and not cmd.stdout_redirected:
        _printed_variables(words, span_of, data)
    session.facts.append(fact)
    handler = _HANDLERS.get(program)
    if handler is None and re.fullmatch(r"(pip[0-9.]*|python[0-9.]*|uv|pip-sync)", program):
        handler = _pip
    if handler is not None:
        handler(session, shell, words, span_of, data, previous)


MAX_COMMANDS = 20_000
"""Commands analysed per script or Dockerfile stage; the rest are announced."""


def budget_notice(session: Session, path: str) -> Notice | None:
    """The notice for the commands of ``session`` past :data:`MAX_COMMANDS`, if any."""
    lines = session.extra.get("commands_not_analysed")
    if not lines:
        return None
    n = session.counts.get("not-analysed", 0)
    return Notice(
        path,
        "partly-analysed",
        f"{n:,} commands past the first {MAX_COMMANDS:,} not analysed (from line {lines[0]})",
        "warning",
        lines[0],
    )


def _nested(session: Session, script: Word, span_of: SpanOf) -> None:
    """``sh -c "…"``: analyse the inner script; positions map into the quoted word when
    the word is a plain quoted string, otherwise every inner word points at the script."""
    inner = split_commands(script.text)
    exact = script.quoted and script.end - script.start == len(script.text) + 2
    base = script.start + 1

    def inner_span(w: Word) -> Span:
        if exact:
            return span_of(dataclasses.replace(w, start=base + w.start, end=base + w.end))
        return span_of(script)

    shell_session = session
    shell = _Shell(session.workdir, dict(session.variables))
    previous: Command | None = None
    for cmd in inner:
        _command(shell_session, shell, cmd, inner_span, previous)
        previous = cmd


_VARIABLE_REF = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=?][^}$]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)
"""``$NAME``, ``${NAME}`` and ``${NAME:-default}`` (not ``${#NAME}``, ``${NAME:0:4}``,
``${NAME:+set}``, which print no more than a length, a prefix or a constant)."""


def _printed_variables(words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``echo``/``printf`` writing variables to the log (not piped, not to a file)."""
    first = span_of(words[0])
    printed = PList(first)
    for w in words[1:]:
        if w.text.startswith("-") or "$" not in w.text or ">" in w.text:
            continue
        for m in _VARIABLE_REF.finditer(w.text[:4096]):
            printed.push(m.group(1) or m.group(2), span_of(w))
    if printed:
        _put(data, "printed_variables", printed, first)


def _command_fact(session: Session, words: Sequence[Word], span_of: SpanOf) -> Fact:
    first = span_of(words[0])
    argv = PList(first)
    for w in words:
        argv.push(w.text, span_of(w))
    data = PDict(first)
    program = _base(words[0].text)
    data.put("program", program, first, first)
    data.put("argv", argv, first, first.merge(span_of(words[-1])))
    data.put("origin", session.origin, first, first)
    data.put("owner", session.owner, first, first)
    for k, v in session.extra.items():
        data.put(k, v, first, first)
    data.put("context", PDict(first), first, first)
    return Fact("command", session.path, data, first, session.key(f"command/{program}"))


def _put(data: PDict, key: str, value: Any, span: Span) -> None:
    data.put(key, value, span, span)


def _assignment(
    session: Session,
    name: str,
    value: str,
    word: Word,
    span_of: SpanOf,
    variables: dict[str, str],
) -> None:
    """``NAME=value`` (alone, before a command, after ``export`` or ``env``): an ``env``
    fact (a literal unless the value expands something) and any package-index setting."""
    if _ENV_NAME.fullmatch(name):
        span = span_of(word)
        literal = not any(c in value for c in "$`")
        session.facts.append(
            env_fact(name, value, span, span, session.path, session.origin, session.owner, literal)
        )
    _index_env(session, name, value, word, span_of, variables)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _index_env(
    session: Session,
    name: str,
    value: str,
    word: Word,
    span_of: SpanOf,
    variables: dict[str, str],
) -> None:
    """``PIP_EXTRA_INDEX_URL=…`` and friends -> ``package-index`` facts."""
    if name not in INDEX_ENV:
        return
    option, installer = INDEX_ENV[name]
    value = expand(value, variables)
    span = span_of(word)
    if option == "--pre":
        if value.strip().lower() in _TRUTHY:
            session.facts.append(
                index_fact(
                    "--pre",
                    "",
                    span,
                    session.path,
                    session.origin,
                    installer=installer,
                    setting=f"{name}={value}",
                )
            )
        return
    extra: dict[str, Any] = {"env": name}
    if installer == "uv":
        strategy = variables.get("UV_INDEX_STRATEGY") or "first-index"
        extra.update(index_strategy=strategy, unsafe_strategy=strategy.startswith("unsafe-"))
    for item in value.replace(",", " ").split():
        session.facts.append(
            index_fact(
                option,
                item,
                span,
                session.path,
                session.origin,
                installer=installer,
                setting=f"{name}={value}",
                extra=extra,
            )
        )


def index_env_facts(name: str, value: str, span: Span, path: str, origin: str) -> list[Fact]:
    """``package-index`` facts of one environment assignment (Dockerfile ``ENV``/``ARG``)."""
    session = Session(path, origin, "env")
    word = Word(f"{name}={value}", 0, 1)
    _index_env(session, name, value, word, lambda _w: span, {})
    return session.facts


# ------------------------------------------------------------------ pip, uv, lock installs


def _pip(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    argv = [w.text for w in words]
    if _base(argv[0]) == "uv" and len(argv) >= 2 and argv[1] in ("sync", "add"):
        _uv_project(session, shell, words, span_of, data)
        return
    if len(argv) >= 3 and "config" in argv[:4]:
        _pip_config(session, words, span_of, data)
        return
    cmd = parse_pip_install(words, shell.variables)
    if cmd is None:
        if re.fullmatch(r"python[0-9.]*", _base(argv[0])):
            _python_c(session, words, span_of, data)
        return
    first = span_of(words[0])
    _put(data, "tool", cmd.installer, first)
    _put(data, "action", cmd.action, first)
    _put(data, "require_hashes", cmd.require_hashes, first)
    _put(data, "upgrade", cmd.upgrade, first)
    _put(data, "pre", cmd.pre is not None, first)
    _put(data, "no_deps", cmd.no_deps, first)
    for key, files in (
        ("requirement_files", cmd.requirement_files),
        ("constraint_files", cmd.constraint_files),
    ):
        lst = PList(first)
        for p, w in files:
            lst.push(_file_ref(session, shell, p, span_of(w)), span_of(w))
        _put(data, key, lst, first)
    projects = PList(first)
    for spec in cmd.specs:
        if spec.text.startswith((".", "/")) and not spec.dynamic:
            target = spec.text.split("[", 1)[0]
            projects.push(_file_ref(session, shell, target, span_of(spec.word)), span_of(spec.word))
    _put(data, "projects", projects, first)
    manifest = session.key("manifest") if cmd.specs else ""
    if manifest:
        _put(data, "manifest", manifest, first)
    facts = install_facts(cmd, span_of, session.path, session.origin, manifest)
    session.facts.extend(facts)
    deps = [f for f in facts if f.kind == "dependency"]
    if deps:
        info = ManifestInfo(
            f"{cmd.installer}-install",
            first,
            deps,
            require_hashes=cmd.require_hashes,
            key=manifest,
            extra={"command": " ".join(argv[:3])},
        )
        session.facts.append(manifest_fact(session.path, info))


def _file_ref(session: Session, shell: _Shell, p: str, span: Span) -> PDict:
    expanded = expand(p, shell.variables)
    ref = PDict(span)
    _put(ref, "path", p, span)
    cands = PList(span)
    if "$" not in expanded:
        for c in session.context_paths(expanded, shell.cwd):
            cands.push(c, span)
    _put(ref, "candidates", cands, span)
    return ref


def _pip_config(session: Session, words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``pip config [--global] set global.extra-index-url URL``."""
    argv = [w.text for w in words]
    if "set" not in argv:
        return
    i = argv.index("set")
    if i + 2 >= len(argv):
        return
    key = argv[i + 1].split(".", 1)[-1]
    option = _PIP_CONFIG_KEYS.get(key)
    if option is None:
        return
    span = span_of(words[i + 1]).merge(span_of(words[i + 2]))
    value = argv[i + 2]
    _put(data, "tool", "pip", span)
    _put(data, "action", "config", span)
    if option == "--pre":
        if value.lower() in _TRUTHY:
            session.facts.append(
                index_fact(
                    "--pre",
                    "",
                    span,
                    session.path,
                    session.origin,
                    setting=f"{argv[i + 1]} {value}",
                )
            )
        return
    for item in value.split():
        session.facts.append(
            index_fact(
                option, item, span, session.path, session.origin, setting=f"{argv[i + 1]} {value}"
            )
        )


def _uv_project(
    session: Session, shell: _Shell, words: Sequence[Word], span_of: SpanOf, data: PDict
) -> None:
    argv = [w.text for w in words]
    first = span_of(words[0])
    _put(data, "tool", "uv", first)
    _put(data, "action", argv[1], first)
    if argv[1] == "sync":
        _put(data, "uses_lock", True, first)
        _put(data, "lock_enforced", "--frozen" in argv or "--locked" in argv, first)
        _put(data, "projects", _project_dir(session, shell, first), first)
        return
    # uv add <specs>: packages written to pyproject.toml and installed
    specs = [w for w in words[2:] if not w.text.startswith("-")]
    deps = []
    for w in specs:
        text = expand(w.text, shell.variables)
        deps.append(
            dependency_fact(
                text,
                span_of(w),
                session.path,
                session.origin,
                installer="uv",
                dynamic="$" in text,
            )
        )
    session.facts.extend(deps)


def _project_dir(session: Session, shell: _Shell, span: Span) -> PList:
    projects = PList(span)
    projects.push(_file_ref(session, shell, ".", span), span)
    return projects


def _lock_install(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    """``poetry install``, ``pipenv install --deploy`` / ``sync``, ``pdm install`` / ``sync``."""
    argv = [w.text for w in words]
    program = _base(argv[0])
    if len(argv) < 2:
        return
    sub = argv[1]
    first = span_of(words[0])
    _put(data, "tool", program, first)
    _put(data, "action", sub, first)
    if program == "poetry" and sub == "source" and len(argv) >= 5 and argv[2] == "add":
        _poetry_source(session, words, span_of, data)
        return
    uses_lock = (
        (program == "poetry" and sub in ("install", "sync"))
        or (program == "pipenv" and (sub == "sync" or (sub == "install" and "--deploy" in argv)))
        or (program == "pdm" and sub in ("install", "sync"))
    )
    if uses_lock:
        _put(data, "uses_lock", True, first)
        _put(data, "lock_enforced", True, first)
        _put(data, "projects", _project_dir(session, shell, first), first)


def _poetry_source(session: Session, words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``poetry source add [--priority=supplemental] name url``."""
    args = [w for w in words[3:] if not w.text.startswith("-")]
    argv = [w.text for w in words]
    priority = "primary"
    for i, t in enumerate(argv):
        if t.startswith("--priority="):
            priority = t.split("=", 1)[1]
        elif t == "--priority" and i + 1 < len(argv):
            priority = argv[i + 1]
            args = [w for w in args if w.text != priority]
    if len(args) < 2:
        return
    url_word = args[1]
    option = "--extra-index-url" if priority in ("supplemental", "secondary") else "--index-url"
    session.facts.append(
        index_fact(
            option,
            url_word.text,
            span_of(url_word),
            session.path,
            session.origin,
            installer="poetry",
            setting=f"source {args[0].text} {url_word.text} ({priority})",
        )
    )


# ------------------------------------------------------------------ python -c

_HUB_CALLS = {
    "from_pretrained": ("pretrained_model_name_or_path", "model_name_or_path"),
    "snapshot_download": ("repo_id",),
    "hf_hub_download": ("repo_id",),
    "load_dataset": ("path",),
    "SentenceTransformer": ("model_name_or_path",),
    "pipeline": ("model",),
}


def _python_c(session: Session, words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``python -c "…from_pretrained('org/name')…"``: hub references baked into an image.

    The code is parsed with ``ast`` (never run). Only literal repository ids count; the
    Python rules do not see these strings, so they become ``model-source`` facts with
    ``via: python-c``.
    """
    import ast

    argv = [w.text for w in words]
    if "-c" not in argv[1:-1]:
        return
    code_word = words[argv.index("-c", 1) + 1]
    try:
        tree = ast.parse(code_word.text)
    except (SyntaxError, ValueError, RecursionError):
        return
    exact = code_word.quoted and code_word.end - code_word.start == len(code_word.text) + 2
    starts = [0]
    for k, c in enumerate(code_word.text):
        if c == "\n":
            starts.append(k + 1)

    def span_at(node: ast.expr) -> Span:
        if not exact or node.lineno - 1 >= len(starts):
            return span_of(code_word)
        offset = starts[node.lineno - 1] + node.col_offset
        end = offset + max(1, (node.end_col_offset or node.col_offset + 1) - node.col_offset)
        start = code_word.start + 1 + offset
        return span_of(dataclasses.replace(code_word, start=start, end=code_word.start + 1 + end))

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in _HUB_CALLS:
            continue
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        target = node.args[0] if node.args and name != "pipeline" else None
        for key in _HUB_CALLS[name]:
            target = target or kwargs.get(key)
        if not isinstance(target, ast.Constant) or not isinstance(target.value, str):
            continue
        repo = target.value
        rev_node = kwargs.get("revision")
        revision = None
        if isinstance(rev_node, ast.Constant) and isinstance(rev_node.value, str):
            revision = (rev_node.value, span_at(rev_node))
        src = model_source_data(
            repo,
            span_at(target),
            via="python-c",
            hub_id=repo,
            revision=revision,
            repo_type="dataset" if name == "load_dataset" else "model",
        )
        if rev_node is not None and revision is None:
            _put(src, "revision_pinned", True, span_at(rev_node))  # not a literal: unknown
        _put(data, "tool", "python", span_of(words[0]))
        session.facts.append(_model_fact(session, src))


# ------------------------------------------------------------------ conda

_CONDA_VALUE = {
    "-c",
    "--channel",
    "-n",
    "--name",
    "-p",
    "--prefix",
    "-f",
    "--file",
    "--solver",
    "--repodata-fn",
    "--platform",
    "--subdir",
    "-r",
    "--root-prefix",
    "--clone",
    "--channel-priority",
    "--experimental",
    "--category",
    "--rc-file",
    "--log-level",
}


def _conda(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    argv = [w.text for w in words]
    first = span_of(words[0])
    program = _base(argv[0])
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _CONDA_VALUE else 1
    if i >= len(argv):
        return
    sub = argv[i]
    _put(data, "tool", "conda", first)
    _put(data, "installer", program, first)
    if sub == "config":
        _conda_config(session, words[i + 1 :], span_of, data)
        return
    env_file = False
    if sub == "env" and i + 1 < len(argv) and argv[i + 1] in ("create", "update"):
        i += 1
        sub = argv[i]
        env_file = True
    if sub not in ("install", "create", "update", "upgrade"):
        _put(data, "action", sub, first)
        return
    _put(data, "action", sub, first)
    channels = PList(first)
    files = PList(first)
    specs: list[Word] = []
    override = False
    j = i + 1
    while j < len(words):
        w = words[j]
        t = w.text
        if t.startswith("-") and t != "-":
            name, eq, value = t.partition("=")
            vword = w
            if not eq and name in _CONDA_VALUE and j + 1 < len(words):
                j += 1
                vword = words[j]
                value = vword.text
            if name in ("-c", "--channel"):
                channels.push(value, span_of(vword))
                session.facts.append(
                    index_fact(
                        "channel",
                        value,
                        span_of(w).merge(span_of(vword)),
                        session.path,
                        session.origin,
                        installer="conda",
                        setting=t if w is vword else f"{t} {value}",
                        extra=channel_extra(value),
                    )
                )
            elif name in ("-f", "--file"):
                files.push(_file_ref(session, shell, value, span_of(vword)), span_of(vword))
            elif name == "--override-channels":
                override = True
            j += 1
            continue
        specs.append(w)
        j += 1
    _put(data, "channels", channels, first)
    _put(data, "override_channels", override, first)
    _put(data, "requirement_files" if not env_file else "environment_files", files, first)
    manifest = session.key("manifest")
    deps: list[Fact] = []
    if sub in ("update", "upgrade") and not specs:
        return
    for w in specs:
        text = expand(w.text, shell.variables)
        dynamic = "$" in text
        info = conda_spec_info(text)
        if info.get("channel"):
            session.facts.append(
                index_fact(
                    "channel",
                    str(info["channel"]),
                    span_of(w),
                    session.path,
                    session.origin,
                    installer="conda",
                    setting=text,
                    extra=channel_extra(str(info["channel"])),
                )
            )
        deps.append(
            dependency_fact(
                text,
                span_of(w),
                session.path,
                session.origin,
                installer=program,
                dynamic=dynamic,
                info=info,
                flags={"manifest": manifest},
            )
        )
    session.facts.extend(deps)
    if deps:
        session.facts.append(
            manifest_fact(
                session.path,
                ManifestInfo(
                    "conda-install",
                    first,
                    deps,
                    key=manifest,
                    extra={"command": " ".join(argv[: i + 1])},
                ),
            )
        )


def channel_extra(channel: str) -> dict[str, Any]:
    known = {str(c) for c in knowledge.table("frameworks").get("conda_channels") or []}
    name = channel.rstrip("/")
    if "://" in name:
        host_path = name.split("://", 1)[1]
        parts = host_path.split("/")
        name = parts[-1] if parts[0] in ("conda.anaconda.org", "anaconda.org") else ""
    return {"known": name in known, "nightly": "nightly" in channel.lower()}


def _conda_config(session: Session, words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``conda config --add channels X`` / ``--set ssl_verify false``."""
    argv = [w.text for w in words]
    for i, t in enumerate(argv):
        if (
            t in ("--add", "--append", "--prepend")
            and i + 2 < len(argv)
            and argv[i + 1] == "channels"
        ):
            w = words[i + 2]
            session.facts.append(
                index_fact(
                    "channel",
                    w.text,
                    span_of(words[i]).merge(span_of(w)),
                    session.path,
                    session.origin,
                    installer="conda",
                    setting=f"{t} channels {w.text}",
                    extra=channel_extra(w.text),
                )
            )
        if (
            t == "--set"
            and i + 2 < len(argv)
            and argv[i + 1] == "ssl_verify"
            and argv[i + 2].lower() in ("false", "no", "0")
        ):
            span = span_of(words[i]).merge(span_of(words[i + 2]))
            session.facts.append(
                index_fact(
                    "--trusted-host",
                    "*",
                    span,
                    session.path,
                    session.origin,
                    installer="conda",
                    setting=f"--set ssl_verify {argv[i + 2]}",
                )
            )


# ------------------------------------------------------------------ apt


def _apt(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    argv = [w.text for w in words]
    first = span_of(words[0])
    _put(data, "tool", "apt", first)
    sub_i = next((i for i, t in enumerate(argv[1:], 1) if not t.startswith("-")), None)
    if sub_i is None:
        return
    # "-o Dpkg::Options=…" and "-t release" take a value
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("-o", "-t", "-c", "--option", "--target-release") else 1
    if i >= len(argv):
        return
    _put(data, "action", argv[i], first)
    if argv[i] != "install":
        return
    packages = PList(first)
    no_recommends = "--no-install-recommends" in argv
    j = i + 1
    while j < len(words):
        t = words[j].text
        if t.startswith("-"):
            j += 2 if t in ("-o", "-t", "--option", "--target-release") else 1
            continue
        name, eq, version = t.partition("=")
        pkg = PDict(span_of(words[j]))
        _put(pkg, "name", name, span_of(words[j]))
        if eq:
            _put(pkg, "version", version, span_of(words[j]))
        _put(pkg, "pinned", bool(eq) or words[j].dynamic, span_of(words[j]))
        packages.push(pkg, span_of(words[j]))
        j += 1
    _put(data, "packages", packages, first)
    _put(data, "no_install_recommends", no_recommends, first)


# ------------------------------------------------------------------ downloads

_CURL_VALUE_SHORT = set("AbcCdDeEFHKmoPQrtTuUwxXyYz")
_CURL_VALUE_LONG = {
    "--output",
    "--output-dir",
    "--header",
    "--data",
    "--data-binary",
    "--data-raw",
    "--data-urlencode",
    "--data-ascii",
    "--user",
    "--request",
    "--user-agent",
    "--referer",
    "--cookie",
    "--cookie-jar",
    "--max-time",
    "--connect-timeout",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "--cacert",
    "--capath",
    "--cert",
    "--key",
    "--proxy",
    "--url",
    "--continue-at",
    "--range",
    "--write-out",
    "--form",
    "--form-string",
    "--config",
    "--limit-rate",
    "--max-filesize",
    "--proto",
    "--proto-redir",
    "--resolve",
    "--interface",
    "--dns-servers",
    "--oauth2-bearer",
    "--netrc-file",
    "--upload-file",
    "--time-cond",
    "--speed-time",
    "--speed-limit",
    "--local-port",
    "--max-redirs",
    "--keepalive-time",
    "--tls-max",
    "--ciphers",
    "--pinnedpubkey",
    "--aws-sigv4",
    "--variable",
    "--json",
    "--stderr",
    "--trace",
    "--trace-ascii",
    "--dump-header",
    "--connect-to",
    "--cert-type",
    "--key-type",
    "--pass",
    "--proxy-user",
    "--preproxy",
    "--socks5",
    "--unix-socket",
    "--expect100-timeout",
    "--happy-eyeballs-timeout-ms",
    "--retry-all-errors-delay",
}
_WGET_VALUE_SHORT = set("OoaPtTUeiwQlARDIXB")
_WGET_VALUE_LONG = {
    "--output-document",
    "--directory-prefix",
    "--tries",
    "--timeout",
    "--user-agent",
    "--header",
    "--user",
    "--password",
    "--http-user",
    "--http-password",
    "--output-file",
    "--append-output",
    "--input-file",
    "--wait",
    "--quota",
    "--level",
    "--accept",
    "--reject",
    "--domains",
    "--ca-certificate",
    "--ca-directory",
    "--certificate",
    "--private-key",
    "--post-data",
    "--post-file",
    "--method",
    "--body-data",
    "--referer",
    "--execute",
    "--load-cookies",
    "--save-cookies",
    "--limit-rate",
    "--progress",
    "--read-timeout",
    "--connect-timeout",
    "--dns-timeout",
    "--waitretry",
    "--bind-address",
    "--restrict-file-names",
    "--secure-protocol",
}
_ARIA_VALUE = {"-o", "--out", "-d", "--dir", "-x", "-s", "-k", "-j", "--header", "--checksum"}


@dataclass(slots=True)
class _Download:
    urls: list[Word] = field(default_factory=list)
    output: tuple[str, Word] | None = None
    output_dir: str | None = None
    remote_name: bool = False
    insecure: Word | None = None
    checksum: Word | None = None


def _parse_download(program: str, words: Sequence[Word]) -> _Download:
    d = _Download()
    if program == "curl":
        short_values, long_values = _CURL_VALUE_SHORT, _CURL_VALUE_LONG
    elif program == "wget":
        short_values, long_values = _WGET_VALUE_SHORT, _WGET_VALUE_LONG
    else:
        short_values, long_values = set("odxskj"), _ARIA_VALUE
    i = 1
    n = len(words)
    while i < n:
        w = words[i]
        t = w.text
        if t.startswith("--"):
            name, eq, value = t.partition("=")
            vword = w
            if not eq and name in long_values and i + 1 < n:
                i += 1
                vword = words[i]
                value = vword.text
            _download_option(program, d, name, value, w, vword)
        elif t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                c = t[j]
                if c in short_values:
                    value = t[j + 1 :]
                    vword = w
                    if not value and i + 1 < n:
                        i += 1
                        vword = words[i]
                        value = vword.text
                    _download_option(program, d, "-" + c, value, w, vword)
                    break
                _download_option(program, d, "-" + c, "", w, w)
                j += 1
        elif "://" in t:
            d.urls.append(w)
        i += 1
    return d


def _download_option(
    program: str, d: _Download, name: str, value: str, w: Word, vword: Word
) -> None:
    if program == "curl":
        if name in ("-k", "--insecure"):
            d.insecure = w
        elif name in ("-o", "--output"):
            d.output = (value, vword)
        elif name in ("-O", "--remote-name", "--remote-name-all"):
            d.remote_name = True
        elif name == "--output-dir":
            d.output_dir = value
        elif name == "--url":
            d.urls.append(vword)
    elif program == "wget":
        if name == "--no-check-certificate" or (
            name in ("-e", "--execute")
            and value.replace(" ", "").lower()
            in ("check_certificate=off", "check-certificate=off", "check_certificate=0")
        ):
            d.insecure = w
        elif name in ("-O", "--output-document"):
            d.output = (value, vword)
        elif name in ("-P", "--directory-prefix"):
            d.output_dir = value
    elif name in ("-o", "--out"):  # aria2c
        d.output = (value, vword)
    elif name in ("-d", "--dir"):
        d.output_dir = value
    elif name == "--check-certificate" and value.lower() == "false":
        d.insecure = w
    elif name == "--checksum":
        d.checksum = vword


def _fetch(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    program = _base(words[0].text)
    first = span_of(words[0])
    d = _parse_download(program, words)
    _put(data, "tool", program, first)
    _put(data, "action", "download", first)
    _put(data, "insecure", d.insecure is not None, span_of(d.insecure) if d.insecure else first)
    if d.output is not None:
        _put(data, "output", d.output[0], span_of(d.output[1]))
    urls = PList(first)
    for w in d.urls:
        urls.push(expand(w.text, shell.variables), span_of(w))
    _put(data, "urls", urls, first)
    if d.urls:
        url0 = expand(d.urls[0].text, shell.variables)
        _put(data, "url", url0, span_of(d.urls[0]))
        _put(data, "scheme", _scheme(url0), span_of(d.urls[0]))
    for w in d.urls:
        url = expand(w.text, shell.variables)
        output = d.output[0] if d.output is not None else None
        if output in ("-", "/dev/stdout"):
            output = None
        elif output is None and (d.remote_name or program in ("wget", "aria2c")):
            output = _url_file(url)
        if output is not None and d.output_dir and not output.startswith("/"):
            output = posixpath.join(d.output_dir, output)
        if not _is_model_download(url, output):
            continue
        src = model_source_data(
            url,
            span_of(w),
            via=program,
            insecure=(d.insecure is not None, span_of(d.insecure) if d.insecure else None),
            output=output,
        )
        if d.checksum is not None:
            _put(src, "checksum", d.checksum.text, span_of(d.checksum))
        else:
            session.downloads.append(src)
        session.facts.append(_model_fact(session, src))


def add_download(
    session: Session, url: str, span: Span, dest: str, checksum: tuple[str, Span] | None
) -> None:
    """Dockerfile ``ADD <url> <dest>`` (with optional ``--checksum``)."""
    base = url.split("#", 1)[0]
    output = dest
    if dest.endswith("/") or dest in (".", ""):
        output = posixpath.join(dest, _url_file(base) or "")
    if _hf_git(url) is None and not _is_model_download(base, output):
        return
    src = model_source_data(url, span, via="dockerfile-add", output=output)
    if checksum is not None:
        _put(src, "checksum", checksum[0], checksum[1])
    else:
        session.downloads.append(src)
    session.facts.append(_model_fact(session, src))


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _url_file(url: str) -> str | None:
    try:
        p = urlsplit(url).path
    except ValueError:
        return None
    name = p.rstrip("/").rsplit("/", 1)[-1]
    return name or None


def _is_model_download(url: str, output: str | None) -> bool:
    from mlsec_lint.engine.classifiers import is_model_file_url

    if "://" not in url:
        return False
    if is_model_file_url(url) or _hf_resolve(url) is not None:
        return True
    if output and is_model_file_url("file://" + output):
        return True
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    for candidate in (path, output or ""):
        if _ARCHIVE.search(candidate) and _MODEL_PATH_HINT.search(candidate):
            return True
    return False


def _hf_parts(url: str) -> tuple[str, list[str]] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if (parts.hostname or "").lower() not in _HF_HOSTS:
        return None
    segs = [s for s in parts.path.split("/") if s]
    repo_type = "model"
    if segs and segs[0] in ("datasets", "spaces"):
        repo_type = segs[0][:-1]
        segs = segs[1:]
    return repo_type, segs


def _hf_resolve(url: str) -> tuple[str, str, str] | None:
    """``https://huggingface.co/<org>/<name>/resolve/<rev>/<file>`` -> (repo, rev, type)."""
    found = _hf_parts(url)
    if found is None:
        return None
    repo_type, segs = found
    for marker in ("resolve", "raw", "blob"):
        if marker in segs:
            k = segs.index(marker)
            if 1 <= k <= 2 and k + 1 < len(segs):
                from urllib.parse import unquote

                return "/".join(segs[:k]), unquote(segs[k + 1]), repo_type
    return None


def _hf_git(url: str) -> tuple[str, str | None, str] | None:
    """A hub repository as a git URL (``https://huggingface.co/org/name[.git][#ref]``)."""
    base, _, ref = url.partition("#")
    found = _hf_parts(base)
    if found is None:
        return None
    repo_type, segs = found
    if len(segs) not in (1, 2) or any(s in ("resolve", "blob", "raw", "tree") for s in segs):
        return None
    repo = "/".join(segs)
    return repo.removesuffix(".git"), ref or None, repo_type


def model_source_data(
    uri: str,
    span: Span,
    *,
    via: str,
    hub_id: str | None = None,
    revision: tuple[str, Span] | None = None,
    repo_type: str | None = None,
    insecure: tuple[bool, Span | None] = (False, None),
    output: str | None = None,
) -> PDict:
    """The fields of a ``model-source`` fact (docs/facts.md)."""
    data = PDict(span)
    _put(data, "uri", uri, span)
    _put(data, "scheme", _scheme(uri) or ("hub" if hub_id else ""), span)
    _put(data, "via", via, span)
    resolved = _hf_resolve(uri) if "://" in uri else None
    git = _hf_git(uri) if "://" in uri and resolved is None else None
    if hub_id is None and resolved is not None:
        hub_id, rev, repo_type = resolved
        revision = (rev, span)
    elif hub_id is None and git is not None:
        hub_id, rev_opt, repo_type = git
        if rev_opt:
            revision = (rev_opt, span)
    if hub_id is not None:
        _put(data, "hub_id", hub_id, span)
        _put(data, "repo_type", repo_type or "model", span)
        if revision is not None:
            _put(data, "revision", revision[0], revision[1])
        pinned = revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision[0]) is not None
        _put(data, "revision_pinned", pinned, revision[1] if revision else span)
    fmt = _format(output or uri)
    if fmt:
        _put(data, "format", fmt, span)
    _put(data, "insecure", insecure[0], insecure[1] or span)
    if output:
        _put(data, "output", output, span)
    if "@sha256:" in uri:
        _put(data, "digest", uri.split("@", 1)[1], span)
    _put(data, "context", PDict(span), span)
    return data


def _format(path: str) -> str | None:
    name = path.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1].lower()
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[1]
    if ext in _PICKLE_FORMATS:
        return "pickle"
    if ext in (
        "safetensors",
        "onnx",
        "gguf",
        "ggml",
        "keras",
        "h5",
        "pb",
        "tflite",
        "engine",
        "plan",
        "npy",
        "npz",
        "model",
    ):
        return ext
    return None


def _model_fact(session: Session, data: PDict) -> Fact:
    return Fact("model-source", session.path, data, data.span, session.key("model-source"))


# ------------------------------------------------------------------ checksums


def _verify(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    """``sha256sum -c``, ``shasum -a 256 --check``, ``[ "$(sha256sum f …)" = … ]``."""
    program = _base(words[0].text)
    argv = [w.text for w in words]
    first = span_of(words[0])
    if program in _CHECKSUM_PROGRAMS:
        checking = any(
            t == "--check" or (re.fullmatch(r"-[a-zA-Z0-9]*c[a-zA-Z0-9]*", t) is not None)
            for t in argv[1:]
            if t.startswith("-") and not t.startswith("-a")
        )
        if not checking:
            return
    elif program in ("[", "[[", "test"):
        if not any(re.search(r"\b(sha\d*sum|shasum|md5sum|b2sum)\b", t) for t in argv[1:]):
            return
    elif not (
        (program == "gpg" and "--verify" in argv)
        or (program == "cosign" and len(argv) > 1 and argv[1].startswith("verify-blob"))
    ):
        return
    _put(data, "tool", "checksum", first)
    _put(data, "action", "verify", first)
    mentioned = " ".join(argv)
    if previous is not None and previous.separator == "|":
        mentioned += " " + " ".join(previous.argv)

    def named(d: PDict) -> bool:
        base = posixpath.basename(str(d.get("output") or ""))
        return bool(base) and base in mentioned

    targets = [d for d in session.downloads if named(d)] or list(session.downloads)
    for d in targets:
        _put(d, "checksum", " ".join(argv), first)
    session.downloads = [d for d in session.downloads if d not in targets]


# ------------------------------------------------------------------ hub downloads, git

_HF_VALUE = {
    "--repo-type",
    "--revision",
    "--cache-dir",
    "--local-dir",
    "--local-dir-use-symlinks",
    "--token",
    "--max-workers",
    "--format",
    "--etag-timeout",
}
_HF_MULTI = {"--include", "--exclude"}


def _hf(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    """``huggingface-cli download <repo> [files] [--revision R] [--repo-type T]``."""
    argv = [w.text for w in words]
    if len(argv) < 2 or argv[1] != "download":
        return
    first = span_of(words[0])
    _put(data, "tool", "huggingface-cli", first)
    _put(data, "action", "download", first)
    repo: Word | None = None
    revision: tuple[str, Word] | None = None
    repo_type = "model"
    i = 2
    while i < len(words):
        t = words[i].text
        if t.startswith("--"):
            name, eq, value = t.partition("=")
            if name in _HF_MULTI:
                if not eq:
                    while i + 1 < len(words) and not words[i + 1].text.startswith("-"):
                        i += 1
                i += 1
                continue
            vword = words[i]
            if not eq and name in _HF_VALUE and i + 1 < len(words):
                i += 1
                vword = words[i]
                value = vword.text
            if name == "--revision":
                revision = (value, vword)
            elif name == "--repo-type":
                repo_type = value
            i += 1
            continue
        if repo is None:
            repo = words[i]
        i += 1
    if repo is None:
        return
    repo_id = expand(repo.text, shell.variables)
    rev = None
    if revision is not None:
        rev = (expand(revision[0], shell.variables), span_of(revision[1]))
        _put(data, "revision", rev[0], rev[1])
    _put(data, "repo_id", repo_id, span_of(repo))
    if "$" in repo_id:
        return
    src = model_source_data(
        repo_id,
        span_of(repo),
        via="huggingface-cli",
        hub_id=repo_id,
        revision=rev,
        repo_type=repo_type,
    )
    if rev is not None and "$" in rev[0]:
        _put(src, "revision_pinned", True, rev[1])  # decided at build time
    session.facts.append(_model_fact(session, src))


_GIT_CLONE_VALUE = {
    "-b",
    "--branch",
    "--depth",
    "-o",
    "--origin",
    "-c",
    "--config",
    "--filter",
    "--reference",
    "-j",
    "--jobs",
    "--separate-git-dir",
    "--shallow-since",
    "--shallow-exclude",
    "--template",
    "-u",
    "--upload-pack",
    "--revision",
}


def _git(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    argv = [w.text for w in words]
    first = span_of(words[0])
    i = 1
    cwd = shell.cwd
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "-C" and i + 1 < len(argv):
            cwd = posixpath.normpath(posixpath.join(cwd or "/", argv[i + 1]))
            i += 2
            continue
        i += 2 if argv[i] == "-c" else 1
    if i >= len(argv):
        return
    sub = argv[i]
    if sub == "lfs" and i + 1 < len(argv) and argv[i + 1] == "clone":
        i += 1
        sub = "clone"
    _put(data, "tool", "git", first)
    _put(data, "action", sub, first)
    if sub == "clone":
        _git_clone(session, shell, words[i + 1 :], span_of, data, cwd)
    elif sub in ("checkout", "switch", "reset") or (sub == "fetch" and len(argv) > i + 2):
        refs = [w for w in words[i + 1 :] if not w.text.startswith("-")]
        if sub == "fetch":
            refs = refs[1:]  # git fetch <remote> <ref>
        if not refs or not session.clones:
            return
        ref = refs[0]
        target = next(
            (d for directory, d in reversed(session.clones) if directory == cwd),
            session.clones[-1][1],
        )
        _put(target, "revision", ref.text, span_of(ref))
        _put(
            target,
            "revision_pinned",
            re.fullmatch(r"[0-9a-f]{40}", ref.text) is not None,
            span_of(ref),
        )


def _git_clone(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    cwd: str,
) -> None:
    positional: list[Word] = []
    branch: Word | None = None
    i = 0
    while i < len(words):
        t = words[i].text
        if t.startswith("-"):
            name, eq, _ = t.partition("=")
            if name in ("-b", "--branch", "--revision"):
                if eq:
                    branch = words[i]
                elif i + 1 < len(words):
                    branch = words[i + 1]
            if not eq and name in _GIT_CLONE_VALUE:
                i += 1
            i += 1
            continue
        positional.append(words[i])
        i += 1
    if not positional:
        return
    url_word = positional[0]
    url = expand(url_word.text, shell.variables)
    _put(data, "url", url, span_of(url_word))
    if branch is not None:
        ref_text = branch.text.split("=", 1)[1] if branch.text.startswith("-") else branch.text
        _put(data, "ref", ref_text, span_of(branch))
    hub = _hf_git(url)
    directory = positional[1].text if len(positional) > 1 else _url_file(url.split("#")[0]) or ""
    directory = posixpath.normpath(posixpath.join(cwd or "/", directory.removesuffix(".git")))
    if hub is None:
        return
    rev = None
    if branch is not None:
        ref_text = branch.text.split("=", 1)[1] if branch.text.startswith("-") else branch.text
        rev = (ref_text, span_of(branch))
    src = model_source_data(
        url, span_of(url_word), via="git-clone", hub_id=hub[0], revision=rev, repo_type=hub[2]
    )
    session.clones.append((directory, src))
    session.facts.append(_model_fact(session, src))


_HANDLERS: dict[
    str, Callable[[Session, _Shell, Sequence[Word], SpanOf, PDict, Command | None], None]
] = {
    "conda": _conda,
    "mamba": _conda,
    "micromamba": _conda,
    "apt-get": _apt,
    "apt": _apt,
    "curl": _fetch,
    "wget": _fetch,
    "aria2c": _fetch,
    "huggingface-cli": _hf,
    "hf": _hf,
    "git": _git,
    "poetry": _lock_install,
    "pipenv": _lock_install,
    "pdm": _lock_install,
    "[": _verify,
    "[[": _verify,
    "test": _verify,
    "gpg": _verify,
    "cosign": _verify,
    **dict.fromkeys(_CHECKSUM_PROGRAMS, _verify),
}


def extract_script(text: str, path: str) -> FileAnalysis:
    """A shell script: one shell, its commands in order."""
    fa = FileAnalysis(path, "shell")
    omap = OffsetMap.for_text(text)

    def span_of(w: Word) -> Span:
        line, col = omap.position(w.start)
        eline, ecol = omap.position(max(w.start, w.end - 1))
        return Span(line, col, eline, ecol + 1)

    session = Session(path, "shell", "script")
    run_text(session, text, span_of)
    fa.facts.extend(session.facts)
    notice = budget_notice(session, path)
    if notice is not None:
        fa.notices.append(notice)
    return fa


def from_argv(
    items: Sequence[tuple[str, Span]],
    path: str,
    origin: str,
    owner: str = "argv",
    inner: Sequence[Callable[[int, int], Span] | None] | None = None,
) -> list[Fact]:
    """Facts of one argv given as (word, span) pairs: a container ``command``/``args``, a
    compose ``command``, an exec-form ``CMD``. ``sh -c "…"`` scripts are analysed too;
    with ``inner`` (for each item, the span of a character range of its text) their words
    point at themselves, otherwise at the script's item."""
    words = [Word(text, i, i + 1, dynamic="$" in text) for i, (text, _span) in enumerate(items)]

    def span_of(w: Word) -> Span:
        return items[min(max(w.start, 0), len(items) - 1)][1]

    session = Session(path, origin, owner)
    stripped = strip_wrappers(words)
    offset = len(words) - len(stripped)
    if (
        inner is not None
        and len(stripped) >= 3
        and _base(stripped[0].text) in SHELLS
        and _SHELL_C.match(stripped[1].text)
        and inner[offset + 2] is not None
    ):
        mapper = inner[offset + 2]
        assert mapper is not None
        script = items[offset + 2][0]
        run_script(session, split_commands(script), lambda w: mapper(w.start, w.end))
        return session.facts
    run_script(session, [Command(words=words)], span_of)
    return session.facts
