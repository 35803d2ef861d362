"""The typer command and the plain reader parse every declared ``scan`` option alike."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from mlsec_lint import cli, scan_command
from mlsec_lint.scan_options import SCAN_OPTIONS, Opt, parse_plain, usage_problem


def _samples(opt: Opt) -> list[str]:
    if isinstance(opt.type, type) and issubclass(opt.type, Enum):
        return [m.value for m in opt.type]
    if opt.type is int:
        return ["4", "0", "12"]
    if opt.type is Path:
        return ["out/report.txt", "-", "a b.txt"]
    return ["MLS-PY-001", "medium", "a,b"]


def _cases() -> list[list[str]]:
    cases: list[list[str]] = [[], ["serve.py"], ["-"], ["a.py", "--", "-q", "--format"]]
    for opt in SCAN_OPTIONS:
        if opt.kind == "arguments":
            continue
        for flag in opt.flags:
            if opt.kind == "flag":
                cases += [[flag, "serve.py"], ["serve.py", flag, flag]]
                continue
            first, *rest = _samples(opt)
            for value in _samples(opt):
                cases.append([flag, value, "serve.py"])
                if flag.startswith("--"):
                    cases.append([f"{flag}={value}", "serve.py"])
            cases.append(["x.py", flag, first, flag, rest[0], "y.py"])  # repeated
    everything: list[str] = ["-", "serve.py"]
    for opt in SCAN_OPTIONS:
        if opt.kind == "flag":
            everything.append(opt.flags[-1])
        elif opt.kind != "arguments":
            everything += [opt.flags[0], _samples(opt)[0]]
    cases.append(everything)
    return cases


@pytest.fixture
def typer_values(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Parse with the typer command; the values it would run the scan with."""
    seen: list[dict[str, Any]] = []

    def record(values: Any) -> int:
        seen.append(dict(values))
        return 0

    monkeypatch.setattr(scan_command, "run", record)
    monkeypatch.delenv("MLSEC_LINT_FORMAT", raising=False)

    def parse(args: list[str]) -> tuple[int, dict[str, Any] | None]:
        seen.clear()
        code = cli.main(["scan", *args])
        return code, (seen[0] if seen else None)

    return parse


@pytest.mark.parametrize("args", _cases(), ids=lambda a: " ".join(a) or "(none)")
def test_both_readers_agree_on_every_option(args: list[str], typer_values: Any) -> None:
    plain = parse_plain(args, {})
    code, typed = typer_values(args)
    if typed is None:  # typer refused it: so must the plain reader (or usage_problem)
        assert code == 2 and (plain is None or usage_problem(plain) is not None)
        return
    assert plain is not None, args
    assert plain == typed
    assert [type(v) for v in plain.values()] == [type(v) for v in typed.values()]


def test_the_cases_cover_every_option_and_spelling() -> None:
    used = {a.partition("=")[0] for case in _cases() for a in case}
    for opt in SCAN_OPTIONS:
        assert set(opt.flags) <= used, opt.name


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--bogus", "a.py"],
        ["-fjson", "a.py"],
        ["-qf", "json", "a.py"],
        ["-f=json", "a.py"],
        ["--format", "JSON", "a.py"],
        ["--format"],
        ["--jobs", "-1", "a.py"],
        ["--jobs", "x", "a.py"],
        ["--jobs", "٣", "a.py"],
        ["--quiet=1", "a.py"],
        ["--ignore", "--select", "a.py"],
        ["--output=", "a.py"],
        ["--fail-on", "bogus", "a.py"],
        ["--stdin-filename", "x.py", "a.py"],
    ],
    ids=" ".join,
)
def test_help_and_errors_go_through_typer(
    args: list[str], typer_values: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = parse_plain(args, {})
    assert plain is None or usage_problem(plain) is not None
    code, typed = typer_values(args)
    out, err = capsys.readouterr()
    if "--help" in args or "-h" in args:
        assert code == 0 and "Usage: mlsec-lint scan" in out
    elif typed is None:
        assert code == 2 and ("Usage:" in err or "Error" in err), err
    # else typer accepts what the plain reader left to it: no disagreement either way


def test_an_environment_variable_leaves_the_reading_to_typer() -> None:
    assert parse_plain(["a.py"], {"MLSEC_LINT_FORMAT": "json"}) is None
    assert parse_plain(["a.py"], {"PATH": "/bin"}) is not None


def test_typer_reads_the_environment_variable(
    typer_values: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSEC_LINT_FORMAT", "json")
    code, typed = typer_values(["a.py"])
    assert code == 0 and typed is not None and typed["format"].value == "json"
