"""Dependency manifests other than requirements files -> ``dependency``, ``package-index``
and ``dependency-manifest`` facts.

* ``pyproject.toml``: PEP 621 ``dependencies`` and ``optional-dependencies``, PEP 735
  ``dependency-groups``, Poetry dependencies and groups, uv / Poetry / PDM package
  sources, uv git sources;
* ``Pipfile``: ``packages``, ``dev-packages`` and ``[[source]]``;
* ``setup.cfg``: ``install_requires`` and ``extras_require``;
* conda environment files: conda match specs, the ``pip:`` section, ``channels``;
* lock files (``uv.lock``, ``poetry.lock``, ``pdm.lock``, ``pylock.toml``,
  ``Pipfile.lock``, ``conda-lock.yml``) are read in :mod:`mlsec_lint.facts.lockfiles`;
* ``pip.conf`` / ``pip.ini``: index settings.

TOML is read with ``tomllib`` (``tomli`` on Python 3.10) and positioned with
:mod:`mlsec_lint.parsers.tomlpos`; YAML and JSON with :mod:`mlsec_lint.parsers.yamldoc`.

**Libraries and deployable services.** Version ranges are normal in a library's
metadata, so the pinning rules judge a ``pyproject.toml`` or ``setup.cfg`` only when it
describes something that is deployed. A project counts as deployable when it has no
``[build-system]`` (it is not built into a distribution), when it says so
(``[tool.uv] package = false``, ``[tool.poetry] package-mode = false``, ``[tool.pdm]
distribution = false``, a ``[tool.bentoml]`` table), or when a Dockerfile or compose
file sits next to it; :mod:`mlsec_lint.resolve` also marks it deployable when a scanned
Dockerfile installs it. Everything else is a library (``library: true``).
"""

from __future__ import annotations

import os
import posixpath
import re
import sys
from collections.abc import Iterable
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.dependencies import (
    ManifestInfo,
    dependency_fact,
    image_packages,
    index_fact,
    manifest_fact,
)
from mlsec_lint.facts.depspecs import pipfile_spec_info, poetry_spec_info
from mlsec_lint.model import Notice, Span
from mlsec_lint.parsers import requirements as reqparser
from mlsec_lint.parsers.tomlpos import TomlPositions, locate
from mlsec_lint.tree import PDict, PList

LOCK_NAMES = ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "Pipfile.lock", "conda-lock.yml")
DEV_GROUPS = {
    "dev",
    "devel",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "lint",
    "linting",
    "typing",
    "types",
    "docs",
    "doc",
    "style",
    "format",
    "mypy",
    "pre-commit",
    "benchmark",
    "benchmarks",
    "bench",
    "ci",
}
_DEPLOY_FILES = re.compile(
    r"^(dockerfile|containerfile|.*\.dockerfile|dockerfile\..+|"
    r"(docker-)?compose(\.[^.]+)?\.ya?ml|procfile|bentofile\.yaml)$",
    re.I,
)


