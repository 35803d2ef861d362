"""Cross-file resolution: relations between facts of different files in one scan.

Runs after every file is analysed and before rules are evaluated. It adds context to
existing facts (which Services expose a container, which package versions are pinned
near a Python file) and creates facts that only exist across files (``service-port``).
Every pass is linear or near-linear in the number of facts (indexes, no pairwise scans).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.tree import PDict, PList


def resolve_all(facts: list[Fact], index_out: list[VersionIndex] | None = None) -> list[Fact]:
    """Annotate ``facts`` in place and return new cross-file facts.

    ``index_out`` receives the version index, for files analysed after this pass."""
    by_kind: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_kind[f.kind].append(f)
    _supply_chain(by_kind)
    if by_kind.get("dependency") or by_kind.get("image"):
        from mlsec_lint import resolve_pins

        resolve_pins.attach(by_kind)
    index = versions_index(by_kind)
    attach_versions([f for kind in VERSIONED for f in by_kind.get(kind, [])], index)
    if by_kind.get("server"):
        from mlsec_lint.facts.serving import torchserve_release_defaults

        torchserve_release_defaults(by_kind["server"])  # needs the versions just attached
    if index_out is not None:
        index_out.append(index)
    if not by_kind.get("k8s-object"):
        return []  # every Kubernetes relation starts from an object (kept lazy for start-up)
    from mlsec_lint import resolve_kubernetes, resolve_rbac

    new = resolve_kubernetes.resolve(by_kind)
    resolve_rbac.resolve(by_kind)  # after the container contexts (exposure) are filled
    return new


# ------------------------------------------------------------------ versions


VersionIndex = Callable[[str], "PDict | None"]
"""path -> ``{versions, sources}`` for facts of that file (None: nothing is pinned)."""


VERSIONED = ("python-call", "server", "container", "python-assign")
"""Fact kinds whose ``context`` receives the pinned versions."""


def attach_versions(facts: list[Fact], index: VersionIndex) -> None:
    """Set ``context.versions`` / ``context.version_sources`` on facts of versioned kinds."""
    for fact in facts:
        if fact.kind not in VERSIONED:
            continue
        ctx = fact.data.get("context")
        if isinstance(ctx, PDict):
            holder = index(fact.path)
            if holder is not None:
                ctx.put("versions", holder["versions"], None)
                ctx.put("version_sources", holder["sources"], None)


def versions_index(by_kind: dict[str, list[Fact]]) -> VersionIndex:
    """Exact pins from the nearest dependency manifests (and versioned ML images).

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
    _image_pins(by_kind, per_dir)
    if not per_dir:
        return lambda path: None
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

    return versions_for


def _image_pins(
    by_kind: dict[str, list[Fact]], per_dir: dict[str, dict[str, tuple[str, str]]]
) -> None:
    """The component version of a tagged ML image (``pytorch/pytorch:2.3.1-…`` ships torch
    2.3.1) counts as a pin in its directory, after the package pins found there. Only the
    image a Dockerfile ships (its final stage) and images of containers are used."""
    for img in by_kind.get("image", []):
        data = img.data
        component, version = data.get("component"), data.get("version")
        if not component or not isinstance(version, str) or data.get("dynamic"):
            continue
        if data.get("origin") == "dockerfile" and not data.get("final_stage"):
            continue
        loc = f"{img.path}:{img.anchor.line}"
        per_dir[posixpath.dirname(img.path)].setdefault(str(component), (version, loc))


# ------------------------------------------------------------------ supply chain

_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "Pipfile")
_LOCK_FOR = {
    "pyproject": ("uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"),
    "pipfile": ("Pipfile.lock",),
    "conda-env": ("conda-lock.yml", "conda-lock.yaml"),
}


