"""Jupyter notebooks -> the facts of their Python, their shell escapes and their outputs.

The code cells of a notebook run in one kernel, one after another, so they are analysed
as one Python module (an import in cell 1 resolves a call in cell 5) with the Python
extractor; a cell that does not parse is left out with a notice and the others are
still analysed. IPython syntax is taken apart first:

* ``!cmd``, ``x = !cmd``, ``%sx``/``%system``, ``%pip``/``%conda``/``%mamba``/``%uv``
  lines and ``%%bash``/``%%sh``/``%%script bash`` cells are shell: they go through the
  shell analysis (installs, downloads, server launches) as one script;
* ``%env NAME=value`` and ``%set_env NAME value`` set environment variables (``env``
  facts, as ``os.environ[...] = ...`` does);
* a ``%%writefile app.py`` cell is analysed as the file it writes (by its name: Python,
  a Dockerfile, requirements, YAML …);
* other magics are skipped; cells of other cell magics (``%%html``, ``%%javascript`` …)
  are not Python and are left out.

Every span is mapped back to the line and column of the ``.ipynb`` file that holds the
source text, and :func:`name_cells` adds the cell number to the messages of findings.
Outputs are never analysed as code; a known token format printed in an output is a
``notebook-output`` fact.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.common import env_fact
from mlsec_lint.model import Finding, Notice, Span
from mlsec_lint.parsers.notebook import Cell, Line, NotebookError, is_shell_cell, parse
from mlsec_lint.records import Struct
from mlsec_lint.source import Source
from mlsec_lint.tree import PDict, PList

Analyzer = Callable[[Source, str], FileAnalysis]
"""Analyses a file of a kind (:func:`mlsec_lint.analyze.analyze`): a ``%%writefile`` cell
is analysed as the file it writes."""

MAX_OUTPUT_CHARS = 20_000
"""Longer output strings are not searched for tokens (data dumps, not printed values)."""
MAX_OUTPUT_FACTS = 50
MAX_BAD_CELLS = 50
"""A notebook with more cells that do not parse is not analysed as Python (each one
costs a parse of the whole notebook)."""

_SHELL_MAGICS = frozenset({"pip", "conda", "mamba", "micromamba", "uv", "sx", "system"})
_PYTHON_CELLS = frozenset({"capture", "time", "timeit", "prun", "debug"})
_ASSIGN_ESCAPE = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*(?=[!%])")
_DETECTED = re.compile(r" \(detected at line \d+\)")
_HELP = re.compile(r"^\s*(\?{1,2}[A-Za-z_][\w.]*|[A-Za-z_][\w.]*\?{1,2})\s*$")
_AUTOMAGIC = re.compile(r"^\s*(pip|conda|mamba)\s+(install|uninstall)\s")
_ENV_MAGIC = re.compile(r"^\s*%(env|set_env)\s+([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*|\s+)(\S.*?)\s*$")


class _VLine(Struct):
    """A line of the virtual Python module or shell script and where its text is."""

    line: Line
    delta: int  # index in ``line.text`` of the first character of the virtual line
    cell: int


def extract(text: str, path: str, analyze: Analyzer) -> FileAnalysis:
    fa = FileAnalysis(path, "notebook")
    try:
        nb = parse(text)
    except NotebookError as exc:
        fa.notices.append(Notice(path, "parse-error", exc.message, "warning", exc.line))
        return fa
    except RecursionError:
        fa.notices.append(Notice(path, "parse-error", "notebook nested too deeply", "warning"))
        return fa
    fa.extra["cells"] = sorted((*c.start, c.number) for c in nb.cells if c.start is not None)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if nb.language is not None and not nb.language.startswith(("python", "ipython", "coconut")):
        fa.notices.append(
            Notice(
                path,
                "unsupported-language",
                f"notebook kernel language is '{nb.language}': code cells not analysed "
                "(outputs are still searched for credentials)",
                "note",
            )
        )
    else:
        python: list[_VLine] = []
        shell: list[_VLine] = []
        for cell in code:
            _split_cell(cell, python, shell, fa, path, analyze)
        fa.facts.extend(_python_facts(python, path, fa.notices))
        shell_facts, shell_notices = _shell_facts(shell, path)
        fa.facts.extend(shell_facts)
        fa.notices.extend(shell_notices)
    fa.facts.extend(_output_facts(code, path))
    return fa


# ------------------------------------------------------------------ cells


def _split_cell(
    cell: Cell,
    python: list[_VLine],
    shell: list[_VLine],
    fa: FileAnalysis,
    path: str,
    analyze: Analyzer,
) -> None:
    lines = cell.lines
    if not lines:
        return
    first = lines[0].text.strip()
    if first.startswith("%%"):
        words = first[2:].split()
        magic = words[0] if words else ""
        if is_shell_cell(magic, " ".join(words[1:])):
            shell.extend(_VLine(ln, 0, cell.number) for ln in lines[1:])
        elif magic in _PYTHON_CELLS:
            python.append(_VLine(Line("pass", lines[0].pieces), 0, cell.number))
            _python_lines(cell, lines[1:], python, shell, fa, path)
        elif magic in ("writefile", "file") and len(words) > 1:
            body = [_VLine(ln, 0, cell.number) for ln in lines[1:]]
            _written_file(words[-1], body, fa, path, analyze)
        return  # %%html, %%javascript …: not Python
    _python_lines(cell, lines, python, shell, fa, path)


def _python_lines(
    cell: Cell,
    lines: list[Line],
    python: list[_VLine],
    shell: list[_VLine],
    fa: FileAnalysis,
    path: str,
) -> None:
    continued = False
    quote: str | None = None  # the triple quote of a string still open
    for ln in lines:
        text = ln.text
        if quote is not None:  # inside a multi-line string: text, never a magic
            python.append(_VLine(ln, 0, cell.number))
            quote = _open_string(text, quote)
            continue
        if continued:  # the continuation of a shell line ending with a backslash
            shell.append(_VLine(ln, 0, cell.number))
            python.append(_VLine(Line("", ln.pieces), 0, cell.number))  # indent may differ
            continued = text.rstrip().endswith("\\")
            continue
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        start = indent
        m = _ASSIGN_ESCAPE.match(text)
        if m:
            start = m.end()
        head = text[start : start + 1]
        if head in {"!", "%"}:
            if text.startswith("%%", start):  # a cell magic below the first line
                python.append(_blank(ln, cell.number))
                continue
            if head == "!":
                body = start + (2 if text.startswith("!!", start) else 1)
            else:
                word = text[start + 1 :].split(None, 1)
                name = word[0] if word else ""
                if name in ("env", "set_env"):
                    _env_magic(ln, path, fa)
                    python.append(_blank(ln, cell.number))
                    continue
                if name not in _SHELL_MAGICS:
                    python.append(_blank(ln, cell.number))
                    continue
                body = start + 1 + (len(name) + 1 if name in ("sx", "system") else 0)
            shell.append(_VLine(ln, body, cell.number))
            python.append(_blank(ln, cell.number))
            continued = text.rstrip().endswith("\\")
            continue
        if _AUTOMAGIC.match(text):  # `pip install x` without % (IPython's automagic)
            shell.append(_VLine(ln, indent, cell.number))
            python.append(_blank(ln, cell.number))
            continued = text.rstrip().endswith("\\")
            continue
        if _HELP.match(text):  # obj? / obj?? / ?obj help
            python.append(_blank(ln, cell.number))
            continue
        python.append(_VLine(ln, 0, cell.number))
        quote = _open_string(text, None)


def _open_string(text: str, quote: str | None) -> str | None:
    """The triple quote still open at the end of ``text`` (``quote``: open at its start)."""
    return _scan(text, quote)[0]


def _scan(text: str, quote: str | None) -> tuple[str | None, int | None]:
    """(the triple quote still open at the end of ``text``, the index of its comment)."""
    i, n = 0, len(text)
    while i < n:
        if quote is not None:
            j = text.find(quote, i)
            while j > 0 and (j - len(text[:j].rstrip("\\"))) % 2:  # an escaped quote
                j = text.find(quote, j + 1)
            if j < 0:
                return quote, None
            i, quote = j + 3, None
            continue
        c = text[i]
        if c == "#":
            return None, i
        if c in "'\"":
            if text.startswith(c * 3, i):
                quote = c * 3
                i += 3
                continue
            i += 1
            while i < n and text[i] != c:
                i += 2 if text[i] == "\\" else 1
        i += 1
    return quote, None


def comments(text: str) -> list[tuple[int, int, str, bool]]:
    """The Python comments of a notebook's code cells, for suppressions: (file line,
    file column of the ``#``, the comment, whether code precedes it)."""
    try:
        nb = parse(text)
    except (NotebookError, RecursionError):
        return []
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        quote: str | None = None
        for ln in cell.lines:
            start_quote = quote
            quote, at = _scan(ln.text, quote)
            if at is not None:
                line, col = ln.position(at)
                code = start_quote is not None or bool(ln.text[:at].strip())
                out.append((line, col, ln.text[at:], code))
    return out


