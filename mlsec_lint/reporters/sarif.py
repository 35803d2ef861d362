"""SARIF 2.1.0 for GitHub code scanning and every other SARIF consumer.

One run with a constant tool name; every rule that ran is described (id, a name that is
not the id, short and full description, help text and markdown, an absolute help URI,
default level, tags, precision and a numeric ``security-severity``); every result has
its rule id and index, a level, a message, exactly one physical location with a
repository-relative, percent-encoded URI under ``%SRCROOT%`` and a real region (1-based,
``endColumn`` exclusive, columns in Unicode code points), and partial fingerprints:
GitHub's ``primaryLocationLineHash`` and the line-independent ``mlsecLint/v1``.

``results`` is present (``[]``) for clean runs, which is what closes fixed alerts.
``executionSuccessful`` means the scan ran, whatever it found; notices (unparseable
files, skipped templates) are ``toolExecutionNotifications``.

Suppressed findings are omitted by default: GitHub ignores SARIF suppressions and would
show them as open alerts. With ``show_suppressed`` they are included with a
``suppressions`` entry (``inSource`` for comments and annotations, ``external`` for the
configuration and the baseline), and every other result gets ``suppressions: []``,
as the specification requires (all results or none).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mlsec_lint import __version__
from mlsec_lint.fingerprints import FINGERPRINT_VERSION, LINE_HASH, line_hashes
from mlsec_lint.model import Finding, Notice, Severity
from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan
    from mlsec_lint.engine.rules import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "mlsec-lint"
INFORMATION_URI = "https://github.com/mlsec-lint/mlsec-lint"
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000
"""GitHub rejects runs with more results; the most severe are kept."""
MAX_TAGS = 20
MAX_DESCRIPTION = 1024

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
"""Scores inside GitHub's buckets: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low < 4."""
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def artifact_uri(scan: Scan, path: str) -> dict[str, str]:
    """``artifactLocation`` for a scanned path: relative to ``%SRCROOT%`` and
    percent-encoded (RFC 3986), or an absolute ``file:`` URI for a file outside it."""
    rel = scan.relpath(path)
    if rel is not None:
        return {
            "uri": urllib.parse.quote(rel, safe="/", errors="surrogateescape"),
            "uriBaseId": SRCROOT,
        }
    return {"uri": Path(scan.abspath(path)).as_uri()}


def region(scan: Scan, f: Finding, snippet: bool = True) -> dict[str, Any]:
    s = f.span
    line = max(1, s.line)
    col = max(1, s.col)
    end_line = max(line, s.end_line)
    end_col = max(1, s.end_col)
    if end_line == line and end_col <= col:
        end_col = col + 1
    out: dict[str, Any] = {
        "startLine": line,
        "startColumn": col,
        "endLine": end_line,
        "endColumn": end_col,
    }
    src = scan.sources.get(f.path)
    if snippet and src is not None:
        # line by line: a list of every line of every file would outweigh the texts
        lines = (
            [src.line(line)]
            if end_line == line
            else [src.line(n) for n in range(line, min(end_line, src.line_count()) + 1)]
        )
        if lines:
            if len(lines) == 1:
                text = lines[0][col - 1 : end_col - 1]
            else:
                text = "\n".join([lines[0][col - 1 :], *lines[1:-1], lines[-1][: end_col - 1]])
            if text:
                out["snippet"] = {"text": text[:2000]}
    return out


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_\s]+", name) if part)


def _truncate(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def tags(rule: Rule) -> list[str]:
    out = ["security", rule.category]
    refs = rule.references
    out += [f"external/cwe/cwe-{c.split('-', 1)[1]}" for c in refs.get("cwe", []) if "-" in c]
    for key in ("owasp-ml", "owasp-llm"):
        out += [f"external/{key}/{str(v).lower().replace(':', '-')}" for v in refs.get(key, [])]
    out += list(rule.tags)
    unique = list(dict.fromkeys(t for t in out if t))
    return unique[:MAX_TAGS]


def help_uri(rule: Rule) -> str | None:
    """An absolute documentation URL: the rule reference for built-in rules, a user
    rule's ``references.docs`` or first reference URL (none otherwise)."""
    if rule.builtin or rule.references.get("docs"):
        return rule.help_uri
    urls = rule.references.get("urls") or []
    return str(urls[0]) if urls else None


def descriptor(rule: Rule) -> dict[str, Any]:
    from mlsec_lint.docs import render_rule_markdown, render_rule_text

    level = LEVELS[rule.severity]
    d: dict[str, Any] = {
        "id": rule.id,
        "name": pascal(rule.name),
        "shortDescription": {"text": _truncate(rule.title)},
        "fullDescription": {"text": _truncate(rule.docs.get("what", "") or rule.title)},
        "help": {
            "text": render_rule_text(rule) or rule.title,
            "markdown": render_rule_markdown(rule),
        },
        "defaultConfiguration": {"level": level},
        "properties": {
            "tags": tags(rule),
            "precision": rule.precision,
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "problem.severity": PROBLEM_SEVERITY[level],
        },
    }
    uri = help_uri(rule)
    if uri:
        d["helpUri"] = uri
    return d


def _notification(scan: Scan, n: Notice) -> dict[str, Any]:
    out: dict[str, Any] = {
        "level": n.level if n.level in ("error", "warning", "note") else "warning",
        "message": {"text": n.message},
        "descriptor": {"id": n.code},
    }
    if n.path:
        loc: dict[str, Any] = {"artifactLocation": artifact_uri(scan, n.path)}
        if n.line:
            loc["region"] = {"startLine": max(1, n.line)}
        out["locations"] = [{"physicalLocation": loc}]
    return out


def _suppression(scan: Scan, f: Finding) -> dict[str, Any]:
    s = f.suppression
    assert s is not None
    out: dict[str, Any] = {
        "kind": "inSource" if s.kind in ("inline", "annotation") else "external",
        "status": "accepted",
        "justification": s.reason,
    }
    if s.line:
        reg: dict[str, Any] = {"startLine": s.line}
        if s.col:
            reg["startColumn"] = s.col
        out["location"] = {
            "physicalLocation": {"artifactLocation": artifact_uri(scan, f.path), "region": reg}
        }
    return out


def _result(
    scan: Scan,
    f: Finding,
    index: dict[str, int],
    hashes: dict[str, dict[int, str]],
    redact: bool,
) -> dict[str, Any]:
    reg = region(scan, f, snippet=not redact)
    fingerprints = {FINGERPRINT_VERSION: f.fingerprint} if f.fingerprint else {}
    line_hash = hashes.get(f.path, {}).get(reg["startLine"])
    if line_hash:
        fingerprints[LINE_HASH] = line_hash
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": artifact_uri(scan, f.path), "region": reg}}
        ],
        "partialFingerprints": fingerprints,
        "properties": {"severity": f.severity.label},
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    fixes = [
        fix
        for one in f.with_merged()
        if one.fix is not None and one.fix.operation != "suggest"
        for fix in _fixes(scan, one)
    ]
    if fixes:
        result["fixes"] = fixes
    return result


