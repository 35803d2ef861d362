"""``scan --fix``, ``--diff`` and ``--fix-only``: what the command line does with fixes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from mlsec_lint import fix as fixes
from mlsec_lint.fix.edits import Unfixable
from mlsec_lint.model import Notice
from mlsec_lint.records import Struct
from mlsec_lint.records import replace as replace_fields

if TYPE_CHECKING:
    from mlsec_lint.api import Scan, ScanOptions


class Outcome(Struct):
    scan: Scan
    """The scan to report: after fixing, a fresh scan of the fixed files."""
    exit_code: int | None = None
    """Set when the command is done (``--diff``, ``--fix-only``, standard input)."""
    fixed_text: str | None = None
    """``--fix`` of standard input: the fixed text, printed instead of being written."""


MAX_ROUNDS = 8
"""Fix, scan again, fix what became fixable: at most this many times."""


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("x") else f"{n} {word}s"


def run(
    scan: Scan,
    options: ScanOptions,
    rescan: Callable[[ScanOptions], Scan],
    *,
    unsafe: bool,
    diff: bool,
    fix_only: bool,
    err: TextIO | None = None,
    out: TextIO | None = None,
) -> Outcome:
    err = err or sys.stderr
    out = out or sys.stdout
    planned = fixes.plan(scan, unsafe)
    if diff:
        return _diff(scan, options, rescan, planned, unsafe, err, out)
    fixed = 0
    written: set[str] = set()
    stdin_text: str | None = None
    current = options
    from mlsec_lint.discovery import scanned_roots
    from mlsec_lint.fix.write import write_fixed

    roots = scanned_roots(options.paths, scan.base or os.getcwd())
    # a fix can make another rule's fix apply (privileged: false, then
    # allowPrivilegeEscalation: false): scan again until nothing changes
    for _round in range(MAX_ROUNDS):
        failed = list(planned.failed)
        changed = 0
        for ff in planned.files:
            if current.stdin is not None and not ff.abspath:
                stdin_text = ff.after
                changed += len(ff.fixed)
                continue
            try:
                write_fixed(ff.abspath, ff.before, ff.after, roots)
            except Unfixable as exc:
                failed.extend((f, str(exc)) for f in ff.fixed)
                continue
            written.add(ff.abspath)
            changed += len(ff.fixed)
        planned.failed = failed
        if not changed:
            break
        fixed += changed
        current = replace_fields(current, progress=None)
        if stdin_text is not None:
            current.stdin = stdin_text.encode("utf-8")
        scan = rescan(current)
        planned = fixes.plan(scan, unsafe)
        if not planned.files:
            break
    if options.stdin is not None and stdin_text is None:
        src = next((scan.original(p) for p, s in scan.sources.items() if not s.abspath), None)
        stdin_text = src.text if src else ""
    if fixed:
        where = _plural(len(written), "file") if written or stdin_text is None else "standard input"
        print(f"mlsec-lint: fixed {_plural(fixed, 'finding')} in {where}.", file=err)
    _report_failed(planned, err)
    scan.result.notices = sorted(
        set(scan.result.notices) | set(_notices(planned)), key=Notice.sort_key
    )
    reasons = {(f.rule_id, f.path, f.fingerprint): why for f, why in planned.failed}
    for f in scan.result.findings:
        why = reasons.get((f.rule_id, f.path, f.fingerprint))
        if why:
            f.fix = None  # tried: not counted as fixable again
            f.message = f"{f.message.rstrip()} The fix was not applied: {why}."
    if fix_only:
        return Outcome(scan, 0, stdin_text)
    return Outcome(scan, None, stdin_text)


def _diff(
    scan: Scan,
    options: ScanOptions,
    rescan: Callable[[ScanOptions], Scan],
    planned: fixes.FixRun,
    unsafe: bool,
    err: TextIO,
    out: TextIO,
) -> Outcome:
    """What --fix would do, rounds included (fixed files are scanned again from memory),
    as one unified diff per file; nothing is written."""
    first: dict[str, fixes.FileFix] = {}
    overlay: dict[str, str] = {}
    stdin = options.stdin
    count = 0
    for _round in range(MAX_ROUNDS):
        for ff in planned.files:
            key = ff.abspath or ff.path
            if key not in first:
                first[key] = fixes.FileFix(ff.path, ff.abspath, ff.before, ff.after)
            first[key].after = ff.after
            count += len(ff.fixed)
            if ff.abspath:
                overlay[ff.abspath] = ff.after
            else:
                stdin = ff.after.encode("utf-8")
        if not planned.files:
            break
        fresh = replace_fields(options, progress=None, overlay=dict(overlay))
        if options.stdin is not None:
            fresh.stdin = stdin
        scan = rescan(fresh)
        planned = fixes.plan(scan, unsafe)
    from mlsec_lint.redact import mask_lines

    text = "".join(ff.diff() for ff in sorted(first.values(), key=lambda f: f.path))
    # a diff is a report too: credentials on its lines are masked like everywhere else
    out.write("\n".join(mask_lines(text.split("\n"))))
    out.flush()
    if count:
        print(
            f"mlsec-lint: {_plural(count, 'fix')} would be applied "
            f"in {_plural(len(first), 'file')} (--diff writes nothing).",
            file=err,
        )
    _report_failed(planned, err)
    scan.result.notices = sorted(
        set(scan.result.notices) | set(_notices(planned)), key=Notice.sort_key
    )
    return Outcome(scan, 1 if first else 0)


def _notices(planned: fixes.FixRun) -> list[Notice]:
    return [
        Notice(f.path, "fix-not-applied", f"{f.rule_id}: fix not applied: {why}", "warning", f.line)
        for f, why in planned.failed
    ]


def _report_failed(planned: fixes.FixRun, err: TextIO) -> None:
    if planned.failed:
        print(
            f"mlsec-lint: {_plural(len(planned.failed), 'fix')} not applied (see the notices).",
            file=err,
        )
