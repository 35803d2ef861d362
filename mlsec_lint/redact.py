"""Masking credentials in everything a report repeats: source lines, excerpts, messages.

A report must never repeat a secret, whatever the finding on the line is about. Masking
keeps a short prefix, so the value can be recognised, and replaces the rest with ``*``,
one for each character: lengths, and so every column of a finding, stay as they are.

What is masked, on each line:

- values in a known token format (Hugging Face, OpenAI, AWS, GitHub …; the
  ``value_patterns`` of ``data/credentials.yaml``), wherever they appear;
- values assigned to a credential-named key or variable (``HF_TOKEN=…``,
  ``password: …``, ``os.environ["OPENAI_API_KEY"] = "…"``, ``ENV API_KEY …``);
- values of credential-named command-line options (``--api-key …``, ``--hf-token=…``);
- passwords in URLs (``https://user:…@host``) and ``Authorization`` header values;
- a ``value:`` line that follows ``name: <credential name>`` (Kubernetes ``env``);
- the body of a PEM private key.

Placeholders (``${TOKEN}``, ``<your-key>``, ``changeme`` …), non-secrets (``true``, ``0``)
and the published default credentials ML stacks ship with (``minioadmin``: the
MLS-SEC-002 table) are left readable: they are not secrets, and naming them is the point
of the finding. Patterns are anchored or bounded, and lines are cut to a bounded length
before matching.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.engine.literals import caseless_text, match_starts, required_literal
from mlsec_lint.model import Finding, Notice
from mlsec_lint.records import replace as replace_fields
from mlsec_lint.source import excerpt

MASK = "*"
MAX_MATCH_CHARS = 20_000
"""Characters of a line searched for credentials; the rest of a longer line is masked
only where it holds a known token format."""


class _Lazy:
    """A regular expression compiled when first used: most texts need few of these, and
    a one-file scan imports this module only to mask its findings."""

    __slots__ = ("_compile", "_compiled")

    def __init__(self, compile_: Callable[[], re.Pattern[str]]) -> None:
        self._compile = compile_
        self._compiled: re.Pattern[str] | None = None

    @property
    def rx(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = self._compile()
        return self._compiled


_NAME = r"[A-Za-z_][A-Za-z0-9_.-]{0,100}"
_ASSIGN = _Lazy(
    lambda: re.compile(
        rf"""(?P<name>{_NAME})["']?\]?[ \t]*(?:=|:(?!//))[ \t]*"""
        r"""(?:(?P<q>["'])(?P<qv>[^"'\n]{1,4000})(?P=q)|(?P<v>[^\s"'`,;(){}\[\]<>]{1,4000}))"""
    )
)
_DOCKER_ENV = _Lazy(
    lambda: re.compile(
        rf"(?i)^[ \t]*(?:ENV|ARG)[ \t]+(?P<name>{_NAME})[ \t]+(?P<v>[^\s=][^\s]{{0,4000}})[ \t]*$"
    )
)
_OPTION = _Lazy(
    lambda: re.compile(
        r"""--(?P<name>[A-Za-z][A-Za-z0-9-]{0,60})(?:=|[ \t]+|["'][ \t]*,[ \t]*["']?)"""
        r"""(?P<v>[^\s"',\]\[]{1,4000})"""
    )
)
_URL_PASSWORD = _Lazy(
    lambda: re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@]{1,200}:(?P<v>[^\s@/]{1,500})@")
)
_AUTH_HEADER = _Lazy(
    lambda: re.compile(
        r"(?i)\b(?:authorization|proxy-authorization)[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?:bearer|basic|token|bot)[ \t]+(?P<v>[^\s\"',;]{1,4000})"
    )
)
_ENV_NAME = _Lazy(
    lambda: re.compile(r"""^[ \t]*(?:-[ \t]+)?name:[ \t]*["']?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)""")
)
_ENV_VALUE = _Lazy(
    lambda: re.compile(
        r"""^[ \t]*value:[ \t]*(?:(?P<q>["'])(?P<qv>[^"'\n]{1,4000})(?P=q)|(?P<v>[^\s#]{1,4000}))"""
    )
)
_PEM_BEGIN = _Lazy(lambda: re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----"))
_PEM_END = _Lazy(lambda: re.compile(r"-----END [A-Z ]{0,40}PRIVATE KEY-----"))
_CODE_CHAIN = _Lazy(lambda: re.compile(r"(?<![a-z0-9_])[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+"))
"""``self.api_key``, ``args.token``: code, not a value."""


@functools.lru_cache(maxsize=1)
def _token_sources() -> tuple[str, ...]:
    """The masked token formats, as written (compiled when a text may hold one)."""
    return tuple(
        str(v["regex"])
        for v in knowledge.table("credentials")["value_patterns"]
        if v.get("mask", True)
    )


@functools.lru_cache(maxsize=1)
def _token_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(_compiled(source) for source in _token_sources())


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


_LEADING = re.compile(r"\\b|\(\?<!\[[^\]\\]*\]\)")
_TRAILING = re.compile(r"(?:\\b|\(\?!\[[^\]\\]*\]\))$")
_CONTEXT = re.compile(r"\\[bBAZ]|\(\?<?[=!]|\$|(?<!\[)\^")
"""What lets a match depend on characters outside it: anchors, word boundaries and
lookarounds."""


def _hint(pattern: str) -> re.Pattern[str] | None:
    """A weaker form of a token pattern that looks at the characters it matches only, or
    None: leading and trailing word boundaries and look-arounds removed, and the pattern
    cut before any other (``AccountKey=(?!…)…`` -> ``AccountKey=``; a cut inside a group
    does not compile and gives None). Where the pattern matches on a line, its hint
    matches in the text the line is part of; the hint's leading literal (``hf_``,
    ``sk-``) also makes it a fast scan."""
    text = _hint_text(pattern)
    if text is None:
        return None
    try:
        return _compiled(text)
    except re.error:
        return None


@functools.lru_cache(maxsize=256)
def _hint_text(pattern: str) -> str | None:
    """The text of :func:`_hint` (not compiled; None when too short)."""
    flags = knowledge.GLOBAL_FLAGS.match(pattern)
    head = flags.group() if flags else ""
    body = pattern[len(head) :]
    lead = _LEADING.match(body)
    body = body[lead.end() :] if lead else body
    body = _TRAILING.sub("", body, count=1)
    context = _CONTEXT.search(body)
    if context is not None:
        body = body[: context.start()]
    if len(body) < _HINT_CHARS:
        return None
    return head + body


_HINT_CHARS = 3
"""A shorter hint would match almost any text."""


@functools.lru_cache(maxsize=1)
def _token_hints() -> tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...]:
    return tuple((p, _hint(p.pattern)) for p in _token_patterns())


