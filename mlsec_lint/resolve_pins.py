"""Pins written elsewhere in the scan, for fixes that must never guess.

An unpinned requirement gets ``pinned_elsewhere`` (and ``pinned_elsewhere_at``): the exact
version a pin or lock entry for the same package resolves, in its own directory or a
parent (nearest first), or the one version pinned everywhere in the scan; only a version
its own specifier admits, and never a local build (``2.3.1+cu121``: its wheel comes
from a particular index). An image reference without a digest gets
``digest_elsewhere`` (and ``digest_elsewhere_at``) when the same ``repository:tag`` is
written with one digest elsewhere in the scan. Linear in the number of facts.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from typing import Any

from mlsec_lint.facts import Fact


def attach(by_kind: dict[str, list[Fact]]) -> None:
    _requirements(by_kind.get("dependency", []))
    _images(by_kind.get("image", []))


def _requirements(deps: list[Fact]) -> None:
    per_dir: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    everywhere: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    unpinned: list[Fact] = []
    for dep in deps:
        data = dep.data
        name, version = data.get("name"), data.get("version")
        if not isinstance(name, str):
            continue
        if (
            data.get("pinned")
            and not data.get("dynamic")
            and isinstance(version, str)
            and "+" not in version  # a local build (+cu121) belongs to its own index
        ):
            loc = f"{dep.path}:{dep.anchor.line}"
            per_dir[posixpath.dirname(dep.path)].setdefault(name, (version, loc))
            everywhere[name].add(version)
            where.setdefault((name, version), loc)
        elif not data.get("pinned") and data.get("kind") == "pep508":
            unpinned.append(dep)
    if not everywhere:
        return
    for dep in unpinned:
        name = dep.data["name"]
        found = _nearest(per_dir, posixpath.dirname(dep.path), name)
        if found is None and len(everywhere.get(name, ())) == 1:
            version = next(iter(everywhere[name]))
            found = (version, where[(name, version)])
        if found is None or not _admits(dep.data.get("specifier"), found[0]):
            continue
        span = dep.data.vspan.get("spec", dep.anchor)
        dep.data.put("pinned_elsewhere", found[0], span, span)
        dep.data.put("pinned_elsewhere_at", found[1], span, span)


def _nearest(
    per_dir: dict[str, dict[str, tuple[str, str]]], directory: str, name: str
) -> tuple[str, str] | None:
    cur = directory
    while True:
        pin = per_dir.get(cur, {}).get(name)
        if pin is not None:
            return pin
        parent = posixpath.dirname(cur)
        if not cur or parent == cur:
            return None
        cur = parent


def _admits(specifier: Any, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return SpecifierSet(str(specifier or "")).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _images(images: list[Fact]) -> None:
    digests: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for img in images:
        data = img.data
        digest, tag = data.get("digest"), data.get("tag")
        if isinstance(digest, str) and isinstance(tag, str) and not data.get("dynamic"):
            key = f"{data.get('registry') or ''}/{data.get('repository')}:{tag}"
            digests[key].add(digest)
            where.setdefault((key, digest), f"{img.path}:{img.anchor.line}")
    if not digests:
        return
    for img in images:
        data = img.data
        if data.get("digest") is not None or data.get("dynamic") or data.get("tag") is None:
            continue
        key = f"{data.get('registry') or ''}/{data.get('repository')}:{data['tag']}"
        found = digests.get(key)
        if found is None or len(found) != 1:
            continue
        digest = next(iter(found))
        span = data.vspan.get("image", img.anchor)
        data.put("digest_elsewhere", digest, span, span)
        data.put("digest_elsewhere_at", where[(key, digest)], span, span)
