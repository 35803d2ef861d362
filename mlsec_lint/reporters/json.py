"""Machine-readable output, documented by ``mlsec_lint/schemas/report.schema.json``."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from mlsec_lint import __version__
from mlsec_lint.model import Finding, Severity
from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan

SCHEMA_VERSION = "1"


def finding_dict(f: Finding) -> dict[str, Any]:
    d: dict[str, Any] = {
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "title": f.title,
        "category": f.category,
        "severity": f.severity.label,
        "path": f.path,
        "line": f.span.line,
        "column": f.span.col,
        "end_line": f.span.end_line,
        "end_column": f.span.end_col,
        "message": f.message,
        "source_line": f.source_line,
        "key": f.key,
    }
    if f.fingerprint:
        d["fingerprint"] = f.fingerprint
    if f.also:
        d["also"] = list(f.also)
    if f.fix is not None and f.fix.operation == "suggest":
        d["suggestion"] = f.fix.description
    if f.suppression is not None:
        d["suppression"] = {
            "kind": f.suppression.kind,
            "reason": f.suppression.reason,
            "line": f.suppression.line,
        }
    return d


def _with_fix(scan: Scan, f: Finding) -> dict[str, Any]:
    """A finding with its fix, when the fix can be applied here (as in SARIF)."""
    d = finding_dict(f)
    if f.fix is not None and f.fix.operation != "suggest":
        from mlsec_lint.fix import replacement

        if replacement(scan, f) is not None:
            d["fix"] = {"applicability": f.fix.applicability, "description": f.fix.description}
    return d


def build(scan: Scan) -> dict[str, Any]:
    result = scan.result
    counts = Counter(f.severity.label for f in result.findings)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mlsec-lint", "version": __version__},
        "summary": {
            "files_scanned": result.files_scanned,
            "files_by_kind": dict(sorted(result.files_by_kind.items())),
            "rules_run": result.rules_run,
            "findings": len(result.findings),
            "suppressed": len(result.suppressed),
            "baselined": result.baselined,
            "by_severity": {
                s.label: counts.get(s.label, 0) for s in sorted(Severity, reverse=True)
            },
        },
        "findings": [_with_fix(scan, f) for f in result.findings],
        "suppressed": [finding_dict(f) for f in result.suppressed],
        "notices": [
            {"path": n.path, "line": n.line, "code": n.code, "level": n.level, "message": n.message}
            for n in result.notices
        ],
    }


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    json.dump(build(scan), out, indent=2, ensure_ascii=False)
    out.write("\n")
