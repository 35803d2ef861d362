"""The ``mlsec-lint`` command line (typer). Thin: parse options, call the API, report.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage,
configuration or internal error. Every exception becomes one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import copy
import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from mlsec_lint import __version__, scan_command
from mlsec_lint.atomic import write_report
from mlsec_lint.errors import MlsecLintError, exit_code_for
from mlsec_lint.scan_options import (
    FAIL_ON_CHOICES,
    SCAN_HELP,
    SCAN_OPTIONS,
    Color,
    Format,
    Opt,
    usage_problem,
)

__all__ = ["FAIL_ON_CHOICES", "Color", "Format", "app", "main"]

app = typer.Typer(
    name="mlsec-lint",
    help="Policy-as-code security linter for ML deployments.",
    add_completion=False,
    suggest_commands=False,  # the CLI library already suggests a close command name
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ListFormat(str, Enum):
    text = "text"
    json = "json"


class ConfigFormat(str, Enum):
    yaml = "yaml"
    toml = "toml"


def _version(value: bool) -> None:
    if value:
        print(f"mlsec-lint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Policy-as-code security linter for ML deployments."""


def _scan_parameter(opt: Opt) -> inspect.Parameter:
    """The typer parameter of one declared ``scan`` option."""
    info: Any
    if opt.kind == "arguments":
        info = typer.Argument(help=opt.help, show_default=opt.show_default)
        hint: Any = list[opt.type] | None  # type: ignore[name-defined]
    else:
        extra: dict[str, Any] = {}
        if opt.envvar:
            extra.update(envvar=opt.envvar, show_envvar=True)
        if opt.min is not None:
            extra["min"] = opt.min
        if not opt.show_default:
            extra["show_default"] = False
        info = typer.Option(*opt.flags, help=opt.help, **extra)
        if opt.kind == "flag":
            hint = bool
        elif opt.kind == "multi":
            hint = list[opt.type] | None  # type: ignore[name-defined]
        else:
            hint = opt.type if opt.default is not None else opt.type | None
    default = False if opt.kind == "flag" else opt.default
    return inspect.Parameter(
        opt.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[hint, info],
    )


def _scan(**values: Any) -> int:
    problem = usage_problem(values)
    if problem is not None:
        raise typer.BadParameter(problem[1], param_hint=problem[0])
    return scan_command.run(values)


_scan.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [_scan_parameter(opt) for opt in SCAN_OPTIONS], return_annotation=int
)
_scan.__doc__ = SCAN_HELP
scan = app.command("scan")(_scan)
"""``scan``: its options are declared once, in ``mlsec_lint.scan_options.SCAN_OPTIONS``
(the typer-free fast path in ``mlsec_lint.entry`` reads the same declaration)."""


@app.command("rules")
def list_rules(
    format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ListFormat.text,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Also load rules from this directory.")
    ] = None,
) -> int:
    """List the rules: id, name, category, severity and what they check."""
    from mlsec_lint.engine.rules import load_ruleset

    rules = load_ruleset([str(p) for p in rules_dir or []])
    if format is ListFormat.json:
        import json

        data = [
            {
                "id": r.id,
                "name": r.name,
                "title": r.title,
                "category": r.category,
                "severity": r.severity.label,
                "target": r.target,
                "enabled": r.enabled,
                "help_uri": r.help_uri,
            }
            for r in rules
        ]
        print(json.dumps(data, indent=2))
        return 0
    width = max((len(r.name) for r in rules), default=4)
    print(f"{'ID':<13} {'NAME':<{width}} {'CATEGORY':<17} {'SEVERITY':<8} TARGET")
    for r in rules:
        print(f"{r.id:<13} {r.name:<{width}} {r.category:<17} {r.severity.label:<8} {r.target}")
    print(f"\n{len(rules)} rules. `mlsec-lint explain RULE` shows a rule's documentation.")
    return 0


