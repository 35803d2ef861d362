"""Kustomize overlays built with ``kustomize build`` or ``kubectl kustomize``.

A directory with ``kustomization.yaml`` that no other kustomization of the scan uses is
an overlay: when ``kustomize`` or ``kubectl`` is on ``PATH`` it is built, the output is
analysed like any Kubernetes file (under a virtual name), and each finding is moved to
the base or patch file that holds the line: the patch that sets the value, else the
base resource, matched by kind and name (``namePrefix``/``nameSuffix`` allowed) and by
the path of the value (list items by ``name``). The files of a built overlay are not
read on their own. Without a builder, or for an overlay with remote resources (never
fetched), the files are scanned as they are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mlsec_lint.facts import FileAnalysis
from mlsec_lint.model import Finding, Notice, Span
from mlsec_lint.records import Struct, field
from mlsec_lint.source import Source, read_source
from mlsec_lint.tree import PDict, PList

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILT = "#built"
TIMEOUT = 60
MAX_BUILDS = 4
"""Overlays built in one scan (each build is analysed in full: bounded cost)."""
MAX_OUTPUT = 2_000_000
"""Largest build output analysed (characters, CustomResourceDefinitions left out)."""
_PATCH_KEYS = ("patches", "patchesStrategicMerge", "patchesJson6902")
_PLAIN_KEYS = frozenset(
    {"apiVersion", "kind", "metadata", "resources", "bases", "sortOptions", "buildMetadata"}
)


class Overlay(Struct):
    directory: str
    resources: list[str] = field(default_factory=list)
    """Files of resources (bases, recursively), in order."""
    patches: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    """Kustomization directories it builds on."""
    transforms: bool = False
    """It, or a kustomization it builds on, changes the resources (patches, prefixes,
    images, generators …): only then is building it worth more than reading its files."""


class BuildMap(Struct):
    rendered: Source
    kustomization: str
    objects: list[_Built]

    def target(self, line: int, col: int) -> tuple[str, Span] | None:
        for obj in self.objects:
            span = obj.doc.span
            if span.line <= line <= span.end_line:
                return obj.target(line, col)
        return None


class KustomizeState(Struct):
    maps: dict[str, BuildMap] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    """Display paths of files represented by a build (not analysed on their own)."""

    def line(self, path: str, line: int) -> str | None:
        m = self.maps.get(path)
        return m.rendered.line(line) if m is not None else None


def builder() -> list[str] | None:
    exe = shutil.which("kustomize")
    if exe is not None:
        return [exe, "build"]
    exe = shutil.which("kubectl")
    return [exe, "kustomize"] if exe is not None else None


def _load(path: str) -> list[Any]:
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(4 * 1024 * 1024)
        return [d.value for d in load_stream(text).docs]
    except (OSError, UnicodeDecodeError, YamlError):
        return []


def _kustomization_file(directory: str) -> str | None:
    for name in NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def read_overlay(directory: str, seen: set[str] | None = None) -> Overlay:
    """The files an overlay is built from (local only; remote entries are listed)."""
    seen = seen if seen is not None else set()
    overlay = Overlay(directory)
    kfile = _kustomization_file(directory)
    if kfile is None or directory in seen or len(seen) > 100:
        return overlay
    seen.add(directory)
    docs = _load(kfile)
    k = docs[0] if docs and isinstance(docs[0], dict) else {}
    overlay.transforms = any(key not in _PLAIN_KEYS for key in k)
    entries: list[str] = []
    for key in ("resources", "bases", "components"):
        if isinstance(k.get(key), list):
            entries.extend(str(e) for e in k[key] if isinstance(e, str))
    for entry in entries:
        if "://" in entry or entry.startswith(("github.com/", "git@", "gitlab.com/")):
            overlay.remote.append(entry)
            continue
        path = os.path.normpath(os.path.join(directory, entry))
        if os.path.isdir(path):
            inner = read_overlay(path, seen)
            overlay.uses.append(path)
            overlay.resources.extend(inner.resources)
            overlay.patches.extend(inner.patches)
            overlay.remote.extend(inner.remote)
            overlay.transforms = overlay.transforms or inner.transforms
        elif os.path.isfile(path):
            overlay.resources.append(path)
    for key in _PATCH_KEYS:
        items = k.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            rel = (
                item
                if isinstance(item, str)
                else item.get("path")
                if isinstance(item, dict)
                else None
            )
            if isinstance(rel, str) and "\n" not in rel:
                path = os.path.normpath(os.path.join(directory, rel))
                if os.path.isfile(path):
                    overlay.patches.append(path)
    return overlay


def find_overlays(abspaths: Sequence[str]) -> list[Overlay]:
    """Overlays among the scanned files: kustomizations no other one builds on."""
    dirs = sorted({os.path.dirname(p) for p in abspaths if os.path.basename(p) in NAMES})
    overlays = [read_overlay(d) for d in dirs]
    used = {u for o in overlays for u in o.uses}
    return [o for o in overlays if o.directory not in used]


def _walk(node: Any, prefix: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Span]]:
    """(path, position) of every key, value and item; list items by ``name`` when set."""
    if isinstance(node, PDict):
        for key, value in node.items():
            path = (*prefix, key)
            for span in (node.kspan.get(key), node.vspan.get(key)):
                if span is not None:
                    yield path, span
            yield from _walk(value, path)
    elif isinstance(node, PList):
        for i, value in enumerate(node):
            name = value.get("name") if isinstance(value, dict) else None
            path = (*prefix, ("name", name) if isinstance(name, str) else i)
            yield path, node.item_span(i)
            yield from _walk(value, path)


def _find(doc: Any, path: tuple[Any, ...]) -> tuple[int, Span]:
    """How deep ``path`` exists in ``doc`` and the span there."""
    cur = doc
    span: Span = getattr(doc, "span", Span(1, 1, 1, 2))
    for depth, key in enumerate(path):
        if isinstance(cur, PDict) and key in cur:
            span = cur.field_span(key)
            cur = cur[key]
        elif isinstance(cur, PList):
            idx = None
            if isinstance(key, tuple):
                idx = next(
                    (
                        i
                        for i, v in enumerate(cur)
                        if isinstance(v, dict) and v.get("name") == key[1]
                    ),
                    None,
                )
            elif isinstance(key, int) and key < len(cur):
                idx = key
            if idx is None:
                return depth, span
            span = cur.item_span(idx)
            cur = cur[idx]
        else:
            return depth, span
    return len(path), span


def _identity(doc: Any) -> tuple[str, str] | None:
    if not isinstance(doc, dict):
        return None
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    kind = doc.get("kind")
    return (kind, name) if isinstance(kind, str) and isinstance(name, str) else None


def build(
    overlays: Sequence[Overlay], base: str, sources: Mapping[str, Source]
) -> tuple[KustomizeState, list[FileAnalysis]]:
    from mlsec_lint.analyze import analyze
    from mlsec_lint.discovery import display_path
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    state = KustomizeState()
    analyses: list[FileAnalysis] = []
    argv = builder()
    if argv is None or not overlays:
        return state, analyses
    built = 0
    for overlay in overlays:
        kfile = _kustomization_file(overlay.directory) or overlay.directory
        kdisplay = display_path(kfile, base)
        if not overlay.transforms and not overlay.remote:
            continue  # a list of resources: its files, as they are, are what is deployed
        if overlay.remote:
            state.notices.append(
                Notice(
                    kdisplay,
                    "kustomize-remote",
                    "kustomization with remote resources not built (nothing is fetched); "
                    f"its local files are scanned as they are: {', '.join(overlay.remote[:3])}",
                    "note",
                )
            )
            continue
        if built >= MAX_BUILDS:
            state.notices.append(
                Notice(
                    kdisplay,
                    "kustomize-skipped",
                    f"kustomization not built: more than {MAX_BUILDS} overlays in one scan "
                    "(scan its directory alone to build it); its files are scanned as they are",
                    "note",
                )
            )
            continue
        built += 1
        try:
            proc = subprocess.run(
                [*argv, overlay.directory],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
                cwd=overlay.directory,
            )
        except (subprocess.TimeoutExpired, OSError) as exc:
            state.notices.append(Notice(kdisplay, "kustomize-error", f"not built: {exc}"))
            continue
        if proc.returncode != 0:
            why = " ".join(proc.stderr.split())[:300] or f"exit {proc.returncode}"
            state.notices.append(
                Notice(kdisplay, "kustomize-error", f"kustomization not built: {why}")
            )
            continue
        from mlsec_lint.helm.trace import blank_crds

        output = blank_crds(proc.stdout)
        if len(output) > MAX_OUTPUT:
            state.notices.append(
                Notice(
                    kdisplay,
                    "kustomize-skipped",
                    f"kustomization not analysed as built: its output is larger than "
                    f"{MAX_OUTPUT // 1_000_000} MB; its files are scanned as they are",
                    "note",
                )
            )
            continue
        virtual = kdisplay + BUILT
        rendered = Source(virtual, output)
        try:
            docs = [d.value for d in load_stream(rendered.text).docs]
        except YamlError as exc:
            state.notices.append(
                Notice(kdisplay, "kustomize-error", f"build output not read: {exc.message}")
            )
            continue
        candidates: list[tuple[str, Any]] = []
        for path in [*reversed(overlay.patches), *overlay.resources]:
            display = display_path(path, base)
            state.files.add(display)
            if display not in sources:
                src, _ = read_source(path, display)
                if src is not None:
                    state.sources[display] = src
            candidates.extend((display, doc) for doc in _load(path))
        objects: list[_Built] = []
        by_identity: dict[str, list[tuple[str, Any]]] = {}
        for display, cand in candidates:
            i = _identity(cand)
            if i is not None:
                by_identity.setdefault(i[0], []).append((display, cand))
        for doc in docs:
            ident = _identity(doc)
            if ident is None:
                continue
            matching = [
                (p, d)
                for p, d in by_identity.get(ident[0], [])
                if (i := _identity(d)) is not None and i[1] in ident[1]
            ]
            if matching:
                objects.append(_Built(doc, matching))
        fa = analyze(rendered, "yaml")
        analyses.append(fa)
        state.maps[virtual] = BuildMap(rendered, kdisplay, objects)
    return state, analyses


class _Built(Struct):
    """A built object and the source documents it may come from (patches first)."""

    doc: Any
    matching: list[tuple[str, Any]]
    positions: dict[tuple[int, int], tuple[str, Span]] | None = None

    def target(self, line: int, col: int) -> tuple[str, Span] | None:
        """Where a position of the built object is written (computed on first use)."""
        if self.positions is None:
            self.positions = {}
            root = self.matching[-1]  # the base resource: where the object is declared
            self.positions[(self.doc.span.line, self.doc.span.col)] = (root[0], root[1].span)
            for keys, span in _walk(self.doc, ()):
                best: tuple[int, str, Span] | None = None
                for display, cand in self.matching:
                    depth, where = _find(cand, keys)
                    if best is None or depth > best[0]:
                        best = (depth, display, where)
                    if depth == len(keys):
                        break
                if best is not None:
                    self.positions.setdefault((span.line, span.col), (best[1], best[2]))
        return self.positions.get((line, col))


def drop_files(analyses: list[FileAnalysis], state: KustomizeState) -> None:
    for fa in analyses:
        if fa.path in state.files:
            fa.facts = []


def remap(findings: list[Finding], state: KustomizeState, sources: Mapping[str, Source]) -> None:
    for f in findings:
        m = state.maps.get(f.path)
        if m is None:
            continue
        target = m.target(f.span.line, f.span.col)
        f.rendered_from = f.path
        if target is None:
            f.path, f.span = m.kustomization, Span(1, 1, 1, 2)
        else:
            f.path, f.span = target
        f.message += f" Built from {m.kustomization}."
        src = sources.get(f.path) or state.sources.get(f.path)
        f.source_line = src.line(f.span.line) if src is not None else ""
