"""The options of ``mlsec-lint scan``, declared once.

:data:`SCAN_OPTIONS` drives both ways the command line is read:

* the typer command (``mlsec_lint.cli``) is built from it: help, errors, environment
  variables and everything unusual go through typer;
* :func:`parse_plain` reads the plain form a pre-commit hook uses
  (``scan [--force-exclude] [--ignore=…] [--select=…] FILES…``, or any other option
  spelled plainly) without importing typer or click, which is a third of a one-file
  scan's start-up. It returns ``None`` for anything it does not read exactly as typer
  would (``--help``, an unknown option, a bad value, a clustered short option, an
  environment variable …); the caller then hands the arguments to typer.

To add an option to ``scan``: one :class:`Opt` entry here, then read it by its ``name``
in ``mlsec_lint/scan_command.py``. ``tests/test_scan_options.py`` checks that both
readers agree on every entry. An option needing more of typer than :class:`Opt`
describes gets a field here and a line in ``mlsec_lint.cli._scan_parameter``; spellings
the plain reader does not know (``--x/--no-x`` pairs, say) simply go to typer.

This module imports nothing beyond the standard library's light modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from mlsec_lint.records import Struct


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"
    junit = "junit"
    html = "html"


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")

Kind = Literal["flag", "value", "multi", "arguments"]
"""flag: a boolean switch; value: one value (the last one given wins); multi: a
repeatable value, collected in a list; arguments: the positional arguments."""


class Opt(Struct, frozen=True):
    name: str
    """The parameter's name: the key of its value in what both readers return."""
    flags: tuple[str, ...]
    """Its spellings on the command line (empty for the positional arguments)."""
    kind: Kind
    help: str
    type: type = str
    """str, int, Path or an Enum of the allowed values (matched exactly)."""
    default: Any = None
    envvar: str | None = None
    min: int | None = None
    show_default: bool = True


