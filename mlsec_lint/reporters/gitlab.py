"""GitLab Code Quality report (``artifacts: reports: codequality``).

A JSON array of issues with ``description``, ``check_name``, ``fingerprint``,
``severity`` and ``location`` (path relative to the repository root, lines). GitLab shows
only the first issue of each fingerprint, so fingerprints are unique: the finding's
line-independent fingerprint, salted with an occurrence number when a file holds
identical findings. They do not change when code moves, so merge requests compare
findings, not line numbers. ``description`` starts with the rule id because GitLab does
not display ``check_name``.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, TextIO

from mlsec_lint.model import Severity
from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan

SEVERITIES = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}


def build(scan: Scan) -> list[dict[str, Any]]:
    issues = []
    seen: dict[str, int] = {}
    for f in scan.result.findings:
        base = f.fingerprint or f"{f.rule_id}:{f.path}:{f.key}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        fingerprint = hashlib.sha256(f"{base}:{n}".encode()).hexdigest()[:32]
        issues.append(
            {
                "type": "issue",
                "engine_name": "mlsec-lint",
                "check_name": f.rule_id,
                "description": f"{f.rule_id}: {f.message}",
                "categories": ["Security"],
                "severity": SEVERITIES[f.severity],
                "fingerprint": fingerprint,
                "location": {
                    "path": scan.relpath(f.path) or f.path,
                    "lines": {"begin": f.span.line, "end": max(f.span.line, f.span.end_line)},
                },
            }
        )
    return issues


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    json.dump(build(scan), out, indent=2, ensure_ascii=False)
    out.write("\n")
