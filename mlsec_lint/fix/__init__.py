"""Automatic fixes: rules declare them as data (``fix:``), this package applies them.

``plan(scan, unsafe)`` computes the new text of every file with something to fix; it
writes nothing. ``write(...)`` writes the files atomically. A fix is applied only when
it can be proven: the edit is computed from the file's parsed positions, the result must
parse again (and for YAML must differ from the original exactly where the fix says), and
a fix that fails any of this is not written; the finding then says why.

Fixes of one file are applied one at a time, from the end of the file towards its start,
and the file is parsed again after each one: every fix edits at or after the object it
is anchored to, so the positions of the fixes still to apply stay exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlsec_lint.fix.edits import Edit, Lines, Unfixable, apply_edits
from mlsec_lint.model import Finding, FixPlan, Span

if TYPE_CHECKING:
    from mlsec_lint.api import Scan

TEXT_OPERATIONS = frozenset({"replace-value", "remove-flag"})
PYTHON_OPERATIONS = frozenset({"set-kwarg", "remove-kwarg", "rename-call"})
YAML_KINDS = frozenset({"yaml", "json"})


def applicable(f: Finding, unsafe: bool) -> bool:
    """``f`` has a fix that --fix (or --unsafe-fixes) applies."""
    p = f.fix
    return p is not None and p.operation != "suggest" and (unsafe or p.applicability == "safe")


@dataclass
class FileFix:
    path: str
    abspath: str
    before: str
    after: str
    fixed: list[Finding] = field(default_factory=list)

    def diff(self) -> str:
        import difflib

        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                f"a/{self.path}",
                f"b/{self.path}",
            )
        )


@dataclass
class FixRun:
    files: list[FileFix] = field(default_factory=list)
    failed: list[tuple[Finding, str]] = field(default_factory=list)
    """Fixes that were not applied, with the reason."""

    @property
    def fixed(self) -> int:
        return sum(len(f.fixed) for f in self.files)


def file_kind(path: str) -> str | None:
    from mlsec_lint.discovery import name_kind

    return name_kind(path)


def plan(scan: Scan, unsafe: bool) -> FixRun:
    run = FixRun()
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for f in scan.result.findings:
        if applicable(f, unsafe):
            by_path[f.path].append(f)
    for path in sorted(by_path):
        src = scan.sources.get(path)
        if src is None:
            continue
        kind = file_kind(src.path) or file_kind(src.abspath) or ""
        text = src.text
        done: list[Finding] = []
        # findings of several rules can share one fix (the same edit at the same place)
        same: dict[tuple[object, ...], list[Finding]] = defaultdict(list)
        for f in by_path[path]:
            assert f.fix is not None
            same[(f.fix.operation, f.fix.span, f.fix.anchor, f.fix.args.__repr__())].append(f)
        for group in sorted(same.values(), key=lambda g: _order(g[0]), reverse=True):
            fix_ = group[0].fix
            assert fix_ is not None
            try:
                new = _apply_one(text, kind, fix_)
            except Unfixable as exc:
                run.failed.extend((f, str(exc)) for f in group)
                continue
            if new != text:
                text = new
                done.extend(group)
        if text != src.text:
            run.files.append(
                FileFix(path, src.abspath, src.text, text, sorted(done, key=Finding.sort_key))
            )
    return run


def _order(f: Finding) -> tuple[int, int, int, int]:
    p = f.fix
    assert p is not None
    where = p.span if p.operation in TEXT_OPERATIONS else p.anchor
    return (where.line, where.col, p.span.line, p.span.col)


def _apply_one(text: str, kind: str, p: FixPlan) -> str:
    edits: list[Edit]
    if p.operation in PYTHON_OPERATIONS:
        if kind != "python":
            raise Unfixable(f"{p.operation} applies to Python files only")
        from mlsec_lint.fix.python import PythonFile, check_python, python_edits

        edits = python_edits(PythonFile(text), p)
        new = apply_edits(text, edits)
        problem = check_python(new) if edits else None
        if problem:
            raise Unfixable(f"the fixed file would not parse ({problem}); not written")
        return new
    if kind in YAML_KINDS:
        from mlsec_lint.fix.yamlfix import YamlFile, verify

        yf = YamlFile(text)
        if p.operation == "set-key":
            edits = yf.set_key(p)
        elif p.operation == "remove-flag":
            item = yf.remove_item(p.span)
            edits = item if item is not None else _text_edits(yf.lines, p)
        elif p.operation == "replace-value":
            edits = _text_edits(yf.lines, p)
        else:
            raise Unfixable(f"{p.operation} does not apply to YAML files")
        new = apply_edits(text, edits)
        if edits:
            verify(text, new, [p])
        return new
    if p.operation == "set-key":
        raise Unfixable("set-key applies to YAML files only")
    if p.operation in TEXT_OPERATIONS:
        lines = Lines(text)
        new = apply_edits(text, _text_edits(lines, p))
        if kind == "python":
            from mlsec_lint.fix.python import check_python

            problem = check_python(new)
            if problem:
                raise Unfixable(f"the fixed file would not parse ({problem}); not written")
        return new
    raise Unfixable(f"unknown fix operation {p.operation}")


def _text_edits(lines: Lines, p: FixPlan) -> list[Edit]:
    from mlsec_lint.fix.text import remove_word, replace_value

    return replace_value(lines, p) if p.operation == "replace-value" else remove_word(lines, p)


def diff(run: FixRun) -> str:
    return "".join(f.diff() for f in run.files)


def counts(findings: Sequence[Finding]) -> tuple[int, int]:
    """(fixable with --fix, fixable only with --unsafe-fixes)."""
    safe = sum(1 for f in findings if applicable(f, False))
    unsafe = sum(1 for f in findings if applicable(f, True)) - safe
    return safe, unsafe


def replacement(scan: Scan, f: Finding) -> tuple[Span, str] | None:
    """The fix of ``f`` alone as one replacement of the scanned text: the region it
    deletes (an empty region inserts) and the text it inserts; None when the finding has
    no fix or it cannot be applied."""
    src = scan.sources.get(f.path)
    if src is None or f.fix is None or f.fix.operation == "suggest":
        return None
    kind = file_kind(src.path) or file_kind(src.abspath) or ""
    try:
        new = _apply_one(src.text, kind, f.fix)
    except Unfixable:
        return None
    old = src.text
    if new == old:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    lines = Lines(old)
    a, b = lines.position(start), lines.position(end_old)
    return Span(a[0], a[1], b[0], b[1]), new[start:end_new]


def summary(scan: Scan) -> str:
    """The text report's line on fixable findings ('' when none)."""
    safe, only_unsafe = counts(scan.result.findings)
    parts = []
    if safe:
        parts.append(f"{safe} fixable with --fix")
    if only_unsafe:
        parts.append(f"{only_unsafe} more with --fix --unsafe-fixes")
    return f"[*] {'; '.join(parts)}.\n" if parts else ""
