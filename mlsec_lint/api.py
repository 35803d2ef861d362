"""The scan pipeline as a function: options in, :class:`ScanResult` out.

discover -> read -> analyse (parse + facts) -> resolve across files -> evaluate rules
-> suppress (configuration, comments, annotations) -> baseline -> sort. The CLI, the
fixture harness and the tests all call :func:`scan`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from mlsec_lint import GC_THRESHOLD
from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import (
    RealPaths,
    Target,
    discover,
    find_repo_root,
    name_kind,
    scanned_roots,
)
from mlsec_lint.engine.evaluate import Evaluator
from mlsec_lint.engine.rules import Rule, load_ruleset, matches_selector
from mlsec_lint.errors import MlsecLintError
from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.image_builders import requirements_installs
from mlsec_lint.fingerprints import finding_fingerprint, span_text
from mlsec_lint.model import Finding, Notice, ScanResult, Severity, Suppression
from mlsec_lint.records import Struct, field
from mlsec_lint.records import replace as replace_fields
from mlsec_lint.resolve import VersionIndex, attach_versions, resolve_all
from mlsec_lint.source import Source, read_source, source_from_bytes

if TYPE_CHECKING:
    from mlsec_lint.baseline import Baseline
    from mlsec_lint.helm.charts import HelmState
    from mlsec_lint.kustomize import KustomizeState


class ScanOptions(Struct):
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
    min_severity: str | None = None
    """Report only findings of this severity or higher (their own, contextual severity)."""
    jobs: int = 0
    """Worker processes for per-file analysis: 0 picks by the number of files and CPUs."""
    progress: Callable[[str, int, int], None] | None = None
    """Called with (phase, done, total) as the scan advances (a terminal progress bar)."""
    lean: bool = False
    """Keep only what reports need: a Python file's text only when it has findings or a
    suppression comment (the command line's setting, for bounded memory on large
    repositories). By default :class:`Scan` keeps every source."""
    overlay: Mapping[str, str] = field(default_factory=dict)
    """Text to scan instead of a file's content (absolute path -> text): ``--diff`` scans
    its fixed files again without writing them."""
    helm_values: Sequence[str] = ()
    """Values files every Helm chart of the scan is also rendered with (in order)."""
    helm_chart_values: Sequence[tuple[str, Sequence[str]]] = ()
    """(chart directory, values files) pairs: values for one chart (configuration)."""
    helm_renderer: str = "auto"
    """``auto`` (helm-python-sdk, else a helm binary), ``sdk``, ``binary`` or ``off``."""
    kustomize_build: bool = True
    """Build kustomize overlays with ``kustomize``/``kubectl`` when one is on ``PATH``."""


class Scan(Struct):
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
    unmasked: dict[str, Source] = field(default_factory=dict)
    """Sources as read, for the files whose copy in :attr:`sources` has credentials masked
    (reports show only masked text; fixes edit the text as read)."""

    def original(self, path: str) -> Source | None:
        """The source of ``path`` as read (never masked): what fixes edit."""
        return self.unmasked.get(path) or self.sources.get(path)

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


SEVERITY_WORDS = frozenset(s.label for s in Severity)


def is_severity_selector(selector: str) -> bool:
    """A severity (``critical`` … ``info``) in --select/--ignore selects findings by their
    own, contextual severity, not rules by their default one."""
    return selector.strip().lower() in SEVERITY_WORDS


def select_rules(
    rules: Sequence[Rule],
    select: Sequence[str],
    ignore: Sequence[str],
    extend: Sequence[str] = (),
    origin: str = "--select/--ignore",
) -> list[Rule]:
    """The rules to run. Severities among the selectors are left to
    :func:`finding_severity_filter`: they do not choose rules."""
    select, ignore, extend = (
        [s for s in sels if not is_severity_selector(s)] for sels in (select, ignore, extend)
    )
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


def finding_severity_filter(
    select: Sequence[str], ignore: Sequence[str], extend: Sequence[str], minimum: str | None
) -> Callable[[Finding], bool] | None:
    """Which findings to report by their own severity: the severities named in --select
    (and --extend-select), minus those in --ignore, at or above --min-severity. None when
    nothing filters by severity."""
    wanted = {Severity.parse(s) for s in [*select, *extend] if is_severity_selector(s)}
    unwanted = {Severity.parse(s) for s in ignore if is_severity_selector(s)}
    floor = Severity.parse(minimum) if minimum else None
    if not wanted and not unwanted and floor is None:
        return None

    def keep(f: Finding) -> bool:
        return (
            (not wanted or f.severity in wanted)
            and f.severity not in unwanted
            and (floor is None or f.severity >= floor)
        )

    return keep


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
        replace_fields(
            r,
            severity=wanted[r.id],
            adjust=tuple(replace_fields(a, severity=wanted[r.id]) for a in r.adjust),
        )
        if r.id in wanted
        else r
        for r in rules
    ]


PARALLEL_MIN_FILES = 200
"""Below this many Python files the process pool costs more than it saves."""


_OVERLAY: dict[str, str] = {}
"""``ScanOptions.overlay`` of the running scan (forked workers inherit it)."""


def _analyze_target(target: Target) -> tuple[Source | None, list[Notice], FileAnalysis | None, str]:
    """Read and analyse one file (runs in a worker process for large scans)."""
    text = _OVERLAY.get(target.abspath)
    if text is not None:
        src, notices = source_from_bytes(text.encode("utf-8"), target.display, target.abspath)
    else:
        src, notices = read_source(target.abspath, target.display)
    if src is None:
        return src, notices, None, target.kind
    fa = analyze(src, target.kind)
    src.release()  # the list of lines the parsers used; findings read lines one by one
    return src, notices, fa, target.kind


def _workers(jobs: int, files: int, pays: bool = True) -> int:
    """Worker processes for ``files`` files: ``jobs`` when given; by default one (no
    pool) unless the pool ``pays`` (results are small), there are enough files and
    there are idle CPUs to run the workers on."""
    if jobs > 0:
        return jobs
    if not pays or files < PARALLEL_MIN_FILES or resident_mb() > SERIAL_ABOVE_MB:
        return 1
    return idle_cpus()


SERIAL_ABOVE_MB = 150.0
"""A parent process this large (the non-Python files of a monorepo, just evaluated) runs
the Python files itself by default: forked workers would each copy a good part of its
heap, and peak memory would grow with every worker (``--jobs`` still forces a pool)."""


def resident_mb() -> float:
    """This process's resident memory (0 where ``/proc`` is not available)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def idle_cpus() -> int:
    """CPUs this process may use that the load average leaves idle (1 to 8)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(1, min(8, cpus - int(load)))


PythonResult = tuple[Source | None, list[Notice], FileAnalysis | None, list[Finding]]
_PYTHON_STATE: dict[str, tuple[Evaluator, VersionIndex, bool]] = {}
"""What a forked worker inherits: the evaluator (compiled rules) and the version index."""


def _scan_python_file(target: Target) -> PythonResult:
    """Analyse one Python file and evaluate its facts. Only the source, notices and
    findings cross back to the parent: the facts stay in the worker."""
    evaluator, index, lean = _PYTHON_STATE["current"]
    src, notices, fa, _ = _analyze_target(target)
    if src is None or fa is None:
        return src, notices, fa, []
    attach_versions(fa.facts, index)
    source = src
    findings = evaluator.run(fa.facts, lambda _path, line: source.line(line))
    fa.facts = []
    if lean and not findings and MARKER not in src.text:
        return Source(src.path, "", src.encoding, src.abspath), notices, fa, []  # never quoted
    return src, notices, fa, findings


def _scan_python(
    targets: Sequence[Target],
    evaluator: Evaluator,
    index: VersionIndex,
    jobs: int,
    lean: bool = False,
) -> Iterator[PythonResult]:
    """Python files are analysed and evaluated in one step (in workers that inherit the
    compiled rules), so only their findings travel back."""
    _PYTHON_STATE["current"] = (evaluator, index, lean)
    try:
        yield from _ordered_map(_scan_python_file, targets, jobs)
    finally:
        _PYTHON_STATE.clear()


_T = TypeVar("_T")
_R = TypeVar("_R")


def _ordered_map(
    fn: Callable[[_T], _R], items: Sequence[_T], jobs: int, pays: bool = True
) -> Iterator[_R]:
    """``map(fn, items)``, in forked worker processes when there are many items (see
    :func:`_workers`).

    Results come back in the order of ``items`` whatever the number of workers, so a
    parallel scan reports exactly what a serial one does. Where fork is unavailable the
    scan stays serial.
    """
    workers = _workers(jobs, len(items), pays)
    if workers <= 1 or len(items) < 2:
        yield from map(fn, items)
        return
    import multiprocessing  # only for a parallel scan (~4 ms to import)

    if "fork" not in multiprocessing.get_all_start_methods():
        yield from map(fn, items)
        return
    import gc
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, min(32, len(items) // (workers * 8)))
    context = multiprocessing.get_context("fork")
    # the workers inherit the parent's objects; kept out of their garbage collections,
    # those pages stay shared instead of being copied into every worker
    thawed = gc.get_freeze_count() == 0  # else frozen until the scan ends (see scan)
    gc.freeze()
    _release_free_memory()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield from pool.map(fn, items, chunksize=chunk)
    finally:
        if thawed:
            gc.unfreeze()


def _release_free_memory() -> None:
    """Give the C heap's free pages back to the system before forking (what the parent
    freed, such as the facts of a lean scan, would otherwise be copied into each worker
    as it allocates there). A no-op where the C library has no ``malloc_trim``."""
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return
    if trim is not None:
        trim(0)


def scan(options: ScanOptions) -> Scan:
    import gc

    # Analysis allocates many objects and frees them by reference counting (a file's
    # analysis leaves no cycles; a test checks it for Python): collecting young objects
    # less often saves a tenth of a Python scan, and keeping the facts of files already
    # read out of the collections (frozen as each file is taken, see ``_scan``) saves
    # the older generations' passes over everything read so far. What the scan froze is
    # given back at its end, unless the caller had frozen objects: those it leaves as
    # they are (and the scan then freezes nothing).
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    thawed = gc.get_freeze_count() == 0
    if options.overlay:
        _OVERLAY.update(options.overlay)
    try:
        return _scan(options, freeze=thawed)
    finally:
        _OVERLAY.clear()
        gc.set_threshold(*threshold)
        if thawed:
            gc.unfreeze()


def _scan(options: ScanOptions, freeze: bool) -> Scan:
    """``freeze``: keep each file's analysis out of the collector (see :func:`scan`)."""
    import gc

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
            source.release()
        sources[source.path] = source
        kinds[source.path] = kind
        analyses.append(fa)
        result.notices.extend(fa.notices)
        result.files_scanned += 1
        result.files_by_kind[fa.kind] = result.files_by_kind.get(fa.kind, 0) + 1
        if freeze:
            gc.freeze()  # kept to the end of the scan: out of the collector's passes

    paths = list(options.paths)
    _check_paths_exist(paths, options.base)
    if options.stdin is not None:
        name = options.stdin_filename or "<stdin>"
        kind = _stdin_kind(options.stdin, options.stdin_filename)
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
    # the facts of these files must come back for the cross-file passes: unpickling them
    # costs the parent about what the workers save, so by default they are read here
    for src, read_notices, fa, kind in _ordered_map(
        _analyze_target, others, options.jobs, pays=False
    ):
        take(src, read_notices, kind, fa)
        done += 1
        if options.progress is not None:
            options.progress("analysing", done, total)
    # requirements files included with -r/-c count whatever their name
    if any(_named_requirements(f) for fa in analyses for f in fa.facts if f.kind in _NAMING):
        real = RealPaths()
        read = _RealPathSet([t.abspath for t in targets], real)
        here = os.path.abspath(options.base or os.getcwd())
        roots = set(scanned_roots(paths, here, real))
        pending = _included(analyses, sources, read, roots, here, real)
        while pending:
            batch: list[FileAnalysis] = []
            for target in pending:
                src, read_notices, fa, kind = _analyze_target(target)
                take(src, read_notices, kind, fa)
                if fa is not None:
                    batch.append(fa)
            pending = _included(batch, sources, read, roots, here, real)

    helm_state = _render_charts(targets, options, sources, analyses, result) if targets else None
    kustomized = _build_overlays(targets, options, sources, analyses, result) if targets else None
    if options.progress is not None:
        options.progress("resolving", done, total)
    facts: list[Fact] = [f for fa in analyses for f in fa.facts]
    index: list[VersionIndex] = []
    # requirements files that BentoML service code installs (resolved, not evaluated here)
    bento = requirements_installs(python, _analyze_target, facts)
    facts.extend(resolve_all([*facts, *bento] if bento else facts, index))

    def line_of(path: str, line: int) -> str:
        src = sources.get(path)
        if src is None and helm_state is not None:
            return helm_state.line(path, line) or ""
        if src is None and kustomized is not None:
            return kustomized.line(path, line) or ""
        return src.line(line) if src else ""

    evaluator = Evaluator(rules)
    # the user's Semgrep rules read the Python sources and analyses afterwards
    lean = options.lean and not (
        options.semgrep_configs or any(r.target == "semgrep-match" for r in rules)
    )
    # every cross-file pass has run: the other files' findings first, then (lean) only
    # what suppressions read is kept of their facts, before the Python files are read
    strings: dict[str, str] = {}
    raw: list[Finding] = _shared_strings(evaluator.run(facts, line_of), strings)
    if lean:
        facts = _for_suppressions(facts)
        for fa in analyses:
            fa.facts = []
    for src, read_notices, fa, found in _scan_python(
        python, evaluator, index[0], options.jobs, lean
    ):
        take(src, read_notices, "python", fa)
        raw.extend(_shared_strings(found, strings))
        done += 1
        if options.progress is not None:
            options.progress("analysing", done, total)
    if options.progress is not None:
        options.progress("evaluating", done, total)
    if options.semgrep_configs or any(r.target == "semgrep-match" for r in rules):
        from mlsec_lint import semgrep

        raw.extend(
            semgrep.findings(
                options.semgrep_configs,
                options.ignore,
                rules,
                sources,
                analyses,
                result.notices,
                line_of,
            )
        )

    def rendered_back(found: list[Finding]) -> list[Finding]:
        """Findings on rendered Helm charts and kustomize builds moved to the values,
        template, base or patch lines behind them."""
        if helm_state is not None:
            from mlsec_lint.helm.charts import remap

            found = remap(found, helm_state, sources)
        if kustomized is not None:
            from mlsec_lint import kustomize

            kustomize.remap(found, kustomized, sources)
        return found

    raw = rendered_back(raw)
    for rendered in (helm_state, kustomized):
        if rendered is not None:
            for path, src in rendered.sources.items():
                sources.setdefault(path, src)
                kinds.setdefault(path, "yaml")
    if any(fa.kind == "helm-values" for fa in analyses):
        from mlsec_lint.facts.helm_values import drop_absence_findings

        raw = drop_absence_findings(raw, analyses)
    findings = _dedupe(raw)
    if "notebook" in result.files_by_kind:
        from mlsec_lint.facts import notebook

        notebook.name_cells(findings, {fa.path: fa.extra.get("cells", []) for fa in analyses})

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
        sup_found = rendered_back(evaluator.run(sup_facts, line_of))
        more, ignored = _per_file_ignores(_dedupe(sup_found), options.per_file_ignores, scan_)
        findings += more
        suppressed += inline + ignored
    from mlsec_lint.dedupe import merge as merge_causes

    findings = merge_causes(findings)
    # a baseline matches fingerprints; otherwise only the reported findings need one
    # (a budget may cut most of a huge scan's findings)
    finish_now = options.baseline is not None
    for f in [*findings, *suppressed] if finish_now else ():
        _finish(f, scan_)
    findings.sort(key=Finding.sort_key)
    if options.baseline is not None:
        findings, known = options.baseline.apply(findings)
        suppressed += known
        scan_.baseline_used = True
    keep = finding_severity_filter(
        options.select, options.ignore, options.extend_select, options.min_severity
    )
    if keep is not None:
        findings = [f for f in findings if keep(f)]
        suppressed = [f for f in suppressed if keep(f)]
    from mlsec_lint import budget

    findings, cut = budget.apply(findings)
    result.notices.extend(cut)
    for f in [*findings, *suppressed] if not finish_now else ():
        _finish(f, scan_)  # before redaction: fingerprints read the unmasked sources
    result.findings = findings
    result.suppressed = sorted(suppressed, key=Finding.sort_key)
    if findings or suppressed:
        from mlsec_lint.redact import redact_scan

        before = dict(scan_.sources)
        redact_scan(scan_.sources, [*findings, *suppressed])
        scan_.unmasked = {p: s for p, s in before.items() if scan_.sources.get(p) is not s}
    if result.notices:
        from mlsec_lint.redact import redact_notices

        result.notices = redact_notices(result.notices)
    result.notices = sorted(set(result.notices), key=Notice.sort_key)
    return scan_


