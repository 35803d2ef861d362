"""Helm charts in a scan: render each chart, analyse the manifests, report at the source.

A directory with ``Chart.yaml`` is a chart (a chart inside another chart's ``charts/``
is rendered as part of its parent). Each chart is rendered with its defaults and the
values files the user names; the rendered manifests are analysed like any Kubernetes
file under a virtual name (``<template>#rendered``), so cross-file resolution sees the
chart's Services, Ingresses and workloads together; findings are then moved to the line
a person edits (see :mod:`mlsec_lint.helm.trace`). When a chart cannot be rendered, one
notice per chart says why and how to enable rendering, and the chart's values file is
still checked by Helm conventions (:mod:`mlsec_lint.facts.helm_values`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mlsec_lint.facts import FileAnalysis
from mlsec_lint.helm import render, trace
from mlsec_lint.model import Finding, Notice, Span
from mlsec_lint.records import Struct, field
from mlsec_lint.records import replace as replace_fields
from mlsec_lint.source import Source, read_source
from mlsec_lint.tree import PDict

RENDERED = "#rendered"
"""Suffix of the virtual paths of rendered manifests (never reported)."""

CHART_FILE = "Chart.yaml"


class RenderMap(Struct):
    """How positions of one rendered template map back to the chart's files."""

    template: str
    """Display path of the template file (or of ``Chart.yaml`` for a packed subchart)."""
    template_lines: list[int]
    values: dict[tuple[int, int], trace.Origin]
    marker_lines: list[str] | None
    table: list[trace.Origin]
    rendered: Source
    values_label: str
    template_source: Source | None = None


class HelmState(Struct):
    """What rendering added to a scan."""

    maps: dict[str, RenderMap] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    """Files findings may now point at that discovery did not read (values files named
    outside the scanned paths)."""
    notices: list[Notice] = field(default_factory=list)
    handled: set[str] = field(default_factory=set)
    """Chart directories (absolute): their per-template notices are replaced."""
    rendered: set[str] = field(default_factory=set)
    """Chart directories (absolute) rendered: the manifests stand for their templates."""
    values_files: set[str] = field(default_factory=set)
    """Values files (display paths) a chart was rendered with."""

    def line(self, path: str, line: int) -> str | None:
        m = self.maps.get(path)
        return m.rendered.line(line) if m is not None else None


def find_charts(abspaths: Sequence[str]) -> list[str]:
    """Chart directories among scanned files (their ``Chart.yaml``), outermost only."""
    dirs = sorted({os.path.dirname(p) for p in abspaths if os.path.basename(p) == CHART_FILE})
    out: list[str] = []
    for d in dirs:
        if not any(d.startswith(parent + os.sep) for parent in out):
            out.append(d)
    return out


def charts_of_files(abspaths: Sequence[str]) -> list[str]:
    """Charts that named files belong to (the pre-commit case: a staged template or
    values file re-checks its chart): ``<chart>/templates/…`` and ``<chart>/values*.yaml``
    beside a ``Chart.yaml``. A few ``stat`` calls per file, none for other files."""
    from mlsec_lint.facts.helm_values import named_like_values

    out: list[str] = []
    checked: set[str] = set()
    for path in abspaths:
        parts = path.split(os.sep)
        candidates = []
        if "templates" in parts[:-1]:
            i = len(parts) - 2 - parts[:-1][::-1].index("templates")
            candidates.append(os.sep.join(parts[:i]) or os.sep)
        if named_like_values(path):
            candidates.append(os.path.dirname(path))
        for chart in candidates:
            if chart in checked:
                continue
            checked.add(chart)
            if os.path.isfile(os.path.join(chart, CHART_FILE)):
                out.append(chart)
    return out


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory + os.sep)


def _display(abspath: str, base: str) -> str:
    from mlsec_lint.discovery import display_path

    return display_path(abspath, base)


def _load_values(
    abspath: str, display: str, known: Mapping[str, Source], notices: list[Notice]
) -> tuple[Source | None, PDict | None]:
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    src = known.get(display)
    if src is None:
        src, read_notices = read_source(abspath, display)
        notices.extend(read_notices)
        if src is None:
            return None, None
    try:
        docs = [d.value for d in load_stream(src.text).docs]
    except YamlError as exc:
        notices.append(Notice(display, "helm-values", f"values file not used: {exc.message}"))
        return src, None
    doc = next((d for d in docs if d is not None), None)
    if doc is None:
        return src, PDict()
    if not isinstance(doc, PDict):
        notices.append(Notice(display, "helm-values", "values file is not a mapping; not used"))
        return src, None
    return src, doc


