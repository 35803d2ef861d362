"""The scan pipeline as a function: options in, :class:`ScanResult` out.

discover -> read -> analyse (parse + facts) -> resolve across files -> evaluate rules
-> suppress (configuration, comments, annotations) -> baseline -> sort. The CLI, the
fixture harness and the tests all call :func:`scan`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import Target, discover, find_repo_root, name_kind
from mlsec_lint.engine.evaluate import Evaluator
from mlsec_lint.engine.rules import Rule, load_ruleset, matches_selector
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.fingerprints import finding_fingerprint, span_text
from mlsec_lint.model import Finding, Notice, ScanResult, Severity, Suppression
from mlsec_lint.resolve import VersionIndex, attach_versions, resolve_all
from mlsec_lint.source import Source, read_source, source_from_bytes

if TYPE_CHECKING:
    from mlsec_lint.baseline import Baseline


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
    extend_select: Sequence[str] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    """Rule id or name -> severity of every finding of the rule (and of its descriptor)."""
    per_file_ignores: Sequence[tuple[str, str, Sequence[str]]] = ()
    """(directory, gitignore-style pattern relative to it, selectors) triples."""
    config_excludes: Sequence[tuple[str, Sequence[str]]] = ()
    """(directory, patterns relative to it): excludes from a configuration file."""
    inline_suppressions: bool = True
    """Honour suppression comments and annotations (off for audits)."""
    baseline: Baseline | None = None
    root: str | None = None
    """Directory that report paths (SARIF, baselines, fingerprints) are relative to;
    default: the repository root above ``base``, else ``base``."""
    origin: str = "--select/--ignore"
    """Where the selectors came from, for error messages."""
    semgrep_configs: Sequence[str] = ()
    """The user's own Semgrep rule files, run by the optional Semgrep engine."""
    jobs: int = 0
    """Worker processes for per-file analysis: 0 picks by the number of files and CPUs."""
    progress: Callable[[str, int, int], None] | None = None
    """Called with (phase, done, total) as the scan advances (a terminal progress bar)."""


@dataclass
class Scan:
    """Everything a reporter may need: the result, the rules that ran and the sources."""

    result: ScanResult
    rules: list[Rule]
    sources: dict[str, Source] = field(default_factory=dict)
    analyses: list[FileAnalysis] = field(default_factory=list)
    root: str = "."
    """Directory the report paths are relative to (see :meth:`relpath`)."""
    relpaths: dict[str, str | None] = field(default_factory=dict)
    known_rules: frozenset[str] = frozenset()
    baseline_used: bool = False
    base: str = ""
    """Directory the display paths are relative to (default: the working directory)."""
    settings: dict[str, str] = field(default_factory=dict)
    """How the scan was configured (paths, configuration file, selection …), for reports."""

    def relpath(self, path: str) -> str | None:
        """``path`` (as in findings) relative to :attr:`root` with '/' separators, or None
        for a file outside it."""
        if path in self.relpaths:
            return self.relpaths[path]
        return _relative_to(self.abspath(path), self.root)

    def abspath(self, path: str) -> str:
        src = self.sources.get(path)
        if src is not None and src.abspath:
            return src.abspath
        return os.path.normpath(os.path.join(self.base or os.getcwd(), path))


def select_rules(
    rules: Sequence[Rule],
    select: Sequence[str],
    ignore: Sequence[str],
    extend: Sequence[str] = (),
    origin: str = "--select/--ignore",
) -> list[Rule]:
    for sel in [*select, *extend, *ignore]:
        if not any(matches_selector(r, sel) for r in rules):
            raise MlsecLintError(f"{origin}: {sel!r} matches no rule, name, category or severity")
    chosen = [
        r
        for r in rules
        if (any(matches_selector(r, s) for s in select) if select else r.enabled)
        or any(matches_selector(r, s) for s in extend)
    ]
    return [r for r in chosen if not any(matches_selector(r, s) for s in ignore)]


