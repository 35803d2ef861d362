"""Loading rules: YAML files -> immutable :class:`Rule` values with compiled conditions.

Built-in rules ship in the wheel (``mlsec_lint/_rules``) and are read from the source
tree's ``rules/`` in a checkout. They are validated against ``rules/rule.schema.json``
by the test suite, not at every start (``jsonschema`` costs ~0.2 s to import); rules from
user directories are always validated.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlsec_lint import databundle
from mlsec_lint.datadirs import builtin_rules_dir
from mlsec_lint.engine.predicates import Cond, RuleSyntaxError, compile_condition, compile_select
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.facts import FACT_KINDS
from mlsec_lint.fix.spec import FixSpec, parse_fix
from mlsec_lint.model import CATEGORIES, Severity
from mlsec_lint.records import Struct, field

DOCS_URL = "https://github.com/mlsec-lint/mlsec-lint/blob/main/docs/rules/{id}.md"
SCHEMA_NAME = "rule.schema.json"


class Adjust(Struct, frozen=True):
    when: Cond
    severity: Severity
    note: str


class Rule(Struct, frozen=True):
    id: str
    name: str
    title: str
    category: str
    severity: Severity
    target: str
    when: Cond
    message: str
    select: Cond | None = None
    select_spec: Mapping[str, Any] = field(default_factory=dict)
    each: str | None = None
    """Evaluate ``when`` once per value at this path (one finding per match)."""
    when_spec: Any = None
    """The condition as written (the evaluator derives index guards from it)."""
    at: tuple[str, ...] = ()
    adjust: tuple[Adjust, ...] = ()
    docs: Mapping[str, str] = field(default_factory=dict)
    references: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    precision: str = "high"
    enabled: bool = True
    source: str = ""
    builtin: bool = True
    fix: FixSpec | None = None
    """How findings of the rule are fixed (``fix:``; see mlsec_lint.fix.spec)."""
    guards: Any = None
    """The index guards of a built-in rule as its bundle holds them (derived from
    ``select`` and ``when`` when the bundle was written), or None: derived when needed
    (see mlsec_lint.engine.evaluate.rule_guards)."""

    @property
    def help_uri(self) -> str:
        return str(self.references.get("docs") or DOCS_URL.format(id=self.id))

    @property
    def cwe(self) -> tuple[str, ...]:
        return tuple(self.references.get("cwe", ()))

    @property
    def area(self) -> str:
        parts = self.id.split("-")
        return parts[1] if len(parts) >= 3 else parts[0]


rule_files = databundle.yaml_files


def parse_rule(data: Any, source: str, builtin: bool = True, guards: Any = None) -> Rule:
    """Build a Rule from a parsed YAML mapping. Raises MlsecLintError with the file name."""
    try:
        return _parse_rule(data, source, builtin, guards)
    except (RuleSyntaxError, KeyError, TypeError, ValueError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise MlsecLintError(f"invalid rule {source}: {detail}") from None


class LazyCondition:
    """Compiles a condition the first time it is evaluated.

    Built-in rules are compiled only for the fact kinds a scan meets (most single-file
    scans touch a handful of the ~100 rules); their syntax is checked by the test suite.
    Rules from user directories are compiled eagerly, so mistakes surface at load time.
    """

    __slots__ = ("_fn", "_spec")

    def __init__(self, spec: Any) -> None:
        self._spec = spec
        self._fn: Cond | None = None

    def __call__(self, node: Any, root: Any) -> Any:
        fn = self._fn
        if fn is None:
            fn = self._fn = compile_condition(self._spec, lazy_regex=True)
        return fn(node, root)

    def force(self) -> None:
        """Compile now, regular expressions included (raises RuleSyntaxError on a bad
        condition)."""
        self._fn = compile_condition(self._spec)


def _user_condition(spec: Any) -> Cond:
    """A user rule's condition: its patterns look at a bounded prefix of each value and
    may not nest repetitions (see :mod:`mlsec_lint.linear`)."""
    from mlsec_lint.engine import predicates
    from mlsec_lint.linear import USER_PATTERN_INPUT

    predicates.USER_PATTERNS["limit"] = USER_PATTERN_INPUT
    try:
        return compile_condition(spec)
    finally:
        predicates.USER_PATTERNS["limit"] = None


def _parse_rule(data: Any, source: str, builtin: bool, guards: Any = None) -> Rule:
    if not isinstance(data, dict):
        raise ValueError("a rule file must contain a mapping")
    cond: Any = LazyCondition if builtin else _user_condition
    target = data["target"]
    if target not in FACT_KINDS:
        raise ValueError(f"unknown target {target!r} (known: {', '.join(sorted(FACT_KINDS))})")
    category = data["category"]
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    adjust = tuple(
        Adjust(cond(a["when"]), Severity.parse(a["severity"]), str(a.get("note", "")))
        for a in data.get("adjust", []) or []
    )
    at = data.get("at", ())
    return Rule(
        id=str(data["id"]),
        name=str(data["name"]),
        title=str(data["title"]),
        category=category,
        severity=Severity.parse(data["severity"]),
        target=target,
        when=cond(data["when"]),
        when_spec=data["when"],
        message=str(data["message"]).strip(),
        select=_select(data.get("select"), builtin),
        select_spec=dict(data.get("select") or {}),
        each=_each_path(data.get("each")),
        at=(at,) if isinstance(at, str) else tuple(at),
        adjust=adjust,
        docs={k: str(v) for k, v in (data.get("docs") or {}).items()},
        references=dict(data.get("references") or {}),
        tags=tuple(data.get("tags", ())),
        precision=str(data.get("precision", "high")),
        enabled=bool(data.get("enabled", True)),
        source=source,
        builtin=builtin,
        fix=parse_fix(data["fix"], cond) if data.get("fix") is not None else None,
        guards=guards,
    )


def _select(spec: Any, builtin: bool) -> Any:
    """A rule's ``select`` pre-filter: compiled when first evaluated for a built-in rule
    (as its condition is: a one-file scan meets few of them), at once for a user's."""
    if spec is None or not builtin or not isinstance(spec, dict):
        return compile_select(spec)  # None, a user's rule, or the error for a bad one
    entries = [{"path": p, "in": v if isinstance(v, list) else [v]} for p, v in spec.items()]
    return LazyCondition({"all": entries})