def _check_paths_exist(paths: Sequence[str], base: str | None) -> None:
    """A path that does not exist is a usage error, never an empty (clean-looking) scan."""
    here = os.path.abspath(base or os.getcwd())
    missing = [p for p in paths if p != "-" and not os.path.lexists(os.path.join(here, p))]
    if missing:
        shown = ", ".join(repr(p) for p in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise MlsecLintError(f"no such file or directory: {shown}")


def _stdin_kind(data: bytes, filename: str | None) -> str:
    """The kind of standard input: by --stdin-filename, else by content, else refused."""
    from mlsec_lint.contentkind import classify

    kind = (name_kind(filename) if filename else None) or classify(data)
    if kind is None:
        named = f"'{filename}' names no file kind mlsec-lint reads and the" if filename else "the"
        raise MlsecLintError(
            f"cannot tell what standard input is: {named} content is not recognisably a "
            "Dockerfile, YAML, JSON, Python, requirements, shell, .env, properties or TOML "
            "file; name it with --stdin-filename (e.g. Dockerfile, deploy.yaml)"
        )
    return kind


def _render_charts(
    targets: Sequence[Target],
    options: ScanOptions,
    sources: dict[str, Source],
    analyses: list[FileAnalysis],
    result: ScanResult,
) -> HelmState | None:
    """Render the Helm charts among the targets, and those of named templates and values
    files (nothing to do without a ``Chart.yaml``)."""
    inside = f"{os.sep}templates{os.sep}"  # templates scanned without their Chart.yaml
    named = [t.abspath for t in targets if t.kind == "yaml" and (t.explicit or inside in t.abspath)]
    if not named and not any(os.path.basename(t.abspath) == "Chart.yaml" for t in targets):
        return None
    from mlsec_lint.helm import charts

    chart_files = [t.abspath for t in targets if os.path.basename(t.abspath) == "Chart.yaml"]
    chart_files += [os.path.join(c, "Chart.yaml") for c in charts.charts_of_files(named)]
    if not chart_files:
        return None
    chart_dirs = charts.find_charts(chart_files)
    base = os.path.abspath(options.base or os.getcwd())
    common = [os.path.normpath(os.path.join(base, p)) for p in options.helm_values]

    def values_for(chart: str) -> list[str]:
        own = [
            os.path.normpath(os.path.join(base, p))
            for directory, files in options.helm_chart_values
            if os.path.normpath(os.path.join(base, directory)) == chart
            for p in files
        ]
        return [*common, *own]

    state, rendered = charts.process(
        chart_dirs,
        base=base,
        sources=sources,
        values_for=values_for,
        renderer_choice=options.helm_renderer,
    )
    before = {id(fa): fa.kind for fa in analyses}
    analyses.extend(rendered)
    charts.drop_chart_files(analyses, state, base)
    for fa in analyses:  # templates rendered: counted as such
        old = before.get(id(fa))
        if old is not None and old != fa.kind:
            result.files_by_kind[old] -= 1
            result.files_by_kind[fa.kind] = result.files_by_kind.get(fa.kind, 0) + 1
    result.files_by_kind = {k: n for k, n in result.files_by_kind.items() if n}
    result.notices = [
        n
        for n in result.notices
        if n.code not in ("helm-template", "template")  # the chart's notice covers them
        or not any(
            os.path.normpath(os.path.join(base, n.path)).startswith(c + os.sep)
            for c in state.handled
        )
    ]
    result.notices.extend(state.notices)
    return state


def _build_overlays(
    targets: Sequence[Target],
    options: ScanOptions,
    sources: dict[str, Source],
    analyses: list[FileAnalysis],
    result: ScanResult,
) -> KustomizeState | None:
    """Build the kustomize overlays among the targets (nothing to do without one)."""
    names = ("kustomization.yaml", "kustomization.yml", "Kustomization")
    if not options.kustomize_build or not any(
        os.path.basename(t.abspath) in names for t in targets
    ):
        return None
    from mlsec_lint import kustomize

    overlays = kustomize.find_overlays([t.abspath for t in targets])
    base = os.path.abspath(options.base or os.getcwd())
    state, built = kustomize.build(overlays, base, sources)
    analyses.extend(built)
    kustomize.drop_files(analyses, state)
    result.notices.extend(state.notices)
    return state if state.maps else None


def _shared_strings(findings: list[Finding], strings: dict[str, str]) -> list[Finding]:
    """Findings hold their own copy of every string (messages are rendered, and findings
    from workers are unpickled; many findings share a message or a line): one copy each
    is kept."""
    for f in findings:
        f.rule_name = strings.setdefault(f.rule_name, f.rule_name)
        f.title = strings.setdefault(f.title, f.title)
        f.category = strings.setdefault(f.category, f.category)
        f.path = strings.setdefault(f.path, f.path)
        f.message = strings.setdefault(f.message, f.message)
        f.source_line = strings.setdefault(f.source_line, f.source_line)
        f.key = strings.setdefault(f.key, f.key)
    return findings


def _for_suppressions(facts: Sequence[Fact]) -> list[Fact]:
    """What suppressions read of the facts (Kubernetes objects, annotations): the facts
    carrying them, without their trees."""
    from mlsec_lint.tree import PDict

    return [
        Fact(f.kind, f.path, PDict(f.data.span), f.anchor, f.key, f.annotations)
        for f in facts
        if f.kind == "k8s-object" or f.annotations is not None
    ]


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
        span_text(src.line, f.span.line, f.span.col, f.span.end_line, f.span.end_col)
        if src is not None
        else f.source_line
    )
    path = scan_.relpath(f.path) or f.path
    f.fingerprint = finding_fingerprint(f.rule_id, path, f.key, text)


class _RealPathSet:
    """The real paths of some files, resolved when first asked about: most files that
    requirements files include are named like requirements files, and need none."""

    __slots__ = ("_paths", "_real", "_resolved")

    def __init__(self, paths: Sequence[str], real: Callable[[str], str]) -> None:
        self._paths = paths
        self._real = real
        self._resolved: set[str] | None = None

    def _set(self) -> set[str]:
        if self._resolved is None:
            self._resolved = {self._real(p) for p in self._paths}
        return self._resolved

    def __contains__(self, path: str) -> bool:
        return path in self._set()

    def add(self, path: str) -> None:
        self._set().add(path)


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
    known: set[str] | _RealPathSet,
    roots: set[str],
    base: str,
    real: Callable[[str], str] = os.path.realpath,
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
                if name_kind(abspath) is not None:  # discovery's to pick (or not)
                    continue
                resolved = real(abspath)
                if (
                    resolved in known
                    or not _inside(resolved, roots)
                    or not os.path.isfile(resolved)
                ):
                    continue
                known.add(resolved)
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
