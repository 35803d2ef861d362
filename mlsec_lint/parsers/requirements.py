"""pip requirements and constraints files, with the position of every requirement.

Specifiers, markers and extras are parsed with ``packaging`` (PEP 508/440); only the
pip-specific line syntax (continuations, comments, options, hashes, editable and URL
lines) is handled here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlsec_lint.model import Span

_COMMENT = re.compile(r"(^|\s)#")
_OPTION_WITH_VALUE = {
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


@dataclass(slots=True)
class ReqOption:
    name: str  # long form, e.g. "--extra-index-url"
    value: str
    span: Span


@dataclass(slots=True)
class ReqLine:
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


def parse(text: str) -> list[ReqLine]:
    out: list[ReqLine] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        raw_parts: list[tuple[int, str]] = []
        while True:
            line = lines[i]
            comment = _COMMENT.search(line)
            stripped = line[: comment.start()] if comment else line
            if stripped.rstrip().endswith("\\") and i + 1 < len(lines):
                raw_parts.append((i, stripped.rstrip()[:-1]))
                i += 1
                continue
            raw_parts.append((i, stripped))
            i += 1
            break
        entry = _parse_logical(raw_parts, start + 1)
        if entry is not None:
            out.append(entry)
    return out


def _parse_logical(parts: list[tuple[int, str]], first_line: int) -> ReqLine | None:
    # tokens with positions
    tokens: list[tuple[str, int, int]] = []  # text, line(1-based), col(1-based)
    for line_idx, seg in parts:
        for m in re.finditer(r"\S+", seg):
            tokens.append((m.group(0), line_idx + 1, m.start() + 1))
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
                elif (name in _OPTION_WITH_VALUE or name in _SHORT) and k + 1 < len(tokens):
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
