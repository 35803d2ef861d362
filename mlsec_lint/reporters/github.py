"""GitHub Actions workflow commands: one annotation per finding.

``::error file=…,line=…,endLine=…,col=…,endColumn=…,title=…::message``. Messages escape
``%``, CR and LF; property values also ``:`` and ``,``. Columns are only given for
single-line regions (GitHub rejects columns on multi-line annotations). Paths are
relative to the repository root.

GitHub shows at most 10 annotations of each level per step and drops the rest silently,
so annotations are a preview: at most 10 errors, 10 warnings and 10 notices are emitted
(most severe first), every finding left out is printed as a plain log line, and a
notice says how many were left out. The SARIF report carries the full set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from mlsec_lint import escape
from mlsec_lint.model import Finding, Severity
from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan

PER_LEVEL = 10
"""Annotations GitHub displays per level and step."""

COMMANDS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return escape.github_data(text)


def escape_property(text: str) -> str:
    return escape.github_property(text)


def annotation(scan: Scan, f: Finding) -> str:
    s = f.span
    path = scan.relpath(f.path) or f.path
    props = [f"file={escape_property(path)}", f"line={s.line}"]
    if s.end_line > s.line:
        props.append(f"endLine={s.end_line}")
    else:
        props.append(f"col={s.col}")
        if s.end_col > s.col:
            props.append(f"endColumn={s.end_col}")
    props.append(f"title={escape_property(f'{f.rule_id} {f.rule_name}')}")
    message = f"{f.message} [{f.rule_id}, {f.severity.label}]"
    return f"::{COMMANDS[f.severity]} {','.join(props)}::{escape_data(message)}"


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    findings = sorted(scan.result.findings, key=lambda f: (-f.severity, f.sort_key()))
    chosen: dict[str, list[Finding]] = {"error": [], "warning": [], "notice": []}
    omitted: list[Finding] = []
    for f in findings:
        bucket = chosen[COMMANDS[f.severity]]
        (bucket if len(bucket) < PER_LEVEL else omitted).append(f)
    if omitted and len(chosen["notice"]) == PER_LEVEL:
        omitted.append(chosen["notice"].pop())  # the summary needs a notice slot
    lines: list[str] = []
    if omitted:
        n = len(omitted)
        lines.append(
            "::notice title=mlsec-lint::"
            + escape_data(
                f"{n} more finding{'s' if n != 1 else ''} not annotated (GitHub shows "
                f"{PER_LEVEL} annotations per level and step); they are listed in the job "
                "log and the SARIF report has them all."
            )
        )
    for level in ("error", "warning", "notice"):
        lines.extend(annotation(scan, f) for f in chosen[level])
    used = {level: len(items) for level, items in chosen.items()}
    for notice in scan.result.notices:
        level = notice.level
        if level not in ("error", "warning") or used[level] >= PER_LEVEL:
            continue
        used[level] += 1
        path = scan.relpath(notice.path) or notice.path
        where = f"file={escape_property(path)}" + (f",line={notice.line}" if notice.line else "")
        title = escape_property(f"mlsec-lint {notice.code}")
        lines.append(f"::{level} {where},title={title}::{escape_data(notice.message)}")
    for line in lines:
        out.write(line + "\n")
    for f in sorted(omitted, key=Finding.sort_key):
        path = scan.relpath(f.path) or f.path
        out.write(
            f"{escape.text(path)}:{f.span.line}:{f.span.col}: {f.rule_id} {f.severity.label} "
            f"{escape.text(_one_line(f.message))}\n"
        )
    if not opts.quiet:
        result = scan.result
        n = len(result.findings)
        files = result.files_scanned
        out.write(
            f"mlsec-lint: {n} finding{'s' if n != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''} scanned, {len(result.suppressed)} suppressed.\n"
        )


def _one_line(text: str) -> str:
    return " ".join(text.split())
