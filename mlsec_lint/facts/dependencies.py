"""Python and conda package requirements -> ``dependency``, ``package-index`` and
``dependency-manifest`` facts.

One normalizer serves every place a package is declared: requirements and constraints
files, ``pyproject.toml`` (PEP 621 and Poetry), ``Pipfile``, ``setup.cfg``, conda
environment files, lock files, and install commands (``pip install``, ``python -m pip
install``, ``uv pip install``, ``conda install`` …) in Dockerfiles and scripts, so a
pinning rule is written once. PEP 440/508 specifiers and versions are parsed with
``packaging``; conda match specs and Poetry constraints, which are not PEP 440, are
classified and their versions validated with ``packaging``.

This module builds the facts and reads requirements files; specifiers are classified in
:mod:`mlsec_lint.facts.depspecs`, install command lines read in
:mod:`mlsec_lint.facts.pipinstall`, and the other manifests in
:mod:`mlsec_lint.facts.manifests`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.facts.depspecs import _spec_info
from mlsec_lint.model import Notice, Span
from mlsec_lint.parsers import requirements as reqparser
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict, PList

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
    if info is not None:
        name, head, vulnerable = _spec_fields(info, text, dynamic)
    elif len(text) <= MAX_MEMO_SPEC:
        name, head, vulnerable = _text_fields(text, dynamic)
    else:
        name, head, vulnerable = _spec_fields(_spec_info(text), text, dynamic)
    fields = dict(head)
    if "extras" in fields:
        fields["extras"] = list(fields["extras"])
    fields["hashes"] = list(hashes)
    fields["hashed"] = bool(hashes)
    fields["origin"] = origin
    fields["installer"] = installer
    fields["locked"] = False
    fields["library"] = False
    fields["dev"] = False
    tier = knowledge.framework_tier(name)  # configuration can add frameworks
    if tier is not None:
        fields["framework_tier"] = tier
    if vulnerable is not None:
        fields["vulnerable"] = vulnerability_of(vulnerable, span)
    if flags:
        fields.update(flags)
    fields["context"] = PDict(span)
    data = PDict(span)
    data.put_all(fields, span)
    return Fact("dependency", path, data, span, f"dependency/{name}")


MAX_MEMO_SPEC = 512
"""Requirement texts up to this length are analysed once per scan process."""

_Fields = tuple[tuple[str, Any], ...]


@functools.lru_cache(maxsize=8192)
def _text_fields(text: str, dynamic: bool) -> tuple[str, _Fields, _Fields | None]:
    """:func:`_spec_fields` of a requirement text: the same packages recur across a
    repository's install lines and requirements files, and positions come later."""
    return _spec_fields(_spec_info(text), text, dynamic)


def _spec_fields(
    info: dict[str, Any], text: str, dynamic: bool
) -> tuple[str, _Fields, _Fields | None]:
    """What a ``dependency`` fact takes from the requirement itself, without positions:
    the normalised name, the fields before the install context (``name`` …
    ``unpinned_reason``, ``extras`` as a tuple) and the ``vulnerable`` fields (None when
    the version is not known to be vulnerable). The data tables it reads are fixed; the
    framework tier, which configuration can extend, is looked up per fact."""
    raw_name = str(info.get("name") or text)
    if info.get("kind") == "conda":
        name = knowledge.conda_to_pypi(raw_name)
    else:
        name = knowledge.normalize_package(raw_name)
    head: list[tuple[str, Any]] = [
        ("name", name),
        ("spec", info["raw"]),
        ("kind", info.get("kind")),
    ]
    for key in ("specifier", "version", "url", "vcs_ref", "marker", "channel", "build"):
        if info.get(key) is not None:
            head.append((key, info[key]))
    if info.get("kind") == "conda" and knowledge.normalize_package(raw_name) != name:
        head.append(("conda_name", knowledge.normalize_package(raw_name)))
    if info.get("extras"):
        head.append(("extras", tuple(info["extras"])))
    head.append(("pinned", bool(info.get("pinned")) or dynamic))
    head.append(("dynamic", dynamic))
    head.append(("unpinned_reason", info.get("reason", "")))
    version = info.get("version")
    vulnerable = None
    if isinstance(version, str) and not dynamic:
        vulnerable = vulnerable_fields(name, version)
    return name, tuple(head), vulnerable


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
    fields = vulnerable_fields(name, version, image)
    return None if fields is None else vulnerability_of(fields, span)


def vulnerability_of(fields: tuple[tuple[str, Any], ...], span: Span) -> PDict:
    """The ``vulnerable`` tree of :func:`vulnerable_fields`, at ``span``."""
    d = PDict(span)
    d.put_all(dict(fields), span)
    return d


def vulnerable_fields(
    name: str, version: str, image: bool = False
) -> tuple[tuple[str, Any], ...] | None:
    """The fields of :func:`vulnerability`, without positions (None when fine)."""
    floor = knowledge.image_floor(name) if image else knowledge.vulnerable_floor(name)
    if floor is None or "fixed" not in floor:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        v = Version(version)
        if v >= Version(str(floor["fixed"])):
            return None
        critical = "critical_below" in floor and v < Version(str(floor["critical_below"]))
    except InvalidVersion:
        return None
    return (
        ("fixed", str(floor["fixed"])),
        ("why", floor.get("why", "")),
        ("advisories", ", ".join(floor.get("advisories") or []) or "none listed"),
        ("critical", critical),
    )


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


class ManifestInfo(Struct):
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
