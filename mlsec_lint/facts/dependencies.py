"""Python and conda package requirements -> ``dependency``, ``package-index`` and
``dependency-manifest`` facts.

One normalizer serves every place a package is declared: requirements and constraints
files, ``pyproject.toml`` (PEP 621 and Poetry), ``Pipfile``, ``setup.cfg``, conda
environment files, lock files, and install commands (``pip install``, ``python -m pip
install``, ``uv pip install``, ``conda install`` …) in Dockerfiles and scripts, so a
pinning rule is written once. PEP 440/508 specifiers and versions are parsed with
``packaging``; conda match specs and Poetry constraints, which are not PEP 440, are
classified here and their versions validated with ``packaging``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.linear import sub_variables
from mlsec_lint.model import Notice, Span
from mlsec_lint.parsers import requirements as reqparser
from mlsec_lint.parsers.shell import Word
from mlsec_lint.tree import PDict, PList

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_WHEEL = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*)-(?P<version>[0-9][^-]*)(-.*)?\.(whl|tar\.gz|zip|tar\.bz2)$"
)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9._-]+)")
_GITHUB_ARCHIVE = re.compile(
    r"^/(?P<org>[^/]+)/(?P<repo>[^/]+)/archive/(?:refs/(?:heads|tags)/)?(?P<ref>.+?)"
    r"\.(?:zip|tar\.gz|tgz)$"
)
_SHA40 = re.compile(r"[0-9a-f]{40}")
_HEXISH = re.compile(r"[0-9a-f]{7,39}")


def _vcs_reason(ref: str | None) -> str:
    if ref is None:
        return "VCS reference without a ref (default branch)"
    if _HEXISH.fullmatch(ref):
        return f"VCS reference '{ref}' is an abbreviated commit, not a full 40-hex commit"
    return f"VCS reference '{ref}' is a branch or tag, not a commit"


def _spec_info(text: str) -> dict[str, Any]:
    """Analyse one requirement string (PEP 508, URL, VCS or path)."""
    t = text.strip()
    if len(t) > 512:
        return _analyse_spec(t)
    # the same requirements recur across a repository's files: parse each text once
    return {k: list(v) if isinstance(v, list) else v for k, v in _spec_info_of(t).items()}


@functools.lru_cache(maxsize=8192)
def _spec_info_of(t: str) -> dict[str, Any]:
    return _analyse_spec(t)


def _analyse_spec(t: str) -> dict[str, Any]:
    from packaging.requirements import InvalidRequirement, Requirement

    info: dict[str, Any] = {"raw": t}
    if t.startswith(_VCS_PREFIXES) or re.match(
        r"^[\w.-]+(\[[^\]]*\])?\s*@\s*(git|hg|svn|bzr)\+", t
    ):
        url = t.split("@", 1)[1].strip() if not t.startswith(_VCS_PREFIXES) else t
        name_part = t.split("@", 1)[0].strip() if not t.startswith(_VCS_PREFIXES) else None
        if name_part and "[" in name_part:
            name_part = name_part.split("[", 1)[0].strip()
        egg = _EGG.search(url)
        name = name_part or (egg.group(1) if egg else _repo_name(url))
        ref = _vcs_ref(url)
        info.update(
            kind="vcs",
            name=name,
            url=url,
            vcs_ref=ref,
            pinned=ref is not None and _SHA40.fullmatch(ref) is not None,
            reason=_vcs_reason(ref),
        )
        return info
    if "://" in t and not re.match(r"^[\w.-]+(\[[^\]]*\])?\s*@", t):
        return _url_info(t, None, info)
    if "://" not in t and (
        t.startswith((".", "/", "~", "file:")) or t.endswith((".whl", ".tar.gz", ".zip"))
    ):
        info.update(kind="path", name=_file_name(t) or t, pinned=True, reason="")
        wheel = _WHEEL.match(_file_name(t) or "")
        if wheel:
            info.update(name=wheel.group("name"), version=wheel.group("version"))
        return info
    try:
        req = Requirement(t)
    except InvalidRequirement:
        info.update(
            kind="invalid",
            name=re.split(r"[\s<>=!~\[;@$]", t, maxsplit=1)[0],
            pinned=True,
            reason="",
        )
        return info
    info.update(
        kind="pep508",
        name=req.name,
        extras=sorted(req.extras),
        marker=str(req.marker) if req.marker else None,
    )
    if req.url:
        return _url_info(req.url, req.name, info)
    specs = list(req.specifier)
    info["specifier"] = str(req.specifier)
    exact = [s for s in specs if s.operator in ("==", "===") and "*" not in s.version]
    if exact:
        info.update(pinned=True, version=exact[0].version, reason="")
    elif not specs:
        info.update(pinned=False, reason="no version specifier")
    elif any(s.operator == "==" for s in specs):
        info.update(pinned=False, reason=f"'{req.specifier}' is a wildcard, not an exact version")
    else:
        info.update(pinned=False, reason=f"'{req.specifier}' is a range, not an exact version")
    return info


def _url_info(url: str, name: str | None, info: dict[str, Any]) -> dict[str, Any]:
    if url.startswith(_VCS_PREFIXES):
        ref = _vcs_ref(url)
        info.update(
            kind="vcs",
            name=name or _repo_name(url),
            url=url,
            vcs_ref=ref,
            pinned=ref is not None and _SHA40.fullmatch(ref) is not None,
            reason=_vcs_reason(ref),
        )
        return info
    fname = _file_name(url)
    m = _WHEEL.match(fname or "")
    hashed = "#sha256=" in url or "&sha256=" in url
    archive = _github_archive(url)
    if archive is not None and not m:
        repo, ref = archive
        pinned = _SHA40.fullmatch(ref) is not None or hashed
        info.update(
            kind="url",
            name=name or repo,
            url=url,
            vcs_ref=ref,
            pinned=pinned,
            reason="" if pinned else f"source archive of '{ref}', a branch or tag, not a commit",
        )
        return info
    info.update(
        kind="url",
        name=name or (m.group("name") if m else fname or url),
        url=url,
        version=m.group("version") if m else None,
        pinned=bool(m) or hashed,
        reason="" if (m or hashed) else "direct URL without a version or hash",
    )
    if url.lower().startswith("http://") and not hashed:
        info.update(
            pinned=False, reason="direct URL over plain HTTP, which can be replaced in transit"
        )
    return info


def _github_archive(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if (parts.hostname or "").lower() not in ("github.com", "codeload.github.com"):
        return None
    m = _GITHUB_ARCHIVE.match(parts.path)
    return (m.group("repo"), m.group("ref")) if m else None


def _file_name(url: str) -> str | None:
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    return unquote(path.rstrip("/").rsplit("/", 1)[-1]) or None


def _repo_name(url: str) -> str:
    base = url.split("#", 1)[0]
    try:
        path = urlsplit(base.split("+", 1)[-1]).path
    except ValueError:
        path = base
    name = path.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0]
    return name.removesuffix(".git") or url


def _vcs_ref(url: str) -> str | None:
    base = url.split("#", 1)[0]
    try:
        path = urlsplit(base.split("+", 1)[-1]).path
    except ValueError:
        return None
    return path.rsplit("@", 1)[1] if "@" in path else None


# ------------------------------------------------------------------ conda match specs

_CONDA_OPS = re.compile(r"(==|>=|<=|!=|~=|>|<|=)")


def conda_spec_info(text: str) -> dict[str, Any]:
    """Analyse a conda match spec (``pkg``, ``pkg=1.2``, ``pkg==1.2``, ``pkg=1.2=build``,
    ``pkg 1.2 build``, ``chan::pkg>=1``, ``pkg[version='>=1']``).

    A single ``=`` is a fuzzy prefix match (``1.2`` means ``1.2.*``); ``==``, a version
    followed by a build string, or a space-separated version without wildcard is exact.
    """
    t = text.strip()
    info: dict[str, Any] = {"raw": t, "kind": "conda"}
    channel = None
    if "::" in t:
        channel, t = t.split("::", 1)
        channel = channel.split("/", 1)[0] if "/" in channel and "://" not in channel else channel
    brackets: dict[str, str] = {}
    if "[" in t and t.endswith("]"):
        t, _, inner = t[:-1].partition("[")
        # one start per word (a key that fails is not retried from inside itself)
        for key, value in re.findall(r"(?<!\w)(\w+)\s*=\s*['\"]?([^,'\"]*)['\"]?", inner):
            brackets[key.lower()] = value.strip()
    parts = t.split()
    head = parts[0] if parts else ""
    m = re.match(r"[A-Za-z0-9_.*-]+", head)
    name = m.group(0) if m else head
    rest = head[m.end() :].strip() if m else ""
    version_spec = ""
    build = ""
    exact_by_space = False
    if rest:
        if rest.startswith("=") and not rest.startswith("=="):
            body = rest[1:]
            if "=" in body and not any(op in body for op in ("==", ">=", "<=", "!=")):
                version_spec, build = body.split("=", 1)
                version_spec = "==" + version_spec
            else:
                version_spec = "=" + body
        else:
            version_spec = rest
    elif len(parts) >= 2:
        version_spec = parts[1]
        build = parts[2] if len(parts) >= 3 else ""
        exact_by_space = not _CONDA_OPS.match(version_spec)
    if "version" in brackets:
        version_spec = brackets["version"]
        exact_by_space = not _CONDA_OPS.match(version_spec)
    if "build" in brackets:
        build = brackets["build"]
    info.update(name=name, channel=channel, specifier=version_spec or None, build=build or None)
    version = _conda_exact(version_spec, exact_by_space)
    if version is not None:
        info.update(pinned=True, version=version, reason="")
    elif not version_spec:
        info.update(pinned=False, reason="no version specifier")
    elif version_spec.startswith("=") and not version_spec.startswith("=="):
        v = version_spec[1:]
        info.update(
            pinned=False,
            reason=f"'{info['raw']}' is a fuzzy conda match ({v.rstrip('.*')}.*), "
            "not an exact version",
        )
    elif "*" in version_spec:
        info.update(pinned=False, reason=f"'{info['raw']}' is a wildcard, not an exact version")
    else:
        info.update(pinned=False, reason=f"'{info['raw']}' is a range, not an exact version")
    return info


def _conda_exact(spec: str, bare_is_exact: bool) -> str | None:
    from packaging.version import InvalidVersion, Version

    if not spec or "*" in spec or "," in spec or "|" in spec:
        return None
    if spec.startswith("=="):
        candidate = spec[2:]
    elif bare_is_exact and not _CONDA_OPS.match(spec):
        candidate = spec
    else:
        return None
    try:
        Version(candidate)
    except InvalidVersion:
        return candidate if re.fullmatch(r"[0-9][0-9A-Za-z._+-]*", candidate) else None
    return candidate


# ------------------------------------------------------------------ Poetry and Pipfile


def poetry_spec_info(name: str, value: Any) -> dict[str, Any]:
    """A Poetry dependency (``"^2.0"``, ``"2.0.1"``, ``{version = …}``, ``{git = …}``)."""
    info: dict[str, Any] = {"raw": f"{name} = {_short(value)}", "kind": "poetry", "name": name}
    if isinstance(value, list):  # multiple-constraint dependency: pinned if every entry is
        subs = [poetry_spec_info(name, v) for v in value]
        pinned = bool(subs) and all(s.get("pinned") for s in subs)
        info.update(
            pinned=pinned,
            reason="" if pinned else next((s["reason"] for s in subs if not s.get("pinned")), ""),
        )
        versions = {s.get("version") for s in subs}
        if pinned and len(versions) == 1:
            info["version"] = versions.pop()
        return info
    if isinstance(value, dict):
        for key in ("git", "hg", "svn"):
            if key in value:
                ref = next((str(value[k]) for k in ("rev", "tag", "branch") if value.get(k)), None)
                pinned = "rev" in value and _SHA40.fullmatch(str(value["rev"])) is not None
                info.update(
                    kind="vcs",
                    url=str(value[key]),
                    vcs_ref=ref,
                    pinned=pinned,
                    reason="" if pinned else _vcs_reason(ref),
                )
                return info
        if "path" in value:
            info.update(kind="path", pinned=True, reason="")
            return info
        if "url" in value:
            return _url_info(str(value["url"]), name, info)
        if "extras" in value and isinstance(value["extras"], list):
            info["extras"] = sorted(str(e) for e in value["extras"])
        if "markers" in value:
            info["marker"] = str(value["markers"])
        value = value.get("version", "*")
    return _poetry_constraint(str(value), info)


def _poetry_constraint(constraint: str, info: dict[str, Any]) -> dict[str, Any]:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    c = constraint.strip()
    info["specifier"] = c
    if c in ("", "*"):
        info.update(pinned=False, reason="no version constraint ('*')")
        return info
    if c.startswith(("^", "~")) and not c.startswith("~="):
        info.update(pinned=False, reason=f"'{c}' is a range, not an exact version")
        return info
    bare = c[2:].strip() if c.startswith("==") else c
    if "*" not in bare and not re.search(r"[<>=!~,|\s]", bare):
        try:
            Version(bare)
        except InvalidVersion:
            pass
        else:
            info.update(pinned=True, version=bare, reason="")
            return info
    try:
        specs = list(SpecifierSet(c.replace(" ", "")))
    except InvalidSpecifier:
        info.update(pinned=False, reason=f"'{c}' is not an exact version")
        return info
    exact = [s for s in specs if s.operator in ("==", "===") and "*" not in s.version]
    if exact:
        info.update(pinned=True, version=exact[0].version, reason="")
    elif "*" in c:
        info.update(pinned=False, reason=f"'{c}' is a wildcard, not an exact version")
    else:
        info.update(pinned=False, reason=f"'{c}' is a range, not an exact version")
    return info


def pipfile_spec_info(name: str, value: Any) -> dict[str, Any]:
    """A Pipfile package entry (``"*"``, ``"==2.0"``, ``{version = …}``, ``{git = …}``)."""
    if isinstance(value, dict):
        for key in ("git", "hg", "svn"):
            if key in value:
                ref = str(value["ref"]) if value.get("ref") else None
                pinned = ref is not None and _SHA40.fullmatch(ref) is not None
                return {
                    "raw": f"{name} = {_short(value)}",
                    "kind": "vcs",
                    "name": name,
                    "url": str(value[key]),
                    "vcs_ref": ref,
                    "pinned": pinned,
                    "reason": "" if pinned else _vcs_reason(ref),
                }
        if "path" in value or "file" in value:
            target = str(value.get("path") or value.get("file"))
            if "://" in target:
                return _url_info(target, name, {"raw": f"{name} = {_short(value)}"})
            return {
                "raw": f"{name} = {_short(value)}",
                "kind": "path",
                "name": name,
                "pinned": True,
                "reason": "",
            }
        extras = value.get("extras")
        value = value.get("version", "*")
    else:
        extras = None
    spec = str(value).strip()
    text = name if spec in ("", "*") else f"{name}{spec}"
    info = _spec_info(text)
    info["raw"] = f'{name} = "{spec}"'
    if spec in ("", "*"):
        info["reason"] = "no version constraint ('*')"
    if isinstance(extras, list):
        info["extras"] = sorted(str(e) for e in extras)
    return info


def _short(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


# ------------------------------------------------------------------ facts


def dependency_fact(
    text: str,
    span: Span,
    path: str,
    origin: str,
    *,
    hashes: Sequence[str] = (),
    installer: str = "pip",
    flags: dict[str, Any] | None = None,
    dynamic: bool = False,
    info: dict[str, Any] | None = None,
) -> Fact:
    """A ``dependency`` fact; ``info`` is a precomputed analysis (conda, Poetry, Pipfile)."""
    if info is None:
        info = _spec_info(text)
    raw_name = str(info.get("name") or text)
    if info.get("kind") == "conda":
        name = knowledge.conda_to_pypi(raw_name)
    else:
        name = knowledge.normalize_package(raw_name)
    data = PDict(span)

    def put(key: str, value: Any) -> None:
        data.put(key, value, span, span)

    put("name", name)
    put("spec", info["raw"])
    put("kind", info.get("kind"))
    for key in ("specifier", "version", "url", "vcs_ref", "marker", "channel", "build"):
        if info.get(key) is not None:
            put(key, info[key])
    if info.get("kind") == "conda" and knowledge.normalize_package(raw_name) != name:
        put("conda_name", knowledge.normalize_package(raw_name))
    if info.get("extras"):
        put("extras", list(info["extras"]))
    put("pinned", bool(info.get("pinned")) or dynamic)
    put("dynamic", dynamic)
    put("unpinned_reason", info.get("reason", ""))
    put("hashes", list(hashes))
    put("hashed", bool(hashes))
    put("origin", origin)
    put("installer", installer)
    put("locked", False)
    put("library", False)
    put("dev", False)
    tier = knowledge.framework_tier(name)
    if tier is not None:
        put("framework_tier", tier)
    version = info.get("version")
    if isinstance(version, str) and not dynamic:
        vuln = vulnerability(name, version, span)
        if vuln is not None:
            data.put("vulnerable", vuln, span, span)
    for key, value in (flags or {}).items():
        put(key, value)
    data.put("context", PDict(span), span, span)
    return Fact("dependency", path, data, span, f"dependency/{name}")


MAX_LISTED_SPEC = 4096
"""Longer strings in a package list are not requirement specifiers."""


def image_packages(
    items: Iterable[tuple[Any, Span]], path: str, origin: str, installed_by: str
) -> list[Fact]:
    """Dependencies a build installs into an image from a list of requirement strings
    (BentoML ``python.packages`` and ``Image().python_packages(...)``, Cog
    ``python_packages``): one fact per string, at the string, with ``installed_by``."""
    out: list[Fact] = []
    for item, span in items:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_LISTED_SPEC:
            continue
        dep = dependency_fact(item.strip(), span, path, origin)
        dep.data.put("installed_by", installed_by, span, span)
        out.append(dep)
    return out


def vulnerability(name: str, version: str, span: Span, image: bool = False) -> PDict | None:
    """What the known-vulnerable table says about an exact version (None when fine)."""
    from packaging.version import InvalidVersion, Version

    floor = knowledge.image_floor(name) if image else knowledge.vulnerable_floor(name)
    if floor is None or "fixed" not in floor:
        return None
    try:
        v = Version(version)
        if v >= Version(str(floor["fixed"])):
            return None
        critical = "critical_below" in floor and v < Version(str(floor["critical_below"]))
    except InvalidVersion:
        return None
    d = PDict(span)
    for k, value in (
        ("fixed", str(floor["fixed"])),
        ("why", floor.get("why", "")),
        ("advisories", ", ".join(floor.get("advisories") or []) or "none listed"),
        ("critical", critical),
    ):
        d.put(k, value, span, span)
    return d


_vulnerability = vulnerability


def index_fact(
    option: str,
    value: str,
    span: Span,
    path: str,
    origin: str,
    *,
    installer: str = "pip",
    setting: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Fact:
    """A ``package-index`` fact: ``option`` is the pip long form (``--extra-index-url``),
    ``channel`` for conda channels; ``setting`` is how it was written."""
    data = PDict(span)
    text = setting if setting is not None else f"{option} {value}".strip()
    for k, v in (
        ("option", option),
        ("value", value),
        ("origin", origin),
        ("installer", installer),
        ("setting", text),
    ):
        data.put(k, v, span, span)
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    data.put("scheme", scheme, span, span)
    data.put("nightly", "nightly" in value.lower(), span, span)
    for k, v in (extra or {}).items():
        data.put(k, v, span, span)
    return Fact("package-index", path, data, span, f"index/{option}/{value}")


@dataclass(slots=True)
class ManifestInfo:
    """What a dependency manifest (a file or one install step) declares, for its fact."""

    format: str
    anchor: Span
    deps: list[Fact] = field(default_factory=list)
    includes: list[tuple[str, str, Span]] = field(default_factory=list)  # option, path, span
    library: bool = False
    require_hashes: bool = False
    lock_files: list[str] = field(default_factory=list)
    key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_DESCRIBES = {
    "requirements": "requirements file",
    "constraints": "constraints file",
    "pyproject": "pyproject.toml",
    "pipfile": "Pipfile",
    "setup-cfg": "setup.cfg",
    "conda-env": "conda environment file",
    "lock": "lock file",
    "pip-install": "pip install command",
    "uv-install": "uv pip install command",
    "conda-install": "conda install command",
}


def manifest_fact(path: str, info: ManifestInfo) -> Fact:
    """A ``dependency-manifest`` fact summarising one file or install step."""
    deps = [d for d in info.deps if not d.data.get("dev")]
    ml = [d for d in deps if knowledge.framework_tier(str(d.data["name"])) == 1]
    anchor = ml[0].anchor if ml else (deps[0].anchor if deps else info.anchor)
    data = PDict(anchor)

    def put(key: str, value: Any, span: Span = anchor) -> None:
        data.put(key, value, span, span)

    put("format", info.format)
    put("describes", _DESCRIBES.get(info.format, info.format))
    put("file", path)
    put("requirements", len(deps))
    put("hashed", bool(deps) and all(d.data.get("hashed") for d in deps))
    names = PList(anchor)
    for d in ml:
        names.push(d.data["name"], d.anchor)
    put("ml", names)
    put("ml_count", len(ml))
    put("ml_pinned", bool(ml) and all(d.data.get("pinned") for d in ml))
    if ml:
        put("first_ml", ml[0].data["spec"], ml[0].anchor)
    # packages below the framework tiers that are not pinned either (MLS-DEP-009)
    loose = PList(anchor)
    tools = set(knowledge.table("frameworks").get("installer_tools", ()))
    for d in deps:
        if (
            knowledge.framework_tier(str(d.data["name"])) != 1
            and str(d.data["name"]) not in tools
            and d.data.get("kind") in ("pep508", "conda", "poetry")
            and not d.data.get("pinned")
            and not d.data.get("dynamic")
        ):
            loose.push(d.data["spec"], d.anchor)
    put("unpinned", loose, loose.item_span(0) if loose else anchor)
    if deps and "origin" not in info.extra:
        put("origin", deps[0].data.get("origin"))
    includes = PList(anchor)
    for option, target, span in info.includes:
        inc = PDict(span)
        inc.put("option", option, span, span)
        inc.put("path", target, span, span)
        includes.push(inc, span)
    put("includes", includes)
    put("library", info.library)
    put("require_hashes", info.require_hashes)
    locks = PList(anchor)
    for lock in info.lock_files:
        locks.push(lock, anchor)
    put("lock_files", locks)
    put("locked", bool(info.lock_files))
    for k, v in info.extra.items():
        put(k, v)
    put("context", PDict(anchor))
    key = info.key or f"manifest/{info.format}"
    return Fact("dependency-manifest", path, data, anchor, key)


MAX_REQUIREMENTS = 10_000
"""Requirements analysed per file (the largest real files hold a few thousand); options
(indexes, includes) are read on every line."""


def from_requirements(text: str, path: str, notices: list[Notice] | None = None) -> list[Fact]:
    """Facts of a requirements or constraints file, its ``dependency-manifest`` last.
    Past :data:`MAX_REQUIREMENTS` requirements, a notice goes to ``notices``."""
    import posixpath

    facts: list[Fact] = []
    deps: list[Fact] = []
    includes: list[tuple[str, str, Span]] = []
    require_hashes = False
    pre = False
    first: Span | None = None
    over: list[int] = []
    for line in reqparser.iter_lines(text):
        first = first or line.span
        hashes = [o.value for o in line.options if o.name == "--hash"]
        for opt in line.options:
            if opt.name in ("--index-url", "--extra-index-url", "--trusted-host", "--find-links"):
                facts.append(index_fact(opt.name, opt.value, opt.span, path, "requirements"))
            elif opt.name in ("--requirement", "--constraint"):
                short = "-r" if opt.name == "--requirement" else "-c"
                includes.append((short, opt.value, opt.span))
            elif opt.name == "--require-hashes":
                require_hashes = True
            elif opt.name == "--pre":
                pre = True
                facts.append(index_fact("--pre", "", opt.span, path, "requirements"))
        if line.text and len(deps) >= MAX_REQUIREMENTS:
            over.append(line.line)
        elif line.text:
            dep = dependency_fact(
                line.text,
                line.span,
                path,
                "requirements",
                hashes=hashes,
                flags={"editable": line.editable, "manifest": path},
            )
            deps.append(dep)
    facts.extend(deps)
    base = posixpath.basename(path).lower()
    fmt = "constraints" if "constraint" in base else "requirements"
    info = ManifestInfo(
        fmt,
        first or Span(1, 1, 1, 2),
        deps,
        includes,
        require_hashes=require_hashes,
        key="manifest/requirements",
        extra={"pre": pre},
    )
    facts.append(manifest_fact(path, info))
    if over and notices is not None:
        notices.append(
            Notice(
                path,
                "partly-analysed",
                f"{len(over):,} requirements past the first {MAX_REQUIREMENTS:,} not analysed "
                f"(from line {over[0]}); options on every line were",
                "warning",
                over[0],
            )
        )
    return facts


# ------------------------------------------------------------------ install commands

PIP_VALUE_OPTIONS = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--only-binary",
    "--no-binary",
    "--progress-bar",
    "--cache-dir",
    "--src",
    "--log",
    "--log-file",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "--global-option",
    "--config-settings",
    "-C",
    "--use-feature",
    "--use-deprecated",
    "--upgrade-strategy",
    "--report",
    "--python",
    "-p",
    "--root-user-action",
    "--index",
    "--default-index",
    "--index-strategy",
    "--override",
    "--overrides",
    "--group",
    "--torch-backend",
    "--extra",
    "--keyring-provider",
    "--default-timeout",
    "--resolution",
    "--prerelease",
    "--link-mode",
    "--install-option",
    # uv pip
    "-P",
    "--upgrade-package",
    "--reinstall-package",
    "--refresh-package",
    "--no-build-isolation-package",
    "--no-binary-package",
    "--only-binary-package",
    "--exclude-newer",
    "--python-platform",
    "-b",
    "--build-constraint",
    "--build-constraints",
    "--config-file",
    "--directory",
    "--project",
    "--allow-insecure-host",
    "--find-links-url",
}
_SHORT_VALUE = {"-r", "-c", "-e", "-i", "-f", "-t", "-C", "-p", "-P", "-b"}
_INDEX_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--default-index": "--index-url",
    "--index": "--extra-index-url",
    "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--trusted-host",
    "--allow-insecure-host": "--trusted-host",
    "-f": "--find-links",
    "--find-links": "--find-links",
}
_UNSAFE_STRATEGIES = ("unsafe-best-match", "unsafe-first-match", "unsafe-any-match")


def pip_install_args(argv: Sequence[str]) -> tuple[str, int] | None:
    """If ``argv`` is a pip/uv install command, (installer, index of first argument)."""
    found = pip_command(argv)
    if found is None or found[1] != "install":
        return None
    return found[0], found[2]


def pip_command(argv: Sequence[str]) -> tuple[str, str, int] | None:
    """(installer, subcommand, index of its first argument) for pip, ``python -m pip``,
    ``uv pip`` and ``pip-sync``; None for anything else."""
    if not argv:
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    i = 1
    if prog == "pip-sync":
        return ("pip", "sync", 1)
    if re.fullmatch(r"python[0-9.]*", prog):
        # python -m pip install …
        while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m":
            i += 1
        if i + 1 < len(argv) and argv[i] == "-m" and argv[i + 1] in ("pip", "pip3"):
            i += 2
            prog = "pip"
        else:
            return None
    if prog == "uv" and i < len(argv) and argv[i] == "pip":
        i += 1
        prog = "uv"
    elif not re.fullmatch(r"pip[0-9.]*", prog):
        return None
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("--python", "-p", "--cache-dir", "--log", "--directory") else 1
    if i < len(argv) and argv[i] in ("install", "sync", "download", "wheel", "config"):
        return ("uv" if prog == "uv" else "pip", argv[i], i + 1)
    return None


@dataclass(slots=True)
class InstallSpec:
    text: str
    word: Word
    dynamic: bool
    editable: bool = False


@dataclass(slots=True)
class PipInstall:
    """A parsed ``pip install`` / ``uv pip install`` / ``uv pip sync`` command."""

    installer: str
    action: str
    specs: list[InstallSpec] = field(default_factory=list)
    requirement_files: list[tuple[str, Word]] = field(default_factory=list)
    constraint_files: list[tuple[str, Word]] = field(default_factory=list)
    index: list[tuple[str, str, Word, Word]] = field(default_factory=list)
    upgrade: bool = False
    require_hashes: bool = False
    pre: Word | None = None
    no_deps: bool = False
    index_strategy: str | None = None


def parse_pip_install(
    words: Sequence[Word], variables: dict[str, str] | None = None
) -> PipInstall | None:
    """The packages, files and options of a pip-style install (None for other commands)."""
    found = pip_command([w.text for w in words])
    if found is None or found[1] not in ("install", "sync"):
        return None
    installer, action, i = found
    cmd = PipInstall(installer, action)
    n = len(words)
    while i < n:
        w = words[i]
        t = w.text
        if t.startswith("-") and t != "-":
            name, eq, value = t.partition("=")
            vword = w
            if (
                not eq
                and name not in PIP_VALUE_OPTIONS
                and name[:2] in _SHORT_VALUE
                and len(name) > 2
                and not name.startswith("--")
            ):
                name, value = name[:2], name[2:]
            elif not eq and name in PIP_VALUE_OPTIONS and i + 1 < n:
                i += 1
                vword = words[i]
                value = vword.text
            if name in ("-U", "--upgrade"):
                cmd.upgrade = True
            elif name == "--require-hashes":
                cmd.require_hashes = True
            elif name == "--no-deps":
                cmd.no_deps = True
            elif name in ("-r", "--requirement"):
                cmd.requirement_files.append((value, vword))
            elif name in ("-c", "--constraint", "--override", "--overrides"):
                cmd.constraint_files.append((value, vword))
            elif name in ("-e", "--editable"):
                cmd.specs.append(InstallSpec(value, vword, vword.dynamic, editable=True))
            elif name in _INDEX_OPTIONS:
                cmd.index.append((_INDEX_OPTIONS[name], value, w, vword))
            elif name == "--index-strategy":
                cmd.index_strategy = value
            elif name == "--pre" or (name == "--prerelease" and value == "allow"):
                cmd.pre = w
            i += 1
            continue
        if action == "sync":
            cmd.requirement_files.append((t, w))
            i += 1
            continue
        text = t
        dynamic = w.dynamic
        if dynamic and variables:
            text = expand(text, variables)
            dynamic = "$" in text
        cmd.specs.append(InstallSpec(text, w, dynamic))
        i += 1
    if cmd.index_strategy is None and variables and variables.get("UV_INDEX_STRATEGY"):
        cmd.index_strategy = variables["UV_INDEX_STRATEGY"]
    return cmd


def install_facts(
    cmd: PipInstall,
    span_of: Callable[[Word], Span],
    path: str,
    origin: str,
    manifest: str = "",
) -> list[Fact]:
    """``dependency`` and ``package-index`` facts of a parsed pip-style install."""
    facts: list[Fact] = []
    strategy = cmd.index_strategy
    for option, value, w, vword in cmd.index:
        span = span_of(w).merge(span_of(vword))
        extra: dict[str, Any] = {}
        if cmd.installer == "uv":
            extra["index_strategy"] = strategy or "first-index"
            extra["unsafe_strategy"] = bool(strategy and strategy in _UNSAFE_STRATEGIES)
        setting = w.text if w is vword else f"{w.text} {vword.text}"
        facts.append(
            index_fact(
                option,
                value,
                span,
                path,
                origin,
                installer=cmd.installer,
                setting=setting,
                extra=extra,
            )
        )
    if cmd.pre is not None:
        facts.append(
            index_fact(
                "--pre",
                "",
                span_of(cmd.pre),
                path,
                origin,
                installer=cmd.installer,
                setting=cmd.pre.text,
            )
        )
    flags: dict[str, Any] = {
        "upgrade": cmd.upgrade,
        "require_hashes": cmd.require_hashes,
        "requirement_files": [p for p, _ in cmd.requirement_files],
        "pre": cmd.pre is not None,
        "no_deps": cmd.no_deps,
    }
    if manifest:
        flags["manifest"] = manifest
    for spec in cmd.specs:
        text = spec.text
        if not text or text in (".", "./"):
            continue
        facts.append(
            dependency_fact(
                text,
                span_of(spec.word),
                path,
                origin,
                installer=cmd.installer,
                flags={**flags, "editable": spec.editable},
                dynamic=spec.dynamic,
            )
        )
    return facts


def from_install_command(
    words: Sequence[Word],
    span_of: Callable[[Word], Span],
    path: str,
    origin: str,
    variables: dict[str, str] | None = None,
) -> list[Fact]:
    """dependency/package-index facts for a pip-style install command (else [])."""
    cmd = parse_pip_install(words, variables)
    if cmd is None or cmd.action != "install":
        return []
    return install_facts(cmd, span_of, path, origin)


def expand(text: str, variables: dict[str, str]) -> str:
    """Expand ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` with known values only."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        op, default = m.group(2), m.group(3)
        value = variables.get(name)
        if value:
            return value
        if op in (":-", "-") and default is not None and "$" not in default:
            return default
        return m.group(0)

    return sub_variables(_VARIABLE, repl, text)


_VARIABLE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


_expand = expand