def _supply_chain(by_kind: dict[str, list[Fact]]) -> None:
    """How dependency files are installed, constrained, locked and deployed.

    * ``-r``/``-c`` files of install commands (Dockerfile ``RUN``, scripts) are found among
      the scanned files through the Dockerfile's ``COPY`` instructions, relative to the
      Dockerfile or script and to the scan root; their dependencies learn the installer
      (``installed_by``) and ``require_hashes``; ``-r`` inside requirements files is
      followed the same way;
    * a package pinned exactly in a constraints file (``-c``) counts as pinned in the
      files and commands it constrains (``constrained_by``);
    * a lock file next to a ``pyproject.toml``, ``Pipfile`` or conda environment file marks
      it and its dependencies ``locked``;
    * a project installed by a scanned Dockerfile (``pip install .``, ``uv sync``,
      ``poetry install``, ``COPY pyproject.toml``) or next to a Dockerfile or compose
      file is a deployable service, not a library.
    """
    manifests = {
        f.path: f
        for f in by_kind.get("dependency-manifest", [])
        if str(f.key).startswith("manifest/")
    }
    if not manifests and not by_kind.get("dependency"):
        return
    deps_of: dict[str, list[Fact]] = defaultdict(list)
    for dep in by_kind.get("dependency", []):
        owner = str(dep.data.get("manifest") or "")
        deps_of[owner if owner == dep.path else f"{dep.path}#{owner}"].append(dep)
    deploy_dirs = {
        posixpath.dirname(f.path)
        for f in [*by_kind.get("dockerfile", []), *by_kind.get("container", [])]
        if f.kind == "dockerfile" or f.data.get("source") == "compose"
    }
    # lock files in the scan
    locks_in: dict[str, list[str]] = defaultdict(list)
    for path, m in manifests.items():
        if m.data.get("format") == "lock":
            locks_in[posixpath.dirname(path)].append(path)
    for path, m in manifests.items():
        fmt = str(m.data.get("format"))
        if fmt in _LOCK_FOR:
            found = [
                p
                for p in locks_in.get(posixpath.dirname(path), [])
                if posixpath.basename(p) in _LOCK_FOR[fmt]
                or (fmt == "pyproject" and posixpath.basename(p).startswith("pylock."))
            ]
            if found:
                _mark_locked(m, deps_of.get(path, []), found)
        if (
            fmt in ("pyproject", "setup-cfg")
            and m.data.get("library")
            and posixpath.dirname(path) in deploy_dirs
        ):
            _mark_deployable(m, deps_of.get(path, []), "a Dockerfile or compose file next to it")
    # install commands
    for cmd in by_kind.get("command", []):
        data = cmd.data
        if not any(
            data.get(k)
            for k in ("requirement_files", "constraint_files", "projects", "environment_files")
        ):
            continue
        where = f"{cmd.path}:{cmd.anchor.line}"
        base = posixpath.dirname(cmd.path)
        hashes = bool(data.get("require_hashes"))
        constraints: dict[str, tuple[str, str]] = {}
        for ref in data.get("constraint_files") or []:
            target = _find_manifest(ref, base, manifests)
            if target is not None:
                _mark_format(target, "constraints")
                constraints.update(_exact_pins(deps_of.get(target.path, [])))
        for key in ("requirement_files", "environment_files"):
            for ref in data.get(key) or []:
                target = _find_manifest(ref, base, manifests)
                if target is None:
                    continue
                _installed(target, where, hashes, constraints, manifests, deps_of, set())
                if target.data.get("library"):  # uv pip install -r pyproject.toml
                    _mark_deployable(target, deps_of.get(target.path, []), f"installed by {where}")
        if constraints and data.get("manifest"):
            _constrain(deps_of.get(f"{cmd.path}#{data['manifest']}", []), constraints)
        for ref in data.get("projects") or []:
            for cand in _candidates(ref, base):
                for name in _PROJECT_FILES:
                    project = manifests.get(posixpath.normpath(posixpath.join(cand, name)))
                    if project is not None and project.data.get("library"):
                        _mark_deployable(
                            project, deps_of.get(project.path, []), f"installed by {where}"
                        )
                    for dep in deps_of.get(project.path, []) if project is not None else []:
                        if not dep.data.get("installed_by"):
                            dep.data.put("installed_by", where, dep.anchor, dep.anchor)
    # includes inside requirements files that no command installs
    for m in manifests.values():
        if m.data.get("format") in ("requirements", "setup-cfg", "conda-env") and not m.data.get(
            "installed_by"
        ):
            _follow_includes(m, manifests, deps_of, set())


def _candidates(ref: Any, base: str) -> list[str]:
    out: list[str] = []
    for cand in (ref.get("candidates") if isinstance(ref, dict) else None) or []:
        c = str(cand)
        for p in (posixpath.join(base, c) if base else c, c):
            norm = posixpath.normpath(p)
            if norm not in out:
                out.append(norm)
    return out


