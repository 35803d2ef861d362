"""The ``mlsec-lint`` command line (typer). Thin: parse options, call the API, report.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage,
configuration or internal error. Every exception becomes one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from mlsec_lint import __version__
from mlsec_lint.errors import MlsecLintError

app = typer.Typer(
    name="mlsec-lint",
    help="Policy-as-code security linter for ML deployments.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    text = "text"
    json = "json"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")


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


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _use_color(mode: Color, stream: TextIO) -> bool:
    if mode is Color.always:
        return True
    if mode is Color.never or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise MlsecLintError(f"cannot write {path}: {exc.strerror or exc}") from None


@app.command()
def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files and directories to scan (default: .). Use - to read standard input.",
            show_default=False,
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to FILE instead of stdout."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Only run these rules (ids, id prefixes, names, categories or severities; "
            "repeatable or comma-separated).",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Do not run these rules (same selectors as --select)."),
    ] = None,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding has this severity or higher "
            "(critical, high, medium, low, info, never).",
        ),
    ] = "low",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only.")] = False,
    stdin_filename: Annotated[
        str | None,
        typer.Option(
            "--stdin-filename",
            help="File name to report (and to classify by) for input read from -.",
        ),
    ] = None,
    rules_dir: Annotated[
        list[Path] | None,
        typer.Option("--rules-dir", help="Also load rules from this directory (repeatable)."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", help="Gitignore-style pattern of paths not to scan (repeatable)."
        ),
    ] = None,
    force_exclude: Annotated[
        bool,
        typer.Option(
            "--force-exclude",
            help="Apply exclusions to files named on the command line too (for pre-commit).",
        ),
    ] = False,
    no_gitignore: Annotated[
        bool, typer.Option("--no-gitignore", help="Scan files that .gitignore excludes.")
    ] = False,
    color: Annotated[Color, typer.Option("--color", help="Colour the text output.")] = Color.auto,
    semgrep_config: Annotated[
        list[Path] | None,
        typer.Option(
            "--semgrep-config",
            help="Also run this file of rules in Semgrep syntax on the Python files "
            "(repeatable; needs mlsec-lint[semgrep]).",
        ),
    ] = None,
) -> int:
    """Scan files and directories for ML deployment security problems."""
    from mlsec_lint.api import ScanOptions
    from mlsec_lint.api import scan as run_scan
    from mlsec_lint.model import Severity
    from mlsec_lint.reporters import ReportOptions, get_reporter

    if fail_on.lower() not in FAIL_ON_CHOICES:
        raise typer.BadParameter(
            f"expected one of {', '.join(FAIL_ON_CHOICES)}", param_hint="--fail-on"
        )
    targets = list(paths or ["."])
    stdin = None
    if "-" in targets:
        stdin = sys.stdin.buffer.read()
    elif stdin_filename:
        raise typer.BadParameter(
            "only valid when reading standard input (-)", param_hint="--stdin-filename"
        )
    options = ScanOptions(
        paths=targets,
        stdin=stdin,
        stdin_filename=stdin_filename,
        select=_split(select),
        ignore=_split(ignore),
        rule_dirs=[str(p) for p in rules_dir or []],
        excludes=_split(exclude),
        respect_gitignore=not no_gitignore,
        force_exclude=force_exclude,
        semgrep_configs=[str(p) for p in semgrep_config or []],
    )
    result = run_scan(options)
    reporter = get_reporter(format.value)
    stream = sys.stdout
    opts = ReportOptions(
        color=output is None and format is Format.text and _use_color(color, stream), quiet=quiet
    )
    if output is not None:
        import io

        buf = io.StringIO()
        reporter(result, buf, opts)
        _write_atomic(output, buf.getvalue())
    else:
        reporter(result, stream, opts)
        stream.flush()
    if format is Format.text:
        _print_notices(result.result.notices, quiet)
    if fail_on.lower() == "never":
        return 0
    threshold = Severity.parse(fail_on)
    return 1 if any(f.severity >= threshold for f in result.result.findings) else 0


def _print_notices(notices: list, quiet: bool) -> None:  # type: ignore[type-arg]
    for n in notices:
        if quiet and n.level == "note":
            continue
        where = f"{n.path}:{n.line}" if n.line else n.path
        print(f"{where}: {n.level}: {n.message} [{n.code}]", file=sys.stderr)


@app.command("rules")
def list_rules(
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    rules_dir: Annotated[
        list[Path] | None, typer.Option("--rules-dir", help="Also load rules from this directory.")
    ] = None,
) -> int:
    """List the rules: id, name, category, severity and what they check."""
    from mlsec_lint.engine.rules import load_ruleset

    rules = load_ruleset([str(p) for p in rules_dir or []])
    if format is Format.json:
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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map every outcome to an exit code (0, 1 or 2)."""
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="mlsec-lint", standalone_mode=False)
    except MlsecLintError as exc:
        print(f"mlsec-lint: error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("mlsec-lint: aborted", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mlsec-lint: interrupted", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except Exception as exc:
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()  # a usage error, already formatted by the CLI library
            return 2
        print(f"mlsec-lint: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("MLSEC_LINT_DEBUG"):
            import traceback

            traceback.print_exc()
        return 2
    if isinstance(rv, int):
        return rv
    return 0
