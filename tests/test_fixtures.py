"""Every rule is specified by its fixtures: exact (rule, line) sets, per rule directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint import semgrep
from mlsec_lint.engine.rules import builtin_rules
from mlsec_lint.testing import check_fixture_tree, check_rule_dir, parse_annotations

from .conftest import FIXTURES

RULES = builtin_rules()
RULE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


SEMGREP_RULES = {r.id for r in RULES if r.target == semgrep.TARGET}


@pytest.mark.parametrize("directory", RULE_DIRS, ids=lambda p: p.name)
def test_rule_fixtures(directory: Path) -> None:
    if directory.name in SEMGREP_RULES and not semgrep.available():
        pytest.skip("Semgrep is not installed (pip install -e '.[test,semgrep]')")
    problems, _ = check_rule_dir(directory, RULES, directory.name)
    assert problems == []


def test_every_rule_has_trigger_and_no_trigger_fixtures() -> None:
    # check_fixture_tree reports rules without '# expect:' or '# ok:' lines (Semgrep
    # results are cached per process, so the Semgrep fixtures do not run twice)
    missing = [
        p
        for p in check_fixture_tree(FIXTURES, RULES, require_coverage=RULES)
        if "no fixture line" in p or "not named after" in p
    ]
    assert missing == []


def test_every_rule_has_a_fixture_directory() -> None:
    have = {p.name for p in RULE_DIRS}
    assert sorted(r.id for r in RULES if r.id not in have) == []


def test_harness_detects_missing_and_unexpected_findings(tmp_path: Path) -> None:
    d = tmp_path / "MLS-DEP-001"
    d.mkdir()
    (d / "requirements.txt").write_text(
        "# expect: MLS-DEP-001\ntorch==2.6.0\n# ok: MLS-DEP-001\nnumpy\n", encoding="utf-8"
    )
    problems, _ = check_rule_dir(d, RULES, "MLS-DEP-001")
    assert any("expected MLS-DEP-001, not reported" in p and ":2:" in p for p in problems)
    assert any("unexpected MLS-DEP-001" in p and ":4:" in p for p in problems)


def test_harness_rejects_unknown_rule_ids(tmp_path: Path) -> None:
    d = tmp_path / "MLS-DEP-001"
    d.mkdir()
    (d / "requirements.txt").write_text("# expect: MLS-NOPE-999\ntorch\n", encoding="utf-8")
    problems, _ = check_rule_dir(d, RULES, "MLS-DEP-001")
    assert any("unknown rule MLS-NOPE-999" in p for p in problems)


def test_annotations_apply_to_the_next_non_annotation_line(tmp_path: Path) -> None:
    f = tmp_path / "Dockerfile"
    f.write_text(
        "# expect: A-001\n# ok: B-002, C-003\n\nFROM x\n# todo-expect: D-004\nRUN y\n",
        encoding="utf-8",
    )
    exp = parse_annotations(f)
    assert exp.expect == {("A-001", 4)}
    assert exp.ok == {("B-002", 4), ("C-003", 4)}
    assert exp.todo_expect == {("D-004", 6)}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# todo-expect: MLS-DEP-001\ntorch\n", "todo-expect MLS-DEP-001 is now reported"),
        ("# todo-ok: MLS-DEP-001\ntorch==2.6.0\n", "todo-ok MLS-DEP-001 is no longer reported"),
    ],
)
def test_a_fixed_todo_must_be_promoted(tmp_path: Path, text: str, problem: str) -> None:
    d = tmp_path / "MLS-DEP-001"
    d.mkdir()
    (d / "requirements.txt").write_text(text, encoding="utf-8")
    problems, _ = check_rule_dir(d, RULES, "MLS-DEP-001")
    assert any(problem in p and ":2:" in p for p in problems), problems


def test_open_todos_are_not_problems(tmp_path: Path) -> None:
    d = tmp_path / "MLS-DEP-001"
    d.mkdir()
    (d / "requirements.txt").write_text(
        "# todo-ok: MLS-DEP-001\ntorch\n# todo-expect: MLS-DEP-001\ntorch==2.6.0\n",
        encoding="utf-8",
    )
    assert check_rule_dir(d, RULES, "MLS-DEP-001")[0] == []


def test_dangling_annotation_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "requirements.txt"
    f.write_text("torch\n# expect: MLS-DEP-001\n", encoding="utf-8")
    assert parse_annotations(f).errors


def test_every_fix_has_fix_fixtures() -> None:
    from mlsec_lint.testing import FIX_DIR, fix_cases

    missing = [
        r.id
        for r in RULES
        if r.fix is not None
        and r.fix.operation != "suggest"
        and not fix_cases(FIXTURES / r.id / FIX_DIR)
    ]
    assert missing == []


def test_harness_checks_fix_fixtures(tmp_path: Path) -> None:
    d = tmp_path / "MLS-PY-002"
    (d / "fix").mkdir(parents=True)
    (d / "load.py").write_text("import torch\n# expect: MLS-PY-002\ntorch.load('m')\n")
    (d / "fix" / "a.py").write_text("import torch\ntorch.load('m')\n")
    (d / "fix" / "a.py.fixed").write_text("import torch\ntorch.load('m')\n")
    problems, _ = check_rule_dir(d, RULES, "MLS-PY-002")
    assert any("differs from a.py.fixed" in p for p in problems)
    (d / "fix" / "a.py.fixed").write_text("import torch\ntorch.load('m', weights_only=True)\n")
    assert check_rule_dir(d, RULES, "MLS-PY-002")[0] == []
