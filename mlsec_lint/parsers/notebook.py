"""Jupyter notebooks (``.ipynb``, nbformat 4) -> cells whose text keeps its file position.

A notebook is JSON; the text of a cell is a list of strings (usually one per source line)
or one string. Findings must point at the line of the ``.ipynb`` file that holds the
source line, so the JSON is read by a small positioned scanner: every string remembers
the offset of its opening quote, and :meth:`Piece.column` maps a character of the
decoded text back to its column in the file (escape sequences are accounted for).
Nothing is executed; outputs are kept as text only.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from mlsec_lint.records import Struct, field

MAX_DEPTH = 64
"""Deeper JSON is refused (nbformat nests a handful of levels)."""

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_OUTPUT_KEYS = ("text", "traceback")
_OUTPUT_MIME = ("text/plain", "text/markdown", "application/json")


class NotebookError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


SHELL_CELL_MAGICS = frozenset({"bash", "sh", "system"})
"""Cell magics whose body is shell (``%%bash``); ``%%script bash`` too (:func:`is_shell_cell`)."""


def is_shell_cell(magic: str, args: str) -> bool:
    """Whether the cell magic ``%%<magic> <args>`` runs its body with a shell."""
    if magic in SHELL_CELL_MAGICS:
        return True
    first = args.split(maxsplit=1)[0] if args.split() else ""
    return magic == "script" and first.rsplit("/", 1)[-1] in ("bash", "sh")


class _Str(Struct):
    """A JSON string with the offset of its opening quote."""

    text: str
    start: int
    end: int  # offset after the closing quote


class Piece(Struct):
    """A run of decoded text inside one JSON string of the file."""

    text: str
    line: int
    """File line of the opening quote (a JSON string never spans lines)."""
    quote_col: int
    """1-based column of the opening quote."""
    raw: str
    """The string as written between its quotes."""
    offset: int = 0
    """Index in the decoded string where ``text`` starts."""

    def column(self, index: int) -> int:
        """File column (1-based) of character ``index`` of ``text``."""
        k = self.offset + index
        raw = self.raw
        if "\\" not in raw:
            return self.quote_col + 1 + min(k, len(raw))
        i = n = 0
        while i < len(raw) and n < k:
            if raw[i] == "\\":
                if raw[i + 1 : i + 2] == "u":
                    code = int(raw[i + 2 : i + 6] or "0", 16)
                    i += 6
                    if 0xD800 <= code < 0xDC00 and raw[i : i + 2] == "\\u":
                        i += 6  # a surrogate pair decodes to one character
                else:
                    i += 2
            else:
                i += 1
            n += 1
        return self.quote_col + 1 + i


class Line(Struct):
    """One source line of a cell, made of the pieces that hold its characters."""

    text: str
    pieces: list[tuple[int, Piece]]
    """(index in ``text`` where the piece starts, piece)."""

    def position(self, index: int) -> tuple[int, int]:
        """File (line, column) of character ``index`` of the line."""
        if not self.pieces:
            return 1, 1
        starts = [s for s, _ in self.pieces]
        at = max(0, bisect.bisect_right(starts, index) - 1)
        start, piece = self.pieces[at]
        return piece.line, piece.column(index - start)


class Output(Struct):
    text: str
    line: int
    col: int
    output_type: str


class Cell(Struct):
    number: int
    """1-based position among all cells of the notebook (as shown by Jupyter)."""
    cell_type: str
    lines: list[Line]
    first_line: int
    last_line: int
    outputs: list[Output] = field(default_factory=list)
    start: tuple[int, int] | None = None
    """(line, column) of the first string of the cell's source or outputs."""


