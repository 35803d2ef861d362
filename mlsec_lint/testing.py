"""The fixture harness: rules are specified by annotated example files.

In a fixture, a comment line ``# expect: RULE-ID[, RULE-ID]`` says the next line must be
reported by those rules, and ``# ok: RULE-ID`` says it must not. Files that cannot hold
comments (JSON) use a sidecar ``<file>.expect.yaml``::

    expect: [{rule: MLS-SEL-004, line: 3}]
    ok: [{rule: MLS-SEL-004, line: 7}]

Fixtures live in one directory per rule (``fixtures/<RULE-ID>/…``). Each directory is
scanned as one project (so cross-file rules work), and for every file the reported
(rule, line) pairs must equal the expected ones exactly, for the directory's rule and
every rule named in the file's annotations. ``todo-expect`` / ``todo-ok`` record known
false negatives / positives: they are left out of the comparison, and become a problem
once fixed (a ``todo-expect`` reported, a ``todo-ok`` no longer reported), so the
annotation is promoted.

Fixes have fixtures too: ``fixtures/<RULE-ID>/fix/<name>`` is an input and
``<name>.fixed`` the text ``--fix --unsafe-fixes`` must turn it into with the rule's own
fixes. Files in ``fix/`` without a ``.fixed`` twin are context scanned with each input
(a lock file whose pins a fix uses). After the fix, no finding of the rule may still
offer a fix that does nothing, and fixing the output again must change nothing.

This is public API: ``mlsec-lint test-rules`` runs it on a user's own rules.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import yaml

from mlsec_lint.engine.rules import Rule
from mlsec_lint.records import Struct, field

ANNOTATION = re.compile(r"^\s*#\s*(expect|ok|todo-expect|todo-ok)\s*:\s*(.+?)\s*$")
_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
SIDECAR = ".expect.yaml"
FIX_DIR = "fix"
FIXED = ".fixed"


class Expectations(Struct):
    expect: set[tuple[str, int]] = field(default_factory=set)
    ok: set[tuple[str, int]] = field(default_factory=set)
    todo_expect: set[tuple[str, int]] = field(default_factory=set)
    """Known false negatives: must not be reported yet (then promote them to expect)."""
    todo_ok: set[tuple[str, int]] = field(default_factory=set)
    """Known false positives: must still be reported (then promote them to ok)."""
    rules: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def bucket(self, kind: str) -> set[tuple[str, int]]:
        return {
            "expect": self.expect,
            "ok": self.ok,
            "todo-expect": self.todo_expect,
            "todo-ok": self.todo_ok,
        }[kind]


def parse_annotations(path: Path) -> Expectations:
    exp = Expectations()
    sidecar = Path(str(path) + SIDECAR)
    if sidecar.exists():
        return _parse_sidecar(sidecar, exp)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return exp
    pending: list[tuple[str, list[str], int]] = []
    for i, line in enumerate(lines, start=1):
        m = ANNOTATION.match(line)
        if m:
            ids = [x.strip() for x in m.group(2).split(",") if x.strip()]
            for rid in ids:
                if not _ID.match(rid):
                    exp.errors.append(f"{path}:{i}: malformed rule id {rid!r} in annotation")
            pending.append((m.group(1), ids, i))
            continue
        if pending and line.strip():
            for kind, ids, _ in pending:
                for rid in ids:
                    exp.rules.add(rid)
                    exp.bucket(kind).add((rid, i))
            pending = []
    for _, _, i in pending:
        exp.errors.append(f"{path}:{i}: annotation is not followed by a line to check")
    return exp


def _parse_sidecar(sidecar: Path, exp: Expectations) -> Expectations:
    try:
        data = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        exp.errors.append(f"{sidecar}: cannot read sidecar: {exc}")
        return exp
    for kind in ("expect", "ok", "todo-expect", "todo-ok"):
        for item in data.get(kind) or []:
            try:
                pair = (str(item["rule"]), int(item["line"]))
            except (KeyError, TypeError, ValueError):
                exp.errors.append(f"{sidecar}: each {kind} entry needs 'rule' and 'line'")
                continue
            exp.rules.add(pair[0])
            exp.bucket(kind).add(pair)
    return exp


def fixture_files(directory: Path) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(SIDECAR):
                out.append(Path(root) / name)
    return out


def check_rule_dir(
    directory: Path, rules: Sequence[Rule], rule_id: str | None = None
) -> tuple[list[str], dict[str, Expectations]]:
    """Problems found in one fixture directory, and the expectations per file."""
    from mlsec_lint.api import ScanOptions, scan

    known = {r.id for r in rules}
    problems: list[str] = []
    by_file: dict[str, Expectations] = {}
    fix_dir = directory / FIX_DIR
    files = [f for f in fixture_files(directory) if fix_dir not in f.parents]
    for f in files:
        exp = parse_annotations(f)
        problems.extend(exp.errors)
        for rid in exp.rules:
            if rid not in known:
                problems.append(f"{f}: annotation names unknown rule {rid}")
        by_file[f.relative_to(directory).as_posix()] = exp
    checked = {rid for exp in by_file.values() for rid in exp.rules} | {rule_id or ""}
    # disabled rules, and rules in Semgrep syntax (a subprocess), run only where checked
    ruleset = [r for r in rules if r.id in checked or (r.enabled and r.target != "semgrep-match")]
    result = scan(
        ScanOptions(
            paths=["."],
            base=str(directory),
            respect_gitignore=False,
            rules=ruleset,
            select=["ALL"],
            excludes=[f"/{FIX_DIR}/"],
        )
    ).result
    actual: dict[str, set[tuple[str, int]]] = defaultdict(set)
    messages: dict[tuple[str, str, int], str] = {}
    for finding in result.findings:
        actual[finding.path].add((finding.rule_id, finding.line))
        messages[(finding.path, finding.rule_id, finding.line)] = finding.message
        # rules merged into this finding (one per line and category) count as reported
        for merged in finding.also:
            actual[finding.path].add((merged, finding.line))
    for n in result.notices:
        if n.level == "error":
            problems.append(f"{directory / n.path}: {n.message}")
    skipped = _unrendered_charts(directory)
    for rel, exp in sorted(by_file.items()):
        if any(rel.startswith(chart) for chart in skipped):
            continue  # a Helm chart, and no renderer installed to check it with
        scope = set(exp.rules) | ({rule_id} if rule_id else set())
        reported = {(r, ln) for r, ln in actual.get(rel, set()) if r in scope}
        todo = exp.todo_expect | exp.todo_ok
        got = reported - todo
        want = exp.expect - todo
        for r, ln in sorted(want - got):
            problems.append(f"{directory / rel}:{ln}: expected {r}, not reported")
        for r, ln in sorted(got - want):
            msg = messages.get((rel, r, ln), "")
            problems.append(f"{directory / rel}:{ln}: unexpected {r}: {msg}")
        # a known miss that is now found, or a known false positive that is gone, is
        # progress the annotations must record
        for r, ln in sorted(exp.todo_expect & reported):
            problems.append(f"{directory / rel}:{ln}: todo-expect {r} is now reported: use expect")
        for r, ln in sorted(exp.todo_ok - reported):
            problems.append(f"{directory / rel}:{ln}: todo-ok {r} is no longer reported: use ok")
    if rule_id and fix_dir.is_dir():
        problems.extend(check_fix_fixtures(fix_dir, rules, rule_id))
    return problems, by_file


def fix_cases(fix_dir: Path) -> list[Path]:
    """Inputs of the fix fixtures in ``fix_dir``: the files with a ``.fixed`` twin."""
    if not fix_dir.is_dir():
        return []
    return sorted(
        p
        for p in fix_dir.iterdir()
        if p.is_file() and not p.name.endswith(FIXED) and p.with_name(p.name + FIXED).exists()
    )


def _fix_once(
    text: str, case: Path, rules: Sequence[Rule], rule_id: str
) -> tuple[str, list[str], list[str]]:
    """The text of ``case`` after the rule's fixes (scanned in a copy of its directory,
    without the ``.fixed`` files); the findings whose fix was not applied (with why); and
    the findings whose fix applied cleanly but changed nothing."""
    import shutil
    import tempfile

    from mlsec_lint import fix
    from mlsec_lint.api import ScanOptions, scan

    with tempfile.TemporaryDirectory() as tmp:
        for p in case.parent.iterdir():
            if p.is_file() and not p.name.endswith(FIXED) and p != case:
                shutil.copyfile(p, Path(tmp) / p.name)
        (Path(tmp) / case.name).write_text(text, encoding="utf-8")
        result = scan(
            ScanOptions(
                paths=["."],
                base=tmp,
                respect_gitignore=False,
                rules=list(rules),
                select=[rule_id],
            )
        )
        run = fix.plan(result, unsafe=True)
    mine = [f for f in result.result.findings if f.path == case.name]
    fixed = next((ff.after for ff in run.files if ff.path == case.name), text)
    failed = {id(f) for f, _ in run.failed}
    done = {id(f) for ff in run.files for f in ff.fixed}
    idle = [
        f"line {f.line}"
        for f in mine
        if fix.applicable(f, True) and id(f) not in failed and id(f) not in done
    ]
    return fixed, [f"line {f.line}: {why}" for f, why in run.failed if f.path == case.name], idle


def check_fix_fixtures(fix_dir: Path, rules: Sequence[Rule], rule_id: str) -> list[str]:
    """Every input in ``fix_dir`` is fixed into its ``.fixed`` twin; afterwards every
    finding of the rule that still offers a fix says why it cannot be applied (no fix
    is offered that does nothing), and a second fix changes nothing."""
    problems: list[str] = []
    cases = fix_cases(fix_dir)
    if not cases:
        return [f"{fix_dir}: no fix fixtures"]
    for case in cases:
        expected_path = case.with_name(case.name + FIXED)
        try:
            text = case.read_text(encoding="utf-8")
            expected = expected_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{case}: cannot read the fixture or its {FIXED} twin: {exc}")
            continue
        fixed, _failed, idle = _fix_once(text, case, rules, rule_id)
        problems.extend(f"{case}: {rule_id} offers a fix that changes nothing at {w}" for w in idle)
        if fixed == text:
            problems.append(f"{case}: {rule_id} fixed nothing")
        if fixed != expected:
            problems.append(
                f"{case}: fixed text differs from {expected_path.name}:\n{_diff(expected, fixed)}"
            )
        again, _failed, idle = _fix_once(fixed, case, rules, rule_id)
        problems.extend(f"{case}: after fixing, {rule_id} still offers a fix at {w}" for w in idle)
        if again != fixed:
            problems.append(f"{case}: a second fix changes the text again:\n{_diff(fixed, again)}")
    return problems


def _diff(a: str, b: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True), "expected", "got"))


def _unrendered_charts(directory: Path) -> list[str]:
    """Helm chart directories (``<rel>/``) of a fixture, when no renderer is installed."""
    charts = [p.parent for p in directory.rglob("Chart.yaml")]
    if not charts:
        return []
    from mlsec_lint.helm.render import available

    if available() is not None:
        return []
    return [c.relative_to(directory).as_posix().rstrip("/") + "/" for c in charts]


def check_fixture_tree(
    root: Path, rules: Sequence[Rule], require_coverage: Sequence[Rule] = ()
) -> list[str]:
    """Check every ``<root>/<RULE-ID>/`` directory; optionally require trigger and no-trigger
    fixtures for the given rules."""
    problems: list[str] = []
    known = {r.id for r in rules}
    coverage: dict[str, set[str]] = defaultdict(set)
    if not root.is_dir():
        return [f"{root}: fixture directory not found"]
    for entry in sorted(root.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        rid = entry.name if _ID.match(entry.name) else None
        if rid is None or rid not in known:
            problems.append(f"{entry}: fixture directory is not named after a known rule id")
            continue
        found, by_file = check_rule_dir(entry, rules, rid)
        problems.extend(found)
        for exp in by_file.values():
            for r, _ in exp.expect:
                coverage[r].add("expect")
            for r, _ in exp.ok:
                coverage[r].add("ok")
    for rule in require_coverage:
        have = coverage.get(rule.id, set())
        if "expect" not in have:
            problems.append(f"{rule.id}: no fixture line marked '# expect: {rule.id}'")
        if "ok" not in have:
            problems.append(f"{rule.id}: no fixture line marked '# ok: {rule.id}'")
    return problems