SCAN_OPTIONS: tuple[Opt, ...] = (
    Opt(
        "paths",
        (),
        "arguments",
        "Files and directories to scan (default: .; a missing path is an error, exit 2). "
        "Use - to read standard input.",
        show_default=False,
    ),
    Opt(
        "format",
        ("--format", "-f"),
        "value",
        "Output format.",
        type=Format,
        default=Format.text,
        envvar="MLSEC_LINT_FORMAT",
    ),
    Opt("output", ("--output", "-o"), "value", "Write the report to FILE instead of stdout.", Path),
    Opt(
        "sarif_output",
        ("--sarif-output",),
        "value",
        "Also write a SARIF report to FILE (whatever --format is).",
        Path,
    ),
    Opt(
        "html_output",
        ("--html-output",),
        "value",
        "Also write a self-contained HTML report to FILE (whatever --format is).",
        Path,
    ),
    Opt(
        "statistics",
        ("--statistics",),
        "flag",
        "Print counts per rule, severity, category and file kind, including "
        "suppressed and baselined findings.",
    ),
    Opt(
        "sarif_category",
        ("--sarif-category",),
        "value",
        "SARIF automationDetails id (GitHub code scanning category) of this run.",
        default="mlsec-lint",
    ),
    Opt(
        "select",
        ("--select",),
        "multi",
        "Only run these rules (ids, id prefixes, names or categories; repeatable or "
        "comma-separated). A severity (critical, high, medium, low, info) selects "
        "findings of that severity: each finding's own, contextual severity, not its "
        "rule's default. Replaces the configured select and ignore.",
    ),
    Opt(
        "extend_select", ("--extend-select",), "multi", "Run these rules too (e.g. disabled ones)."
    ),
    Opt(
        "ignore",
        ("--ignore",),
        "multi",
        "Do not run these rules (same selectors as --select; a severity drops the "
        "findings of that severity).",
    ),
    Opt(
        "min_severity",
        ("--min-severity",),
        "value",
        "Report only findings of this severity or higher (critical, high, medium, low, "
        "info): each finding's own severity, which depends on its context (for example "
        "exposure), not its rule's default.",
        show_default=False,
    ),
    Opt(
        "fail_on",
        ("--fail-on",),
        "value",
        "Exit 1 when a finding has this severity or higher "
        "(critical, high, medium, low, info, never). Default: low.",
        show_default=False,
    ),
    Opt("quiet", ("--quiet", "-q"), "flag", "Print findings only."),
    Opt(
        "stdin_filename",
        ("--stdin-filename",),
        "value",
        "File name to report (and to classify by) for input read from -. Without it the "
        "kind is recognised from the content, or the input is refused.",
    ),
    Opt(
        "rules_dir",
        ("--rules-dir",),
        "multi",
        "Also load rules from this directory (repeatable).",
        Path,
    ),
    Opt(
        "exclude",
        ("--exclude",),
        "multi",
        "Gitignore-style pattern of paths not to scan (repeatable).",
    ),
    Opt(
        "force_exclude",
        ("--force-exclude",),
        "flag",
        "Apply exclusions to files named on the command line too (for pre-commit).",
    ),
    Opt("no_gitignore", ("--no-gitignore",), "flag", "Scan files that .gitignore excludes."),
    Opt("color", ("--color",), "value", "Colour the text output.", Color, Color.auto),
    Opt(
        "config_file",
        ("--config",),
        "value",
        "Read settings from FILE (pyproject.toml, .mlsec-lint.yaml or .toml) "
        "instead of the one found from the scanned path.",
        Path,
    ),
    Opt("isolated", ("--isolated",), "flag", "Ignore configuration files."),
    Opt(
        "untrusted",
        ("--untrusted",),
        "flag",
        "The scanned tree is untrusted (a pull request): read no configuration file from "
        "it (only --config), and ignore its suppression comments, annotations and "
        ".gitignore files. Same as --isolated --no-inline-suppressions --no-gitignore.",
    ),
    Opt(
        "no_inline_suppressions",
        ("--no-inline-suppressions",),
        "flag",
        "Ignore suppression comments and annotations (audits, untrusted changes).",
    ),
    Opt(
        "show_suppressed",
        ("--show-suppressed",),
        "flag",
        "List suppressed findings with their reason (text); include them in SARIF "
        "with suppressions.",
    ),
    Opt(
        "baseline",
        ("--baseline",),
        "value",
        "Report only findings that are not in this baseline.",
        Path,
    ),
    Opt(
        "write_baseline",
        ("--write-baseline",),
        "value",
        "Record the current findings in FILE (and exit 0); use it with --baseline.",
        Path,
    ),
    Opt(
        "jobs",
        ("--jobs", "-j"),
        "value",
        "Worker processes for large scans (0: by the number of Python files and idle CPUs).",
        int,
        0,
        min=0,
    ),
    Opt(
        "semgrep_config",
        ("--semgrep-config",),
        "multi",
        "Also run this file of rules in Semgrep syntax on the Python files "
        "(repeatable; needs mlsec-lint[semgrep]).",
        Path,
    ),
)

HELM_OPTIONS: tuple[Opt, ...] = (
    Opt(
        "helm_values",
        ("--helm-values",),
        "multi",
        "Also render every Helm chart with this values file, like helm -f "
        "(repeatable, in order; rendering needs mlsec-lint[helm] or helm on PATH).",
        Path,
    ),
)
SCAN_OPTIONS += HELM_OPTIONS