def _fixes(scan: Scan, f: Finding) -> list[dict[str, Any]]:
    """The rule's fix as a SARIF ``fix`` (one replacement in the finding's file)."""
    from mlsec_lint.fix import replacement

    found = replacement(scan, f)
    if found is None or f.fix is None:
        return []
    span, text = found
    label = "" if f.fix.applicability == "safe" else " (unsafe: can change behaviour)"
    return [
        {
            "description": {"text": f"{f.fix.description}{label}"},
            "artifactChanges": [
                {
                    "artifactLocation": artifact_uri(scan, f.path),
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": span.line,
                                "startColumn": span.col,
                                "endLine": span.end_line,
                                "endColumn": span.end_col,
                            },
                            "insertedContent": {"text": text},
                        }
                    ],
                }
            ],
        }
    ]


def _line_hashes(scan: Scan, findings: Sequence[Finding]) -> dict[str, dict[int, str]]:
    wanted: dict[str, set[int]] = {}
    for f in findings:
        wanted.setdefault(f.path, set()).add(max(1, f.span.line))
    out: dict[str, dict[int, str]] = {}
    for path, lines in wanted.items():
        src = scan.sources.get(path)
        if src is not None:
            text = ("\ufeff" + src.text) if src.encoding == "utf-8-sig" else src.text
            out[path] = line_hashes(text, lines)
    return out


def build(scan: Scan, opts: ReportOptions) -> dict[str, Any]:
    result = scan.result
    rules = sorted(scan.rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    findings = list(result.findings)
    shown_suppressed = list(result.suppressed) if opts.show_suppressed else []
    notifications = [_notification(scan, n) for n in result.notices]
    everything = findings + shown_suppressed
    if len(everything) > MAX_RESULTS:
        kept = sorted(everything, key=lambda f: (-f.severity, f.sort_key()))[:MAX_RESULTS]
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{len(everything) - MAX_RESULTS} results were left out of this "
                    f"report (GitHub accepts at most {MAX_RESULTS} per run); the most "
                    "severe are kept."
                },
                "descriptor": {"id": "results-truncated"},
            }
        )
        keep = {id(f) for f in kept}
        findings = [f for f in findings if id(f) in keep]
        shown_suppressed = [f for f in shown_suppressed if id(f) in keep]
    hashes = _line_hashes(scan, findings + shown_suppressed)
    redacted = {r.id for r in rules if r.category == "secrets"}
    results = []
    for f in findings:
        r = _result(scan, f, index, hashes, f.rule_id in redacted)
        if opts.show_suppressed:
            r["suppressions"] = []
        if scan.baseline_used:
            r["baselineState"] = "new"
        results.append(r)
    for f in shown_suppressed:
        r = _result(scan, f, index, hashes, f.rule_id in redacted)
        r["suppressions"] = [_suppression(scan, f)]
        if scan.baseline_used:
            is_baseline = f.suppression is not None and f.suppression.kind == "baseline"
            r["baselineState"] = "unchanged" if is_baseline else "new"
        results.append(r)
    results.sort(key=_result_order)
    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "fullName": "mlsec-lint: security linter for ML deployments",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": [descriptor(r) for r in rules],
    }
    if _SEMVER.match(__version__):
        driver["semanticVersion"] = __version__
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"{opts.category.strip('/') or TOOL_NAME}/"},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
        "properties": {
            "filesScanned": result.files_scanned,
            "rulesRun": result.rules_run,
            "suppressed": len(result.suppressed) - result.baselined,
            "baselined": result.baselined,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _result_order(r: dict[str, Any]) -> tuple[str, int, int, str]:
    loc = r["locations"][0]["physicalLocation"]
    reg = loc["region"]
    return (loc["artifactLocation"]["uri"], reg["startLine"], reg["startColumn"], r["ruleId"])


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    doc = build(scan, opts)
    if len(doc["runs"][0]["results"]) > 5000:
        # dumps, not dump: only a one-shot encoding without indentation runs in C
        out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
    else:
        json.dump(doc, out, ensure_ascii=False, indent=2)
    out.write("\n")