_DEP = re.compile(r"^[\w.-]+$")


def _missing_dependencies(chart: str, meta: Any) -> list[str]:
    """Dependencies declared in ``Chart.yaml`` that are not vendored under ``charts/``."""
    deps = meta.get("dependencies") if isinstance(meta, dict) else None
    if not isinstance(deps, list):
        return []
    try:
        vendored = os.listdir(os.path.join(chart, "charts"))
    except OSError:
        vendored = []
    missing = []
    for dep in deps:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            continue
        name = dep["name"]
        if not _DEP.match(name):
            continue
        if name in vendored or any(
            v.startswith(name + "-") and v.endswith(".tgz") for v in vendored
        ):
            continue
        where = dep.get("repository")
        missing.append(f"'{name}'" + (f" from {where}" if isinstance(where, str) else ""))
    return missing


def _chart_meta(chart: str, known: Mapping[str, Source], base: str) -> Any:
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    display = _display(os.path.join(chart, CHART_FILE), base)
    src = known.get(display)
    if src is None:
        src, _ = read_source(os.path.join(chart, CHART_FILE), display)
    if src is None:
        return None
    try:
        docs = load_stream(src.text).docs
    except YamlError:
        return None
    return docs[0].value if docs else None


class _Job(Struct):
    chart: str
    name: str
    label: str
    files: list[tuple[str, PDict]]
    values: trace.Values
    user: dict[str, Any]
    full_marks: dict[str, Any]
    table: list[trace.Origin]
    release: str = render.RELEASE
    variant: str = ""
    """Empty for the chart's own render; the override values file's name otherwise."""


def process(
    charts: Sequence[str],
    *,
    base: str,
    sources: Mapping[str, Source],
    values_for: Callable[[str], Sequence[str]],
    renderer_choice: str = "auto",
) -> tuple[HelmState, list[FileAnalysis]]:
    """Render each chart; the rendered analyses to add to the scan and the state that maps
    their findings back."""

    state = HelmState()
    analyses: list[FileAnalysis] = []
    renderer = render.available(renderer_choice)
    jobs: list[_Job] = []
    for chart in charts:
        chart_display = _display(chart, base) if chart != base else "."
        meta = _chart_meta(chart, sources, base)
        name = str(meta.get("name")) if isinstance(meta, dict) and meta.get("name") else ""
        label = f"Helm chart '{chart_display}'"
        state.handled.add(chart)
        if renderer is None:
            if _has_templates(chart):
                state.notices.append(
                    Notice(
                        _display(os.path.join(chart, CHART_FILE), base),
                        "helm-not-rendered",
                        f"{label} not rendered, so its templates are not scanned (values "
                        f"files are checked by Helm conventions); to render it, "
                        f"{render.ENABLE_HINT}",
                        "note",
                    )
                )
            continue
        missing = _missing_dependencies(chart, meta)
        if missing:
            state.notices.append(
                Notice(
                    _display(os.path.join(chart, CHART_FILE), base),
                    "helm-dependency",
                    f"{label}: dependencies not vendored in charts/ are not rendered: "
                    f"{', '.join(missing)}; run 'helm dependency build' to include them",
                    "note",
                )
            )
        files: list[tuple[str, PDict]] = []
        user_files: list[tuple[str, PDict]] = []
        defaults_path = os.path.join(chart, "values.yaml")
        if os.path.isfile(defaults_path):
            display = _display(defaults_path, base)
            src, doc = _load_values(defaults_path, display, sources, state.notices)
            if doc is not None:
                files.append((display, doc))
        for path in values_for(chart):
            display = _display(path, base)
            src, doc = _load_values(path, display, sources, state.notices)
            if src is not None and display not in sources:
                state.sources[display] = src
            if doc is not None:
                files.append((display, doc))
                user_files.append((display, doc))
        values = trace.merge(files)
        user = trace.merge(user_files).merged
        full_marks, table = trace.marked(values)
        jobs.append(_Job(chart, name, label, files, values, user, full_marks, table))
        named = set(values_for(chart))
        for n, path in enumerate(_overrides(chart, named), start=1):
            display = _display(path, base)
            src, doc = _load_values(path, display, sources, state.notices)
            if doc is None:
                continue
            more = [*files, (display, doc)]
            o_values = trace.merge(more)
            o_marks, o_table = trace.marked(o_values)
            o_user = trace.merge([*user_files, (display, doc)]).merged
            jobs.append(
                _Job(
                    chart,
                    name,
                    label,
                    more,
                    o_values,
                    o_user,
                    o_marks,
                    o_table,
                    f"{render.RELEASE}-{n}",
                    os.path.basename(path),
                )
            )
    results = render.render_many(
        [(j.chart, [j.user, j.full_marks], j.release) for j in jobs], renderer or ""
    )
    for job, result in zip(jobs, results, strict=True):
        chart, name, label, files, values = job.chart, job.name, job.label, job.files, job.values
        full_marks, table = job.full_marks, job.table
        if job.variant:
            label = f"{label} with {job.variant}"
        real = result.outputs[0] if result.outputs else None
        if real is None:
            why = result.errors[0] if result.errors else "no output"
            state.notices.append(
                Notice(
                    _display(os.path.join(chart, CHART_FILE), base),
                    "helm-render-error",
                    f"{label} could not be rendered by {result.renderer}, so its templates "
                    f"are not scanned: {why}",
                    "warning",
                )
            )
            continue
        marks = result.outputs[1] if len(result.outputs) > 1 else None
        if marks is None:
            marks, table = _retrace(chart, values, full_marks, table, renderer or "")
        values_label = ", ".join(p for p, _ in files) or "no values file"
        state.rendered.add(chart)
        state.values_files.update(p for p, _ in files)
        for key, text in sorted(real.items()):
            leaf = key.rsplit("/", 1)[-1]
            if not text.strip() or leaf == "NOTES.txt" or leaf.startswith("_"):
                continue
            fa, rmap = _analyse(
                key, text, (marks or {}).get(key), chart, base, sources, table, job.variant
            )
            if rmap is None:
                continue
            rmap.values_label = values_label
            state.maps[fa.path] = rmap
            if rmap.template not in sources and rmap.template_source is not None:
                state.sources[rmap.template] = rmap.template_source
            analyses.append(fa)
            state.notices.extend(
                replace_fields(n, path=rmap.template, line=None) for n in fa.notices
            )
            fa.notices = []
    return state, [*analyses]


