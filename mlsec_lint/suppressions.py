"""Inline suppressions: comments and Kubernetes annotations that silence findings.

Comment form, in every kind of file that can hold comments::

    image: vllm/vllm-openai:latest  # mlsec-lint: ignore[MLS-IMG-001] -- digest pinned by CD
    # mlsec-lint: ignore[MLS-DEP-001, MLS-DEP-004] -- vendored wheel, see ADR-12
    torch
    # mlsec-lint: file-ignore[MLS-PY-002] -- test fixtures load their own checkpoints

A trailing comment covers its own line; a comment alone on a line covers the next line
of code (blank and comment lines are skipped; in a Dockerfile the whole instruction that
starts there, in Python the whole statement); ``file-ignore`` covers the file. Only real
comments count: a ``#`` inside a YAML, TOML, shell or Python string, a Dockerfile heredoc
body or a properties value is text, not a comment.

Kubernetes objects are suppressed with an annotation on the object, because comments do
not survive Helm or kustomize rendering::

    metadata:
      annotations:
        mlsec-lint.io/ignore.MLS-K8S-001: "TLS terminates at the cloud load balancer"

The annotation covers every finding reported for the object or anything inside it.

A reason is required (after ``--`` in comments, the annotation's value). Suppressions
that name no rule, an unknown rule, give no reason, or match nothing become
``suppression`` facts that the ``MLS-SUP-*`` rules report.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from mlsec_lint.facts import Fact, FileAnalysis, record
from mlsec_lint.model import Finding, Span, Suppression
from mlsec_lint.records import Struct, field
from mlsec_lint.source import Source
from mlsec_lint.tree import PDict

MARKER = "mlsec-lint"
ANNOTATION_PREFIX = "mlsec-lint.io/"
ANNOTATION_IGNORE = "mlsec-lint.io/ignore."
SUPPRESSION_AREA = "MLS-SUP-"

_DIRECTIVE = re.compile(r"(?<!#)#+\s*mlsec-lint\s*:(?P<body>.*)$")
_BODY = re.compile(r"^\s*(?P<verb>[A-Za-z][A-Za-z-]*)?\s*(?P<ids>\[[^\]]*\]?)?\s*(?P<rest>.*)$")
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_VERBS = ("ignore", "file-ignore")

COMMENT_KINDS = frozenset(
    {
        "dockerfile",
        "yaml",
        "python",
        "requirements",
        "properties",
        "shell",
        "dotenv",
        "toml",
        "pyproject",
        "pipfile",
        "setup-cfg",
        "notebook",
    }
)
"""File kinds (as classified by name) whose comments can hold suppressions."""


class Comment(Struct, frozen=True):
    line: int
    col: int  # 1-based column of the '#'
    text: str  # from the '#' to the end of the comment
    trailing: bool  # code precedes it on the same line


class Directive(Struct):
    """One suppression comment or annotation."""

    path: str
    form: str  # "comment" | "annotation"
    scope: str  # "line" | "next-line" | "file" | "object"
    span: Span  # the comment or the annotation entry
    text: str
    ids: list[tuple[str, Span]] = field(default_factory=list)
    reason: str = ""
    problem: str = ""
    """Why the directive is malformed (empty when it is well-formed)."""
    first: int = 0
    last: int = 0
    """Lines covered (``scope`` line and next-line); 0 when nothing follows the comment."""
    obj: Any = None
    """The annotations mapping that identifies the object (``scope`` object)."""
    used: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problem and bool(self.reason)


# ---------------------------------------------------------------- comment scanners


def comments(text: str, kind: str) -> list[Comment]:
    """The real comments of a file of ``kind`` (strings, heredocs and values excluded)."""
    if kind not in COMMENT_KINDS:
        return []
    return _SCANNERS.get(kind, _hash_comments)(text)


def _own_line_comments(text: str, skip: set[int] | None = None) -> list[Comment]:
    out = []
    for i, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip()
        if stripped.startswith("#") and (skip is None or i not in skip):
            out.append(Comment(i, len(line) - len(stripped) + 1, stripped, False))
    return out


def _hash_comments(text: str) -> list[Comment]:
    """pip's rule for requirements files: '#' at the start or after whitespace."""
    out = []
    for i, line in enumerate(text.split("\n"), start=1):
        m = re.search(r"(^|\s)#", line)
        if m:
            col = m.end()
            out.append(Comment(i, col, line[col - 1 :], bool(line[: col - 1].strip())))
    return out


