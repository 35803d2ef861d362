"""What ``mlsec-lint scan`` does with its options: configure, scan, report, exit code.

The options are declared in :mod:`mlsec_lint.scan_options` and read either by the typer
command (``mlsec_lint.cli``) or, for plain arguments, without typer
(``mlsec_lint.entry``); both call :func:`run` with the same values. Nothing here imports
typer or click.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from mlsec_lint import escape
from mlsec_lint.atomic import write_report
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.scan_options import Color, Format, usage_problem


def run(v: Mapping[str, Any]) -> int:
    """Run a scan with the values of ``scan``'s parameters (see ``SCAN_OPTIONS``)."""
    paths: list[str] | None = v["paths"]
    format: Format = v["format"]
    output: Path | None = v["output"]
    sarif_output: Path | None = v["sarif_output"]
    html_output: Path | None = v["html_output"]
    statistics: bool = v["statistics"]
    sarif_category: str = v["sarif_category"]
    select: list[str] | None = v["select"]
    extend_select: list[str] | None = v["extend_select"]
    ignore: list[str] | None = v["ignore"]
    fail_on: str | None = v["fail_on"]
    quiet: bool = v["quiet"]
    stdin_filename: str | None = v["stdin_filename"]
    rules_dir: list[Path] | None = v["rules_dir"]
    exclude: list[str] | None = v["exclude"]
    force_exclude: bool = v["force_exclude"]
    no_gitignore: bool = v["no_gitignore"]
    color: Color = v["color"]
    config_file: Path | None = v["config_file"]
    isolated: bool = v["isolated"]
    no_inline_suppressions: bool = v["no_inline_suppressions"]
    show_suppressed: bool = v["show_suppressed"]
    baseline: Path | None = v["baseline"]
    write_baseline: Path | None = v["write_baseline"]
    jobs: int = v["jobs"]
    semgrep_config: list[Path] | None = v["semgrep_config"]
    if v["untrusted"]:  # --isolated --no-inline-suppressions --no-gitignore
        isolated = no_inline_suppressions = no_gitignore = True
    min_severity: str | None = v["min_severity"]
    fix: bool = v["fix"]
    helm_values: list[Path] | None = v["helm_values"]
    unsafe_fixes: bool = v["unsafe_fixes"]
    diff: bool = v["diff"]
    fix_only: bool = v["fix_only"]
    from mlsec_lint import config as configuration
    from mlsec_lint.api import ScanOptions
    from mlsec_lint.api import scan as run_scan
    from mlsec_lint.engine.rules import load_ruleset
    from mlsec_lint.model import Severity
    from mlsec_lint.reporters import ReportOptions, get_reporter

    problem = usage_problem(v)
    if problem is not None:  # the typer command refuses these before calling run()
        raise MlsecLintError(f"{problem[0]}: {problem[1]}")
    targets = list(paths or ["."])
    stdin = None
    if "-" in targets:
        from mlsec_lint.source import MAX_FILE_BYTES

        # bounded while it is read: one byte past the limit is enough to refuse it
        stdin = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    cfg = configuration.discover(
        targets, str(config_file) if config_file else None, isolated=isolated
    )
    shadowed = configuration.shadow_warning(cfg)
    if shadowed:
        print(f"mlsec-lint: warning: {shadowed}", file=sys.stderr)
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
        helm_values=[*cfg.helm_values, *(str(p) for p in helm_values or [])],
        helm_chart_values=list(cfg.helm_chart_values.items()),
        helm_renderer=cfg.helm_renderer or "auto",
        min_severity=(min_severity or cfg.min_severity or "").lower() or None,
        lean=True,
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
    stream = sys.stdout
    if fix or diff or fix_only:
        from mlsec_lint.fix.run import run as run_fixes

        outcome = run_fixes(
            result, options, run_scan, unsafe=unsafe_fixes, diff=diff, fix_only=fix_only
        )
        result = outcome.scan
        if outcome.fixed_text is not None:
            sys.stdout.write(outcome.fixed_text)
            sys.stdout.flush()
            stream = sys.stderr  # standard output carries the fixed text
        if outcome.exit_code is not None:
            _print_notices(result.result.notices, quiet)
            return outcome.exit_code
    result.settings = {
        "Paths": ", ".join(targets),
        "Configuration": cfg.label if cfg.path else "none",
        "Selected rules": ", ".join(chosen) if chosen else "the default set",
        "Ignored rules": ", ".join(ignored) or "none",
        "Minimum severity": (min_severity or cfg.min_severity or "none").lower(),
        "Fail on": (fail_on or cfg.fail_on or "low").lower(),
        "Inline suppressions": "honoured" if not no_inline_suppressions else "ignored (audit)",
        "Baseline": str(baseline_path) if baseline_path else "none",
    }
    reporter = get_reporter(format.value)
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
        write_report(sarif_output, escape.output(buf.getvalue(), "sarif"))
    if html_output is not None:
        import io

        buf = io.StringIO()
        get_reporter("html")(result, buf, opts)
        write_report(html_output, escape.output(buf.getvalue(), "html"))
    if output is not None:
        import io

        buf = io.StringIO()
        reporter(result, buf, opts)
        write_report(output, escape.output(buf.getvalue(), format.value))
    elif format.value in escape.LineOutput.LINE_BASED:
        lines = escape.LineOutput(stream, format.value)
        reporter(result, lines, opts)  # type: ignore[arg-type]  # writes only
        lines.close()
        stream.flush()
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
        write_report(write_baseline, render(findings, _stored_paths(result)))
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


def _print_notices(notices: list, quiet: bool) -> None:  # type: ignore[type-arg]
    for n in notices:
        if quiet and n.level == "note":
            continue
        where = f"{n.path}:{n.line}" if n.line else n.path
        line = f"{escape.text(where)}: {n.level}: {escape.text(n.message)} [{n.code}]"
        print(escape.log(line), file=sys.stderr)