def _tokens_in(
    text: str, among: Sequence[re.Pattern[str]] | None = None
) -> tuple[re.Pattern[str], ...]:
    """The token patterns (of ``among``, by default all) that may match on some line of
    ``text``: a file searched once per format instead of every line once per format, and
    first for the text every match of a format holds (``Q~``, ``_live_``), which a
    search for a string finds faster than the pattern does. A format and its hint are
    compiled only when the text holds that literal (every shipped hint compiles: a
    test checks it)."""
    formats = _formats()
    found = []
    folded: str | None = None
    for source in _token_sources() if among is None else [p.pattern for p in among]:
        f = formats[source]
        if f.hint_text is not None:
            if f.literal is not None:
                haystack = text
                if f.caseless:
                    if folded is None:
                        folded = caseless_text(text)
                    haystack = folded
                if f.literal not in haystack:
                    continue
            elif f.starts is not None and not any(s in text for s in f.starts):
                continue  # (AKIA|ASIA)…: one of these
            hint = f.hint if f.hint_ready else f.compile_hint()
            if hint is not None and hint.search(text) is None:
                continue
        found.append(f.pattern if f.pattern is not None else f.compile_pattern())
    return tuple(found)


class _Format:
    """A token format's prefilters, read once; its hint and pattern compiled when a
    text passes the prefilters before them."""

    __slots__ = (
        "caseless",
        "hint",
        "hint_ready",
        "hint_text",
        "literal",
        "pattern",
        "source",
        "starts",
    )

    def __init__(self, source: str) -> None:
        self.source = source
        self.hint_text = _hint_text(source)
        needed = required_literal(self.hint_text) if self.hint_text is not None else None
        self.literal: str | None = needed[0] if needed is not None else None
        self.caseless = needed is not None and needed[1]
        self.starts = (
            match_starts(self.hint_text) if self.hint_text is not None and needed is None else None
        )
        self.hint_ready = False
        self.hint: re.Pattern[str] | None = None
        self.pattern: re.Pattern[str] | None = None

    def compile_hint(self) -> re.Pattern[str] | None:
        self.hint = _hint(self.source)
        self.hint_ready = True
        return self.hint

    def compile_pattern(self) -> re.Pattern[str]:
        self.pattern = pattern = _compiled(self.source)
        return pattern


