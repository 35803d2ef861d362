"""Configuration: ``[tool.mlsec-lint]`` in ``pyproject.toml``, ``.mlsec-lint.yaml`` or
``.mlsec-lint.toml``, found by walking up from the scanned path.

The search starts at the first scanned path (its directory for a file) and stops at the
repository root (the directory holding ``.git``); in each directory ``.mlsec-lint.yaml``,
``.mlsec-lint.yml``, ``.mlsec-lint.toml`` and then a ``pyproject.toml`` with a
``[tool.mlsec-lint]`` table are tried. Paths in the file are relative to it. The file is
validated against ``mlsec_lint/schemas/config.schema.json``; every problem is one line
and exit code 2. Command-line options override the file (see :func:`merge`).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlsec_lint.discovery import find_repo_root
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.records import Struct, field

CONFIG_NAMES = (".mlsec-lint.yaml", ".mlsec-lint.yml", ".mlsec-lint.toml", "pyproject.toml")
TOOL_KEY = "mlsec-lint"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "config.schema.json"


class Config(Struct):
    """Settings from one configuration file (all paths absolute)."""

    path: str | None = None
    root: str = "."
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    rules_dir: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str | None = None
    min_severity: str | None = None
    frameworks: list[str] = field(default_factory=list)
    baseline: str | None = None
    respect_gitignore: bool | None = None
    shadowed: list[str] = field(default_factory=list)
    """Other configuration files beside ``path`` that it overrides (reported, not read)."""
    helm_values: list[str] = field(default_factory=list)
    helm_chart_values: dict[str, list[str]] = field(default_factory=dict)
    helm_renderer: str | None = None

    @property
    def label(self) -> str:
        return os.path.relpath(self.path) if self.path else "configuration"


# ---------------------------------------------------------------- discovery


def find_config(start: str, boundary: str | None = None) -> str | None:
    """The configuration file that applies to ``start`` (a file or directory), if any."""
    found = find_configs(start, boundary)
    return found[0] if found else None


def configs_in(directory: str) -> list[str]:
    """The configuration files in ``directory``, the one that applies first."""
    out = []
    for name in CONFIG_NAMES:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and (name != "pyproject.toml" or _has_tool_table(candidate)):
            out.append(candidate)
    return out


def find_configs(start: str, boundary: str | None = None) -> list[str]:
    """The configuration files of the nearest directory from ``start`` up to the repository
    root that has any: the first applies, the others are overridden by it.

    Outside a repository (no ``.git`` above), not above ``boundary`` (default: the current
    directory, or ``start`` itself when it is not below it): a file in a parent directory
    that nobody chose must not configure the scan."""
    cur = os.path.abspath(start)
    while not os.path.isdir(cur):
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
    limit = os.path.abspath(boundary or os.getcwd())
    if not (cur == limit or cur.startswith(limit.rstrip(os.sep) + os.sep)):
        limit = cur
    inside_repo = find_repo_root(cur) is not None
    while True:
        found = configs_in(cur)
        if found:
            return found
        if os.path.exists(os.path.join(cur, ".git")):
            return []
        if not inside_repo and cur == limit:
            return []
        parent = os.path.dirname(cur)
        if parent == cur:
            return []
        cur = parent


def _has_tool_table(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return False
    # cheap pre-check before parsing TOML
    return TOOL_KEY in text and isinstance(_tool_table(_read_toml(path, text)), dict)


def _tool_table(data: dict[str, Any]) -> Any:
    tool = data.get("tool")
    return tool.get(TOOL_KEY) if isinstance(tool, dict) else None


def discover(paths: Sequence[str], explicit: str | None = None, isolated: bool = False) -> Config:
    """The configuration for a scan of ``paths``: ``explicit`` (``--config``), the file
    found from the first path, or defaults (``isolated``, or nothing found)."""
    if explicit:
        if not os.path.isfile(explicit):
            raise MlsecLintError(f"--config: file not found: {explicit}")
        return load(explicit, required=True)
    if isolated:
        return Config(root=os.getcwd())
    start = next((p for p in paths if p != "-"), ".")
    found = find_configs(start)
    if not found:
        return Config(root=os.getcwd())
    cfg = load(found[0])
    cfg.shadowed = found[1:]
    return cfg


def shadow_warning(cfg: Config) -> str | None:
    """One line saying which configuration applies when several are found together."""
    if not cfg.shadowed or cfg.path is None:
        return None
    others = ", ".join(describe(p) for p in cfg.shadowed)
    return (
        f"two configuration sources: {describe(cfg.path)} applies and {others} "
        f"{'is' if len(cfg.shadowed) == 1 else 'are'} ignored; merge them into one file"
    )


def describe(path: str) -> str:
    label = os.path.relpath(path)
    return f"[tool.{TOOL_KEY}] in {label}" if os.path.basename(path) == "pyproject.toml" else label


# ---------------------------------------------------------------- loading


def _read_toml(path: str, text: str) -> dict[str, Any]:
    import sys

    toml: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        data: dict[str, Any] = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise MlsecLintError(f"{os.path.relpath(path)}: invalid TOML: {exc}") from None
    except RecursionError:
        raise MlsecLintError(f"{os.path.relpath(path)}: values nested too deeply") from None
    return data


MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_DEPTH = 16
"""Settings are at most a few levels deep (per-file-ignores > pattern > selectors)."""


def _check_depth(data: Any, label: str) -> None:
    """A configuration error for values nested deeper than any setting (iterative: a
    hostile file cannot exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise MlsecLintError(f"{label}: values nested deeper than {MAX_CONFIG_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def read_settings(path: str, required: bool = False) -> dict[str, Any]:
    """The raw settings mapping of a configuration file."""
    label = os.path.relpath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_CONFIG_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise MlsecLintError(f"cannot read {label}: {exc}") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise MlsecLintError(f"{label}: larger than {MAX_CONFIG_BYTES:,} characters")
    name = os.path.basename(path)
    if name.endswith((".yaml", ".yml")):
        # the loader of scanned YAML: the same alias budget and depth limit
        from mlsec_lint.parsers.yamldoc import YamlError, load_stream

        try:
            stream = load_stream(text)
        except YamlError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            problem = exc.message.removesuffix("; not scanned").removeprefix("invalid YAML: ")
            raise MlsecLintError(f"{label}: invalid YAML{where}: {problem}") from None
        if stream.stopped is not None:
            problem = stream.stopped.message.removesuffix("; not scanned")
            raise MlsecLintError(f"{label}: invalid YAML: {problem}")
        data = stream.docs[0].value if stream.docs else None
        if data is None:
            return {}
    else:
        data = _read_toml(path, text)
        if name == "pyproject.toml":
            table = _tool_table(data)
            if table is None:
                if required:
                    raise MlsecLintError(f"{label} has no [tool.{TOOL_KEY}] table")
                return {}
            data = table
    if not isinstance(data, dict):
        raise MlsecLintError(f"{label}: the configuration must be a mapping of settings")
    _check_depth(data, label)
    return data


def load(path: str, required: bool = False) -> Config:
    """Read, validate and resolve one configuration file."""
    path = os.path.abspath(path)
    data = read_settings(path, required)
    validate(data, os.path.relpath(path))
    from mlsec_lint.discovery import gitignore_pattern_problem

    for pattern in data.get("per-file-ignores", {}):
        problem = gitignore_pattern_problem(str(pattern))
        if problem:
            raise MlsecLintError(
                f"{os.path.relpath(path)}: per-file-ignores: pattern {str(pattern)[:80]!r} is "
                f"too costly to match ({problem})"
            )
    root = os.path.dirname(path)

    def rel(p: str) -> str:
        return os.path.normpath(os.path.join(root, p))

    return Config(
        path=path,
        root=root,
        select=list(data["select"]) if "select" in data else None,
        extend_select=list(data.get("extend-select", [])),
        ignore=list(data.get("ignore", [])),
        per_file_ignores={k: list(v) for k, v in data.get("per-file-ignores", {}).items()},
        exclude=list(data.get("exclude", [])),
        rules_dir=[rel(p) for p in data.get("rules-dir", [])],
        severity=dict(data.get("severity", {})),
        fail_on=data.get("fail-on"),
        min_severity=data.get("min-severity"),
        frameworks=list(data.get("frameworks", [])),
        baseline=rel(data["baseline"]) if "baseline" in data else None,
        respect_gitignore=data.get("respect-gitignore"),
        helm_values=[rel(p) for p in data.get("helm-values", [])],
        helm_chart_values={
            rel(k): [rel(p) for p in v] for k, v in data.get("helm-chart-values", {}).items()
        },
        helm_renderer=data.get("helm-renderer"),
    )


# ---------------------------------------------------------------- validation


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def validate(data: Any, label: str) -> None:
    """Raise a one-line :class:`MlsecLintError` when ``data`` does not match the schema.

    A valid file is recognised by :func:`quick_check` without importing ``jsonschema``
    (which costs 0.1 to 0.8 s of start-up, paid by every pre-commit run); ``jsonschema``
    judges everything else and words the error.
    """
    if quick_check(data, schema()) is True:
        return
    if isinstance(data, dict):
        import difflib

        known = list(schema()["properties"])
        for key in data:
            if key not in known:
                hint = difflib.get_close_matches(str(key), known, n=1)
                also = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise MlsecLintError(f"{label}: unknown setting '{key}'{also}")
    from .schemacheck import best_match, draft202012_validator

    validator = draft202012_validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        err = best_match(errors)
        where = " > ".join(str(p) for p in err.absolute_path)[:200]
        raise MlsecLintError(f"{label}: {where + ': ' if where else ''}{_wording(err)}")


def _wording(err: Any) -> str:
    """The project's own words for the common schema errors (a library's wording changes
    between releases); anything else keeps the validator's message, cut short (it may
    quote a hostile document)."""
    if err.validator == "type" and isinstance(err.validator_value, str):
        got = repr(err.instance)
        got = got if len(got) <= 100 else got[:100] + " …"
        return f"expected {_KIND.get(err.validator_value, err.validator_value)}, got {got}"
    if err.validator == "enum" and isinstance(err.validator_value, list):
        allowed = ", ".join(repr(v) for v in err.validator_value)
        got = repr(err.instance)
        got = got if len(got) <= 100 else got[:100] + " …"
        return f"{got} is not one of {allowed}"
    message = str(err.message)
    return message if len(message) <= 300 else message[:300] + " …"


_KIND = {"array": "a list", "object": "a mapping", "string": "a string", "boolean": "true or false"}


def quick_check(
    instance: Any, sub: dict[str, Any], root: dict[str, Any] | None = None
) -> bool | None:
    """True when ``instance`` surely matches ``sub``; False when it surely does not; None
    when the schema uses a keyword this checker does not know (ask ``jsonschema``)."""
    root = root if root is not None else sub
    for key, want in sub.items():
        if key in ("description", "title", "$schema", "$id", "$defs", "properties"):
            continue
        if key == "$ref":
            if not isinstance(want, str) or not want.startswith("#/$defs/"):
                return None
            result = quick_check(instance, root["$defs"][want[len("#/$defs/") :]], root)
        elif key == "type":
            kinds = {"object": dict, "array": list, "string": str, "boolean": bool}
            if want not in kinds:
                return None
            result = isinstance(instance, kinds[want])
        elif key == "enum":
            result = any(type(instance) is type(v) and instance == v for v in want)
        elif key == "pattern":
            result = not isinstance(instance, str) or re.search(want, instance) is not None
        elif key == "minLength":
            result = not isinstance(instance, str) or len(instance) >= want
        elif key == "items":
            items = instance if isinstance(instance, list) else []
            result = _combine([quick_check(v, want, root) for v in items])
        elif key == "propertyNames":
            keys = list(instance) if isinstance(instance, dict) else []
            result = _combine([quick_check(k, want, root) for k in keys])
        elif key == "additionalProperties":
            props = sub.get("properties", {})
            pairs = instance.items() if isinstance(instance, dict) else []
            result = _combine(
                [
                    quick_check(v, props[k], root)
                    if k in props
                    else (want if isinstance(want, bool) else quick_check(v, want, root))
                    for k, v in pairs
                ]
            )
        else:
            return None
        if result is not True:
            return result
    return True


def _combine(results: list[bool | None]) -> bool | None:
    if False in results:
        return False
    return None if None in results else True


# ---------------------------------------------------------------- init

TEMPLATE_YAML = """\
# mlsec-lint configuration
# https://github.com/mlsec-lint/mlsec-lint/blob/main/docs/configuration.md
# Paths are relative to this file; command-line options override these settings.

# Rules to run: ids (MLS-PY-002), id prefixes (MLS-PY), rule names, categories (tls,
# endpoint, supply-chain ...) or severities. Default: every rule enabled by default.
# select: [MLS]

# Rules to run on top of 'select', e.g. rules that are disabled by default.
# extend-select: []

# Rules not to run (same selectors as 'select').
# ignore: []

# Rules not to report for some files (gitignore-style patterns).
# per-file-ignores:
#   "tests/**": [MLS-SEC-001]

# Paths not to scan (gitignore-style patterns), on top of .gitignore.
# exclude:
#   - "charts/*/templates/"

# Severity of every finding of a rule: critical, high, medium, low or info.
# severity:
#   MLS-IMG-003: low

# Exit 1 when a finding has this severity or higher (critical, high, medium, low, info)
# or never.
fail-on: low

# Severity floor: report only findings of this severity or higher.
# Severity here is each finding's own, which depends on its context (docs/severity.md).
# min-severity: medium

# Directories of your own YAML rules (docs/writing-rules.md).
# rules-dir: [policies/mlsec-lint]

# Your own ML packages, checked like torch and transformers by the pinning rules.
# frameworks: [acme-inference]

# Accepted findings: create the file with `mlsec-lint scan --write-baseline FILE`.
# baseline: .mlsec-lint-baseline.json
"""


def template(fmt: str) -> str:
    """A commented starting configuration (``yaml`` or ``toml``)."""
    if fmt == "yaml":
        return TEMPLATE_YAML
    return TEMPLATE_TOML


TEMPLATE_TOML = """\
# mlsec-lint configuration
# https://github.com/mlsec-lint/mlsec-lint/blob/main/docs/configuration.md
# Paths are relative to this file; command-line options override these settings.
# In pyproject.toml, put the same settings under [tool.mlsec-lint].

# Rules to run: ids (MLS-PY-002), id prefixes (MLS-PY), rule names, categories (tls,
# endpoint, supply-chain ...) or severities. Default: every rule enabled by default.
# select = ["MLS"]

# Rules to run on top of 'select', e.g. rules that are disabled by default.
# extend-select = []

# Rules not to run (same selectors as 'select').
# ignore = []

# Exit 1 when a finding has this severity or higher (critical, high, medium, low, info)
# or never.
fail-on = "low"

# Severity floor: report only findings of this severity or higher.
# Severity here is each finding's own, which depends on its context (docs/severity.md).
# min-severity = "medium"

# Paths not to scan (gitignore-style patterns), on top of .gitignore.
# exclude = ["charts/*/templates/"]

# Directories of your own YAML rules (docs/writing-rules.md).
# rules-dir = ["policies/mlsec-lint"]

# Your own ML packages, checked like torch and transformers by the pinning rules.
# frameworks = ["acme-inference"]

# Accepted findings: create the file with `mlsec-lint scan --write-baseline FILE`.
# baseline = ".mlsec-lint-baseline.json"

# Rules not to report for some files (gitignore-style patterns).
# [per-file-ignores]
# "tests/**" = ["MLS-SEC-001"]

# Severity of every finding of a rule: critical, high, medium, low or info.
# [severity]
# MLS-IMG-003 = "low"
"""
