"""Python package requirements -> ``dependency`` and ``package-index`` facts.

One normalizer serves requirements files and install commands (``pip install``,
``python -m pip install``, ``uv pip install``) found in Dockerfiles and scripts, so a
pinning rule is written once. Specifiers and versions are parsed with ``packaging``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.parsers import requirements as reqparser
from mlsec_lint.parsers.shell import Word
from mlsec_lint.tree import PDict

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_WHEEL = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*)-(?P<version>[0-9][^-]*)(-.*)?\.(whl|tar\.gz|zip|tar\.bz2)$"
)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9._-]+)")


def _spec_info(text: str) -> dict[str, Any]:
    """Analyse one requirement string (PEP 508, URL, VCS or path)."""
    from packaging.requirements import InvalidRequirement, Requirement

    t = text.strip()
    info: dict[str, Any] = {"raw": t}
    if t.startswith(_VCS_PREFIXES) or re.match(r"^[\w.-]+\s*@\s*(git|hg|svn|bzr)\+", t):
        url = t.split("@", 1)[1].strip() if not t.startswith(_VCS_PREFIXES) else t
        name_part = t.split("@", 1)[0].strip() if not t.startswith(_VCS_PREFIXES) else None
        egg = _EGG.search(url)
        name = name_part or (egg.group(1) if egg else _repo_name(url))
        ref = _vcs_ref(url)
        info.update(
            kind="vcs",
            name=name,
            url=url,
            vcs_ref=ref,
            pinned=ref is not None and re.fullmatch(r"[0-9a-f]{40}", ref) is not None,
            reason=(
                "VCS reference without a ref (default branch)"
                if ref is None
                else f"VCS reference '{ref}' is a branch or tag, not a commit"
            ),
        )
        return info
    if "://" in t and not re.match(r"^[\w.-]+\s*@", t):
        return _url_info(t, None, info)
    if "://" not in t and (
        t.startswith((".", "/", "~")) or t.endswith((".whl", ".tar.gz", ".zip"))
    ):
        info.update(kind="path", name=_file_name(t) or t, pinned=True, reason="")
        return info
    try:
        req = Requirement(t)
    except InvalidRequirement:
        info.update(
            kind="invalid",
            name=re.split(r"[\s<>=!~\[;@]", t, maxsplit=1)[0],
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
            pinned=ref is not None and re.fullmatch(r"[0-9a-f]{40}", ref) is not None,
            reason="VCS reference without a commit",
        )
        return info
    fname = _file_name(url)
    m = _WHEEL.match(fname or "")
    hashed = "#sha256=" in url or "&sha256=" in url
    info.update(
        kind="url",
        name=name or (m.group("name") if m else fname or url),
        url=url,
        version=m.group("version") if m else None,
        pinned=bool(m) or hashed,
        reason="" if (m or hashed) else "direct URL without a version or hash",
    )
    return info


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
) -> Fact:
    info = _spec_info(text)
    name = knowledge.normalize_package(str(info.get("name") or text))
    data = PDict(span)

    def put(key: str, value: Any) -> None:
        data.put(key, value, span, span)

    put("name", name)
    put("spec", info["raw"])
    put("kind", info.get("kind"))
    for key in ("specifier", "version", "url", "vcs_ref", "marker"):
        if info.get(key) is not None:
            put(key, info[key])
    if info.get("extras"):
        put("extras", list(info["extras"]))
    put("pinned", bool(info.get("pinned")) or dynamic)
    put("dynamic", dynamic)
    put("unpinned_reason", info.get("reason", ""))
    put("hashes", list(hashes))
    put("hashed", bool(hashes))
    put("origin", origin)
    put("installer", installer)
    tier = knowledge.framework_tier(name)
    if tier is not None:
        put("framework_tier", tier)
    version = info.get("version")
    if isinstance(version, str) and not dynamic:
        vuln = _vulnerability(name, version, span)
        if vuln is not None:
            data.put("vulnerable", vuln, span, span)
    for key, value in (flags or {}).items():
        put(key, value)
    return Fact("dependency", path, data, span, f"dependency/{name}")


def _vulnerability(name: str, version: str, span: Span) -> PDict | None:
    """What the known-vulnerable table says about an exact version (None when fine)."""
    from packaging.version import InvalidVersion, Version

    floor = knowledge.vulnerable_floor(name)
    if floor is None:
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


def index_fact(option: str, value: str, span: Span, path: str, origin: str) -> Fact:
    data = PDict(span)
    for k, v in (("option", option), ("value", value), ("origin", origin)):
        data.put(k, v, span, span)
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    data.put("scheme", scheme, span, span)
    return Fact("package-index", path, data, span, f"index/{option}/{value}")


def from_requirements(text: str, path: str) -> list[Fact]:
    facts: list[Fact] = []
    for line in reqparser.parse(text):
        hashes = [o.value for o in line.options if o.name == "--hash"]
        for opt in line.options:
            if opt.name in ("--index-url", "--extra-index-url", "--trusted-host", "--find-links"):
                facts.append(index_fact(opt.name, opt.value, opt.span, path, "requirements"))
        if line.text:
            facts.append(
                dependency_fact(
                    line.text,
                    line.span,
                    path,
                    "requirements",
                    hashes=hashes,
                    flags={"editable": line.editable},
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
    "--group",
    "--torch-backend",
    "--extra",
    "--keyring-provider",
    "--default-timeout",
    "--resolution",
    "--prerelease",
    "--link-mode",
    "--install-option",
}
_SHORT_VALUE = {"-r", "-c", "-e", "-i", "-f", "-t", "-C", "-p"}
_INDEX_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--default-index": "--index-url",
    "--index": "--extra-index-url",
    "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--trusted-host",
    "-f": "--find-links",
    "--find-links": "--find-links",
}


def pip_install_args(argv: Sequence[str]) -> tuple[str, int] | None:
    """If ``argv`` is a pip/uv install command, (installer, index of first argument)."""
    if not argv:
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    i = 1
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
        i += 2 if argv[i] in ("--python", "-p", "--cache-dir", "--log") else 1
    if i < len(argv) and argv[i] == "install":
        return ("uv" if prog == "uv" else "pip", i + 1)
    return None


def from_install_command(
    words: Sequence[Word],
    span_of: Callable[[Word], Span],
    path: str,
    origin: str,
    variables: dict[str, str] | None = None,
) -> list[Fact]:
    """dependency/package-index facts for a pip-style install command (else [])."""
    argv = [w.text for w in words]
    found = pip_install_args(argv)
    if found is None:
        return []
    installer, i = found
    facts: list[Fact] = []
    specs: list[tuple[str, Word, bool]] = []
    flags: dict[str, Any] = {"upgrade": False, "require_hashes": False, "requirement_files": []}
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
                flags["upgrade"] = True
            elif name == "--require-hashes":
                flags["require_hashes"] = True
            elif name in ("-r", "--requirement"):
                flags["requirement_files"].append(value)
            elif name in ("-e", "--editable"):
                specs.append((value, vword, vword.dynamic))
            elif name in _INDEX_OPTIONS:
                facts.append(
                    index_fact(
                        _INDEX_OPTIONS[name], value, span_of(w).merge(span_of(vword)), path, origin
                    )
                )
            elif name == "--pre":
                flags["pre"] = True
            i += 1
            continue
        text = t
        dynamic = w.dynamic
        if dynamic and variables:
            text = _expand(text, variables)
            dynamic = "$" in text
        specs.append((text, w, dynamic))
        i += 1
    for text, w, dynamic in specs:
        if not text or text in (".", "./"):
            continue
        facts.append(
            dependency_fact(
                text,
                span_of(w),
                path,
                origin,
                installer=installer,
                flags=dict(flags),
                dynamic=dynamic,
            )
        )
    return facts


def _expand(text: str, variables: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return variables.get(name, m.group(0))

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, text)
