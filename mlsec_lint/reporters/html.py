"""A self-contained HTML audit report.

One file, readable without JavaScript and without network access: inline CSS, an inline
SVG chart generated here, no scripts, fonts or external resources (a Content Security
Policy forbids loading any). Everything taken from scanned files (paths, source lines,
messages) is escaped. The markup is also well-formed XML, which the tests check.

Sections: scope, totals by severity and category, a chart of findings by category and
severity, the most affected files, every finding grouped by file with its source
excerpt, rule title, message, remediation and references (suppressed findings marked),
and the notices about files that could not be scanned.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from html import escape
from typing import TYPE_CHECKING, Any, TextIO

from mlsec_lint import __version__
from mlsec_lint.model import CATEGORIES, Finding, Severity
from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan
    from mlsec_lint.engine.rules import Rule

SEVERITIES = sorted(Severity, reverse=True)
COLORS = {
    Severity.CRITICAL: "#7b1fa2",
    Severity.HIGH: "#c62828",
    Severity.MEDIUM: "#e65100",
    Severity.LOW: "#1565c0",
    Severity.INFO: "#546e7a",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""Nothing may be loaded: no scripts, fonts, images or styles from anywhere."""
EXCERPT_CONTEXT = 2
TOP_FILES = 10


def _css() -> str:
    from importlib.resources import files

    return files("mlsec_lint.reporters").joinpath("report.css").read_text(encoding="utf-8")


def _e(value: object) -> str:
    """Escape text for element content and attribute values."""
    return escape(str(value), quote=True)


def _anchor(path: str) -> str:
    """A stable, attribute-safe id for a file section."""
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in path)[:60]
    return f"file-{slug}-{zlib.crc32(path.encode('utf-8', 'surrogatepass')):08x}"


def _badge(severity: Severity) -> str:
    return f'<span class="badge" style="background:{COLORS[severity]}">{severity.label}</span>'


def _severity_bar(counts: Counter[Severity], total: int, scale: int) -> str:
    if not total:
        return ""
    width = max(4, round(100 * total / max(scale, 1)))
    parts = "".join(
        f'<span style="width:{100 * counts[s] / total:.2f}%;background:{COLORS[s]}" '
        f'title="{counts[s]} {s.label}"></span>'
        for s in SEVERITIES
        if counts[s]
    )
    return f'<div class="bar" style="width:{width}%">{parts}</div>'


def _chart(findings: list[Finding]) -> str:
    """Findings by category (rows) and severity (stacked segments), as inline SVG."""
    by_cat: dict[str, Counter[Severity]] = defaultdict(Counter)
    for f in findings:
        by_cat[f.category][f.severity] += 1
    cats = [c for c in CATEGORIES if by_cat.get(c)] or list(CATEGORIES[:1])
    most = max((sum(by_cat[c].values()) for c in cats), default=0) or 1
    label_w, bar_w, row_h, top = 150, 560, 30, 10
    height = top + row_h * len(cats) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" viewBox="0 0 '
        f'{label_w + bar_w + 60} {height}" aria-labelledby="chart-title">',
        '<title id="chart-title">Findings by category and severity</title>',
    ]
    for i, cat in enumerate(cats):
        y = top + i * row_h
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="#1c2430">{_e(cat)}</text>'
        )
        x = float(label_w)
        total = sum(by_cat[cat].values())
        for s in SEVERITIES:
            n = by_cat[cat][s]
            if not n:
                continue
            w = bar_w * n / most
            out.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="18" rx="2" '
                f'fill="{COLORS[s]}"><title>{_e(cat)}: {n} {s.label}</title></rect>'
            )
            x += w
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + 17}" font-size="13" fill="#5f6b7a">{total}</text>'
        )
    out.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{COLORS[s]}"></i>{s.label}</span>' for s in SEVERITIES
    )
    return f'<div class="chart">{"".join(out)}<div class="legend">{legend}</div></div>'