MAX_COPY = 20 * 1024 * 1024
"""Largest chart copied to trace values past its schema (bytes)."""


def _retrace(
    chart: str,
    values: trace.Values,
    full: dict[str, Any],
    table: list[trace.Origin],
    renderer: str,
) -> tuple[dict[str, str] | None, list[trace.Origin]]:
    """The marked render failed: a ``values.schema.json`` refuses markers (a copy of the
    chart without schemas is rendered), or a template computes with a number (strings
    alone are marked)."""
    strings, string_table = trace.marked(values, strings_only=True)
    schemas: list[str] = []
    size = 0
    for root, _dirs, names in os.walk(chart):
        size += sum(os.path.getsize(os.path.join(root, n)) for n in names)
        schemas.extend(n for n in names if n == "values.schema.json")
    if not schemas or size > MAX_COPY:
        again = render.render(chart, [strings], renderer)
        return (again.outputs[0] if again.outputs else None), string_table
    with tempfile.TemporaryDirectory(prefix="mlsec-lint-chart-") as tmp:
        copy = os.path.join(tmp, os.path.basename(chart) or "chart")
        shutil.copytree(chart, copy, ignore=shutil.ignore_patterns("values.schema.json"))
        again = render.render(copy, [full, strings], renderer)
    outputs = [*again.outputs, None, None]
    if outputs[0] is not None:
        return outputs[0], table
    return outputs[1], string_table


def _overrides(chart: str, named: set[str]) -> list[str]:
    """Override values files kept beside a chart (``values-prod.yaml``,
    ``gpu-values.yaml``): the chart is also rendered with each of them."""
    from mlsec_lint.facts.helm_values import named_like_values

    try:
        names = sorted(os.listdir(chart))
    except OSError:
        return []
    return [
        os.path.join(chart, n)
        for n in names
        if n != "values.yaml"
        and named_like_values(n)
        and os.path.join(chart, n) not in named
        and os.path.isfile(os.path.join(chart, n))
    ][:MAX_OVERRIDES]