def apply_severity(
    rules: Sequence[Rule], overrides: Mapping[str, str], known: Sequence[Rule] = ()
) -> list[Rule]:
    """Rules with configured severities (the effective severity of their descriptors).

    An overridden rule reports every finding at that severity, whatever its ``adjust``
    entries say (their notes are still appended to the message).
    """
    if not overrides:
        return list(rules)
    wanted: dict[str, Severity] = {}
    for key, label in overrides.items():
        match = [r for r in (known or rules) if key.upper() == r.id or key.lower() == r.name]
        if not match:
            raise MlsecLintError(f"severity: {key!r} is not a rule id or name")
        wanted[match[0].id] = Severity.parse(label)
    return [
        dataclasses.replace(
            r,
            severity=wanted[r.id],
            adjust=tuple(dataclasses.replace(a, severity=wanted[r.id]) for a in r.adjust),
        )
        if r.id in wanted
        else r
        for r in rules
    ]


PARALLEL_MIN_FILES = 200
"""Below this many files the process pool costs more than it saves."""


def _analyze_target(target: Target) -> tuple[Source | None, list[Notice], FileAnalysis | None, str]:
    """Read and analyse one file (runs in a worker process for large scans)."""
    src, notices = read_source(target.abspath, target.display)
    return src, notices, (analyze(src, target.kind) if src is not None else None), target.kind


def _workers(jobs: int, files: int) -> int:
    if jobs > 0:
        return jobs
    if files < PARALLEL_MIN_FILES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


PythonResult = tuple[Source | None, list[Notice], FileAnalysis | None, list[Finding]]
_PYTHON_STATE: dict[str, tuple[Evaluator, VersionIndex]] = {}
"""What a forked worker inherits: the evaluator (compiled rules) and the version index."""


def _scan_python_file(target: Target) -> PythonResult:
    """Analyse one Python file and evaluate its facts. Only the source, notices and
    findings cross back to the parent: the facts stay in the worker."""
    evaluator, index = _PYTHON_STATE["current"]
    src, notices, fa, _ = _analyze_target(target)
    if src is None or fa is None:
        return src, notices, fa, []
    attach_versions(fa.facts, index)
    findings = evaluator.run(fa.facts, lambda _path, line: src.line(line))
    fa.facts = []
    return src, notices, fa, findings


def _scan_python(
    targets: Sequence[Target], evaluator: Evaluator, index: VersionIndex, jobs: int
) -> Iterator[PythonResult]:
    """Python files are analysed and evaluated in one step (in workers that inherit the
    compiled rules), so only their findings travel back."""
    _PYTHON_STATE["current"] = (evaluator, index)
    try:
        yield from _ordered_map(_scan_python_file, targets, jobs)
    finally:
        _PYTHON_STATE.clear()


_T = TypeVar("_T")
_R = TypeVar("_R")