def _each_path(value: Any) -> str | None:
    if value is None:
        return None
    from mlsec_lint.tree import parse_path

    parse_path(str(value))  # raises ValueError on a malformed path
    return str(value)


def _load_yaml(path: Path) -> Any:
    import yaml

    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MlsecLintError(f"cannot read rule file {path}: {exc}") from None


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    path = builtin_rules_dir() / SCHEMA_NAME
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def validate_rule_data(data: Any, source: str) -> None:
    """Validate one rule mapping against the schema (imports jsonschema lazily)."""
    from ..schemacheck import draft202012_validator

    validator = draft202012_validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise MlsecLintError(f"invalid rule {source}: at {where}: {err.message}")


def load_rules_from(directory: Path, builtin: bool, validate: bool) -> list[Rule]:
    rules = []
    for path in rule_files(directory):
        data = _load_yaml(path)
        source = str(path)
        if validate:
            validate_rule_data(data, source)
        rules.append(parse_rule(data, source, builtin))
    return rules


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    return load_builtin(builtin_rules_dir())


def load_builtin(directory: Path) -> tuple[Rule, ...]:
    """Rules of a built-in rules directory, through its bundle when that is current
    (with the index guards derived when it was written)."""
    base = str(directory)
    files, derived = databundle.load_with_derived(directory)
    guards = derived.get("guards") or {}
    return tuple(
        parse_rule(
            data,
            os.path.join(base, *name.split("/")),
            True,
            guards.get(data.get("id")) if isinstance(data, dict) else None,
        )
        for name, data in files
    )


def load_ruleset(extra_dirs: Iterable[str | Path] = ()) -> list[Rule]:
    """Built-in rules plus rules from user directories (validated); ids must be unique."""
    rules = list(builtin_rules())
    for d in extra_dirs:
        p = Path(d)
        if not p.is_dir():
            raise MlsecLintError(f"rule directory not found: {d}")
        rules.extend(load_rules_from(p, builtin=False, validate=True))
    seen: dict[str, str] = {}
    for r in rules:
        if r.id in seen:
            raise MlsecLintError(f"duplicate rule id {r.id} in {r.source} and {seen[r.id]}")
        seen[r.id] = r.source
    return sorted(rules, key=lambda r: r.id)


def matches_selector(rule: Rule, selector: str) -> bool:
    """Selectors: an id or id prefix (``MLS-PY``), a rule name, a category or a severity."""
    s = selector.strip()
    if not s:
        return False
    if s.upper() == "ALL" or rule.id.upper().startswith(s.upper()):
        return True
    low = s.lower()
    return low in (rule.name, rule.category, rule.severity.label)
