"""Automatic fixes: rules declare them as data (``fix:``), this package applies them.

``plan(scan, unsafe)`` computes the new text of every file with something to fix and
writes nothing; :mod:`mlsec_lint.fix.write` writes files atomically and
:mod:`mlsec_lint.fix.run` is what ``scan --fix/--diff/--fix-only`` does. A fix is
applied only when it can be proven: the edit is computed from the file's parsed
positions, the result must parse again (and YAML must differ from the original exactly
where the fix says), and a fix that fails any of this is not written; the finding then
says why.

Fixes of one file are applied from its end towards its start: every fix edits at or
after the object it is anchored to, so the positions of the fixes still to apply stay
exact. YAML is fixed one document at a time, Python in passes of calls that do not
contain one another, so the cost stays linear in the size of the file.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlsec_lint.fix.edits import Edit, Lines, Unfixable, apply_edits
from mlsec_lint.model import Finding, FixPlan, Span
from mlsec_lint.records import Struct, field, replace

if TYPE_CHECKING:
    from mlsec_lint.api import Scan
    from mlsec_lint.fix.yamlfix import YamlFile

TEXT_OPERATIONS = frozenset({"replace-value", "remove-flag"})
PYTHON_OPERATIONS = frozenset({"set-kwarg", "remove-kwarg", "rename-call"})
YAML_KINDS = frozenset({"yaml", "json"})


def applicable(f: Finding, unsafe: bool) -> bool:
    """``f`` has a fix that --fix (or --unsafe-fixes) applies."""
    p = f.fix
    return p is not None and p.operation != "suggest" and (unsafe or p.applicability == "safe")


class FileFix(Struct):
    path: str
    abspath: str
    before: str
    after: str
    fixed: list[Finding] = field(default_factory=list)

    def diff(self) -> str:
        import difflib

        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            f"a/{self.path}",
            f"b/{self.path}",
        )
        # a last line without a newline is marked as by diff(1), so patches apply
        return "".join(
            line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n"
            for line in lines
        )


class FixRun(Struct):
    files: list[FileFix] = field(default_factory=list)
    failed: list[tuple[Finding, str]] = field(default_factory=list)
    """Fixes that were not applied, with the reason."""


def file_kind(path: str) -> str | None:
    from mlsec_lint.discovery import name_kind

    return name_kind(path)


def plan(scan: Scan, unsafe: bool) -> FixRun:
    run = FixRun()
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for shown in scan.result.findings:
        for f in shown.with_merged():  # merged findings keep their fixes
            if applicable(f, unsafe):
                by_path[f.path].append(f)
    for path in sorted(by_path):
        src = scan.original(path)
        if src is None:
            continue
        kind = file_kind(src.path) or file_kind(src.abspath) or ""
        # findings of several rules can share one fix (the same edit at the same place)
        same: dict[tuple[object, ...], list[Finding]] = defaultdict(list)
        for f in by_path[path]:
            assert f.fix is not None
            same[(f.fix.operation, f.fix.span, f.fix.anchor, f.fix.args.__repr__())].append(f)
        groups = sorted(same.values(), key=lambda g: _order(g[0]), reverse=True)
        text, applied, failed = apply_groups(src.text, kind, groups)
        done = [f for g in applied for f in g]
        run.failed.extend(failed)
        if text != src.text:
            run.files.append(
                FileFix(path, src.abspath, src.text, text, sorted(done, key=Finding.sort_key))
            )
    return run


Group = list[Finding]
"""Findings that share one fix (the same edit at the same place)."""


def apply_groups(
    text: str, kind: str, groups: Sequence[Group]
) -> tuple[str, list[Group], list[tuple[Finding, str]]]:
    """Apply the fix of each group (ordered from the end of the file) to ``text``: the new
    text, the groups whose fix changed it, and the findings whose fix was not applied."""
    if kind in YAML_KINDS:
        return _apply_yaml_groups(text, groups)
    if kind == "python" and all(
        g[0].fix and g[0].fix.operation in PYTHON_OPERATIONS for g in groups
    ):
        return _apply_python_groups(text, groups)
    applied: list[Group] = []
    failed: list[tuple[Finding, str]] = []
    for group in groups:
        new = _try(text, kind, group, failed)
        if new is not None and new != text:
            text = new
            applied.append(group)
    return text, applied, failed


def _why_not(exc: Exception) -> str:
    """Why a fix was not applied: an :class:`Unfixable` says why; any other exception is a
    defect in the fix, which must not stop the others."""
    if isinstance(exc, Unfixable):
        return str(exc)
    return f"internal error in the fix ({type(exc).__name__}: {exc})"


def _try(text: str, kind: str, group: Group, failed: list[tuple[Finding, str]]) -> str | None:
    fix_ = group[0].fix
    assert fix_ is not None
    try:
        return _apply_one(text, kind, fix_)
    except Exception as exc:
        failed.extend((f, _why_not(exc)) for f in group)
    return None


def _apply_yaml_groups(
    text: str, groups: Sequence[Group]
) -> tuple[str, list[Group], list[tuple[Finding, str]]]:
    """YAML fixes, one document at a time: each document's fixes are applied in turn on
    its own text (parsed again after each), and ruamel.yaml proves the document's result
    once; if that proof fails, the document's fixes are applied again one by one, each
    proven on its own. Anchors never cross documents, so this is exact, and the cost is
    linear in the size of the file."""
    from mlsec_lint.fix.yamlfix import verify

    failed: list[tuple[Finding, str]] = []
    try:
        lines, regions = _regions(text)
    except Unfixable as exc:
        return text, [], [(f, str(exc)) for g in groups for f in g]
    by_region: dict[int, list[Group]] = defaultdict(list)
    for g in groups:
        p = g[0].fix
        assert p is not None
        line = (p.span if p.operation in TEXT_OPERATIONS else p.anchor).line
        index = max(i for i, (start, _end) in enumerate(regions) if start <= line or i == 0)
        by_region[index].append(g)
    applied: list[Group] = []
    for index in sorted(by_region, reverse=True):
        start, end = regions[index]
        a, b = lines.starts[start - 1], lines.line_end(end)
        before = text[a:b]
        shifted = [(g, _shift(g[0].fix, start - 1)) for g in by_region[index]]
        after, done, fails = _region(before, shifted, verify_each=False)
        if done:
            ids = {id(g) for g in done}
            try:
                plans = [p for g, p in shifted if id(g) in ids]
                verify(before, after, plans, _yaml_file(before).plain_documents())
            except Unfixable:
                after, done, fails = _region(before, shifted, verify_each=True)
        failed.extend(fails)
        applied.extend(done)
        text = text[:a] + after + text[b:]
    return text, applied, failed


def _apply_python_groups(
    text: str, groups: Sequence[Group]
) -> tuple[str, list[Group], list[tuple[Finding, str]]]:
    """Python fixes in passes: each pass parses the file once and applies the fixes of
    calls that do not contain one another together, proven by one parse of the result
    (one by one when that fails); calls nested in a fixed call wait for the next pass."""
    from mlsec_lint.fix.python import check_python, python_edits, python_file

    applied: list[Group] = []
    failed: list[tuple[Finding, str]] = []
    pending = list(groups)
    while pending:
        try:
            pf = python_file(text)
        except Unfixable as exc:
            failed.extend((f, str(exc)) for g in pending for f in g)
            break
        taken: list[tuple[Group, list[Edit]]] = []
        extents: list[tuple[int, int]] = []
        later: list[Group] = []
        for g in pending:
            p = g[0].fix
            assert p is not None
            node = pf.calls.get((p.anchor.line, p.anchor.col))
            if node is None:
                failed.extend((f, "the call is no longer where it was found") for f in g)
                continue
            ext = (pf.node_start(node), pf.node_end(node))
            if any(ext[0] < e[1] and e[0] < ext[1] for e in extents):
                later.append(g)
                continue
            try:
                edits = python_edits(pf, p)
            except Exception as exc:
                failed.extend((f, _why_not(exc)) for f in g)
                continue
            extents.append(ext)
            if edits:
                taken.append((g, edits))
        if taken:
            new = apply_edits(text, [e for _, edits in taken for e in edits])
            if check_python(new) is None:
                text = new
                applied.extend(g for g, _ in taken)
            else:  # find the fix that breaks the file
                for g, _ in taken:
                    one = _try(text, "python", g, failed)
                    if one is not None and one != text:
                        text = one
                        applied.append(g)
        if len(later) == len(pending):
            break  # cannot happen: the outermost call of a nest is always taken
        pending = later
    return text, applied, failed


@functools.lru_cache(maxsize=8)
def _regions(text: str) -> tuple[Lines, list[tuple[int, int]]]:
    """The documents of a YAML text (cached: SARIF output fixes one finding at a time)."""
    whole = _yaml_file(text)
    return whole.lines, whole.regions()


@functools.lru_cache(maxsize=8)
def _yaml_file(text: str) -> YamlFile:
    """The parsed file (cached: a one-document file is its own region, parsed once)."""
    from mlsec_lint.fix.yamlfix import YamlFile

    return YamlFile(text)


def _shift(p: FixPlan | None, lines: int) -> FixPlan:
    assert p is not None
    if not lines:
        return p

    def up(s: Span) -> Span:
        return Span(s.line - lines, s.col, s.end_line - lines, s.end_col)

    return replace(p, span=up(p.span), anchor=up(p.anchor))


def _region(
    text: str, plans: list[tuple[Group, FixPlan]], verify_each: bool
) -> tuple[str, list[Group], list[tuple[Finding, str]]]:
    applied: list[Group] = []
    failed: list[tuple[Finding, str]] = []
    for group, p in plans:
        try:
            new = _apply_yaml_one(text, p, verify_each)
        except Exception as exc:
            failed.extend((f, _why_not(exc)) for f in group)
            continue
        if new != text:
            text = new
            applied.append(group)
    return text, applied, failed


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
        from mlsec_lint.fix.python import check_python, python_edits, python_file

        edits = python_edits(python_file(text), p)
        new = apply_edits(text, edits)
        problem = check_python(new) if edits else None
        if problem:
            raise Unfixable(f"the fixed file would not parse ({problem}); not written")
        return new
    if kind in YAML_KINDS:
        return _apply_yaml_one(text, p, True)
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


def _apply_yaml_one(text: str, p: FixPlan, proven: bool) -> str:
    from mlsec_lint.fix.yamlfix import verify

    yf = _yaml_file(text)
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
    if edits and proven:
        verify(text, new, [p], yf.plain_documents())
    return new


def _text_edits(lines: Lines, p: FixPlan) -> list[Edit]:
    from mlsec_lint.fix.text import remove_word, replace_value

    return replace_value(lines, p) if p.operation == "replace-value" else remove_word(lines, p)


def counts(findings: Sequence[Finding]) -> tuple[int, int]:
    """(fixable with --fix, fixable only with --unsafe-fixes)."""
    safe = sum(1 for f in findings if applicable(f, False))
    unsafe = sum(1 for f in findings if applicable(f, True)) - safe
    return safe, unsafe


def replacement(scan: Scan, f: Finding) -> tuple[Span, str] | None:
    """The fix of ``f`` alone as one replacement of the scanned text: the region it
    deletes (an empty region inserts) and the text it inserts; None when the finding has
    no fix or it cannot be applied."""
    src = scan.original(f.path)
    if src is None or f.fix is None or f.fix.operation == "suggest":
        return None
    kind = file_kind(src.path) or file_kind(src.abspath) or ""
    new, applied, _failed = apply_groups(src.text, kind, [[f]])
    if not applied:
        return None
    old = src.text
    if new == old:
        return None
    start = _common_prefix(old, new)
    tail = _common_prefix(old[start:][::-1], new[start:][::-1])
    end_old, end_new = len(old) - tail, len(new) - tail
    lines = Lines(old)
    a, b = lines.position(start), lines.position(end_old)
    return Span(a[0], a[1], b[0], b[1]), new[start:end_new]


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of ``a`` and ``b``: halving comparisons of
    slices (done in C) rather than a Python loop over every character of a file."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def summary(scan: Scan) -> str:
    """The text report's line on fixable findings ('' when none)."""
    safe, only_unsafe = counts(scan.result.findings)
    parts = []
    if safe:
        parts.append(f"{safe} fixable with --fix")
    if only_unsafe:
        parts.append(f"{only_unsafe} more with --fix --unsafe-fixes")
    return f"[*] {'; '.join(parts)}.\n" if parts else ""