@app.command()
def explain(
    rule: Annotated[str, typer.Argument(help="Rule id or name, e.g. MLS-PY-002.")],
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Also load rules from this directory.")
    ] = None,
) -> int:
    """Show a rule's documentation: what it checks, why, examples and references."""
    from mlsec_lint.docs import render_rule_markdown
    from mlsec_lint.engine.rules import load_ruleset

    rules = load_ruleset([str(p) for p in rules_dir or []])
    wanted = rule.strip()
    match = next((r for r in rules if wanted.upper() == r.id or wanted.lower() == r.name), None)
    if match is None:
        raise MlsecLintError(f"unknown rule {wanted!r}; `mlsec-lint rules` lists them")
    print(render_rule_markdown(match))
    from mlsec_lint.reporters.sarif import help_uri

    uri = help_uri(match)
    if uri:
        print(f"Documentation: {uri}")
    return 0


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to write the configuration file.")
    ] = Path("."),
    format: Annotated[
        ConfigFormat,
        typer.Option("--format", "-f", help="yaml writes .mlsec-lint.yaml, toml .mlsec-lint.toml."),
    ] = ConfigFormat.yaml,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite an existing file, or write one that overrides another "
            "configuration in the directory (such as [tool.mlsec-lint] in pyproject.toml).",
        ),
    ] = False,
) -> int:
    """Write a commented starting configuration (never silently over another one)."""
    from mlsec_lint import config as configuration

    if not directory.is_dir():
        raise MlsecLintError(f"not a directory: {directory}")
    target = directory / f".mlsec-lint.{format.value}"
    if target.exists() and not force:
        raise MlsecLintError(f"{target} already exists; use --force to overwrite it")
    others = [p for p in configuration.configs_in(str(directory)) if Path(p) != target]
    above = configuration.find_config(str(directory))
    if not others and above is not None and Path(above).resolve() != target.resolve():
        others = [above]  # a parent directory's configuration applies here today
    if others and not force:
        raise MlsecLintError(
            f"{', '.join(map(configuration.describe, others))} already configures mlsec-lint "
            f"here; writing {target} would leave two configuration sources (the new file "
            "would override it). Edit the existing one, or use --force to write the new "
            "file anyway"
        )
    write_report(target, configuration.template(format.value))
    found = configuration.configs_in(str(directory))
    if len(found) == 1 and others:
        print(
            f"mlsec-lint: warning: {configuration.describe(found[0])} now applies here instead "
            f"of {', '.join(map(configuration.describe, others))}",
            file=sys.stderr,
        )
    if len(found) > 1:
        print(
            f"mlsec-lint: warning: {configuration.describe(found[0])} applies; "
            f"{', '.join(map(configuration.describe, found[1:]))} "
            f"{'is' if len(found) == 2 else 'are'} ignored",
            file=sys.stderr,
        )
    print(f"Wrote {target}; `mlsec-lint scan` reads it from this directory and below.")
    return 0


@app.command("test-rules")
def test_rules(
    fixtures: Annotated[Path, typer.Argument(help="Fixture directory: one folder per rule id.")],
    rules_dir: Annotated[
        list[Path] | None,
        typer.Option("--rules-dir", help="Rules to test besides the built-in ones."),
    ] = None,
) -> int:
    """Check rules against annotated fixtures (# expect: / # ok: lines)."""
    from mlsec_lint.engine.rules import load_ruleset
    from mlsec_lint.testing import check_fixture_tree

    rules = load_ruleset([str(p) for p in rules_dir or []])
    problems = check_fixture_tree(
        fixtures, rules, require_coverage=[r for r in rules if not r.builtin] if rules_dir else []
    )
    for p in problems:
        print(p)
    print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}.")
    return 1 if problems else 0


def _command_names(info: Any) -> str:
    return typer.main.get_command_name(info.name or info.callback.__name__)


def _cli(args: list[str]) -> Any:
    """The command-line interface, built for the subcommand ``args`` name.

    Building every subcommand's options costs ~10 ms at each start; the one being run is
    enough. Without a known subcommand (``--help``, a typo) the whole interface is built,
    so help and "no such command" messages list every command.
    """
    name = next((a for a in args if not a.startswith("-")), None)
    chosen = [c for c in app.registered_commands if _command_names(c) == name]
    if not chosen:
        return typer.main.get_command(app)
    narrow = copy.copy(app)
    narrow.registered_commands = chosen
    return typer.main.get_command(narrow)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map every outcome to an exit code (0, 1 or 2)."""
    command = _cli(sys.argv[1:] if argv is None else list(argv))
    try:
        rv = command.main(args=argv, prog_name="mlsec-lint", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("mlsec-lint: aborted", file=sys.stderr)
        return 2
    except (Exception, KeyboardInterrupt) as exc:
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()  # a usage error, already formatted by the CLI library
            return 2
        return exit_code_for(exc)
    if isinstance(rv, int):
        return rv
    return 0
