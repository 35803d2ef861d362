"""Human-readable output: findings grouped by file, with the source line."""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import TYPE_CHECKING, TextIO

from mlsec_lint import escape
from mlsec_lint.model import Severity
from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan

_COLORS = {
    Severity.CRITICAL: "\x1b[1;35m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _sanitize(text: str) -> str:
    """Scanned text never reaches the terminal with control characters."""
    return escape.text(text)


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    result = scan.result

    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if opts.color else text

    for path, group in groupby(result.findings, key=lambda f: f.path):
        items = list(group)
        out.write(c(_BOLD, _sanitize(path)) + "\n")
        for f in items:
            sev = c(_COLORS[f.severity], f"{f.severity.label:<8}")
            loc = f"{_sanitize(path)}:{f.span.line}:{f.span.col}:"
            out.write(f"  {loc} {c(_BOLD, f.rule_id)} {sev} {_sanitize(f.message)}\n")
            if opts.show_source and f.source_line.strip():
                gutter = f"{f.span.line:>6} | "
                src = _sanitize(f.source_line.rstrip()).expandtabs(4)
                out.write(c(_DIM, gutter) + src[:200] + "\n")
            if f.fix is not None and f.fix.operation == "suggest":
                out.write(c(_DIM, "       help: ") + _sanitize(f.fix.description) + "\n")
        out.write("\n")
    if opts.show_suppressed and result.suppressed:
        out.write(c(_BOLD, "Suppressed") + "\n")
        for f in result.suppressed:
            loc = f"{_sanitize(f.path)}:{f.span.line}:{f.span.col}:"
            out.write(f"  {loc} {f.rule_id} {f.severity.label:<8} {_sanitize(f.message)}\n")
            if f.suppression is not None:
                why = _sanitize(f.suppression.reason)
                out.write(c(_DIM, f"      suppressed ({f.suppression.kind}): {why}") + "\n")
        out.write("\n")
    if opts.quiet:
        return
    counts = Counter(f.severity for f in result.findings)
    if result.findings:
        parts = ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True))
        files = len({f.path for f in result.findings})
        noun = "finding" if len(result.findings) == 1 else "findings"
        where = f"{files} file{'s' if files != 1 else ''}"
        line = f"Found {len(result.findings)} {noun} ({parts}) in {where}"
    else:
        line = "No findings"
    scanned = result.files_scanned
    line += f"; {scanned} file{'s' if scanned != 1 else ''} scanned"
    baselined = result.baselined
    if len(result.suppressed) > baselined:
        line += f", {len(result.suppressed) - baselined} suppressed"
    if baselined:
        line += f", {baselined} in the baseline"
    out.write(line + ".\n")
    if result.findings:
        from mlsec_lint.fix import summary

        out.write(summary(scan))