def _dockerfile_comments(text: str) -> list[Comment]:
    """Comment lines only; heredoc bodies are not comments."""
    from mlsec_lint.parsers.dockerfile import parse

    body: set[int] = set()
    for inst in parse(text).instructions:
        for h in inst.heredocs:
            body.update(range(h.line, h.line + h.body.count("\n") + 2))
    return _own_line_comments(text, body)


def _properties_comments(text: str) -> list[Comment]:
    return _own_line_comments(text)


def _shell_comments(text: str) -> list[Comment]:
    """'#' starting a word outside quotes and heredoc bodies (shell scripts, .env files)."""
    out: list[Comment] = []
    lines = text.split("\n")
    quote: str | None = None
    heredocs: list[tuple[str, bool]] = []
    for i, line in enumerate(lines, start=1):
        if heredocs and quote is None:
            delim, strip_tabs = heredocs[0]
            if (line.lstrip("\t") if strip_tabs else line) == delim:
                heredocs.pop(0)
            continue
        j, n = 0, len(line)
        pending: list[tuple[str, bool]] = []
        while j < n:
            c = line[j]
            if quote is not None:
                if c == "\\" and quote == '"':
                    j += 2
                    continue
                if c == quote:
                    quote = None
                j += 1
                continue
            if c == "\\":
                j += 2
                continue
            if c in "'\"":
                quote = c
                j += 1
                continue
            if c == "#" and (j == 0 or line[j - 1] in " \t;&|()"):
                out.append(Comment(i, j + 1, line[j:], bool(line[:j].strip())))
                break
            if line.startswith("<<", j) and not line.startswith("<<<", j):
                m = re.match(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\2", line[j:])
                if m:
                    pending.append((m.group(3), m.group(1) == "-"))
                    j += m.end()
                    continue
            j += 1
        heredocs.extend(pending)
    return out


def _toml_comments(text: str) -> list[Comment]:
    """'#' outside basic, literal and multi-line strings."""
    out: list[Comment] = []
    lines = text.split("\n")
    state = ""  # "", '"', "'", '"""', "'''"
    for i, line in enumerate(lines, start=1):
        j, n = 0, len(line)
        if state in ('"', "'"):
            state = ""  # single-line strings end at the end of the line
        while j < n:
            if state in ('"""', "'''"):
                if state == '"""' and line[j] == "\\":
                    j += 2
                    continue
                if line.startswith(state, j):
                    j += 3
                    while j < n and line[j] == state[0]:
                        j += 1  # up to two quotes may end the string's content
                    state = ""
                    continue
                j += 1
                continue
            if state:
                if state == '"' and line[j] == "\\":
                    j += 2
                    continue
                if line[j] == state:
                    state = ""
                j += 1
                continue
            c = line[j]
            if line.startswith('"""', j) or line.startswith("'''", j):
                state = line[j : j + 3]
                j += 3
                continue
            if c in "\"'":
                state = c
                j += 1
                continue
            if c == "#":
                out.append(Comment(i, j + 1, line[j:], bool(line[:j].strip())))
                break
            j += 1
    return out


def _yaml_comments(text: str) -> list[Comment]:
    """'#' at the start of a line or after whitespace, outside every scalar."""
    import yaml

    loader_cls: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    candidates: dict[int, list[int]] = {}
    lines = text.split("\n")
    for i, line in enumerate(lines):
        for m in re.finditer(r"(?:^|(?<=[ \t]))#", line):
            candidates.setdefault(i, []).append(m.start())
    if not candidates:
        return []
    covered: dict[int, list[tuple[int, float]]] = {}
    loader = loader_cls(text)
    try:
        while loader.check_token():
            tok = loader.get_token()
            if type(tok).__name__ != "ScalarToken":
                continue
            s, e = tok.start_mark, tok.end_mark
            for ln in range(s.line, e.line + 1):
                if ln in candidates:
                    lo = s.column if ln == s.line else 0
                    hi: float = e.column if ln == e.line else float("inf")
                    covered.setdefault(ln, []).append((lo, hi))
    except yaml.YAMLError:
        return []
    finally:
        loader.dispose()
    out = []
    for ln, cols in sorted(candidates.items()):
        for col in cols:
            if not any(lo <= col < hi for lo, hi in covered.get(ln, ())):
                line = lines[ln]
                out.append(Comment(ln + 1, col + 1, line[col:], bool(line[:col].strip())))
                break
    return out


def _python_comments(text: str) -> list[Comment]:
    return _python_tokens(text)[0]


def _python_tokens(text: str) -> tuple[list[Comment], list[tuple[int, int]]]:
    """Comments (from ``tokenize``, never inside strings) and logical line ranges."""
    import tokenize

    out: list[Comment] = []
    logical: list[tuple[int, int]] = []
    lines = text.split("\n")
    start: int | None = None
    skip = (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                ln, col = tok.start
                prefix = lines[ln - 1][:col] if ln - 1 < len(lines) else ""
                out.append(Comment(ln, col + 1, tok.string, bool(prefix.strip())))
            elif tok.type == tokenize.NEWLINE:
                if start is not None:
                    logical.append((start, tok.start[0]))
                start = None
            elif tok.type not in skip and start is None:
                start = tok.start[0]
    except (tokenize.TokenError, SyntaxError):
        pass
    return out, logical


def _notebook_comments(text: str) -> list[Comment]:
    """Comments in the code cells of a Jupyter notebook, at their line of the file."""
    from mlsec_lint.facts import notebook

    return [Comment(*c) for c in notebook.comments(text)]


_SCANNERS = {
    "dockerfile": _dockerfile_comments,
    "yaml": _yaml_comments,
    "python": _python_comments,
    "requirements": _hash_comments,
    "properties": _properties_comments,
    "setup-cfg": _properties_comments,
    "shell": _shell_comments,
    "dotenv": _shell_comments,
    "toml": _toml_comments,
    "pyproject": _toml_comments,
    "pipfile": _toml_comments,
    "notebook": _notebook_comments,
}


# ---------------------------------------------------------------- directives


def parse_comment(comment: Comment, path: str) -> Directive | None:
    """The directive in a comment, or None when the comment holds none."""
    m = _DIRECTIVE.search(comment.text)
    if m is None:
        return None
    body = m.group("body")
    body_col = comment.col + m.start("body")  # column of body[0]
    span = Span(comment.line, comment.col, comment.line, comment.col + len(comment.text.rstrip()))
    d = Directive(path, "comment", "line", span, comment.text.strip())
    b = _BODY.match(body)
    verb = (b.group("verb") or "").lower() if b else ""
    ids_text = b.group("ids") if b else None
    rest = (b.group("rest") or "").strip() if b else body.strip()
    if verb not in _VERBS:
        d.problem = (
            f"unknown directive '{verb}'; use 'ignore[RULE-ID]' or 'file-ignore[RULE-ID]'"
            if verb
            else "expected 'ignore[RULE-ID] -- reason' after 'mlsec-lint:'"
        )
        return d
    d.scope = "file" if verb == "file-ignore" else ("line" if comment.trailing else "next-line")
    if not ids_text or not ids_text.endswith("]") or not ids_text[1:-1].strip():
        d.problem = (
            f"'{verb}' needs the rule ids in brackets; blanket suppressions are not supported"
        )
        return d
    assert b is not None
    ids_col = body_col + b.start("ids") + 1
    for part in re.finditer(r"[^,\s]+", ids_text[1:-1]):
        rid = part.group(0)
        col = ids_col + part.start()
        d.ids.append((rid.upper(), Span(comment.line, col, comment.line, col + len(rid))))
    for rid, _ in d.ids:
        if not _RULE_ID.match(rid):
            d.problem = f"'{rid}' is not a rule id (ids look like MLS-PY-002)"
            return d
        if rid.startswith(SUPPRESSION_AREA):
            d.problem = (
                f"'{rid}' cannot be suppressed inline; deselect it with 'ignore' in the "
                "configuration instead"
            )
            return d
    if rest and not rest.startswith("--"):
        d.problem = "the reason must follow ' -- ', e.g. 'ignore[MLS-IMG-001] -- pinned by CD'"
        return d
    d.reason = rest[2:].strip()
    return d


def comment_directives(text: str, kind: str, path: str) -> list[Directive]:
    """Every suppression directive written as a comment in one file, with its target.

    Cheap for the common case: a file that does not mention the marker is not scanned.
    """
    if kind not in COMMENT_KINDS or MARKER not in text:
        return []
    found = comments(text, kind)
    directives = [d for c in found if (d := parse_comment(c, path)) is not None]
    if not any(d.scope == "next-line" for d in directives):
        for d in directives:
            d.first = d.last = d.span.line
        return directives
    comment_lines = {c.line for c in found if not c.trailing}
    lines = text.split("\n")
    extents = _statement_extents(text, kind)
    # YAML document markers are not code: a comment before '---' is about the next object
    skip = ("---", "...") if kind == "yaml" else ()
    for d in directives:
        if d.scope == "line":
            d.first = d.last = d.span.line
        elif d.scope == "next-line":
            target = next(
                (
                    i
                    for i in range(d.span.line + 1, len(lines) + 1)
                    if lines[i - 1].strip()
                    and i not in comment_lines
                    and lines[i - 1].rstrip() not in skip
                ),
                0,
            )
            d.first = target
            d.last = extents.get(target, target) if target else 0
    return directives


def _statement_extents(text: str, kind: str) -> dict[int, int]:
    """First line -> last line of multi-line statements (Dockerfile instructions, Python)."""
    if kind == "python":
        return {a: b for a, b in _python_tokens(text)[1] if b > a}
    if kind == "dockerfile":
        from mlsec_lint.parsers.dockerfile import parse

        return {
            i.span.line: i.span.end_line
            for i in parse(text).instructions
            if i.span.end_line > i.span.line
        }
    return {}


def annotation_directives(objects: Iterable[tuple[str, Any]]) -> list[Directive]:
    """Directives from ``mlsec-lint.io/…`` annotations of (path, annotations) pairs."""
    out: list[Directive] = []
    seen: set[int] = set()
    for path, ann in objects:
        if not isinstance(ann, dict) or id(ann) in seen:
            continue
        seen.add(id(ann))
        for key, value in ann.items():
            if not isinstance(key, str) or not key.startswith(ANNOTATION_PREFIX):
                continue
            kspan = ann.kspan.get(key) if isinstance(ann, PDict) else None
            span = ann.field_span(key) if isinstance(ann, PDict) else Span(1, 1, 1, 2)
            d = Directive(path, "annotation", "object", span, f"{key}: {value}", obj=ann)
            if not key.startswith(ANNOTATION_IGNORE):
                d.problem = f"unknown annotation '{key}'; use '{ANNOTATION_IGNORE}RULE-ID'"
                out.append(d)
                continue
            rid = key[len(ANNOTATION_IGNORE) :].upper()
            base = kspan or span
            col = base.col + len(ANNOTATION_IGNORE)
            d.ids.append((rid, Span(base.line, col, base.line, col + len(rid))))
            if not _RULE_ID.match(rid):
                d.problem = f"'{rid}' is not a rule id (ids look like MLS-K8S-001)"
            elif rid.startswith(SUPPRESSION_AREA):
                d.problem = f"'{rid}' cannot be suppressed with an annotation"
            d.reason = value.strip() if isinstance(value, str) else ""
            out.append(d)
    return out


# ---------------------------------------------------------------- applying


_SPECIFICITY = {"line": 0, "next-line": 0, "object": 1, "file": 2}
"""The most specific directive covering a finding is the one that is used."""


class _Object(Struct, frozen=True):
    span: Span
    annotations: Any


def apply(
    findings: Sequence[Finding],
    directives: Sequence[Directive],
    objects: dict[str, list[_Object]] | None = None,
) -> tuple[list[Finding], list[Finding]]:
    """Split findings into (kept, suppressed); records which directive ids were used.

    Only valid directives (well-formed, with a reason) suppress. ``objects`` are the
    Kubernetes objects per file, used to find the object of a finding whose fact did not
    carry its annotations.
    """
    by_path: dict[str, list[Directive]] = {}
    for d in sorted(directives, key=lambda d: _SPECIFICITY[d.scope]):
        if d.valid:
            by_path.setdefault(d.path, []).append(d)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for f in findings:
        hit = None
        candidates = by_path.get(f.path, [])
        if f.rendered_from:  # a Helm finding: annotations of the rendered object apply
            candidates = [*candidates, *by_path.get(f.rendered_from, ())]
        for d in candidates:
            if not any(rid == f.rule_id for rid, _ in d.ids):
                continue
            if d.scope == "file" or (
                d.scope in ("line", "next-line") and d.first <= f.span.line <= d.last
            ):
                hit = d
            elif d.scope == "object":
                ann = f.annotations
                if ann is None and objects and not f.rendered_from:
                    ann = _enclosing_annotations(objects.get(f.path, ()), f.span)
                if ann is d.obj:
                    hit = d
            if hit is not None:
                break
        if hit is None:
            kept.append(f)
            continue
        hit.used[f.rule_id] = hit.used.get(f.rule_id, 0) + 1
        kind = "annotation" if hit.form == "annotation" else "inline"
        f.suppression = Suppression(kind, hit.reason, hit.span.line, hit.span.col)
        suppressed.append(f)
    return kept, suppressed


def _enclosing_annotations(objects: Iterable[_Object], span: Span) -> Any:
    best: _Object | None = None
    pos = (span.line, span.col)
    for o in objects:
        s = o.span
        if (s.line, s.col) <= pos <= (s.end_line, s.end_col) and (
            best is None or (s.line, s.col) >= (best.span.line, best.span.col)
        ):
            best = o
    return best.annotations if best is not None else None


def k8s_objects(facts: Iterable[Fact]) -> dict[str, list[_Object]]:
    """Kubernetes objects per file (their span and annotations), from ``k8s-object`` facts."""
    out: dict[str, list[_Object]] = {}
    for f in facts:
        if f.kind == "k8s-object":
            out.setdefault(f.path, []).append(_Object(f.anchor, f.annotations))
    return out


def status_facts(directives: Sequence[Directive], known: Set[str], ran: Set[str]) -> list[Fact]:
    """One ``suppression`` fact per problem: malformed, reasonless, unknown or unused ids.

    Ids of rules that did not run in this scan are never reported as unused.
    """
    facts: list[Fact] = []

    def add(d: Directive, status: str, span: Span, rule: str = "", key: str = "") -> None:
        data = record(
            span,
            status=status,
            form=d.form,
            scope=d.scope,
            rule=(rule, span),
            rules=[rid for rid, _ in d.ids],
            reason=d.reason,
            problem=d.problem,
            directive=d.text,
        )
        facts.append(Fact("suppression", d.path, data, span, f"suppression/{status}/{key}"))

    for d in directives:
        if d.problem:
            add(d, "malformed", d.span, key=d.text)
            continue
        for rid, span in d.ids:
            if rid not in known:
                add(d, "unknown-rule", span, rid, rid)
        if not d.reason:
            add(d, "missing-reason", d.span, key=",".join(r for r, _ in d.ids))
            continue
        for rid, span in d.ids:
            if rid in known and rid in ran and not d.used.get(rid):
                add(d, "unused", span, rid, f"{d.scope}/{rid}")
    return facts


def suppress(
    findings: Sequence[Finding],
    sources: Mapping[str, Source],
    kinds: Mapping[str, str],
    analyses: Iterable[FileAnalysis],
    facts: Sequence[Fact],
    known: Set[str],
    ran: Set[str],
) -> tuple[list[Finding], list[Finding], list[Fact]]:
    """Apply every comment and annotation directive of a scan.

    Returns the findings kept, those suppressed, and the ``suppression`` facts for the
    MLS-SUP rules. ``kinds`` are the files' kinds by name (before content
    classification); files that were not analysed (unparseable, templates) have no
    findings to match and are skipped.
    """
    unanalysed = {
        fa.path
        for fa in analyses
        if fa.kind in ("helm-template", "template")
        or any(n.code in ("parse-error", "analysis-error") for n in fa.notices)
    }
    directives = [
        d
        for path, src in sources.items()
        if path not in unanalysed
        for d in comment_directives(src.text, kinds.get(path, ""), path)
    ]
    directives += annotation_directives(
        (f.path, f.annotations) for f in facts if f.annotations is not None
    )
    if not directives:
        return list(findings), [], []
    kept, suppressed = apply(findings, directives, k8s_objects(facts))
    return kept, suppressed, status_facts(directives, known, ran)