MAX_OVERRIDES = 8


def _has_templates(chart: str) -> bool:
    try:
        return any(
            n.endswith((".yaml", ".yml", ".tpl", ".json"))
            for n in os.listdir(os.path.join(chart, "templates"))
        )
    except OSError:
        return False


def _template_file(key: str, chart: str) -> str:
    """The file behind a rendered template name (``<chart>/templates/x.yaml``, or
    ``<chart>/charts/<sub>/templates/x.yaml``)."""
    parts = key.split("/")
    path = os.path.join(chart, *parts[1:])
    if os.path.isfile(path):
        return path
    return os.path.join(chart, CHART_FILE)  # a packed subchart


def _analyse(
    key: str,
    text: str,
    marked_text: str | None,
    chart: str,
    base: str,
    sources: Mapping[str, Source],
    table: list[trace.Origin],
    variant: str = "",
) -> tuple[FileAnalysis, RenderMap | None]:
    from mlsec_lint.analyze import analyze
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream

    template_path = _template_file(key, chart)
    template = _display(template_path, base)
    # the name the template has in the chart (unique even inside a packed subchart)
    virtual = _display(os.path.join(chart, *key.split("/")[1:]), base) + RENDERED
    virtual += f"@{variant}" if variant else ""
    text = trace.blank_crds(text)
    rendered = Source(virtual, text)
    fa = analyze(rendered, "yaml")
    tsrc = sources.get(template)
    if tsrc is None:
        tsrc, _ = read_source(template_path, template)
    tlines = tsrc.lines if tsrc is not None else []
    if os.path.basename(template_path) == CHART_FILE:  # a packed subchart: its dependency
        parts = key.split("/")
        sub = parts[2] if len(parts) > 3 and parts[1] == "charts" else ""
        at = next(
            (
                i
                for i, t in enumerate(tlines, 1)
                if sub and re.search(rf"name:\s*['\"]?{re.escape(sub)}\b", t)
            ),
            1,
        )
        lines = [at] * len(rendered.lines)
    elif tlines:
        lines = trace.template_lines(rendered.lines, tlines)
    else:
        lines = [1] * len(rendered.lines)
    values: dict[tuple[int, int], trace.Origin] = {}
    marker_lines = None
    if marked_text is not None and trace.MARKER.search(marked_text):
        # only the documents that show a marker are parsed again (CRDs rarely do)
        real_parts, mark_parts = _documents(text), _documents(marked_text)
        if len(real_parts) != len(mark_parts):
            real_parts, mark_parts = [(0, text)], [(0, marked_text)]
        for (offset, real_doc), (_, mark_doc) in zip(real_parts, mark_parts, strict=True):
            if not trace.MARKER.search(mark_doc):
                continue
            try:
                real_docs = load_stream(real_doc).docs
                mark_docs = load_stream(mark_doc).docs
            except YamlError:
                continue
            found: dict[tuple[int, int], trace.Origin] = {}
            for r, m in zip(real_docs, mark_docs, strict=False):
                if _kind(r.value) == _kind(m.value):
                    trace.pair_values(r.value, m.value, table, found)
                    _exposed_by_type(r.value, found)
            for (line, col), origin in found.items():
                values[(line + offset, col)] = origin
        mlines = marked_text.split("\n")
        if len(mlines) == len(rendered.lines):
            marker_lines = mlines
    rmap = RenderMap(template, lines, values, marker_lines, table, rendered, "", tsrc)
    return fa, rmap


def _exposed_by_type(doc: Any, values: dict[tuple[int, int], trace.Origin]) -> None:
    """A Service made public by a values file (``service.type: LoadBalancer``): what a
    person edits to close its ports is that type, so its ports point there."""
    spec = doc.get("spec") if isinstance(doc, PDict) and doc.get("kind") == "Service" else None
    if not isinstance(spec, PDict) or spec.get("type") not in ("LoadBalancer", "NodePort"):
        return
    vspan = spec.vspan.get("type")
    origin = values.get((vspan.line, vspan.col)) if vspan is not None else None
    ports = spec.get("ports")
    if origin is None or not isinstance(ports, list):
        return
    for i, port in enumerate(ports):
        span = ports.item_span(i) if hasattr(ports, "item_span") else None
        if span is not None:
            values[(span.line, span.col)] = origin
        if isinstance(port, PDict):
            for key in port:
                for s in (port.kspan.get(key), port.vspan.get(key)):
                    if s is not None:
                        values[(s.line, s.col)] = origin


