"""Per-run budgets: how much a scan reports, whatever the scanned files hold.

A hostile repository can make one file produce thousands of findings, or a finding
message carry a huge value from the file. The report stays bounded: at most
:data:`MAX_FINDINGS_PER_FILE` findings per file and :data:`MAX_FINDINGS` per run (the most
severe first), messages of at most :data:`MAX_MESSAGE_CHARS` characters, and a notice for
every file whose findings were cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlsec_lint.model import Finding, Notice

MAX_FINDINGS_PER_FILE = 1000
MAX_FINDINGS = 20_000
MAX_MESSAGE_CHARS = 2000


def apply(findings: Sequence[Finding]) -> tuple[list[Finding], list[Notice]]:
    """The findings to report (order kept); a notice per file that lost some to the
    per-file budget, and one for all the files the run's budget cut."""
    for f in findings:
        if len(f.message) > MAX_MESSAGE_CHARS:
            from mlsec_lint.redact import mask_text

            # masked before the cut: a token cut in two would no longer be recognised
            # when the report is masked, and its first part would be printed
            f.message = mask_text(f.message)[: MAX_MESSAGE_CHARS - 1] + "…"
    if len(findings) <= MAX_FINDINGS_PER_FILE:
        return list(findings), []
    per_file: dict[str, int] = {}
    for f in findings:
        per_file[f.path] = per_file.get(f.path, 0) + 1
    if len(findings) <= MAX_FINDINGS and max(per_file.values()) <= MAX_FINDINGS_PER_FILE:
        return list(findings), []
    # most severe first within each file and across the run
    ranked = sorted(range(len(findings)), key=lambda i: (-findings[i].severity, i))
    kept_ids: set[int] = set()
    counts: dict[str, int] = {}
    for i in ranked:
        path = findings[i].path
        if counts.get(path, 0) >= MAX_FINDINGS_PER_FILE or len(kept_ids) >= MAX_FINDINGS:
            continue
        counts[path] = counts.get(path, 0) + 1
        kept_ids.add(i)
    kept = [f for i, f in enumerate(findings) if i in kept_ids]
    notices = []
    cut_by_run: list[tuple[str, int]] = []
    for path, total in per_file.items():
        lost = total - counts.get(path, 0)
        if not lost:
            continue
        if total <= MAX_FINDINGS_PER_FILE:  # only the run's budget cut it: said once
            cut_by_run.append((path, lost))
            continue
        notices.append(
            Notice(
                path,
                "findings-budget",
                f"{lost:,} more finding{'s' if lost != 1 else ''} not reported (at most "
                f"{MAX_FINDINGS_PER_FILE:,} per file and {MAX_FINDINGS:,} per run, the most "
                "severe first)",
                "warning",
            )
        )
    if cut_by_run:
        lost = sum(n for _, n in cut_by_run)
        names = ", ".join(p for p, _ in cut_by_run[:3])
        more = len(cut_by_run) - 3
        notices.append(
            Notice(
                cut_by_run[0][0],
                "findings-budget",
                f"{lost:,} more finding{'s' if lost != 1 else ''} in {len(cut_by_run):,} "
                f"file{'s' if len(cut_by_run) != 1 else ''} not reported: the run reports at "
                f"most {MAX_FINDINGS:,}, the most severe first ({names}"
                f"{f' and {more:,} more' if more > 0 else ''}); scan fewer paths or raise "
                "--min-severity",
                "warning",
            )
        )
    return kept, notices