def _ordered_map(fn: Callable[[_T], _R], items: Sequence[_T], jobs: int) -> Iterator[_R]:
    """``map(fn, items)``, in forked worker processes when there are many items.

    Results come back in the order of ``items`` whatever the number of workers, so a
    parallel scan reports exactly what a serial one does. Where fork is unavailable the
    scan stays serial.
    """
    workers = _workers(jobs, len(items))
    if workers <= 1 or len(items) < 2:
        yield from map(fn, items)
        return
    import multiprocessing  # only for a parallel scan (~4 ms to import)

    if "fork" not in multiprocessing.get_all_start_methods():
        yield from map(fn, items)
        return
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, min(32, len(items) // (workers * 8)))
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(fn, items, chunksize=chunk)


def scan(options: ScanOptions) -> Scan:
    all_rules = (
        list(options.rules) if options.rules is not None else load_ruleset(options.rule_dirs)
    )
    rules = select_rules(
        all_rules, options.select, options.ignore, options.extend_select, options.origin
    )
    rules = apply_severity(rules, options.severity, all_rules)
    result = ScanResult(rules_run=len(rules))
    sources: dict[str, Source] = {}
    kinds: dict[str, str] = {}
    analyses: list[FileAnalysis] = []

    def take(
        source: Source | None, notices: list[Notice], kind: str, fa: FileAnalysis | None = None
    ) -> None:
        result.notices.extend(notices)
        if source is None:
            return
        if fa is None:
            fa = analyze(source, kind)
        sources[source.path] = source
        kinds[source.path] = kind
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
            extra_excludes=options.config_excludes,
        )
        result.notices.extend(notices)
    else:
        targets = []
    # Python files are self-contained but for the package versions pinned elsewhere, so
    # they are analysed and evaluated together after everything else is resolved (in
    # worker processes when there are many); all other files first.
    python = [t for t in targets if t.kind == "python"]
    others = [t for t in targets if t.kind != "python"]
    total, done = len(targets), 0
    for src, read_notices, fa, kind in _ordered_map(_analyze_target, others, options.jobs):
        take(src, read_notices, kind, fa)
        done += 1
        if options.progress is not None:
            options.progress("analysing", done, total)
    # requirements files included with -r/-c count whatever their name
    if any(_named_requirements(f) for fa in analyses for f in fa.facts if f.kind in _NAMING):
        read = {os.path.realpath(t.abspath) for t in targets}
        here = os.path.abspath(options.base or os.getcwd())
        roots = _scan_roots(paths, here)
        pending = _included(analyses, sources, read, roots, here)
        while pending:
            batch: list[FileAnalysis] = []
            for target in pending:
                src, read_notices, fa, kind = _analyze_target(target)
                take(src, read_notices, kind, fa)
                if fa is not None:
                    batch.append(fa)
            pending = _included(batch, sources, read, roots, here)

    if options.progress is not None:
        options.progress("resolving", done, total)
    facts: list[Fact] = [f for fa in analyses for f in fa.facts]
    index: list[VersionIndex] = []
    facts.extend(resolve_all(facts, index))

    def line_of(path: str, line: int) -> str:
        src = sources.get(path)
        return src.line(line) if src else ""

    evaluator = Evaluator(rules)
    raw: list[Finding] = []
    for src, read_notices, fa, found in _scan_python(python, evaluator, index[0], options.jobs):
        take(src, read_notices, "python", fa)
        raw.extend(found)
        done += 1
        if options.progress is not None:
            options.progress("analysing", done, total)
    if options.progress is not None:
        options.progress("evaluating", done, total)
    raw.extend(evaluator.run(facts, line_of))
    if options.semgrep_configs or any(r.target == "semgrep-match" for r in rules):
        from mlsec_lint import semgrep

        raw.extend(semgrep.findings(options, rules, sources, analyses, result.notices, line_of))
    findings = _dedupe(raw)

    base = os.path.abspath(options.base or os.getcwd())
    root = os.path.abspath(options.root or find_repo_root(base) or base)
    scan_ = Scan(result, rules, sources, analyses, root, known_rules=_ids(all_rules), base=base)
    for path, src in sources.items():
        scan_.relpaths[path] = _relative_to(src.abspath or os.path.join(base, path), root)

    # suppressions: configuration (per-file-ignores), then comments and annotations, whose
    # problems (unknown rules, no reason, unused) are facts for the MLS-SUP rules
    findings, suppressed = _per_file_ignores(findings, options.per_file_ignores, scan_)
    if options.inline_suppressions and _may_suppress(sources, facts):
        from mlsec_lint import suppressions

        findings, inline, sup_facts = suppressions.suppress(
            findings, sources, kinds, analyses, facts, scan_.known_rules, {r.id for r in rules}
        )
        more, ignored = _per_file_ignores(
            _dedupe(evaluator.run(sup_facts, line_of)), options.per_file_ignores, scan_
        )
        findings += more
        suppressed += inline + ignored
    for f in [*findings, *suppressed]:
        _finish(f, scan_)
    findings.sort(key=Finding.sort_key)
    if options.baseline is not None:
        findings, known = options.baseline.apply(findings)
        suppressed += known
        scan_.baseline_used = True
    from mlsec_lint import budget

    findings, cut = budget.apply(findings)
    result.notices.extend(cut)
    result.findings = findings
    result.suppressed = sorted(suppressed, key=Finding.sort_key)
    result.notices = sorted(set(result.notices), key=Notice.sort_key)
    return scan_


def _may_suppress(sources: Mapping[str, Source], facts: Sequence[Fact]) -> bool:
    """Cheap test before loading the suppression machinery: the marker in some file, or an
    annotation of ours on some Kubernetes object."""
    if any(MARKER in src.text for src in sources.values()):
        return True
    return any(
        isinstance(key, str) and key.startswith(ANNOTATION_PREFIX)
        for f in facts
        if f.annotations
        for key in f.annotations
    )


MARKER = "mlsec-lint"
"""Text every suppression comment contains (``mlsec_lint.suppressions.MARKER``)."""
ANNOTATION_PREFIX = "mlsec-lint.io/"


def _ids(rules: Sequence[Rule]) -> frozenset[str]:
    return frozenset(r.id for r in rules)


