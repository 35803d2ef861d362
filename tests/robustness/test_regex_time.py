"""Every regular expression mlsec-lint ships matches in linear time: each runs against
hostile strings (one unit repeated, the shapes that make a backtracking engine blow up),
first short ones that expose exponential patterns, then 10 k characters with every
unit, then 100 k characters with the units that were slowest at 10 k."""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mlsec_lint.engine.predicates import RuleSyntaxError
from mlsec_lint.engine.rules import load_ruleset
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.linear import USER_PATTERN_INPUT, backtracking_hazard, sub_variables

from . import patterns

ALL = patterns.all_patterns()
UNIQUE = sorted({(p, f): w for w, p, f in ALL}.items(), key=lambda x: x[1])
VARIABLE_BRANCH = "([^}]*))?\\}"
"""Variable patterns (``${name:-default}``), run through :func:`sub_variables`."""


def _runner(pattern: str | bytes, flags: int) -> Callable[[str | bytes], object]:
    rx = re.compile(pattern, flags)
    if isinstance(pattern, str) and VARIABLE_BRANCH in pattern:
        return lambda s: sub_variables(rx, lambda m: "", s)  # type: ignore[arg-type]
    search: Callable[[str | bytes], object] = rx.search  # type: ignore[assignment]
    return search


def _timed(run: Callable[[str | bytes], object], s: str | bytes) -> float:
    """CPU time of one match: a loaded machine stretches wall time, not this."""
    start = time.process_time()
    run(s)
    return time.process_time() - start


def test_the_patterns_are_found() -> None:
    wheres = {w.split(":")[0].split("#")[0] for w, _, _ in ALL}
    assert len(UNIQUE) > 150
    assert "rules/ray/MLS-RAY-004.yaml" in wheres
    assert "mlsec_lint/data/credentials.yaml" in wheres
    assert "mlsec_lint/suppressions.py" in wheres


@pytest.mark.parametrize(("key", "where"), UNIQUE, ids=[w for _, w in UNIQUE])
def test_matching_is_linear(key: tuple[str | bytes, int], where: str) -> None:
    pattern, flags = key
    run = _runner(pattern, flags)
    for s in patterns.adversarial(pattern, 24):
        assert _timed(run, s) < 0.5, f"{where}: exponential on {s[:24]!r}"
    slowest = sorted(
        (
            (_timed(run, patterns.build(pattern, unit, tail, 10_000)), unit, tail)
            for unit, tail in patterns.shapes(pattern)
        ),
        key=lambda x: x[0],
        reverse=True,
    )
    assert slowest[0][0] < 0.15, f"{where}: super-linear on {slowest[0][1]!r}"
    for _, unit, tail in slowest[:3]:
        big = patterns.build(pattern, unit, tail, 100_000)
        assert len(big) >= 100_000
        assert _timed(run, big) < 1.5, f"{where}: slow on 100 k of {unit!r}"


def test_variable_patterns_are_only_used_through_sub_variables() -> None:
    """The quadratic-prone ``${…}`` patterns are safe only through the helper."""
    for path in sorted(patterns.PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            t.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "compile"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
            and VARIABLE_BRANCH in str(node.value.args[0].value)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in names
            ):
                raise AssertionError(f"{path}:{node.lineno}: use sub_variables({node.value.id}, …)")


def test_sub_variables_is_re_sub() -> None:
    rx = re.compile(r"\$\{([A-Za-z_]\w*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_]\w*)")

    def repl(m: re.Match[str]) -> str:
        return f"<{m.group(1) or m.group(4)}|{m.group(3)}>"

    for text in ("a ${b:-c} $d ${e", "${x}}${y:-", "$a${b}", "", "}", "${a:-${b}}x$c"):
        assert sub_variables(rx, repl, text) == rx.sub(repl, text)


@pytest.mark.parametrize(
    ("pattern", "bad"),
    [
        ("(a+)+$", True),
        ("(x|xy)*z", True),
        (r"(\w*\.)*\w+", True),
        (r"^(https?|s3)://", False),
        (r"[A-Za-z0-9_.-]{2,40}", False),
        (r"^ray\.serve\.", False),
    ],
)
def test_user_patterns_that_may_backtrack_are_refused(pattern: str, bad: bool) -> None:
    assert (backtracking_hazard(pattern) is not None) is bad


def _user_rule(tmp_path: Path, regex: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    (d / "X-001.yaml").write_text(
        "id: X-001\nname: x-rule\ntitle: Image matches a pattern\ncategory: tls\nseverity: low\n"
        "target: container\nwhen: {path: image, regex: '" + regex + "'}\n"
        "message: The image matches.\n"
        "docs: {what: Checks the image., why: Because it matters.,\n"
        "       example: x, use_instead: y}\n"
        "references: {cwe: [CWE-489]}\n",
        encoding="utf-8",
    )
    return d


def test_a_user_rule_with_a_nested_repetition_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises((MlsecLintError, RuleSyntaxError), match="exponential"):
        load_ruleset([_user_rule(tmp_path, "^(a+)+$")])


def test_a_user_pattern_looks_at_a_bounded_prefix(tmp_path: Path) -> None:
    rule = next(r for r in load_ruleset([_user_rule(tmp_path, "z$")]) if r.id == "X-001")
    near = "a" * (USER_PATTERN_INPUT - 1) + "z"
    far = "a" * USER_PATTERN_INPUT + "z"
    assert rule.when({"image": near}, {"image": near})
    assert not rule.when({"image": far}, {"image": far})
