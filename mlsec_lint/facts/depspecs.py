"""Requirement specifiers as written -> how the dependency is pinned.

PEP 440/508 requirements (with URLs, VCS references, wheels and archives), conda match
specs, Poetry constraints and Pipfile entries are classified into one shape (exact pin,
range, unpinned, a URL or VCS reference with or without an immutable ref …) that
:func:`mlsec_lint.facts.dependencies.dependency_fact` writes into ``dependency`` facts.
Versions are validated with ``packaging``; conda and Poetry syntax, which is not
PEP 440, is read here.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import unquote, urlsplit

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVES = (".whl", ".tar.gz", ".zip")
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


_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_PLAIN_SPEC = re.compile(
    rf"(?P<name>{_NAME})(?:\[(?P<extras>{_NAME}(?:,{_NAME})*)\])?"
    r"(?:(?P<op>==|!=|<=|>=|<|>)(?P<v>[0-9]+(?:\.[0-9]+)*)|~=(?P<cv>[0-9]+(?:\.[0-9]+)+))?"
)
"""The common requirement forms (``torch``, ``torch==2.1.0``, ``uvicorn[standard]>=0.30``),
where a hand reading is exactly what ``packaging`` reports: one name, plain extras, at most
one specifier whose version is dotted numbers, no blanks, marker or URL."""


MAX_PLAIN_SPEC = 256
"""Longer requirements are left to ``packaging``."""


def _plain_spec(t: str) -> dict[str, Any] | None:
    """The analysis of a requirement in a common form, without ``packaging`` (its import
    and parser are a large share of a scan of many small Dockerfiles); None for the rest."""
    if len(t) > MAX_PLAIN_SPEC or t.endswith(_ARCHIVES):  # ``x.whl`` is a path
        return None
    m = _PLAIN_SPEC.fullmatch(t)
    if m is None:
        return None
    extras = m.group("extras")
    info: dict[str, Any] = {
        "raw": t,
        "kind": "pep508",
        "name": m.group("name"),
        "extras": sorted(set(extras.split(","))) if extras else [],
        "marker": None,
    }
    op, version = (m.group("op"), m.group("v")) if m.group("op") else ("~=", m.group("cv"))
    if version is None:
        info.update(specifier="", pinned=False, reason="no version specifier")
    elif op == "==":
        info.update(specifier=op + version, pinned=True, version=version, reason="")
    else:
        spec = op + version
        info.update(
            specifier=spec, pinned=False, reason=f"'{spec}' is a range, not an exact version"
        )
    return info


def _analyse_spec(t: str) -> dict[str, Any]:
    return _plain_spec(t) or _general_spec(t)


def _general_spec(t: str) -> dict[str, Any]:
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
    if "://" not in t and (t.startswith((".", "/", "~", "file:")) or t.endswith(_ARCHIVES)):
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