def _relative_to(abspath: str, root: str) -> str | None:
    rel = os.path.relpath(abspath, root)
    if rel == os.curdir or rel.startswith(os.pardir):
        return None
    return rel.replace(os.sep, "/")


def _finish(f: Finding, scan_: Scan) -> None:
    """The line-independent fingerprint."""
    src = scan_.sources.get(f.path)
    text = (
        span_text(src.lines, f.span.line, f.span.col, f.span.end_line, f.span.end_col)
        if src is not None
        else f.source_line
    )
    path = scan_.relpath(f.path) or f.path
    f.fingerprint = finding_fingerprint(f.rule_id, path, f.key, text)


def _scan_roots(paths: Sequence[str], base: str) -> set[str]:
    """Real paths of the scanned directories (a file's own directory)."""
    roots = set()
    for directory in {os.path.dirname(os.path.join(base, raw)) for raw in paths} | {
        os.path.join(base, raw) for raw in paths if os.path.isdir(os.path.join(base, raw))
    }:
        roots.add(os.path.realpath(directory))
    return roots


def _inside(path: str, roots: set[str]) -> bool:
    parent = os.path.dirname(path)
    while True:
        if parent in roots:
            return True
        up = os.path.dirname(parent)
        if up == parent:
            return False
        parent = up


def _included(
    analyses: Sequence[FileAnalysis],
    sources: Mapping[str, Source],
    known: set[str],
    roots: set[str],
    base: str,
) -> list[Target]:
    """Files that scanned requirements files include (``-r``/``-c``) and that discovery
    did not pick because of their name: they are installed just the same. Only files
    inside the scanned ``roots`` are read; ``known`` (real paths) is updated."""
    from mlsec_lint.discovery import display_path

    out: list[Target] = []
    for fa in analyses:
        src = sources.get(fa.path)
        if src is None or not src.abspath:
            continue
        for fact in fa.facts:
            if fact.kind not in _NAMING:
                continue
            for path in _named_requirements(fact):
                if not path or "$" in path or "://" in path:
                    continue
                abspath = os.path.normpath(os.path.join(os.path.dirname(src.abspath), path))
                real = os.path.realpath(abspath)
                if (
                    real in known
                    or name_kind(abspath) is not None  # discovery's to pick (or not)
                    or not _inside(real, roots)
                    or not os.path.isfile(real)
                ):
                    continue
                known.add(real)
                out.append(Target(abspath, display_path(abspath, base), "requirements", False))
    return out


_NAMING = ("dependency-manifest", "command")


def _named_requirements(fact: Fact) -> list[str]:
    """Requirements files a fact names: a manifest's ``-r``/``-c`` includes, and the
    ``-r``/``-c`` files of an install command (where the build context may hold them)."""
    out: list[str] = []
    if fact.kind == "dependency-manifest":
        for inc in fact.data.get("includes") or []:
            if isinstance(inc, dict) and isinstance(inc.get("path"), str):
                out.append(inc["path"])
    elif fact.kind == "command":
        for key in ("requirement_files", "constraint_files"):
            for ref in fact.data.get(key) or []:
                for cand in (ref.get("candidates") if isinstance(ref, dict) else None) or []:
                    if isinstance(cand, str):
                        out.append(cand)
    return out


def _per_file_ignores(
    findings: list[Finding], entries: Sequence[tuple[str, str, Sequence[str]]], scan_: Scan
) -> tuple[list[Finding], list[Finding]]:
    if not entries:
        return findings, []
    import pathspec

    specs = [
        (directory, pattern, pathspec.GitIgnoreSpec.from_lines([pattern]), selectors)
        for directory, pattern, selectors in entries
    ]
    kept: list[Finding] = []
    ignored: list[Finding] = []
    for f in findings:
        abspath = scan_.abspath(f.path)
        hit = next(
            (
                pattern
                for directory, pattern, spec, selectors in specs
                if (rel := _relative_to(abspath, directory)) is not None
                and spec.match_file(rel)
                and any(
                    s.upper() == "ALL" or f.rule_id.startswith(s.upper()) or s.lower() in _labels(f)
                    for s in selectors
                )
            ),
            None,
        )
        if hit is None:
            kept.append(f)
        else:
            f.suppression = Suppression("config", f"per-file-ignores '{hit}'")
            ignored.append(f)
    return kept, ignored


def _labels(f: Finding) -> tuple[str, ...]:
    return (f.rule_name, f.category, f.severity.label)


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