def _written_file(
    name: str, body: list[_VLine], fa: FileAnalysis, path: str, analyze: Analyzer
) -> None:
    """A ``%%writefile app.py`` cell: its body is analysed as the file it writes
    (Python, a Dockerfile, requirements, YAML …, by the file name)."""
    from mlsec_lint.discovery import name_kind

    kind = name_kind(name.strip("'\""))
    if kind is None or kind in ("notebook", "template") or not body:
        return
    written = analyze(Source(path, "\n".join(v.line.text for v in body)), kind)
    _mark_cells(written.facts, body)
    _remap(written.facts, _mapper(body))
    fa.facts.extend(written.facts)
    fa.notices.extend(_cell_notice(n, body) for n in written.notices)


def _blank(ln: Line, cell: int) -> _VLine:
    text = ln.text
    indent = text[: len(text) - len(text.lstrip())]
    return _VLine(Line(indent + "pass", ln.pieces), 0, cell)


def _env_magic(ln: Line, path: str, fa: FileAnalysis) -> None:
    m = _ENV_MAGIC.match(ln.text)
    if m is None:
        return
    value = m.group(4)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    line, col = ln.position(m.start(2))
    _, vcol = ln.position(m.start(4))
    eline, ecol = ln.position(max(m.end(4) - 1, m.start(4)))
    fa.facts.append(
        env_fact(
            m.group(2),
            value,
            Span(line, col, eline, ecol + 1),
            Span(line, vcol, eline, ecol + 1),
            path,
            origin="python",
            owner_key="notebook",
        )
    )