def _documents(text: str) -> list[tuple[int, str]]:
    """The documents of a YAML stream, each with the number of lines before it."""
    lines = text.split("\n")
    out: list[tuple[int, str]] = []
    start = 0
    for i, line in enumerate(lines):
        if line.startswith("---") and (len(line) == 3 or line[3] in " \t"):
            out.append((start, "\n".join(lines[start:i])))
            start = i + 1
    out.append((start, "\n".join(lines[start:])))
    return out


def _kind(doc: Any) -> Any:
    return doc.get("kind") if isinstance(doc, dict) else None


def drop_chart_files(analyses: list[FileAnalysis], state: HelmState, base: str) -> None:
    """The chart's own files are now represented by the rendered manifests: their facts
    (plain templates read as manifests, values read by convention) and per-template
    notices go. Templates become plain text for suppression comments."""
    for fa in analyses:
        if RENDERED in fa.path:
            continue
        if fa.path in state.values_files:
            fa.facts = []
            fa.extra.pop("helm_absence_anchors", None)
            continue
        abspath = os.path.normpath(os.path.join(base, fa.path))
        chart = next((c for c in state.handled if _inside(abspath, c)), None)
        if chart is None:
            continue
        parts = os.path.relpath(abspath, chart).split(os.sep)
        if (
            chart in state.rendered
            and parts[-1] == "values.yaml"
            and (len(parts) == 1 or (len(parts) == 3 and parts[0] == "charts"))
        ):  # a subchart's defaults: rendered with the parent
            fa.facts = []
            fa.extra.pop("helm_absence_anchors", None)
            continue
        if "templates" not in parts:
            continue
        fa.notices = [n for n in fa.notices if n.code != "helm-template"]
        if chart in state.rendered:
            fa.facts = []
            fa.kind = "helm-chart-template"
            fa.extra.pop("helm_absence_anchors", None)


def remap(
    findings: list[Finding], state: HelmState, sources: Mapping[str, Source]
) -> list[Finding]:
    """Move findings in rendered manifests to the values or template line behind them;
    a chart rendered with several values files reports a line once (the first render,
    with the chart's own values, wins)."""
    out: list[Finding] = []
    seen: set[tuple[str, str, int, int]] = set()
    for f in findings:
        m = state.maps.get(f.path)
        if m is None:
            out.append(f)
            continue
        rendered_text = _span_text(m.rendered, f.span)
        # a span over several lines is an object or a container (a finding about what
        # it lacks), even where its first key holds a traced value
        single = f.span.end_line == f.span.line
        origin = m.values.get((f.span.line, f.span.col)) if single else None
        if (
            origin is None
            and single
            and m.marker_lines is not None
            and f.span.line <= len(m.marker_lines)
        ):
            mline = m.marker_lines[f.span.line - 1]
            ids = [int(x.group(1)) for x in trace.MARKER.finditer(mline)]
            if ids and not (rendered_text and rendered_text in mline):
                origin = trace._choose(ids, m.table, rendered_text)
        f.rendered_from = f.path
        if origin is not None:
            f.path = origin.path
            f.span = origin.span
            f.message += f" Value '{origin.key}' of {origin.path}, rendered by {m.template}."
        else:
            idx = min(max(f.span.line, 1), len(m.template_lines)) - 1
            tline = m.template_lines[idx] if m.template_lines else 1
            src = sources.get(m.template) or state.sources.get(m.template)
            text = src.line(tline) if src is not None else ""
            indent = len(text) - len(text.lstrip())
            f.path = m.template
            f.span = Span(tline, indent + 1, tline, max(len(text), indent) + 1)
            f.message += f" Rendered from {m.template} with {m.values_label}."
        src = sources.get(f.path) or state.sources.get(f.path)
        f.source_line = src.line(f.span.line) if src is not None else ""
        where = (f.rule_id, f.path, f.span.line, f.span.col)
        if where not in seen:
            seen.add(where)
            out.append(f)
    return out


def _span_text(src: Source, span: Span) -> str:
    if span.line != span.end_line:
        return ""
    return src.line(span.line)[span.col - 1 : span.end_col - 1].strip().strip("'\"")
