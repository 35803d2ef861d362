"""Python fixes: exact positions from ast and tokenize, the result parses."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec_lint.fix import _apply_one
from mlsec_lint.fix.edits import Unfixable
from mlsec_lint.model import FixPlan, Span


def plan(op: str, line: int, col: int, **args: object) -> FixPlan:
    anchor = Span(line, col, line, col + 1)
    return FixPlan(op, "safe", "d", anchor, anchor, tuple(args.items()))


def fix(text: str, op: str, line: int = 1, col: int = 1, **args: Any) -> str:
    return _apply_one(text, "python", plan(op, line, col, **args))


def test_set_kwarg_appends_replaces_and_keeps_comments() -> None:
    assert (
        fix('torch.load("m")  # weights\n', "set-kwarg", name="weights_only", value="True")
        == 'torch.load("m", weights_only=True)  # weights\n'
    )
    assert (
        fix("torch.load(p, weights_only=False)\n", "set-kwarg", name="weights_only", value="True")
        == "torch.load(p, weights_only=True)\n"
    )
    assert fix("f()\n", "set-kwarg", name="a", value="1") == "f(a=1)\n"
    # already right: nothing to do
    assert fix("f(a=1)\n", "set-kwarg", name="a", value="1") == "f(a=1)\n"


def test_set_kwarg_follows_one_argument_per_line() -> None:
    text = 'x = torch.load(\n    "m",\n    map_location="cpu",  # cpu\n)\n'
    assert fix(text, "set-kwarg", 1, 5, name="weights_only", value="True") == (
        'x = torch.load(\n    "m",\n    map_location="cpu",  # cpu\n    weights_only=True,\n)\n'
    )
    text = "f(a,)\n"
    assert fix(text, "set-kwarg", name="b", value="2") == "f(a, b=2)\n"


def test_arguments_with_commas_inside_are_delimited_by_the_syntax_tree() -> None:
    text = "f(g(1, 2), (3), lambda a, b: a, key={1: 2, 3: 4})\n"
    assert fix(text, "set-kwarg", name="z", value="0") == text[:-2] + ", z=0)\n"
    assert fix(text, "remove-kwarg", name="key") == "f(g(1, 2), (3), lambda a, b: a)\n"


def test_set_kwarg_refuses_when_double_star_arguments_may_pass_it() -> None:
    with pytest.raises(Unfixable, match=r"\*\*"):
        fix("f(x, **opts)\n", "set-kwarg", name="weights_only", value="True")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("f(a, verify=False, b=1)\n", "f(a, b=1)\n"),
        ("f(verify=False, b=1)\n", "f(b=1)\n"),
        ("f(a, verify=False)\n", "f(a)\n"),
        ("f(verify=False)\n", "f()\n"),
        ("f(\n    a,\n    verify=False,\n)\n", "f(\n    a,\n)\n"),
        ("f(\n    verify=False,  # why\n    b=1,\n)\n", "f(\n    b=1,\n)\n"),
    ],
)
def test_remove_kwarg_takes_its_comma(before: str, after: str) -> None:
    assert fix(before, "remove-kwarg", name="verify") == after


def test_rename_call_drops_the_loader() -> None:
    to = {"load": "safe_load", "load_all": "safe_load_all"}
    args: dict[str, Any] = {"to": to, "drop-kwargs": ("Loader",), "drop-args-from": 1}
    assert fix("yaml.load(fh, Loader=yaml.Loader)\n", "rename-call", **args) == (
        "yaml.safe_load(fh)\n"
    )
    assert fix("y = yaml.load_all(fh, yaml.CLoader)\n", "rename-call", 1, 5, **args) == (
        "y = yaml.safe_load_all(fh)\n"
    )
    with pytest.raises(Unfixable, match="bare name"):
        fix("load(fh, Loader=Loader)\n", "rename-call", **args)


def test_columns_are_characters_not_bytes() -> None:
    text = 'näme = "ü"; torch.load("ß")\n'
    assert fix(text, "set-kwarg", 1, 13, name="weights_only", value="True") == (
        'näme = "ü"; torch.load("ß", weights_only=True)\n'
    )


def test_a_call_that_moved_or_a_broken_result_is_not_fixed() -> None:
    with pytest.raises(Unfixable, match="no longer where"):
        fix("x = 1\n", "set-kwarg", name="a", value="1")
    with pytest.raises(Unfixable, match="would not parse"):
        fix("f(a)\n", "set-kwarg", name="b", value="(")
    with pytest.raises(Unfixable, match="does not parse"):
        fix("f(a\n", "set-kwarg", name="b", value="1")


def test_many_fixes_in_one_file_nested_calls_included() -> None:
    from mlsec_lint.fix import apply_groups
    from mlsec_lint.model import Finding, Severity

    text = "a = torch.load(torch.load('x'))\nb = torch.load('y')\n"

    def finding(line: int, col: int) -> Finding:
        f = Finding("R", "r", "t", "c", Severity.LOW, "f.py", Span(line, col, line, col), "m", "")
        f.fix = plan("set-kwarg", line, col, name="weights_only", value="True")
        return f

    groups = [[finding(2, 5)], [finding(1, 16)], [finding(1, 5)]]
    new, applied, failed = apply_groups(text, "python", groups)
    assert failed == [] and len(applied) == 3
    assert new == (
        "a = torch.load(torch.load('x', weights_only=True), weights_only=True)\n"
        "b = torch.load('y', weights_only=True)\n"
    )