def _toml(text: str, path: str) -> tuple[dict[str, Any] | None, list[Notice]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = str(exc).split(" (at ", 1)[0]
        return None, [Notice(path, "parse-error", f"invalid TOML: {msg}", "warning", line)]


def sibling_names(abspath: str) -> list[str]:
    """Names of the files next to a scanned file (empty for stdin or unreadable dirs)."""
    if not abspath:
        return []
    try:
        return sorted(os.listdir(os.path.dirname(abspath)))
    except OSError:
        return []


def _locks_among(names: Iterable[str], wanted: Iterable[str]) -> list[str]:
    wanted = set(wanted)
    out = []
    for name in names:
        if name in wanted or (
            "pylock.toml" in wanted and name.startswith("pylock.") and name.endswith(".toml")
        ):
            out.append(name)
    return out


def _deploy_files(names: Iterable[str]) -> list[str]:
    return [n for n in names if _DEPLOY_FILES.match(n)]


def _first(span: Span | None, *more: Span | None) -> Span:
    for s in (span, *more):
        if s is not None:
            return s
    return Span(1, 1, 1, 2)


def _dep_span(pos: TomlPositions, path: tuple[str, ...], value: str, nth: int) -> Span:
    return pos.string(path, value, nth) or pos.near(path)


def _key_value_span(pos: TomlPositions, path: tuple[str, ...]) -> Span:
    """``name = "spec"`` as one span when on one line, else the key."""
    key = pos.key(path)
    strings = pos.strings.get(path)
    if key is not None and strings and strings[0][1].line == key.line:
        return key.merge(strings[0][1])
    return key or pos.near(path)


# ------------------------------------------------------------------ pyproject.toml


def from_pyproject(text: str, path: str, abspath: str = "") -> FileAnalysis:
    fa = FileAnalysis(path, "pyproject")
    data, notices = _toml(text, path)
    fa.notices.extend(notices)
    if data is None:
        return fa
    pos = locate(text)
    deps: list[Fact] = []
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    assert isinstance(project, dict)
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else {}
    assert isinstance(uv, dict) and isinstance(poetry, dict) and isinstance(pdm, dict)
    sources = uv.get("sources") if isinstance(uv.get("sources"), dict) else {}
    assert isinstance(sources, dict)

    def pep621(items: Any, key: tuple[str, ...], group: str, dev: bool) -> None:
        if not isinstance(items, list):
            return
        counts: dict[str, int] = {}
        for item in items:
            if not isinstance(item, str):
                continue
            nth = counts.get(item, 0)
            counts[item] = nth + 1
            span = _dep_span(pos, key, item, nth)
            fact = dependency_fact(
                item, span, path, "pyproject", flags={"group": group, "dev": dev, "manifest": path}
            )
            _apply_uv_source(fact, sources, pos)
            deps.append(fact)

    pep621(project.get("dependencies"), ("project", "dependencies"), "main", False)
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for group, items in optional.items():
            key = ("project", "optional-dependencies", str(group))
            pep621(items, key, f"optional:{group}", _is_dev(str(group)))
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, items in groups.items():
            pep621(items, ("dependency-groups", str(group)), f"group:{group}", _is_dev(str(group)))
    pep621(uv.get("dev-dependencies"), ("tool", "uv", "dev-dependencies"), "dev", True)
    pdm_dev = pdm.get("dev-dependencies")
    if isinstance(pdm_dev, dict):
        for group, items in pdm_dev.items():
            pep621(items, ("tool", "pdm", "dev-dependencies", str(group)), f"dev:{group}", True)

    def poetry_table(table: Any, key: tuple[str, ...], group: str, dev: bool) -> None:
        if not isinstance(table, dict):
            return
        for name, spec in table.items():
            if str(name).lower() == "python":
                continue
            info = poetry_spec_info(str(name), spec)
            span = _key_value_span(pos, (*key, str(name)))
            deps.append(
                dependency_fact(
                    info["raw"],
                    span,
                    path,
                    "pyproject",
                    installer="poetry",
                    info=info,
                    flags={"group": group, "dev": dev, "manifest": path},
                )
            )

    poetry_table(poetry.get("dependencies"), ("tool", "poetry", "dependencies"), "main", False)
    poetry_table(
        poetry.get("dev-dependencies"), ("tool", "poetry", "dev-dependencies"), "dev", True
    )
    pgroups = poetry.get("group")
    if isinstance(pgroups, dict):
        for group, body in pgroups.items():
            if isinstance(body, dict):
                optional_group = bool(body.get("optional"))
                poetry_table(
                    body.get("dependencies"),
                    ("tool", "poetry", "group", str(group), "dependencies"),
                    f"group:{group}",
                    _is_dev(str(group)) or optional_group,
                )
    fa.facts.extend(deps)
    fa.facts.extend(_bentoml_build_packages(tool, pos, path))
    fa.facts.extend(_bentoml_build_args(tool, pos, path))
    fa.facts.extend(_pyproject_indexes(tool, pos, path))
    # library or deployable?
    siblings = sibling_names(abspath)
    reasons: list[str] = []
    if "build-system" not in data:
        reasons.append("no [build-system]")
    if uv.get("package") is False:
        reasons.append("[tool.uv] package = false")
    if poetry.get("package-mode") is False:
        reasons.append("[tool.poetry] package-mode = false")
    if pdm.get("distribution") is False:
        reasons.append("[tool.pdm] distribution = false")
    if "bentoml" in tool:
        reasons.append("[tool.bentoml]")
    reasons.extend(f"{n} next to it" for n in _deploy_files(siblings))
    locks = _locks_among(siblings, ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"))
    anchor = _first(pos.tables.get(("project",)), pos.tables.get(("tool", "poetry")))
    fa.facts.append(
        _manifest(
            path,
            "pyproject",
            anchor,
            deps,
            locks,
            library=not reasons,
            extra={"deployable_reason": "; ".join(reasons)},
        )
    )
    return fa


def _bentoml_build_packages(tool: dict[str, Any], pos: TomlPositions, path: str) -> list[Fact]:
    """``[tool.bentoml.build]`` ``python.packages`` (or ``packages``): BentoML pip-installs
    them into the Bento's image, as it does a ``bentofile.yaml``'s ``python.packages``."""
    bento = tool.get("bentoml")
    build = bento.get("build") if isinstance(bento, dict) else None
    if not isinstance(build, dict):
        return []
    python = build.get("python")
    lists: list[tuple[tuple[str, ...], Any]] = [
        (("tool", "bentoml", "build", "packages"), build.get("packages"))
    ]
    if isinstance(python, dict):
        lists.append((("tool", "bentoml", "build", "python", "packages"), python.get("packages")))
    facts: list[Fact] = []
    for key, items in lists:
        if not isinstance(items, list):
            continue
        counts: dict[str, int] = {}
        located: list[tuple[Any, Span]] = []
        for item in items:
            if isinstance(item, str):
                nth = counts.get(item, 0)
                counts[item] = nth + 1
                located.append((item, _dep_span(pos, key, item, nth)))
        facts.extend(image_packages(located, path, "bentofile", f"{path} (BentoML build)"))
    return facts


TRUST_REMOTE_CODE = re.compile(r"--trust[-_]remote[-_]code(?:=(?:true|1|yes))?", re.IGNORECASE)
"""A BentoML template argument passing ``--trust-remote-code`` to the runtime."""


def _bentoml_build_args(tool: dict[str, Any], pos: TomlPositions, path: str) -> list[Fact]:
    """``[tool.bentoml.build.args]`` template arguments that pass ``--trust-remote-code``
    to the model runtime the service starts (``cli_args = [..., "--trust-remote-code"]``):
    a ``bentoml`` server fact with ``trust_remote_code`` (and ``model`` from
    ``model_id``/``model``); nothing when no argument trusts remote code."""
    bento = tool.get("bentoml")
    build = bento.get("build") if isinstance(bento, dict) else None
    args = build.get("args") if isinstance(build, dict) else None
    if not isinstance(args, dict):
        return []
    base = ("tool", "bentoml", "build", "args")
    trust: Span | None = None
    for key, value in args.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and TRUST_REMOTE_CODE.fullmatch(item.strip()):
                trust = pos.string((*base, str(key)), item, 0) or pos.near((*base, str(key)))
                break
        if trust is not None:
            break
    if trust is None:
        return []
    from mlsec_lint.facts.serversettings import Resolved, Value, server_data
    from mlsec_lint.facts.servertables import server_spec

    spec = server_spec("bentoml")
    if spec is None:
        return []
    res = Resolved(spec)
    res.values["trust_remote_code"] = Value(True, trust, trust, "config-file")
    for key in ("model_id", "model"):
        model = args.get(key)
        if isinstance(model, str) and model.strip():
            mspan = _key_value_span(pos, (*base, key))
            res.values["model"] = Value(model.strip(), mspan, mspan, "config-file")
            break
    anchor = pos.tables.get(base) or trust
    data = server_data(res, "config-file", anchor, PDict(anchor))
    return [Fact("server", path, data, anchor, "bentoml-build-args")]


def _is_dev(group: str) -> bool:
    return knowledge.normalize_package(group) in DEV_GROUPS


def _apply_uv_source(fact: Fact, sources: dict[str, Any], pos: TomlPositions) -> None:
    """``[tool.uv.sources] x = {git = …, branch = …}`` decides where ``x`` comes from."""
    name = str(fact.data["name"])
    entry = next(
        (v for k, v in sources.items() if knowledge.normalize_package(str(k)) == name), None
    )
    if not isinstance(entry, dict) or "git" not in entry:
        return
    ref = next((str(entry[k]) for k in ("rev", "tag", "branch") if entry.get(k)), None)
    pinned = "rev" in entry and re.fullmatch(r"[0-9a-f]{40}", str(entry["rev"])) is not None
    span = fact.anchor
    fact.data.put("pinned", pinned, span, span)
    fact.data.put("kind", "vcs", span, span)
    fact.data.put("url", str(entry["git"]), span, span)
    if ref is not None:
        fact.data.put("vcs_ref", ref, span, span)
    reason = (
        ""
        if pinned
        else (
            "[tool.uv.sources] installs it from git "
            + (f"'{ref}', a branch or tag, not a commit" if ref else "without a commit")
        )
    )
    fact.data.put("unpinned_reason", reason, span, span)
    fact.data.pop("version", None)
    fact.data.pop("vulnerable", None)


def _pyproject_indexes(tool: dict[str, Any], pos: TomlPositions, path: str) -> list[Fact]:
    facts: list[Fact] = []
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
    assert isinstance(uv, dict)
    strategy = str(uv.get("index-strategy") or "first-index")
    unsafe = strategy.startswith("unsafe-")
    uv_extra = {"index_strategy": strategy, "unsafe_strategy": unsafe}
    for key, option in (
        ("index-url", "--index-url"),
        ("extra-index-url", "--extra-index-url"),
        ("find-links", "--find-links"),
    ):
        values = uv.get(key)
        for v in values if isinstance(values, list) else [values] if values else []:
            span = _dep_span(pos, ("tool", "uv", key), str(v), 0)
            facts.append(
                index_fact(
                    option,
                    str(v),
                    span,
                    path,
                    "pyproject",
                    installer="uv",
                    setting=f"{key} = {v}",
                    extra=uv_extra,
                )
            )
    for key in ("allow-insecure-host",):
        for v in uv.get(key) or []:
            span = _dep_span(pos, ("tool", "uv", key), str(v), 0)
            facts.append(
                index_fact(
                    "--trusted-host",
                    str(v),
                    span,
                    path,
                    "pyproject",
                    installer="uv",
                    setting=f"{key} = {v}",
                )
            )
    if uv.get("prerelease") == "allow":
        span = _key_value_span(pos, ("tool", "uv", "prerelease"))
        facts.append(
            index_fact(
                "--pre", "", span, path, "pyproject", installer="uv", setting='prerelease = "allow"'
            )
        )
    indexes = uv.get("index")
    if isinstance(indexes, list):
        for i, idx in enumerate(indexes):
            if not isinstance(idx, dict) or not isinstance(idx.get("url"), str):
                continue
            url = idx["url"]
            span = _dep_span(pos, ("tool", "uv", "index", "url"), url, 0)
            explicit = bool(idx.get("explicit"))
            option = (
                "--index-url" if idx.get("default") or explicit or i == 0 else "--extra-index-url"
            )
            facts.append(
                index_fact(
                    option,
                    url,
                    span,
                    path,
                    "pyproject",
                    installer="uv",
                    setting=f"[[tool.uv.index]] url = {url}",
                    extra={**uv_extra, "explicit": explicit},
                )
            )
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    assert isinstance(poetry, dict)
    psources = poetry.get("source")
    if isinstance(psources, list):
        for src in psources:
            if not isinstance(src, dict) or not isinstance(src.get("url"), str):
                continue
            url = src["url"]
            priority = str(
                src.get("priority") or ("secondary" if src.get("secondary") else "primary")
            )
            span = _dep_span(pos, ("tool", "poetry", "source", "url"), url, 0)
            option = (
                "--extra-index-url" if priority in ("supplemental", "secondary") else "--index-url"
            )
            facts.append(
                index_fact(
                    option,
                    url,
                    span,
                    path,
                    "pyproject",
                    installer="poetry",
                    setting=f"[[tool.poetry.source]] {src.get('name', '')} ({priority}) {url}",
                )
            )
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else {}
    assert isinstance(pdm, dict)
    for src in pdm.get("source") or []:
        if isinstance(src, dict) and isinstance(src.get("url"), str):
            facts.extend(_source_facts(src, pos, ("tool", "pdm", "source"), path, "pdm"))
    return facts


def _source_facts(
    src: dict[str, Any], pos: TomlPositions, key: tuple[str, ...], path: str, installer: str
) -> list[Fact]:
    """A Pipfile / PDM ``[[source]]``: its URL, and ``verify_ssl = false``."""
    url = str(src["url"])
    span = _dep_span(pos, (*key, "url"), url, 0)
    option = "--find-links" if src.get("type") == "find_links" else "--index-url"
    facts = [
        index_fact(
            option,
            url,
            span,
            path,
            installer,
            installer=installer,
            setting=f"[[source]] {src.get('name', '')} {url}",
        )
    ]
    if src.get("verify_ssl") is False:
        vspan = pos.key((*key, "verify_ssl")) or span
        host = url.split("://", 1)[-1].split("/", 1)[0]
        facts.append(
            index_fact(
                "--trusted-host",
                host,
                vspan,
                path,
                installer,
                installer=installer,
                setting=f"verify_ssl = false ({url})",
            )
        )
    return facts


def _manifest(
    path: str,
    fmt: str,
    anchor: Span,
    deps: list[Fact],
    locks: list[str],
    library: bool = False,
    includes: list[tuple[str, str, Span]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Fact:
    directory = posixpath.dirname(path)
    lock_paths = [posixpath.join(directory, n) if directory else n for n in locks]
    for d in deps:
        d.data.put("library", library, d.anchor, d.anchor)
        if lock_paths:
            d.data.put("locked", True, d.anchor, d.anchor)
    info = ManifestInfo(
        fmt,
        anchor,
        deps,
        includes or [],
        library=library,
        lock_files=lock_paths,
        key=f"manifest/{fmt}",
        extra=extra or {},
    )
    return manifest_fact(path, info)


# ------------------------------------------------------------------ Pipfile


def from_pipfile(text: str, path: str, abspath: str = "") -> FileAnalysis:
    fa = FileAnalysis(path, "pipfile")
    data, notices = _toml(text, path)
    fa.notices.extend(notices)
    if data is None:
        return fa
    pos = locate(text)
    deps: list[Fact] = []
    for table, dev in (("packages", False), ("dev-packages", True)):
        entries = data.get(table)
        if not isinstance(entries, dict):
            continue
        for name, spec in entries.items():
            info = pipfile_spec_info(str(name), spec)
            span = _key_value_span(pos, (table, str(name)))
            deps.append(
                dependency_fact(
                    info["raw"],
                    span,
                    path,
                    "pipfile",
                    installer="pipenv",
                    info=info,
                    flags={"group": table, "dev": dev, "manifest": path},
                )
            )
    fa.facts.extend(deps)
    for src in data.get("source") or []:
        if isinstance(src, dict) and isinstance(src.get("url"), str):
            fa.facts.extend(_source_facts(src, pos, ("source",), path, "pipenv"))
    locks = _locks_among(sibling_names(abspath), ("Pipfile.lock",))
    anchor = _first(pos.tables.get(("packages",)))
    fa.facts.append(_manifest(path, "pipfile", anchor, deps, locks))
    return fa


# ------------------------------------------------------------------ setup.cfg

_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$")


def from_setup_cfg(text: str, path: str, abspath: str = "") -> FileAnalysis:
    """``[options] install_requires`` and ``[options.extras_require]`` of a setup.cfg."""
    fa = FileAnalysis(path, "setup-cfg")
    deps: list[Fact] = []
    includes: list[tuple[str, str, Span]] = []
    section = ""
    key = ""
    anchor: Span | None = None
    for no, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        m = _SECTION.match(stripped) if not raw[:1].isspace() else None
        if m:
            section, key = m.group(1).strip(), ""
            continue
        value_col = 0
        if not raw[:1].isspace():
            km = _KEY.match(raw)
            if not km:
                key = ""
                continue
            key = km.group(1)
            value = km.group(2)
            value_col = km.start(2)
        else:
            value = raw
            value_col = 0
        target = _setup_group(section, key)
        if target is None:
            continue
        group, dev = target
        spec = value.strip()
        comment = re.search(r"\s#", spec)
        if comment:
            spec = spec[: comment.start()].rstrip()
        if not spec or spec.startswith(("#", ";")):
            continue
        col = raw.find(spec, value_col) + 1
        span = Span(no, col, no, col + len(spec))
        anchor = anchor or span
        if spec.startswith("file:"):
            for f in spec[5:].split(","):
                if f.strip():
                    includes.append(("-r", f.strip(), span))
            continue
        deps.append(
            dependency_fact(
                spec, span, path, "setup-cfg", flags={"group": group, "dev": dev, "manifest": path}
            )
        )
    fa.facts.extend(deps)
    siblings = sibling_names(abspath)
    deploy = _deploy_files(siblings)
    fa.facts.append(
        _manifest(
            path,
            "setup-cfg",
            _first(anchor),
            deps,
            [],
            library=not deploy,
            includes=includes,
            extra={"deployable_reason": "; ".join(f"{n} next to it" for n in deploy)},
        )
    )
    return fa


def _setup_group(section: str, key: str) -> tuple[str, bool] | None:
    if section == "options" and key == "install_requires":
        return "main", False
    if section == "options.extras_require" and key:
        return f"optional:{key}", _is_dev(key)
    return None


# ------------------------------------------------------------------ conda environment files


def looks_like_conda_env(doc: Any) -> bool:
    """A conda environment: a mapping whose ``dependencies`` is a list of match-spec
    strings (and ``pip:`` sections), with no Kubernetes or compose markers."""
    if not isinstance(doc, dict) or "apiVersion" in doc or "services" in doc:
        return False
    deps = doc.get("dependencies")
    if not isinstance(deps, list) or not any(isinstance(x, str) for x in deps):
        return False
    return all(isinstance(x, str) or (isinstance(x, dict) and set(x) == {"pip"}) for x in deps)


def from_conda_env(text: str, path: str, abspath: str = "") -> FileAnalysis | None:
    """An ``environment.yml``; None when the YAML is not a conda environment."""
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    try:
        stream = load_stream(text)
    except YamlError:
        return None
    docs = [d.value for d in stream.docs]
    if len(docs) != 1 or not looks_like_conda_env(docs[0]):
        return None
    return conda_env_facts(docs[0], path, abspath)


def conda_env_facts(doc: PDict, path: str, abspath: str = "") -> FileAnalysis:
    """Facts of a parsed conda environment document (see :func:`looks_like_conda_env`)."""
    from mlsec_lint.facts.shellinstalls import channel_extra, conda_spec_facts

    fa = FileAnalysis(path, "conda-env")
    channels = doc.get("channels")
    if isinstance(channels, PList):
        for i, ch in enumerate(channels):
            if isinstance(ch, str):
                span = channels.item_span(i)
                fa.facts.append(
                    index_fact(
                        "channel",
                        ch,
                        span,
                        path,
                        "conda-env",
                        installer="conda",
                        setting=f"channels: {ch}",
                        extra=channel_extra(ch),
                    )
                )
    deps: list[Fact] = []
    includes: list[tuple[str, str, Span]] = []
    items = doc["dependencies"]
    assert isinstance(items, PList)
    for i, item in enumerate(items):
        span = items.item_span(i)
        if isinstance(item, str):
            flags = {"group": "conda", "manifest": path}
            channel, dep = conda_spec_facts(item, span, path, "conda-env", "conda", flags)
            if channel is not None:
                fa.facts.append(channel)
            deps.append(dep)
        elif isinstance(item, PDict) and isinstance(item.get("pip"), PList):
            pips: PList = item["pip"]
            for k, entry in enumerate(pips):
                if not isinstance(entry, str):
                    continue
                espan = pips.item_span(k)
                for line in reqparser.parse(entry):
                    for opt in line.options:
                        if opt.name in (
                            "--index-url",
                            "--extra-index-url",
                            "--trusted-host",
                            "--find-links",
                        ):
                            fa.facts.append(
                                index_fact(opt.name, opt.value, espan, path, "conda-env")
                            )
                        elif opt.name in ("--requirement", "--constraint"):
                            short = "-r" if opt.name == "--requirement" else "-c"
                            includes.append((short, opt.value, espan))
                    if line.text:
                        hashes = [o.value for o in line.options if o.name == "--hash"]
                        deps.append(
                            dependency_fact(
                                line.text,
                                espan,
                                path,
                                "conda-env",
                                hashes=hashes,
                                flags={"group": "pip", "manifest": path},
                            )
                        )
    fa.facts.extend(deps)
    locks = [
        n
        for n in sibling_names(abspath)
        if n in ("conda-lock.yml", "conda-lock.yaml") or n.endswith(".conda-lock.yml")
    ]
    anchor = doc.kspan.get("dependencies") or doc.span
    fa.facts.append(_manifest(path, "conda-env", anchor, deps, locks, includes=includes))
    return fa


# ------------------------------------------------------------------ pip.conf

_PIP_CONF_KEYS = {
    "index-url": "--index-url",
    "index_url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "extra_index_url": "--extra-index-url",
    "trusted-host": "--trusted-host",
    "trusted_host": "--trusted-host",
    "find-links": "--find-links",
    "find_links": "--find-links",
    "pre": "--pre",
}


def from_pip_conf(text: str, path: str) -> FileAnalysis:
    """``[global]`` / ``[install]`` index settings of a pip configuration file."""
    fa = FileAnalysis(path, "pip-conf")
    key = ""
    for no, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if _SECTION.match(stripped) and not raw[:1].isspace():
            key = ""
            continue
        if not raw[:1].isspace():
            km = _KEY.match(raw)
            if not km:
                key = ""
                continue
            key = km.group(1).lower()
            value, col0 = km.group(2), km.start(2)
        else:
            value, col0 = raw, 0
        option = _PIP_CONF_KEYS.get(key)
        if option is None:
            continue
        for m in re.finditer(r"\S+", value):
            col = col0 + m.start() + 1
            span = Span(no, col, no, col + len(m.group(0)))
            if option == "--pre":
                if m.group(0).lower() in ("true", "yes", "1", "on"):
                    fa.facts.append(
                        index_fact(
                            "--pre", "", span, path, "pip-conf", setting=f"{key} = {m.group(0)}"
                        )
                    )
                continue
            fa.facts.append(
                index_fact(
                    option, m.group(0), span, path, "pip-conf", setting=f"{key} = {m.group(0)}"
                )
            )
    return fa
