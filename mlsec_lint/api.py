"""The scan pipeline as a function: options in, :class:`ScanResult` out.

discover -> read -> analyse (parse + facts) -> resolve across files -> evaluate rules
-> sort. The CLI, the fixture harness and the tests all call :func:`scan`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from mlsec_lint import semgrep
from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import discover, name_kind
from mlsec_lint.engine.evaluate import Evaluator
from mlsec_lint.engine.rules import Rule, load_ruleset, matches_selector
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.model import Finding, Notice, ScanResult
from mlsec_lint.resolve import resolve_all
from mlsec_lint.source import Source, read_source, source_from_bytes


@dataclass
class ScanOptions:
    paths: Sequence[str] = (".",)
    stdin: bytes | None = None
    stdin_filename: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    rule_dirs: Sequence[str] = ()
    excludes: Sequence[str] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    base: str | None = None
    rules: Sequence[Rule] | None = None
    """A ready ruleset (skips loading; used by the fixture harness)."""
    semgrep_configs: Sequence[str] = ()
    """The user's own Semgrep rule files, run by the optional Semgrep engine."""


@dataclass
class Scan:
    """Everything a reporter may need: the result, the rules that ran and the sources."""

    result: ScanResult
    rules: list[Rule]
    sources: dict[str, Source] = field(default_factory=dict)
    analyses: list[FileAnalysis] = field(default_factory=list)


def select_rules(rules: Sequence[Rule], select: Sequence[str], ignore: Sequence[str]) -> list[Rule]:
    for sel in [*select, *ignore]:
        if not any(matches_selector(r, sel) for r in rules):
            raise MlsecLintError(
                f"--select/--ignore: {sel!r} matches no rule, name, category or severity"
            )
    chosen = [
        r for r in rules if (any(matches_selector(r, s) for s in select) if select else r.enabled)
    ]
    return [r for r in chosen if not any(matches_selector(r, s) for s in ignore)]


def scan(options: ScanOptions) -> Scan:
    all_rules = (
        list(options.rules) if options.rules is not None else load_ruleset(options.rule_dirs)
    )
    rules = select_rules(all_rules, options.select, options.ignore)
    result = ScanResult(rules_run=len(rules))
    sources: dict[str, Source] = {}
    analyses: list[FileAnalysis] = []

    def take(source: Source | None, notices: list[Notice], kind: str) -> None:
        result.notices.extend(notices)
        if source is None:
            return
        fa = analyze(source, kind)
        sources[source.path] = source
        analyses.append(fa)
        result.notices.extend(fa.notices)
        result.files_scanned += 1
        result.files_by_kind[fa.kind] = result.files_by_kind.get(fa.kind, 0) + 1

    paths = list(options.paths)
    if options.stdin is not None:
        name = options.stdin_filename or "<stdin>"
        kind = name_kind(name) or "yaml"
        src, notices = source_from_bytes(options.stdin, name)
        take(src, notices, kind)
        paths = [p for p in paths if p != "-"]
    if paths:
        targets, notices, _skipped = discover(
            paths,
            base=options.base,
            excludes=options.excludes,
            respect_gitignore=options.respect_gitignore,
            force_exclude=options.force_exclude,
        )
        result.notices.extend(notices)
        for t in targets:
            src, read_notices = read_source(t.abspath, t.display)
            take(src, read_notices, t.kind)

    facts: list[Fact] = [f for fa in analyses for f in fa.facts]
    facts.extend(resolve_all(facts))

    def line_of(path: str, line: int) -> str:
        src = sources.get(path)
        return src.line(line) if src else ""

    findings = Evaluator(rules).run(facts, line_of)
    findings.extend(semgrep.findings(options, rules, sources, analyses, result.notices, line_of))
    result.findings = _dedupe(findings)
    result.findings.sort(key=Finding.sort_key)
    result.notices = sorted(set(result.notices), key=Notice.sort_key)
    return Scan(result, rules, sources, analyses)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, int, str]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.path, f.span.line, f.span.col, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def cwd_relative(path: str) -> str:
    return os.path.relpath(path).replace(os.sep, "/")
