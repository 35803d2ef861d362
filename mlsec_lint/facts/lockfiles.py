"""Lock files -> ``dependency`` facts with exact versions (``origin: lock``) and whether each
entry is hashed.

``uv.lock``, ``poetry.lock``, ``pdm.lock`` and ``pylock.toml`` (TOML, positioned with
:mod:`mlsec_lint.parsers.tomlpos`), ``Pipfile.lock`` (JSON) and ``conda-lock.yml`` (YAML,
read with :mod:`mlsec_lint.parsers.yamldoc`). Which lock files sit next to a manifest is
read in :mod:`mlsec_lint.facts.manifests`.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import FileAnalysis
from mlsec_lint.facts.dependencies import ManifestInfo, dependency_fact, manifest_fact
from mlsec_lint.facts.manifests import _toml
from mlsec_lint.model import Notice, Span
from mlsec_lint.tree import PDict, PList

# ------------------------------------------------------------------ lock files


def from_lockfile(text: str, path: str) -> FileAnalysis:
    """Exact versions from a lock file: ``dependency`` facts (``origin: lock``)."""
    name = posixpath.basename(path)
    fa = FileAnalysis(path, "lockfile")
    entries: list[tuple[str, str, Span, bool, bool]] = []  # name, version, span, hashed, conda
    if name.endswith((".yml", ".yaml")) or name == "Pipfile.lock":
        entries = _yaml_lock(text, path, name, fa)
    else:
        data, notices = _toml(text, path)
        fa.notices.extend(notices)
        if data is None:
            return fa
        table = "packages" if name.startswith("pylock") else "package"
        spans = _lock_name_spans(text, table)
        packages = data.get(table)
        if isinstance(packages, list):
            for pkg in packages:
                if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
                    continue
                pname, version = pkg["name"], pkg.get("version")
                found = spans.get(pname)
                span = found.pop(0) if found else Span(1, 1, 1, 2)
                if isinstance(version, str):
                    entries.append((pname, version, span, "hash" in repr(pkg), False))
    deps = []
    for pname, version, span, hashed, conda in entries:
        pypi = knowledge.conda_to_pypi(pname) if conda else knowledge.normalize_package(pname)
        if knowledge.framework_tier(pypi) is None and knowledge.vulnerable_floor(pypi) is None:
            continue  # only packages the rules and the version context care about
        info: dict[str, Any] = {
            "raw": f"{pname}=={version}",
            "kind": "conda" if conda else "lock",
            "name": pname,
            "version": version,
            "specifier": f"=={version}",
            "pinned": True,
            "reason": "",
        }
        fact = dependency_fact(
            info["raw"],
            span,
            path,
            "lock",
            installer=_lock_tool(name),
            info=info,
            hashes=["lock"] if hashed else [],
            flags={"manifest": path},
        )
        fact.data.put("locked", True, span, span)
        deps.append(fact)
    fa.facts.extend(deps)
    anchor = deps[0].anchor if deps else Span(1, 1, 1, 2)
    fa.facts.append(
        manifest_fact(
            path, ManifestInfo("lock", anchor, deps, lock_files=[path], key="manifest/lock")
        )
    )
    return fa


_LOCK_TABLE = re.compile(r"^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]\s*(#.*)?$")
_LOCK_NAME = re.compile(r"""^name\s*=\s*(["'])(?P<name>[^"']+)\1""")


def _lock_name_spans(text: str, table: str) -> dict[str, list[Span]]:
    """Spans of ``name = "…"`` in each ``[[package]]`` entry of a TOML lock file, in order.

    Lock files are generated with one key per line, so a line scan finds the positions
    much faster than a general locator; values still come from ``tomllib``.
    """
    out: dict[str, list[Span]] = {}
    inside = False
    for no, line in enumerate(text.split("\n"), start=1):
        if line.startswith("["):
            m = _LOCK_TABLE.match(line.strip())
            inside = bool(m) and m.group(1) == table if m else False
            continue
        if inside:
            m = _LOCK_NAME.match(line)
            if m:
                start = m.start("name")
                out.setdefault(m.group("name"), []).append(Span(no, start, no, m.end("name") + 2))
                inside = False
    return out


def _lock_tool(name: str) -> str:
    if name == "Pipfile.lock":
        return "pipenv"
    if name.startswith("pylock"):
        return "pylock"
    if "conda-lock" in name:
        return "conda-lock"
    return name.split(".", 1)[0]


def _yaml_lock(
    text: str, path: str, name: str, fa: FileAnalysis
) -> list[tuple[str, str, Span, bool, bool]]:
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    try:
        stream = load_stream(text)
    except YamlError as exc:
        fa.notices.append(Notice(path, "parse-error", exc.message, "warning", exc.line))
        return []
    if not stream.docs or not isinstance(stream.docs[0].value, PDict):
        return []
    doc: PDict = stream.docs[0].value
    out: list[tuple[str, str, Span, bool, bool]] = []
    if name == "Pipfile.lock":
        for section in ("default", "develop"):
            table = doc.get(section)
            if not isinstance(table, PDict):
                continue
            for pname, entry in table.items():
                if isinstance(entry, PDict) and isinstance(entry.get("version"), str):
                    version = entry["version"].lstrip("=")
                    out.append(
                        (
                            str(pname),
                            version,
                            table.kspan.get(pname) or table.span,
                            bool(entry.get("hashes")),
                            False,
                        )
                    )
        return out
    packages = doc.get("package")
    if isinstance(packages, PList):
        for i, entry in enumerate(packages):
            if isinstance(entry, PDict) and isinstance(entry.get("name"), str):
                version = entry.get("version")
                if version is None:
                    continue
                span = entry.vspan.get("name") or packages.item_span(i)
                out.append(
                    (
                        entry["name"],
                        str(version),
                        span,
                        bool(entry.get("hash")),
                        entry.get("manager") != "pip",
                    )
                )
    return out
