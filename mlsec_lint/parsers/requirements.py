"""pip requirements and constraints files, with the position of every requirement.

Specifiers, markers and extras are parsed with ``packaging`` (PEP 508/440); only the
pip-specific line syntax (continuations, comments, options, hashes, editable and URL
lines) is handled here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field

_COMMENT = re.compile(r"(^|\s)#")
OPTIONS_WITH_VALUE = {
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--hash",
    "--config-settings",
    "--global-option",
    "--install-option",
    "--no-binary",
    "--only-binary",
    "--use-feature",
}
"""Options of a requirements file that take a value (pip's own list for the file format)."""


class ReqOption(Struct):
    name: str  # long form, e.g. "--extra-index-url"
    value: str
    span: Span


class ReqLine(Struct):
    """One logical requirement line: a requirement spec and/or options."""

    text: str  # the spec part (no options, no comment)
    span: Span  # span of the spec (or of the line for option-only lines)
    line: int
    options: list[ReqOption] = field(default_factory=list)
    editable: bool = False


_SHORT = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
}


_PIP_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""Line boundaries ``str.splitlines`` knows beyond LF: pip reads requirements files with
``splitlines()``, so a requirement after a form feed or U+2028 is a line of its own."""


def pip_lines(text: str) -> list[tuple[int, int, str]]:
    """The lines pip sees, as (0-based physical line, 0-based column, text): physical
    lines are LF-separated (positions in reports), pip's lines also end at the other
    separators of ``str.splitlines``."""
    out: list[tuple[int, int, str]] = []
    for i, physical in enumerate(text.split("\n")):
        if not _PIP_LINE_BREAKS.search(physical):
            out.append((i, 0, physical))
            continue
        col = 0
        for m in _PIP_LINE_BREAKS.finditer(physical):
            if m.group(0) == "\r" and m.end() == len(physical):
                break  # CRLF: one boundary
            out.append((i, col, physical[col : m.start()]))
            col = m.end()
        out.append((i, col, physical[col:].rstrip("\r")))
    return out


def parse(text: str) -> list[ReqLine]:
    return list(iter_lines(text))


def iter_lines(text: str) -> Iterator[ReqLine]:
    """The logical lines of a requirements file, one at a time."""
    lines = pip_lines(text)
    i = 0
    while i < len(lines):
        start = i
        raw_parts: list[tuple[int, int, str]] = []
        while True:
            physical, col, line = lines[i]
            comment = _COMMENT.search(line)
            stripped = line[: comment.start()] if comment else line
            if stripped.rstrip().endswith("\\") and i + 1 < len(lines):
                raw_parts.append((physical, col, stripped.rstrip()[:-1]))
                i += 1
                continue
            raw_parts.append((physical, col, stripped))
            i += 1
            break
        entry = _parse_logical(raw_parts, lines[start][0] + 1)
        if entry is not None:
            yield entry


def _parse_logical(parts: list[tuple[int, int, str]], first_line: int) -> ReqLine | None:
    # tokens with positions
    tokens: list[tuple[str, int, int]] = []  # text, line(1-based), col(1-based)
    for line_idx, offset, seg in parts:
        for m in re.finditer(r"\S+", seg):
            tokens.append((m.group(0), line_idx + 1, offset + m.start() + 1))
    if not tokens:
        return None
    options: list[ReqOption] = []
    spec_tokens: list[tuple[str, int, int]] = []
    editable = False
    k = 0
    while k < len(tokens):
        tok, ln, col = tokens[k]
        if tok.startswith("--") or (tok.startswith("-") and not spec_tokens):
            name, eq, value = tok.partition("=")
            if not eq:
                if not name.startswith("--") and len(name) > 2 and name[:2] in _SHORT:
                    name, value = name[:2], name[2:]  # "-rfile.txt"
                elif (name in OPTIONS_WITH_VALUE or name in _SHORT) and k + 1 < len(tokens):
                    k += 1
                    value = tokens[k][0]
            long = _SHORT.get(name, name)
            end_tok = tokens[k]
            if long == "--editable":
                editable = True
                spec_tokens.append((value, end_tok[1], end_tok[2]))
            else:
                span = Span(ln, col, end_tok[1], end_tok[2] + len(end_tok[0]))
                options.append(ReqOption(long, value, span))
            k += 1
            continue
        spec_tokens.append((tok, ln, col))
        k += 1
    if spec_tokens:
        text = " ".join(t for t, _, _ in spec_tokens)
        first, last = spec_tokens[0], spec_tokens[-1]
        span = Span(first[1], first[2], last[1], last[2] + len(last[0]))
    else:
        text = ""
        first, last = tokens[0], tokens[-1]
        span = Span(first[1], first[2], last[1], last[2] + len(last[0]))
    return ReqLine(text, span, first_line, options, editable)
