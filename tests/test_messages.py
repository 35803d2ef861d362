"""Messages and rule documentation that hold: no empty field in any rendered message, and
no rule's "use instead" example is reported by that rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.engine.evaluate import EMPTY_FIELD, render
from mlsec_lint.engine.rules import Rule, builtin_rules

from .conftest import FIXTURES, ROOT

RULES = list(builtin_rules())

# what an empty field leaves behind: '' or "", an empty ( ), a space before punctuation,
# doubled spaces, an unfilled {placeholder}, Python's None
BLANK = re.compile(
    r"''|\"\"|(?<![\w\])])\(\s*\)|\s[,;:)]|\s\.(?=\s|$)|\S {2,}\S"
    r"|(?<!\$)\{[\w.$\[\]*]+\}|\bNone\b|\bnull\b"
)

# file names a documentation snippet is scanned under, by its language
NAMES = {
    "yaml": ["deploy.yaml", "docker-compose.yml", "environment.yml"],
    "python": ["app.py"],
    "dockerfile": ["Dockerfile"],
    "shell": ["entrypoint.sh"],
    "text": ["requirements.txt", ".env", "pip.conf"],
    "properties": ["config.properties"],
    "ini": ["setup.cfg", "pip.ini", "rclone.conf"],
    "toml": ["pyproject.toml"],
    "json": ["config.json"],
}


@pytest.fixture(scope="module")
def realistic_findings():
    out = []
    for base in (FIXTURES, ROOT / "examples"):
        result = scan(ScanOptions(paths=["."], base=str(base), respect_gitignore=False)).result
        out += result.findings + result.suppressed
    return out


def test_the_blank_check_is_real() -> None:
    for text in (
        "Image (pinned at ).",
        "through compose/ports ''.",
        "Container '' runs.",
        "x {a.b}.",
    ):
        assert BLANK.search(text), text
    assert not BLANK.search("'torch.load' of 'requests.Session().get' (CVE-2025-1) is set.")


def test_no_message_renders_an_empty_field(realistic_findings) -> None:
    rendered = {f.rule_id for f in realistic_findings}
    assert len(rendered) >= len(RULES) * 0.9  # nearly every rule has rendered here
    blanks = sorted({(f.rule_id, f.message) for f in realistic_findings if BLANK.search(f.message)})
    assert blanks == []


def test_a_missing_value_renders_as_unknown_not_as_nothing() -> None:
    assert render("torch {v} (pinned at {src}).", {"v": "2.1"}, {}, []) == (
        f"torch 2.1 (pinned at {EMPTY_FIELD})."
    )


def _reported(rule: Rule, text: str, tmp: Path) -> list[str]:
    """Messages of ``rule`` for ``text`` saved under each name for its language."""
    for name in NAMES[rule.docs.get("language") or "yaml"]:
        (tmp / name).write_text(text, encoding="utf-8")
    result = scan(ScanOptions(paths=["."], base=str(tmp), rules=RULES, select=[rule.id])).result
    for name in NAMES[rule.docs.get("language") or "yaml"]:
        (tmp / name).unlink()
    return [f"{f.path}: {f.message}" for f in result.findings if f.rule_id == rule.id]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_use_instead_is_not_reported_by_its_rule(rule: Rule, tmp_path: Path) -> None:
    assert _reported(rule, rule.docs["use_instead"], tmp_path) == []


def test_the_snippet_names_are_right_most_examples_are_reported(tmp_path: Path) -> None:
    """The use-instead check scans under the names where the examples are reported
    (examples that are fragments of a larger manifest are reported nowhere)."""
    reported = [r.id for r in RULES if _reported(r, r.docs["example"], tmp_path)]
    assert len(reported) >= len(RULES) // 2, reported