@functools.lru_cache(maxsize=1)
def _formats() -> dict[str, _Format]:
    return {source: _Format(source) for source in _token_sources()}


@functools.lru_cache(maxsize=1)
def _public_defaults() -> frozenset[str]:
    return frozenset(str(d["value"]) for d in knowledge.table("credentials")["default_values"])


def mask_value(value: str) -> str:
    """``value`` with all but a short prefix (at most 4 characters, a quarter of it)
    replaced by ``*``."""
    keep = min(4, len(value) // 4)
    return value[:keep] + MASK * (len(value) - keep)


_REFERENCE = _Lazy(
    lambda: re.compile(
        r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$\(.{0,4000}\)|\{\{.{0,4000}\}\}|<[^<>]{0,200}>"
        r"|%\(?[A-Za-z_]+\)?s?|x+|X+|\*+|\.+|-+|_+"
    )
)
"""Values that refer to a secret instead of holding one (``${TOKEN}``, ``<your-key>``)."""
_NON_SECRETS = frozenset({"true", "false", "yes", "no", "none", "null", "empty", "0", "1"})


def _secret(value: str) -> bool:
    """Whether a credential-named value is masked: anything but a reference, a flag or a
    published default. Stricter than the rules' placeholder test: a real-looking value
    that merely contains "example" is still masked."""
    v = value.strip().strip("\"'")
    return (
        bool(v)
        and v.lower() not in _NON_SECRETS
        and _REFERENCE.rx.fullmatch(v) is None
        and v not in _public_defaults()
    )


_FOLDED = str.maketrans("", "", "_-.")


@functools.lru_cache(maxsize=1)
def _name_terms() -> tuple[str, ...]:
    """The shortest words one of which every credential name contains (``TOKEN``,
    ``KEY``, ``PASS`` …), upper case, without ``_``, ``-`` and ``.``."""
    terms = {t.upper().translate(_FOLDED) for t in knowledge.credential_name_terms()}
    return tuple(sorted(t for t in terms if t and not any(o != t and o in t for o in terms)))


_AUTH_HINT = re.compile("(?i)authorization")
"""What every match of ``_AUTH_HEADER`` contains."""


class _Hints:
    """What a text holds, found with a few searches of the whole text instead of many of
    each line: the token formats that may match on some line, the lines that may name a
    credential, whether an ``Authorization`` header may appear. Each is implied by what
    the full patterns need, so a line they rule out has nothing the patterns would find."""

    __slots__ = ("auth", "name_lines", "pem", "tokens")

    def __init__(self, lines: Sequence[str]) -> None:
        text = "\n".join(lines)
        self.tokens = _tokens_in(text)
        self.auth = _AUTH_HINT.search(text) is not None
        self.name_lines = _naming_lines(text)
        self.pem = "PRIVATE KEY-----" in text  # what every _PEM_BEGIN match holds

    def part(self, lines: Sequence[str], start: int, naming: Sequence[int]) -> _Hints:
        """The hints of ``lines``, lines ``start``… of the text these hints are of
        (``naming``: :attr:`name_lines` sorted): what the whole text rules out, the part
        does not hold; the rest is searched again in the part alone."""
        part = _Hints.__new__(_Hints)
        text = "\n".join(lines) if self.tokens or self.auth or self.pem else ""
        part.tokens = _tokens_in(text, self.tokens) if self.tokens else ()
        part.auth = self.auth and _AUTH_HINT.search(text) is not None
        part.pem = self.pem and "PRIVATE KEY-----" in text
        first = bisect.bisect_left(naming, start)
        last = bisect.bisect_left(naming, start + len(lines))
        part.name_lines = {i - start for i in naming[first:last]}
        return part


def _naming_lines(text: str) -> set[int]:
    """The lines (from 0) of ``text`` that hold one of :func:`_name_terms` once upper
    case and without ``_``, ``-`` and ``.``, as :func:`knowledge.is_credential_name`
    reads a name: no other line names a credential. Folding keeps the line breaks."""
    folded = text.upper().translate(_FOLDED)
    found: set[int] = set()
    starts: list[int] | None = None
    for term in _name_terms():
        at = folded.find(term)
        while at >= 0:
            if starts is None:
                starts = list(accumulate((len(x) + 1 for x in folded.split("\n")), initial=0))
            found.add(bisect.bisect_right(starts, at) - 1)
            at = folded.find(term, at + 1)
    return found


_FIELD_NAME = _Lazy(
    lambda: re.compile(r"""(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]+(?=["']?\]?[ \t]*(?:=|:(?!//)))""")
)
"""A run of the characters of a name followed by what follows the name in an
``_ASSIGN`` match: the name of every match ends one (found in linear time)."""


def _names_a_field(head: str) -> bool:
    """Whether the name of a field assigned on ``head`` may be a credential name (as
    :func:`_naming_lines` reads it): without one, ``_ASSIGN`` finds nothing to mask."""
    terms = _name_terms()
    for m in _FIELD_NAME.rx.finditer(head):
        folded = m.group().upper().translate(_FOLDED)
        if any(term in folded for term in terms):
            return True
    return False


def _ranges(line: str, hints: _Hints | None = None, index: int = 0) -> list[tuple[int, int]]:
    """Character ranges of ``line`` holding credential values (``hints``: what the text
    of which ``line`` is line ``index`` (from 0) may hold; by default, anything)."""
    out: list[tuple[int, int]] = []
    if hints is None:
        # one search for all formats (it also matches formats that are not masked)
        tokens = _token_patterns() if knowledge.may_hold_credential_value(line) else ()
        names = auth = True
    else:
        tokens, names, auth = hints.tokens, index in hints.name_lines, hints.auth
    for pattern in tokens:
        out += [m.span() for m in pattern.finditer(line)]
    head = line[:MAX_MATCH_CHARS]
    if names and ("=" in head or ":" in head or " " in head):
        # _ASSIGN backtracks in every word: tried where a field name may be a credential
        for m in _ASSIGN.rx.finditer(head) if _names_a_field(head) else ():
            group = "qv" if m.group("qv") is not None else "v"
            value = m.group(group)
            if (
                not knowledge.is_credential_name(m.group("name"))
                or not _secret(value)
                or value.startswith("$")  # ${VAR}, $(command): a reference
            ):
                continue
            end = m.end(group)
            if group == "v" and (
                head[end : end + 1] in ("(", "[") or _CODE_CHAIN.rx.fullmatch(value)
            ):
                continue  # a call, a subscript or an attribute: code, not a literal
            out.append((m.start(group), end))
        # what every _DOCKER_ENV match starts with (no other character folds to these)
        docker = head.lstrip(" \t")[:3].upper() in ("ENV", "ARG")
        m2 = _DOCKER_ENV.rx.match(head) if docker else None
        if m2 and knowledge.is_credential_name(m2.group("name")) and _secret(m2.group("v")):
            out.append(m2.span("v"))
    if names and "--" in head:
        for m in _OPTION.rx.finditer(head):
            name = m.group("name").replace("-", "_")
            if knowledge.is_credential_name(name) and _secret(m.group("v")):
                out.append(m.span("v"))
    if auth and (":" in head or "=" in head):
        for m in _AUTH_HEADER.rx.finditer(head):
            if _secret(m.group("v")):
                out.append(m.span("v"))
    if "://" in head:
        for m in _URL_PASSWORD.rx.finditer(head):
            if _secret(m.group("v")):
                out.append(m.span("v"))
    return out


def _apply(line: str, ranges: Iterable[tuple[int, int]]) -> str:
    chars = list(line)
    for start, end in sorted(ranges):
        masked = mask_value(line[start:end])
        chars[start:end] = list(masked)
    return "".join(chars)


def mask_line(line: str) -> str:
    """``line`` with every credential value on it masked (same length)."""
    ranges = _ranges(line)
    return _apply(line, _merge(ranges)) if ranges else line


def mask_text(text: str) -> str:
    """A message or any multi-line text, masked line by line."""
    return "\n".join(mask_lines(text.split("\n")))


_HINTS_FROM = 4
"""Lines from which searching the whole text first pays (not a one-line message)."""


def mask_lines(lines: Sequence[str]) -> list[str]:
    """Masked copies of a file's lines, with the context a single line lacks: the
    ``value:`` after ``name: <credential name>`` and the body of a PEM private key."""
    return _masked(lines, _Hints(lines) if len(lines) > _HINTS_FROM else None)


def mask_texts(texts: Iterable[str]) -> dict[str, str]:
    """Each distinct text of ``texts`` and its :func:`mask_text` copy. The messages of a
    scan are many short texts: the searches of :class:`_Hints` are made once over all of
    them instead of the search for every token format in each."""
    distinct = list(dict.fromkeys(texts))
    split = [text.split("\n") for text in distinct]
    whole = _Hints([line for lines in split for line in lines])
    naming = sorted(whole.name_lines)
    out: dict[str, str] = {}
    start = 0
    for text, lines in zip(distinct, split, strict=True):
        out[text] = "\n".join(_masked(lines, whole.part(lines, start, naming)))
        start += len(lines)
    return out


def _masked(lines: Sequence[str], hints: _Hints | None) -> list[str]:
    out = []
    credential_name_at = -10
    in_key = False
    quiet = hints is not None and not hints.tokens and not hints.auth
    pem = hints is None or hints.pem
    for i, line in enumerate(lines):
        named = hints is None or i in hints.name_lines
        # a line that names no credential, in a text without tokens or Authorization
        # headers, can hold only a URL password
        ranges = _ranges(line, hints, i) if named or not quiet or "://" in line else []
        if in_key:
            if _PEM_END.rx.search(line):
                in_key = False
            else:
                stripped = line.strip()
                if stripped:
                    start = line.index(stripped)
                    ranges.append((start, start + len(stripped)))
        elif pem and _PEM_BEGIN.rx.search(line) and not _PEM_END.rx.search(line):
            in_key = True
        # a `name:` line only matters when it names a credential or follows one closely
        near = named or i - credential_name_at <= 3
        m = _ENV_NAME.rx.match(line) if near and "name:" in line else None
        if m:
            credential_name_at = i if knowledge.is_credential_name(m.group("name")) else -10
        elif near and i - credential_name_at <= 3:
            v = _ENV_VALUE.rx.match(line)
            if v:
                group = "qv" if v.group("qv") is not None else "v"
                if _secret(v.group(group)):
                    ranges.append(v.span(group))
                credential_name_at = -10
        out.append(_apply(line, _merge(ranges)) if ranges else line)
    return out


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def redact_scan(sources: dict[str, Any], findings: Iterable[Finding]) -> None:
    """Mask the sources and findings of a finished scan in place, before any report.

    Only files with findings are reported from, so only their sources are masked (each
    replaced by a masked copy); each finding's source line is re-cut from its masked line
    and its message masked. Fingerprints are computed before and are unaffected.
    """
    findings = list(findings)
    masked: dict[str, list[str]] = {}
    for path in {f.path for f in findings}:
        src = sources.get(path)
        if src is None:
            continue
        # a list of lines takes several times its text's memory: only a masked copy
        # keeps one, the source itself is left without
        original = src.text.split("\n") if src._lines is None else src._lines
        lines = mask_lines(original)
        if lines != original:
            masked[path] = lines
            sources[path] = replace_fields(src, text="\n".join(lines), _lines=lines)
    # each finding's line re-cut from its masked file, or its own line masked
    recut: list[str | None] = []
    for f in findings:
        lines_ = masked.get(f.path)
        if lines_ is not None and 1 <= f.span.line <= len(lines_):
            recut.append(excerpt(lines_[f.span.line - 1], f.span.col))
        else:
            recut.append(None)
    # a line without a line break is masked as a text as mask_line masks it
    texts = mask_texts(
        [
            *(f.message for f in findings),
            *(f.source_line for f, r in zip(findings, recut, strict=True) if r is None),
        ]
    )
    for f, line in zip(findings, recut, strict=True):
        if line is not None:
            f.source_line = line
        elif "\n" not in f.source_line:
            f.source_line = texts[f.source_line]
        else:
            f.source_line = mask_line(f.source_line)
        f.message = texts[f.message]


def redact_notices(notices: list[Notice]) -> list[Notice]:
    """Notices with masked messages (a parser's message may quote the file)."""
    return [replace_fields(n, message=mask_text(n.message)) for n in notices]