class Notebook(Struct):
    cells: list[Cell]
    language: str | None
    """The kernel language (``metadata.kernelspec.language`` or ``language_info.name``)."""


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

    def fail(self, message: str, offset: int) -> NotebookError:
        return NotebookError(f"invalid notebook JSON: {message}", self.line_col(offset)[0])

    def value(self, i: int, depth: int) -> tuple[Any, int]:
        text = self.text
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if i >= len(text):
            raise self.fail("unexpected end of file", i)
        c = text[i]
        if c == '"':
            try:
                s, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            except ValueError as exc:
                raise self.fail(str(exc).split(":", 1)[0], i) from None
            return _Str(s, i, end), end
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", i)
        if c == "{":
            obj: dict[str, Any] = {}
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
            if text.startswith("}", i):
                return obj, i + 1
            while True:
                i = _WS.match(text, i).end()  # type: ignore[union-attr]
                if not text.startswith('"', i):
                    raise self.fail("expected a property name", i)
                key, i = self.value(i, depth + 1)
                i = _WS.match(text, i).end()  # type: ignore[union-attr]
                if not text.startswith(":", i):
                    raise self.fail("expected ':'", i)
                obj[key.text], i = self.value(i + 1, depth + 1)
                i = _WS.match(text, i).end()  # type: ignore[union-attr]
                if text.startswith(",", i):
                    i += 1
                elif text.startswith("}", i):
                    return obj, i + 1
                else:
                    raise self.fail("expected ',' or '}'", i)
        if c == "[":
            arr: list[Any] = []
            i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
            if text.startswith("]", i):
                return arr, i + 1
            while True:
                item, i = self.value(i, depth + 1)
                arr.append(item)
                i = _WS.match(text, i).end()  # type: ignore[union-attr]
                if text.startswith(",", i):
                    i += 1
                elif text.startswith("]", i):
                    return arr, i + 1
                else:
                    raise self.fail("expected ',' or ']'", i)
        for word, val in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, i):
                return val, i + len(word)
        m = _NUMBER.match(text, i)
        if m:
            return m.group(), m.end()
        raise self.fail("unexpected character", i)

    def piece(self, s: _Str, offset: int = 0, text: str | None = None) -> Piece:
        line, col = self.line_col(s.start)
        return Piece(
            s.text if text is None else text, line, col, self.text[s.start + 1 : s.end - 1], offset
        )


def _strings(value: Any) -> list[_Str]:
    if isinstance(value, _Str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, _Str)]
    return []


def _plain(value: Any) -> Any:
    return value.text if isinstance(value, _Str) else value


def _lines(scanner: _Scanner, items: list[_Str]) -> list[Line]:
    """Split the strings of a cell's source into lines; an item that does not end with a
    newline continues on the next item."""
    lines: list[Line] = []
    text = ""
    pieces: list[tuple[int, Piece]] = []
    for item in items:
        pos = 0
        while True:
            nl = item.text.find("\n", pos)
            chunk = item.text[pos:] if nl < 0 else item.text[pos:nl].removesuffix("\r")
            if chunk or nl >= 0 or not pieces:
                pieces.append((len(text), scanner.piece(item, pos, chunk)))
            text += chunk
            if nl < 0:
                break
            lines.append(Line(text, pieces))
            text, pieces = "", []
            pos = nl + 1
            if pos == len(item.text):
                break
    if text or pieces:
        lines.append(Line(text, pieces))
    return lines


def _outputs(scanner: _Scanner, outputs: Any) -> list[Output]:
    found: list[Output] = []
    if not isinstance(outputs, list):
        return found
    for out in outputs:
        if not isinstance(out, dict):
            continue
        kind = str(_plain(out.get("output_type", "")))
        items: list[_Str] = []
        for key in _OUTPUT_KEYS:
            items.extend(_strings(out.get(key)))
        data = out.get("data")
        if isinstance(data, dict):
            for mime in _OUTPUT_MIME:
                items.extend(_strings(data.get(mime)))
        for s in items:
            line, col = scanner.line_col(s.start)
            found.append(Output(s.text, line, col + 1, kind))
    return found


def parse(text: str) -> Notebook:
    """The cells of a notebook; raises :class:`NotebookError` on anything else."""
    scanner = _Scanner(text)
    doc, end = scanner.value(0, 0)
    if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
        raise scanner.fail("extra data after the notebook", end)
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        if isinstance(doc, dict) and isinstance(doc.get("worksheets"), list):
            raise NotebookError(
                "nbformat 3 notebook: convert it with 'jupyter nbconvert --to notebook'"
            )
        raise NotebookError("not a Jupyter notebook (no 'cells' list)")
    language = None
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        for key, sub in (("kernelspec", "language"), ("language_info", "name")):
            block = meta.get(key)
            if isinstance(block, dict) and isinstance(block.get(sub), _Str):
                language = block[sub].text.lower()
                break
    cells: list[Cell] = []
    for number, raw in enumerate(doc["cells"], start=1):
        if not isinstance(raw, dict):
            continue
        items = _strings(raw.get("source"))
        lines = _lines(scanner, items)
        first = scanner.line_col(items[0].start)[0] if items else 1
        last = scanner.line_col(items[-1].start)[0] if items else first
        cell_type = str(_plain(raw.get("cell_type", "")))
        outputs = _outputs(scanner, raw.get("outputs")) if cell_type == "code" else []
        starts = [scanner.line_col(s.start) for s in items[:1]]
        starts += [(o.line, o.col - 1) for o in outputs[:1]]
        start = min(starts) if starts else None
        cells.append(Cell(number, cell_type, lines, first, last, outputs, start))
    return Notebook(cells, language)
