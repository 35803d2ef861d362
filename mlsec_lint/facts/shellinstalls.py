"""Package installs in shell commands -> ``dependency``, ``package-index`` and
``dependency-manifest`` facts.

``pip`` / ``pip3`` / ``python -m pip`` / ``uv pip`` / ``pip-sync``, lock-file installs (``uv
sync``, ``poetry install``, ``pipenv install --deploy``, ``pdm sync``), ``conda`` / ``mamba``
/ ``micromamba`` with their channels and ``conda config``, ``apt-get`` / ``apt install``, and
the index variables (``PIP_EXTRA_INDEX_URL``, ``PIP_TRUSTED_HOST``, ``UV_INDEX_STRATEGY`` …)
set for a command, exported, or set with ``pip config set``.

Called by the walk in :mod:`mlsec_lint.facts.shellcmds`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.facts.common import env_fact
from mlsec_lint.facts.dependencies import ManifestInfo, dependency_fact, index_fact, manifest_fact
from mlsec_lint.facts.depspecs import conda_spec_info
from mlsec_lint.facts.pipinstall import expand, install_facts, parse_pip_install
from mlsec_lint.facts.shelldownloads import _python_c
from mlsec_lint.facts.shellsession import Session, SpanOf, _base, _put, _Shell
from mlsec_lint.model import Span
from mlsec_lint.parsers.shell import Command, Word
from mlsec_lint.tree import PDict, PList

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
_PYTHON = re.compile(r"python[0-9.]*")


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
    if name not in INDEX_ENV:
        return []
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
        if _PYTHON.fullmatch(_base(argv[0])):
            _python_c(session, words, span_of, data)
        return
    first = span_of(words[0])
    fields: dict[str, Any] = {
        "tool": cmd.installer,
        "action": cmd.action,
        "require_hashes": cmd.require_hashes,
        "upgrade": cmd.upgrade,
        "pre": cmd.pre is not None,
        "no_deps": cmd.no_deps,
    }
    for key, files in (
        ("requirement_files", cmd.requirement_files),
        ("constraint_files", cmd.constraint_files),
    ):
        lst = PList(first)
        for p, w in files:
            lst.push(_file_ref(session, shell, p, span_of(w)), span_of(w))
        fields[key] = lst
    projects = PList(first)
    for spec in cmd.specs:
        if spec.text.startswith((".", "/")) and not spec.dynamic:
            target = spec.text.split("[", 1)[0]
            projects.push(_file_ref(session, shell, target, span_of(spec.word)), span_of(spec.word))
    fields["projects"] = projects
    manifest = session.key("manifest") if cmd.specs else ""
    if manifest:
        fields["manifest"] = manifest
    data.put_all(fields, first)
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
        channel, dep = conda_spec_facts(
            text,
            span_of(w),
            session.path,
            session.origin,
            program,
            {"manifest": manifest},
            dynamic="$" in text,
        )
        if channel is not None:
            session.facts.append(channel)
        deps.append(dep)
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


def conda_spec_facts(
    text: str,
    span: Span,
    path: str,
    origin: str,
    installer: str,
    flags: dict[str, Any],
    dynamic: bool = False,
) -> tuple[Fact | None, Fact]:
    """The facts of one conda spec (``conda install`` word, environment file entry): a
    ``channel`` index fact when it names one (``conda-forge::numpy``), and its dependency."""
    info = conda_spec_info(text)
    channel = None
    if info.get("channel"):
        name = str(info["channel"])
        channel = index_fact(
            "channel",
            name,
            span,
            path,
            origin,
            installer="conda",
            setting=text,
            extra=channel_extra(name),
        )
    dep = dependency_fact(
        text, span, path, origin, installer=installer, dynamic=dynamic, info=info, flags=flags
    )
    return channel, dep


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
