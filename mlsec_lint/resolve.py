"""Cross-file resolution: relations between facts of different files in one scan.

Runs after every file is analysed and before rules are evaluated. It adds context to
existing facts (which Services expose a container, which package versions are pinned
near a Python file) and creates facts that only exist across files (``service-port``).
Every pass is linear or near-linear in the number of facts (indexes, no pairwise scans).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict

from mlsec_lint.facts import Fact
from mlsec_lint.tree import PDict


def resolve_all(facts: list[Fact]) -> list[Fact]:
    """Annotate ``facts`` in place and return new cross-file facts."""
    by_kind: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_kind[f.kind].append(f)
    _attach_versions(by_kind)
    from mlsec_lint import resolve_kubernetes

    return resolve_kubernetes.resolve(by_kind)


# ------------------------------------------------------------------ versions


def _attach_versions(by_kind: dict[str, list[Fact]]) -> None:
    """``context.versions``: exact pins from the nearest dependency manifests.

    For a file, pins in its own directory win, then its parents'; a package pinned to
    one version everywhere in the scan is used when nothing nearer pins it.
    """
    per_dir: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    global_pins: dict[str, set[str]] = defaultdict(set)
    where: dict[str, str] = {}
    for dep in by_kind.get("dependency", []):
        version = dep.data.get("version")
        if not dep.data.get("pinned") or not isinstance(version, str) or dep.data.get("dynamic"):
            continue
        name = dep.data["name"]
        loc = f"{dep.path}:{dep.anchor.line}"
        per_dir[posixpath.dirname(dep.path)].setdefault(name, (version, loc))
        global_pins[name].add(version)
        where.setdefault(f"{name}={version}", loc)
    if not global_pins:
        return
    unique = {n: next(iter(v)) for n, v in global_pins.items() if len(v) == 1}
    cache: dict[str, PDict] = {}

    def versions_for(path: str) -> PDict:
        directory = posixpath.dirname(path)
        if directory in cache:
            return cache[directory]
        merged: dict[str, tuple[str, str]] = {}
        cur = directory
        while True:
            for name, pin in per_dir.get(cur, {}).items():
                merged.setdefault(name, pin)
            if not cur or cur in ("/", "."):
                break
            parent = posixpath.dirname(cur)
            if parent == cur:
                break
            cur = parent
        for name, version in unique.items():
            merged.setdefault(name, (version, where[f"{name}={version}"]))
        versions = PDict()
        sources = PDict()
        for name, (version, loc) in sorted(merged.items()):
            versions.put(name, version, None)
            sources.put(name, loc, None)
        holder = PDict()
        holder.put("versions", versions, None)
        holder.put("sources", sources, None)
        cache[directory] = holder
        return holder

    for kind in ("python-call", "server", "container", "python-assign"):
        for fact in by_kind.get(kind, []):
            ctx = fact.data.get("context")
            if isinstance(ctx, PDict):
                holder = versions_for(fact.path)
                ctx.put("versions", holder["versions"], None)
                ctx.put("version_sources", holder["sources"], None)
