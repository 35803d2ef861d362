"""The ``mlsec-lint`` command line (typer). Thin: parse options, call the API, report.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage,
configuration or internal error. Every exception becomes one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from mlsec_lint import __version__, escape
from mlsec_lint.errors import MlsecLintError

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


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"
    junit = "junit"
    html = "html"


class ListFormat(str, Enum):
    text = "text"
    json = "json"


class ConfigFormat(str, Enum):
    yaml = "yaml"
    toml = "toml"


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
    """Write ``path`` through a temporary file created exclusively (random name,
    ``O_EXCL``) in its directory: a symbolic link planted at a predictable temporary
    name is never followed."""
    import tempfile

    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary open() would create it
        with open(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
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
    format: Annotated[
        Format,
        typer.Option(
            "--format", "-f", envvar="MLSEC_LINT_FORMAT", help="Output format.", show_envvar=True
        ),
    ] = Format.text,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to FILE instead of stdout."),
    ] = None,
    sarif_output: Annotated[
        Path | None,
        typer.Option(
            "--sarif-output",
            help="Also write a SARIF report to FILE (whatever --format is).",
        ),
    ] = None,
    html_output: Annotated[
        Path | None,
        typer.Option(
            "--html-output",
            help="Also write a self-contained HTML report to FILE (whatever --format is).",
        ),
    ] = None,
    statistics: Annotated[
        bool,
        typer.Option(
            "--statistics",
            help="Print counts per rule, severity, category and file kind, including "
            "suppressed and baselined findings.",
        ),
    ] = False,
    sarif_category: Annotated[
        str,
        typer.Option(
            "--sarif-category",
            help="SARIF automationDetails id (GitHub code scanning category) of this run.",
        ),
    ] = "mlsec-lint",
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Only run these rules (ids, id prefixes, names, categories or severities; "
            "repeatable or comma-separated). Replaces the configured select and ignore.",
        ),
    ] = None,
    extend_select: Annotated[
        list[str] | None,
        typer.Option("--extend-select", help="Run these rules too (e.g. disabled ones)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Do not run these rules (same selectors as --select)."),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding has this severity or higher "
            "(critical, high, medium, low, info, never). Default: low.",
            show_default=False,
        ),
    ] = None,
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
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Read settings from FILE (pyproject.toml, .mlsec-lint.yaml or .toml) "
            "instead of the one found from the scanned path.",
        ),
    ] = None,
    isolated: Annotated[
        bool, typer.Option("--isolated", help="Ignore configuration files.")
    ] = False,
    untrusted: Annotated[
        bool,
        typer.Option(
            "--untrusted",
            help="The scanned tree is untrusted (a pull request): read no configuration "
            "file from it (only --config), and ignore its suppression comments, annotations "
            "and .gitignore files. Same as --isolated --no-inline-suppressions --no-gitignore.",
        ),
    ] = False,
    no_inline_suppressions: Annotated[
        bool,
        typer.Option(
            "--no-inline-suppressions",
            help="Ignore suppression comments and annotations (audits, untrusted changes).",
        ),
    ] = False,
    show_suppressed: Annotated[
        bool,
        typer.Option(
            "--show-suppressed",
            help="List suppressed findings with their reason (text); include them in SARIF "
            "with suppressions.",
        ),
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Report only findings that are not in this baseline."),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option(
            "--write-baseline",
            help="Record the current findings in FILE (and exit 0); use it with --baseline.",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Worker processes for large scans (0: by the number of files and CPUs).",
        ),
    ] = 0,
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
    from mlsec_lint import config as configuration
    from mlsec_lint.api import ScanOptions
    from mlsec_lint.api import scan as run_scan
    from mlsec_lint.engine.rules import load_ruleset
    from mlsec_lint.model import Severity
    from mlsec_lint.reporters import ReportOptions, get_reporter

    if fail_on is not None and fail_on.lower() not in FAIL_ON_CHOICES:
        raise typer.BadParameter(
            f"expected one of {', '.join(FAIL_ON_CHOICES)}", param_hint="--fail-on"
        )
    targets = list(paths or ["."])
    stdin = None
    if "-" in targets:
        from mlsec_lint.source import MAX_FILE_BYTES

        # bounded while it is read: one byte past the limit is enough to refuse it
        stdin = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    elif stdin_filename:
        raise typer.BadParameter(
            "only valid when reading standard input (-)", param_hint="--stdin-filename"
        )
    if untrusted:
        isolated = no_inline_suppressions = no_gitignore = True
    cfg = configuration.discover(
        targets, str(config_file) if config_file else None, isolated=isolated
    )
    if cfg.frameworks:
        from mlsec_lint.knowledge import extend_frameworks

        extend_frameworks(cfg.frameworks)
    rules = load_ruleset([*cfg.rules_dir, *(str(p) for p in rules_dir or [])])
    _check_config_selectors(cfg, rules)
    cli_select = _split(select)
    if cli_select:
        chosen, extend, ignored = cli_select, _split(extend_select), _split(ignore)
    else:
        chosen = cfg.select or []
        extend = [*cfg.extend_select, *_split(extend_select)]
        ignored = [*cfg.ignore, *_split(ignore)]
    baseline_path = str(baseline) if baseline else cfg.baseline
    loaded_baseline = None
    if baseline_path and write_baseline is None:
        from mlsec_lint.baseline import load as load_baseline

        loaded_baseline = load_baseline(baseline_path)
    options = ScanOptions(
        paths=targets,
        stdin=stdin,
        stdin_filename=stdin_filename,
        select=chosen,
        extend_select=extend,
        ignore=ignored,
        rules=rules,
        excludes=_split(exclude),
        config_excludes=[(cfg.root, cfg.exclude)] if cfg.exclude else [],
        respect_gitignore=not no_gitignore and cfg.respect_gitignore is not False,
        force_exclude=force_exclude,
        severity=cfg.severity,
        per_file_ignores=[(cfg.root, pat, sels) for pat, sels in cfg.per_file_ignores.items()],
        inline_suppressions=not no_inline_suppressions,
        baseline=loaded_baseline,
        origin="--select/--ignore" if cli_select or ignore or extend_select else cfg.label,
        semgrep_configs=[str(p) for p in semgrep_config or []],
        jobs=jobs,
    )
    from mlsec_lint import progress as progress_line
    from mlsec_lint.reporters import MACHINE_FORMATS

    machine = format.value in MACHINE_FORMATS and output is None
    bar = None
    if not quiet and progress_line.wanted(sys.stderr, machine):
        bar = progress_line.Progress(sys.stderr)
        options.progress = bar
    try:
        result = run_scan(options)
    finally:
        if bar is not None:
            bar.close()
    result.settings = {
        "Paths": ", ".join(targets),
        "Configuration": cfg.label if cfg.path else "none",
        "Selected rules": ", ".join(chosen) if chosen else "the default set",
        "Ignored rules": ", ".join(ignored) or "none",
        "Fail on": (fail_on or cfg.fail_on or "low").lower(),
        "Inline suppressions": "honoured" if not no_inline_suppressions else "ignored (audit)",
        "Baseline": str(baseline_path) if baseline_path else "none",
    }
    reporter = get_reporter(format.value)
    stream = sys.stdout
    opts = ReportOptions(
        color=output is None and format is Format.text and _use_color(color, stream),
        quiet=quiet,
        show_suppressed=show_suppressed,
        category=sarif_category,
    )
    if sarif_output is not None:
        import io

        buf = io.StringIO()
        get_reporter("sarif")(result, buf, opts)
        _write_atomic(sarif_output, escape.output(buf.getvalue(), "sarif"))
    if html_output is not None:
        import io

        buf = io.StringIO()
        get_reporter("html")(result, buf, opts)
        _write_atomic(html_output, escape.output(buf.getvalue(), "html"))
    if output is not None:
        import io

        buf = io.StringIO()
        reporter(result, buf, opts)
        _write_atomic(output, escape.output(buf.getvalue(), format.value))
    else:
        import io

        buf = io.StringIO()
        reporter(result, buf, opts)
        stream.write(escape.output(buf.getvalue(), format.value))
        stream.flush()
    if format in (Format.text, Format.github):
        _print_notices(result.result.notices, quiet)
    if statistics:
        from mlsec_lint.reporters import statistics as stats

        # machine-readable reports on standard output stay pure: statistics go to stderr
        print(stats.render(result), file=sys.stderr if machine else sys.stdout, end="")
    if write_baseline is not None:
        from mlsec_lint.baseline import render

        findings = result.result.findings
        _write_atomic(write_baseline, render(findings, _stored_paths(result)))
        n = len(findings)
        print(
            f"mlsec-lint: wrote {n} finding{'s' if n != 1 else ''} to {write_baseline}",
            file=sys.stderr,
        )
        return 0
    threshold_name = (fail_on or cfg.fail_on or "low").lower()
    if threshold_name == "never":
        return 0
    threshold = Severity.parse(threshold_name)
    return 1 if any(f.severity >= threshold for f in result.result.findings) else 0


def _stored_paths(scan: Any) -> dict[str, str]:
    return {f.path: scan.relpath(f.path) or f.path for f in scan.result.findings}


def _check_config_selectors(cfg: Any, rules: list[Any]) -> None:
    """Selectors in a configuration file must match a rule (like --select/--ignore)."""
    from mlsec_lint.engine.rules import matches_selector

    lists: list[tuple[str, list[str]]] = [
        ("select", cfg.select or []),
        ("extend-select", cfg.extend_select),
        ("ignore", cfg.ignore),
    ]
    lists += [(f"per-file-ignores > {k}", v) for k, v in cfg.per_file_ignores.items()]
    for key, selectors in lists:
        for sel in selectors:
            if not any(matches_selector(r, sel) for r in rules):
                raise MlsecLintError(
                    f"{cfg.label}: {key}: {sel!r} matches no rule, name, category or severity"
                )


def _print_notices(notices: list, quiet: bool) -> None:  # type: ignore[type-arg]
    for n in notices:
        if quiet and n.level == "note":
            continue
        where = f"{n.path}:{n.line}" if n.line else n.path
        line = f"{escape.text(where)}: {n.level}: {escape.text(n.message)} [{n.code}]"
        print(escape.log(line), file=sys.stderr)


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
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> int:
    """Write a commented starting configuration."""
    from mlsec_lint import config as configuration

    if not directory.is_dir():
        raise MlsecLintError(f"not a directory: {directory}")
    target = directory / f".mlsec-lint.{format.value}"
    if target.exists() and not force:
        raise MlsecLintError(f"{target} already exists; use --force to overwrite it")
    _write_atomic(target, configuration.template(format.value))
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
    except MlsecLintError as exc:
        print(f"mlsec-lint: error: {escape.text(str(exc))}", file=sys.stderr)
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
        print(
            f"mlsec-lint: internal error: {type(exc).__name__}: {escape.text(str(exc))}",
            file=sys.stderr,
        )
        if os.environ.get("MLSEC_LINT_DEBUG"):
            import traceback

            traceback.print_exc()
        return 2
    if isinstance(rv, int):
        return rv
    return 0