def _excerpt(lines: list[str], line: int, end_line: int) -> str:
    if not lines:
        return ""
    first = max(1, line - EXCERPT_CONTEXT)
    last = min(len(lines), max(line, min(end_line, line + 8)) + EXCERPT_CONTEXT)
    rows = []
    for n in range(first, last + 1):
        text = lines[n - 1].expandtabs(4)
        if len(text) > 240:
            text = text[:240] + "…"
        cls = ' class="hit"' if line <= n <= max(line, min(end_line, line + 8)) else ""
        rows.append(f"<span{cls}><i>{n}</i>{_e(text)}</span>")
    return f'<pre class="excerpt">{"".join(rows)}</pre>'


def _references(rule: Rule | None) -> str:
    if rule is None:
        return ""
    from mlsec_lint.docs import _ref_url

    items = []
    for key in ("cwe", "owasp-ml", "owasp-llm", "atlas", "cve", "cis"):
        for value in rule.references.get(key) or []:
            url = _ref_url(key, str(value))
            items.append(f'<a href="{_e(url)}">{_e(value)}</a>' if url else _e(value))
    links = [
        f'<a href="{_e(u)}">{_e(u)}</a>'
        for u in rule.references.get("urls") or []
        if str(u).startswith(("https://", "http://"))
    ]
    parts = []
    if items:
        parts.append("<p>" + ", ".join(items) + "</p>")
    if links:
        parts.append("<ul>" + "".join(f"<li>{link}</li>" for link in links) + "</ul>")
    parts.append(f'<p><a href="{_e(rule.help_uri)}">Rule documentation</a></p>')
    return "".join(parts)


def _finding(f: Finding, rule: Rule | None, lines: list[str], suppressed: bool) -> str:
    cls = "finding suppressed" if suppressed else "finding"
    sup = ""
    if suppressed and f.suppression is not None:
        sup = (
            f"<p><strong>Suppressed</strong> ({_e(f.suppression.kind)}): "
            f"{_e(f.suppression.reason or 'no reason given')}</p>"
        )
    fix = ""
    if rule is not None:
        body = ""
        if rule.docs.get("why"):
            body += f"<p>{_e(rule.docs['why'].strip())}</p>"
        if rule.docs.get("use_instead"):
            body += (
                f'<p>Use instead:</p><pre class="fix">{_e(rule.docs["use_instead"].rstrip())}</pre>'
            )
        body += _references(rule)
        fix = f"<details><summary>Why it matters, the fix and references</summary>{body}</details>"
    return (
        f'<article class="{cls}">'
        f"<header>{_badge(f.severity)} <code>{_e(f.rule_id)}</code> <strong>{_e(f.title)}</strong> "
        f'<span class="loc">line {f.span.line}, column {f.span.col}</span></header>'
        f"<p>{_e(f.message)}</p>{sup}"
        f"{_excerpt(lines, f.span.line, f.span.end_line)}{fix}</article>"
    )