# ------------------------------------------------------------------ python


def _python_facts(vlines: list[_VLine], path: str, notices: list[Notice]) -> list[Fact]:
    from mlsec_lint.facts import python

    excluded: set[int] = set()
    while vlines:
        texts = [
            "pass" if v.cell in excluded and v.line.text.strip() else v.line.text for v in vlines
        ]
        fa = python.extract("\n".join(texts), path, texts)
        bad = next((n for n in fa.notices if n.code == "parse-error"), None)
        if bad is None or bad.line is None or not 1 <= bad.line <= len(vlines):
            notices.extend(_cell_notice(n, vlines) for n in fa.notices)
            _mark_cells(fa.facts, vlines)
            _remap(fa.facts, _mapper(vlines))
            return fa.facts
        cell = vlines[bad.line - 1].cell
        if cell in excluded or len(excluded) >= MAX_BAD_CELLS:
            notices.append(_cell_notice(bad, vlines, "; the notebook's Python is not analysed"))
            return []
        excluded.add(cell)
        notices.append(_cell_notice(bad, vlines, f" in cell {cell}; the cell is not analysed"))
    return []


def _cell_notice(n: Notice, vlines: list[_VLine], suffix: str = "") -> Notice:
    if n.line is None or not 1 <= n.line <= len(vlines):
        return n
    v = vlines[n.line - 1]
    message = _DETECTED.sub("", n.message.replace(" (file not analysed)", "")) + suffix
    return Notice(n.path, n.code, message, n.level, v.line.position(v.delta)[0])


# ------------------------------------------------------------------ shell


def _shell_facts(vlines: list[_VLine], path: str) -> tuple[list[Fact], list[Notice]]:
    """Facts of the notebook's shell lines, and the notices of their analysis (commands
    past the budget) at the notebook's lines."""
    if not vlines:
        return [], []
    from mlsec_lint.facts import launch, shellcmds

    text = "\n".join(v.line.text[v.delta :] for v in vlines)
    script = shellcmds.extract_script(text, path)
    facts = script.facts
    facts.extend(launch.from_shell(text, path))
    _mark_cells(facts, vlines)
    _remap(facts, _mapper(vlines))
    return facts, [_cell_notice(n, vlines) for n in script.notices]