def _find_manifest(ref: Any, base: str, manifests: dict[str, Fact]) -> Fact | None:
    cands = _candidates(ref, base)
    for p in cands:
        if p in manifests:
            return manifests[p]
    # the same file name anywhere below the Dockerfile's or script's directory
    names = {posixpath.basename(p) for p in cands}
    prefix = f"{base}/" if base else ""
    near = [
        m
        for path, m in manifests.items()
        if posixpath.basename(path) in names and path.startswith(prefix)
    ]
    return near[0] if len(near) == 1 else None


def _installed(
    m: Fact,
    where: str,
    hashes: bool,
    constraints: dict[str, tuple[str, str]],
    manifests: dict[str, Fact],
    deps_of: dict[str, list[Fact]],
    seen: set[str],
) -> None:
    if m.path in seen:
        return
    seen.add(m.path)
    data = m.data
    by = data.get("installed_by")
    if not isinstance(by, PList):
        by = PList(m.anchor)
        data.put("installed_by", by, m.anchor, m.anchor)
    if where not in by:
        by.push(where, m.anchor)
    if hashes:
        data.put("require_hashes", True, m.anchor, m.anchor)
    deps = deps_of.get(m.path, [])
    for dep in deps:
        dep.data.put("installed_by", where, dep.anchor, dep.anchor)
        if hashes:
            dep.data.put("require_hashes", True, dep.anchor, dep.anchor)
    own = dict(constraints)
    for inc in data.get("includes") or []:
        target = _include(m, inc, manifests)
        if target is not None and inc.get("option") == "-c":
            _mark_format(target, "constraints")
            own.update(_exact_pins(deps_of.get(target.path, [])))
    _constrain(deps, own)
    for inc in data.get("includes") or []:
        target = _include(m, inc, manifests)
        if target is not None and inc.get("option") == "-r":
            _installed(target, where, hashes, own, manifests, deps_of, seen)


def _follow_includes(
    m: Fact, manifests: dict[str, Fact], deps_of: dict[str, list[Fact]], seen: set[str]
) -> None:
    if m.path in seen:
        return
    seen.add(m.path)
    own: dict[str, tuple[str, str]] = {}
    for inc in m.data.get("includes") or []:
        target = _include(m, inc, manifests)
        if target is None:
            continue
        if inc.get("option") == "-c":
            _mark_format(target, "constraints")
            own.update(_exact_pins(deps_of.get(target.path, [])))
        else:
            _follow_includes(target, manifests, deps_of, seen)
    _constrain(deps_of.get(m.path, []), own)


def _include(m: Fact, inc: Any, manifests: dict[str, Fact]) -> Fact | None:
    if not isinstance(inc, dict) or not isinstance(inc.get("path"), str):
        return None
    p = posixpath.normpath(posixpath.join(posixpath.dirname(m.path), inc["path"]))
    return manifests.get(p)


def _exact_pins(deps: list[Fact]) -> dict[str, tuple[str, str]]:
    out = {}
    for d in deps:
        version = d.data.get("version")
        if d.data.get("pinned") and isinstance(version, str):
            out[str(d.data["name"])] = (version, f"{d.path}:{d.anchor.line}")
    return out


def _constrain(deps: list[Fact], constraints: dict[str, tuple[str, str]]) -> None:
    for dep in deps:
        pin = constraints.get(str(dep.data.get("name")))
        if pin is None or dep.data.get("pinned"):
            continue
        s = dep.anchor
        dep.data.put("pinned", True, s, s)
        dep.data.put("constrained_by", pin[1], s, s)
        dep.data.put("constraint_version", pin[0], s, s)


def _mark_format(m: Fact, fmt: str) -> None:
    if m.data.get("format") == "requirements":
        m.data.put("format", fmt, m.anchor, m.anchor)


def _mark_locked(m: Fact, deps: list[Fact], locks: list[str]) -> None:
    lst = PList(m.anchor)
    for p in locks:
        lst.push(p, m.anchor)
    m.data.put("lock_files", lst, m.anchor, m.anchor)
    m.data.put("locked", True, m.anchor, m.anchor)
    for dep in deps:
        dep.data.put("locked", True, dep.anchor, dep.anchor)


def _mark_deployable(m: Fact, deps: list[Fact], reason: str) -> None:
    m.data.put("library", False, m.anchor, m.anchor)
    m.data.put("deployable_reason", reason, m.anchor, m.anchor)
    for dep in deps:
        dep.data.put("library", False, dep.anchor, dep.anchor)