def render(scan: Scan, opts: ReportOptions | None = None) -> str:
    result = scan.result
    rules = {r.id: r for r in scan.rules}
    findings = result.findings
    suppressed = result.suppressed
    sev = Counter(f.severity for f in findings)
    cat = Counter(f.category for f in findings)
    per_file: dict[str, list[tuple[Finding, bool]]] = defaultdict(list)
    for f in findings:
        per_file[f.path].append((f, False))
    for f in suppressed:
        per_file[f.path].append((f, True))

    scope: list[tuple[str, Any]] = [
        ("Files scanned", result.files_scanned),
        ("Rules run", result.rules_run),
        (
            "File kinds",
            ", ".join(f"{k} {v}" for k, v in sorted(result.files_by_kind.items())) or "none",
        ),
    ]
    for key, value in getattr(scan, "settings", {}).items():
        scope.append((key, value))

    out = [
        '<!DOCTYPE html>\n<html lang="en" xmlns="http://www.w3.org/1999/xhtml">',
        '<head><meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"/>',
        "<title>mlsec-lint report</title>",
        f"<style>{_css()}</style></head><body><main>",
        "<h1>mlsec-lint report</h1>",
        f'<p class="sub">{len(findings)} finding{"s" if len(findings) != 1 else ""} in '
        f"{len({f.path for f in findings})} of {result.files_scanned} scanned files"
        + (f", {len(suppressed)} suppressed" if suppressed else "")
        + "</p>",
        '<div class="cards">',
    ]
    for s in SEVERITIES:
        out.append(
            f'<div class="card" style="border-top:4px solid {COLORS[s]}">'
            f'<span class="n">{sev[s]}</span>'
            f'<span class="l">{s.label}</span></div>'
        )
    out.append("</div>")

    out.append('<h2 id="scope">Scope</h2><table><tbody>')
    for key, value in scope:
        out.append(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>")
    out.append("</tbody></table>")

    out.append('<h2 id="categories">Findings by category and severity</h2>')
    out.append(_chart(findings))
    out.append(
        "<table><thead><tr><th>category</th>"
        + "".join(f'<th class="num">{s.label}</th>' for s in SEVERITIES)
        + '<th class="num">total</th></tr></thead><tbody>'
    )
    for c in CATEGORIES:
        row = Counter(f.severity for f in findings if f.category == c)
        out.append(
            f"<tr><td>{_e(c)}</td>"
            + "".join(f'<td class="num">{row[s]}</td>' for s in SEVERITIES)
            + f'<td class="num">{cat[c]}</td></tr>'
        )
    out.append("</tbody></table>")

    ranked = sorted(
        ((path, [f for f, sup in items if not sup]) for path, items in per_file.items()),
        key=lambda item: (-sum(4 ** int(f.severity) for f in item[1]), -len(item[1]), item[0]),
    )
    ranked = [(p, fs) for p, fs in ranked if fs][:TOP_FILES]
    if ranked:
        scale = max(len(fs) for _, fs in ranked)
        out.append(
            '<h2 id="files">Most affected files</h2><table><thead><tr><th>file</th>'
            '<th class="num">findings</th><th>by severity</th></tr></thead><tbody>'
        )
        for path, fs in ranked:
            counts = Counter(f.severity for f in fs)
            out.append(
                f'<tr><td><a href="#{_anchor(path)}">{_e(path)}</a></td>'
                f'<td class="num">{len(fs)}</td>'
                f"<td>{_severity_bar(counts, len(fs), scale)}</td></tr>"
            )
        out.append("</tbody></table>")

    out.append('<h2 id="findings">Findings by file</h2>')
    if not per_file:
        out.append("<p>No findings.</p>")
    for path in sorted(per_file):
        items = sorted(per_file[path], key=lambda item: (item[1], item[0].sort_key()))
        src = scan.sources.get(path)
        lines = src.lines if src is not None else []
        live = sum(1 for _, sup in items if not sup)
        out.append(
            f'<section class="file" id="{_anchor(path)}"><h3>{_e(path)}</h3>'
            f'<p class="sub">{live} finding{"s" if live != 1 else ""}'
            + (f", {len(items) - live} suppressed" if live != len(items) else "")
            + "</p>"
        )
        for f, sup in items:
            out.append(_finding(f, rules.get(f.rule_id), lines, sup))
        out.append("</section>")

    if result.notices:
        out.append(
            '<h2 id="notices">Files not fully scanned</h2><table class="notice"><thead><tr>'
            "<th>file</th>"
            "<th>level</th><th>message</th></tr></thead><tbody>"
        )
        for n in result.notices:
            where = f"{n.path}:{n.line}" if n.line else n.path
            out.append(
                f"<tr><td>{_e(where)}</td><td>{_e(n.level)}</td><td>{_e(n.message)} "
                f"<code>{_e(n.code)}</code></td></tr>"
            )
        out.append("</tbody></table>")
    out.append(
        f"<footer>Generated by mlsec-lint {_e(__version__)}.</footer></main></body></html>\n"
    )
    return "".join(out)


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    out.write(render(scan, opts))