# ------------------------------------------------------------------ outputs


def _output_facts(cells: Iterable[Cell], path: str) -> list[Fact]:
    facts: list[Fact] = []
    for cell in cells:
        for out in cell.outputs:
            if len(facts) >= MAX_OUTPUT_FACTS:
                return facts
            if len(out.text) > MAX_OUTPUT_CHARS:
                continue
            found = _token(out.text)
            if found is None:
                continue
            kind, token, at = found
            span = Span(out.line, out.col, out.line, out.col + 1)
            if len(json.dumps(out.text[:at], ensure_ascii=False)) == at + 2:  # no escapes
                span = Span(out.line, out.col + at, out.line, out.col + at + len(token))
            data = PDict(span)
            data.put("cell", cell.number, span)
            data.put("notebook_cell", cell.number, span)
            data.put("output_type", out.output_type, span)
            data.put("text", out.text.rstrip("\n")[:500], span, span)
            data.put("token", token, span, span)
            data.put("token_kind", kind, span)
            facts.append(
                Fact("notebook-output", path, data, span, f"cell/{cell.number}/output/{kind}")
            )
    return facts


@functools.lru_cache(maxsize=1)
def _token_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    table = knowledge.table("credentials")["value_patterns"]
    return tuple((str(v["name"]), re.compile(v["regex"])) for v in table)


def _token(text: str) -> tuple[str, str, int] | None:
    """The first known token format in ``text``: (kind, token, index)."""
    for name, pattern in _token_patterns():
        m = pattern.search(text)
        if m:
            return name, m.group(), m.start()
    return None


# ------------------------------------------------------------------ positions


def _mapper(vlines: list[_VLine]) -> Callable[[Span], Span]:
    def point(line: int, col: int) -> tuple[int, int]:
        if not vlines:
            return line, col
        v = vlines[min(max(line, 1), len(vlines)) - 1]
        return v.line.position(v.delta + max(col, 1) - 1)

    def remap(span: Span) -> Span:
        line, col = point(span.line, span.col)
        if span.end_line == span.line and span.end_col <= span.col + 1:
            return Span(line, col, line, col + 1)
        eline, ecol = point(span.end_line, max(span.end_col - 1, 1))
        if (eline, ecol) < (line, col):
            return Span(line, col, line, col + 1)
        return Span(line, col, eline, ecol + 1)

    return remap


def _mark_cells(facts: list[Fact], vlines: list[_VLine]) -> None:
    """``notebook_cell`` on every fact: rules can tell notebook code from deployed code."""
    for fact in facts:
        line = min(max(fact.anchor.line, 1), len(vlines))
        fact.data.put("notebook_cell", vlines[line - 1].cell, fact.anchor)


def _remap(facts: list[Fact], fn: Callable[[Span], Span]) -> None:
    """Rewrite every span of the facts (containers shared between facts once)."""
    seen: set[int] = set()
    cache: dict[Span, Span] = {}

    def m(span: Span) -> Span:
        out = cache.get(span)
        if out is None:
            out = cache[span] = fn(span)
        return out

    def walk(value: Any) -> None:
        if id(value) in seen:
            return
        if isinstance(value, PDict):
            seen.add(id(value))
            value.span = m(value.span)
            value.kspan = {k: m(s) for k, s in value.kspan.items()}
            value.vspan = {k: m(s) for k, s in value.vspan.items()}
            for v in value.values():
                walk(v)
        elif isinstance(value, PList):
            seen.add(id(value))
            value.span = m(value.span)
            value.ispan = [m(s) for s in value.ispan]
            for v in value:
                walk(v)

    for fact in facts:
        fact.anchor = m(fact.anchor)
        walk(fact.data)
        if fact.annotations is not None:
            walk(fact.annotations)


# ------------------------------------------------------------------ findings


def name_cells(findings: Iterable[Finding], cells_by_path: dict[str, list[Any]]) -> None:
    """Add the notebook cell to the message of each finding in a notebook: the last cell
    that starts before the finding (cells follow each other in the file, outputs first)."""
    for f in findings:
        cells = cells_by_path.get(f.path)
        if not cells:
            continue
        at = bisect.bisect_right(cells, (f.span.line, f.span.col, 1 << 30)) - 1
        if at >= 0:
            f.message = f"{f.message.rstrip()} Notebook cell {cells[at][2]}."
