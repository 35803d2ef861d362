"""Dockerfile parser that keeps the position of every argument.

Handles parser directives (``# escape=`` and ``# syntax=``), line continuations with
either escape character, comment lines inside continuations, heredocs
(``<<EOF``, ``<<-EOF``, quoted delimiters, several per instruction), exec (JSON) and
shell forms, instruction flags (``--from=``, ``--mount=``, ``--checksum=`` …), build
stages (``FROM … AS name``, ``FROM <stage>``) and ``ARG`` substitution in ``FROM``.
Unknown instructions are kept (Docker rejects them at build time; we report a notice).
"""

from __future__ import annotations

import json
import re

from mlsec_lint.linear import sub_variables
from mlsec_lint.model import Notice, Span
from mlsec_lint.parsers.shell import OffsetMap, Word, tokenize
from mlsec_lint.records import Struct, field

KNOWN = {
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_DIRECTIVES = ("syntax", "escape", "check")
_WORD = re.compile(r"\S+")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


class Heredoc(Struct):
    delimiter: str
    body: str
    line: int  # 1-based line of the first body line
    strip_tabs: bool = False


class Instruction(Struct):
    keyword: str  # upper-case
    args: str  # logical argument text (continuations joined, comments removed)
    span: Span  # from the keyword to the end of the last line
    args_map: OffsetMap  # offsets in ``args`` -> line/col
    flags: dict[str, str] = field(default_factory=dict)
    flag_spans: dict[str, Span] = field(default_factory=dict)
    rest: str = ""  # ``args`` after the flags
    rest_offset: int = 0
    exec_form: list[str] | None = None
    heredocs: list[Heredoc] = field(default_factory=list)
    stage: int = -1

    def span_of(self, start: int, end: int) -> Span:
        """Span of ``args[start:end]``."""
        return self.args_map.span(start, end)

    def rest_span(self) -> Span:
        return self.span_of(self.rest_offset, len(self.args)) if self.rest else self.span


class Stage(Struct):
    index: int
    base: str  # image reference after ARG substitution
    base_raw: str
    base_span: Span
    name: str | None
    from_instruction: Instruction
    parent_stage: int | None = None  # when FROM names an earlier stage
    instructions: list[Instruction] = field(default_factory=list)


class Dockerfile(Struct):
    instructions: list[Instruction] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    global_args: dict[str, str] = field(default_factory=dict)
    escape: str = "\\"
    notices: list[Notice] = field(default_factory=list)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def substitute(text: str, variables: dict[str, str], keep_undefined: bool = False) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alt}`` as Docker does.

    With ``keep_undefined`` a variable without a value (an ``ARG`` without default, set
    only with ``--build-arg``) stays as written, so the result is recognisably dynamic.
    """
    if "$" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        value = variables.get(name)
        if op in (":-", "-"):
            if value or (op == "-" and value is not None):
                return value
            return word
        if op in (":+", "+"):
            if value or (op == "+" and value is not None):
                return word
            return ""
        if value:
            return value
        return m.group(0) if keep_undefined else ""

    return sub_variables(_VAR, repl, text)


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    df = Dockerfile()
    lines = text.split("\n")
    n = len(lines)
    i = 0
    # parser directives: only leading comment lines of the form "# key=value"
    seen_directives: set[str] = set()
    while i < n:
        m = _DIRECTIVE.match(lines[i].strip())
        if not m or m.group(1).lower() not in _DIRECTIVES or m.group(1).lower() in seen_directives:
            break  # unknown directives are comments and end the directive block
        key = m.group(1).lower()
        seen_directives.add(key)
        if key == "escape":
            if m.group(2) in ("\\", "`"):
                df.escape = m.group(2)
            else:
                df.notices.append(
                    Notice(
                        path,
                        "dockerfile-directive",
                        f"invalid escape directive {m.group(2)!r}; using '\\'",
                        "warning",
                        i + 1,
                    )
                )
        i += 1
    esc = df.escape
    stage_names: dict[str, int] = {}

    while i < n:
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start_line = i + 1
        indent = len(raw) - len(raw.lstrip())
        m = _WORD.match(raw, indent)
        word = m.group(0) if m else ""
        keyword = word.upper()
        args_map = OffsetMap()
        parts: list[str] = []
        offset = 0
        # first physical line: arguments start after the keyword and blanks
        j = indent + len(word)
        while j < len(raw) and raw[j] in " \t":
            j += 1
        segment = raw[j:]
        line_no = i
        col = j + 1
        while True:
            seg = segment.rstrip()
            continued = seg.endswith(esc) and not (False)
            if continued:
                seg = seg[:-1]
            args_map.add(offset, line_no + 1, col)
            parts.append(seg)
            offset += len(seg)
            line_no += 1
            if not continued or line_no >= n:
                break
            # skip comment and empty lines inside a continuation
            while line_no < n and (
                lines[line_no].strip().startswith("#") or not lines[line_no].strip()
            ):
                if not lines[line_no].strip():
                    # an empty line ends nothing in BuildKit but is deprecated; keep going
                    pass
                line_no += 1
            if line_no >= n:
                break
            segment = lines[line_no]
            col = 1
        args = "".join(parts)
        end_line = line_no
        last = lines[end_line - 1] if end_line - 1 < n else ""
        span = Span(start_line, indent + 1, end_line, len(last.rstrip()) + 1)
        inst = Instruction(keyword, args, span, args_map)
        _parse_flags(inst)
        i = line_no
        # heredocs: bodies follow the instruction line
        if keyword in ("RUN", "COPY", "ADD") and "<<" in inst.rest:
            for hm in _HEREDOC.finditer(inst.rest):
                delim = hm.group(3)
                strip_tabs = hm.group(1) == "-"
                body_lines: list[str] = []
                body_start = i + 1
                terminated = False
                while i < n:
                    candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                    if candidate == delim:
                        terminated = True
                        i += 1
                        break
                    body_lines.append(candidate)
                    i += 1
                if not terminated:
                    while body_lines and not body_lines[-1]:
                        body_lines.pop()
                    df.notices.append(
                        Notice(
                            path,
                            "dockerfile-heredoc",
                            f"heredoc '{delim}' opened on line {start_line} is not "
                            "terminated; read to the end of the file",
                            "warning",
                            start_line,
                        )
                    )
                inst.heredocs.append(Heredoc(delim, "\n".join(body_lines), body_start, strip_tabs))
                inst.span = Span(
                    inst.span.line,
                    inst.span.col,
                    max(body_start, i),
                    len(lines[i - 1]) + 1 if i - 1 < n else 1,
                )
        if keyword not in KNOWN:
            df.notices.append(
                Notice(
                    path,
                    "dockerfile-instruction",
                    f"unknown instruction {word!r}",
                    "warning",
                    start_line,
                )
            )
        if inst.rest.lstrip().startswith("[") and keyword in (
            "CMD",
            "ENTRYPOINT",
            "RUN",
            "SHELL",
            "HEALTHCHECK",
            "VOLUME",
            "COPY",
            "ADD",
        ):
            try:
                value = json.loads(inst.rest)
                if isinstance(value, list) and all(isinstance(x, str) for x in value):
                    inst.exec_form = value
            except ValueError:
                pass
        # stages
        if keyword == "FROM":
            _add_stage(df, inst, stage_names)
        elif keyword == "ARG" and not df.stages:
            for name, value in _arg_pairs(inst.rest):
                # a default may use the global ARGs declared before it, as Docker expands
                df.global_args[name] = substitute(value, df.global_args, keep_undefined=True)
        if df.stages:
            inst.stage = df.stages[-1].index
            df.stages[-1].instructions.append(inst)
        df.instructions.append(inst)
    return df


def _parse_flags(inst: Instruction) -> None:
    args = inst.args
    k = 0
    n = len(args)
    while k < n:
        while k < n and args[k] in " \t":
            k += 1
        if not args.startswith("--", k):
            break
        e = k
        while e < n and args[e] not in " \t":
            e += 1
        token = args[k + 2 : e]
        name, _, value = token.partition("=")
        inst.flags[name.lower()] = value
        inst.flag_spans[name.lower()] = inst.span_of(k, e)
        k = e
    inst.rest = args[k:].rstrip()
    inst.rest_offset = k


def _arg_pairs(rest: str) -> list[tuple[str, str]]:
    """``ARG A B=1 C="x y"`` -> [(A, ""), (B, "1"), (C, "x y")] (quotes removed)."""
    out = []
    for token in tokenize(rest):
        if isinstance(token, Word):
            name, _, value = token.text.partition("=")
            out.append((name, value))
    return out


def _add_stage(df: Dockerfile, inst: Instruction, stage_names: dict[str, int]) -> None:
    rest = inst.rest
    m = re.match(r"(\S+)(?:\s+[Aa][Ss]\s+(\S+))?", rest)
    raw = m.group(1) if m else ""
    name = m.group(2) if m and m.group(2) else None
    start = inst.rest_offset + (rest.find(raw) if raw else 0)
    base_span = inst.span_of(start, start + len(raw)) if raw else inst.span
    base = substitute(raw, df.global_args, keep_undefined=True)
    parent = stage_names.get(base.lower())
    stage = Stage(len(df.stages), base, raw, base_span, name, inst, parent)
    if name:
        stage_names[name.lower()] = stage.index
    df.stages.append(stage)


_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def exec_words(inst: Instruction) -> list[Word]:
    """Words of an exec-form instruction with offsets into ``inst.args``."""
    # the strings of a JSON array of strings are found in order, one per item: their
    # values are the items the parser decoded
    decoded = inst.exec_form or []
    out = []
    for i, m in enumerate(_JSON_STRING.finditer(inst.rest)):
        text = decoded[i] if i < len(decoded) else json.loads(m.group(0))
        start = inst.rest_offset + m.start()
        out.append(Word(text, start, inst.rest_offset + m.end(), quoted=True))
    return out