FIX_OPTIONS: tuple[Opt, ...] = (
    Opt(
        "fix",
        ("--fix",),
        "flag",
        "Apply safe fixes, then report what remains (standard input: print the fixed text).",
    ),
    Opt(
        "unsafe_fixes",
        ("--unsafe-fixes",),
        "flag",
        "With --fix, --diff or --fix-only, also apply fixes that can change behaviour "
        "(docs/fixes.md).",
    ),
    Opt(
        "diff",
        ("--diff",),
        "flag",
        "Print a unified diff of what --fix would change and write nothing "
        "(exit 1 when there is something to fix).",
    ),
    Opt(
        "fix_only",
        ("--fix-only",),
        "flag",
        "Apply fixes and report nothing else (exit 0 unless an error occurs).",
    ),
)
SCAN_OPTIONS += FIX_OPTIONS

SCAN_HELP = "Scan files and directories for ML deployment security problems."

_BY_FLAG = {flag: opt for opt in SCAN_OPTIONS for flag in opt.flags}


def usage_problem(values: Mapping[str, Any]) -> tuple[str, str] | None:
    """A combination of values the command refuses: (option, message), or None.

    The typer command raises it as a usage error; :func:`parse_plain`'s caller hands
    such arguments to typer, so the message has one source.
    """
    fail_on = values.get("fail_on")
    if fail_on is not None and fail_on.lower() not in FAIL_ON_CHOICES:
        return "--fail-on", f"expected one of {', '.join(FAIL_ON_CHOICES)}"
    min_severity = values.get("min_severity")
    if min_severity is not None and min_severity.lower() not in FAIL_ON_CHOICES[:-1]:
        return "--min-severity", f"expected one of {', '.join(FAIL_ON_CHOICES[:-1])}"
    if values.get("stdin_filename") and "-" not in (values.get("paths") or []):
        return "--stdin-filename", "only valid when reading standard input (-)"
    return None


def _convert(opt: Opt, raw: str) -> tuple[bool, Any]:
    """(True, value) as typer would convert ``raw``, or (False, None) when typer might
    disagree or refuse it."""
    if opt.type is str:
        return True, raw
    if opt.type is Path:
        return (True, Path(raw)) if raw else (False, None)
    if opt.type is int:
        if not raw.isascii() or not raw.isdigit():
            return False, None
        value = int(raw)
        if opt.min is not None and value < opt.min:
            return False, None
        return True, value
    if issubclass(opt.type, Enum):
        for member in opt.type:
            if member.value == raw:
                return True, member
        return False, None
    return False, None


def parse_plain(
    args: Sequence[str], environ: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The values of ``scan``'s parameters for ``args`` (what follows ``scan``), exactly
    as the typer command would pass them, or None to let typer read the arguments."""
    if environ is not None and any(o.envvar and o.envvar in environ for o in SCAN_OPTIONS):
        return None
    values: dict[str, Any] = {}
    positional: list[str] = []
    only_arguments = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if only_arguments or arg == "-" or not arg.startswith("-"):
            positional.append(arg)
            continue
        if arg == "--":
            only_arguments = True
            continue
        if arg.startswith("--"):
            flag, eq, raw = arg.partition("=")
        elif len(arg) == 2:  # "-q"; clustered "-qf json" and attached "-fjson" go to typer
            flag, eq, raw = arg, "", ""
        else:
            return None
        opt = _BY_FLAG.get(flag)
        if opt is None:  # --help, -h, a typo, a new option: typer says what to do
            return None
        if opt.kind == "flag":
            if eq:
                return None
            values[opt.name] = True
            continue
        if not eq:
            if i >= len(args):
                return None
            raw = args[i]
            i += 1
        if raw.startswith("-") and raw != "-":
            return None  # a value that looks like an option: leave the judgement to typer
        ok, value = _convert(opt, raw)
        if not ok:
            return None
        if opt.kind == "multi":
            values.setdefault(opt.name, []).append(value)
        else:
            values[opt.name] = value
    out: dict[str, Any] = {}
    for opt in SCAN_OPTIONS:
        if opt.kind == "arguments":
            out[opt.name] = positional or opt.default
        elif opt.kind == "flag":
            out[opt.name] = values.get(opt.name, False)
        else:
            out[opt.name] = values.get(opt.name, opt.default)
    return out
