"""Text edits: replacements of character ranges of a file's LF-normalised text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mlsec_lint.model import Span
from mlsec_lint.records import Struct
from mlsec_lint.source import line_starts


class Edit(Struct, frozen=True, order=True):
    """Replace ``text[start:end]`` (character offsets) with ``new``."""

    start: int
    end: int
    new: str


class Unfixable(Exception):
    """A fix that cannot be applied here; the message says why (shown with the finding)."""


class Lines:
    """Offsets of the lines of a text, to turn 1-based (line, column) into offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = line_starts(text)

    def offset(self, line: int, col: int) -> int:
        if line < 1:
            return 0
        if line > len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + col - 1, len(self.text))

    def span(self, span: Span) -> tuple[int, int]:
        return self.offset(span.line, span.col), self.offset(span.end_line, span.end_col)

    def line_text(self, line: int) -> str:
        if not 1 <= line <= len(self.starts):
            return ""
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return self.text[start:end]

    def line_end(self, line: int) -> int:
        """Offset of the start of the line after ``line`` (or the end of the text)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset."""
        import bisect

        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def overlaps(a: Sequence[Edit], b: Iterable[Edit]) -> bool:
    """Whether any edit of ``b`` touches a range edited by ``a`` (insertions at the same
    point conflict too: their order would be arbitrary)."""
    for x in b:
        for y in a:
            if x.start < y.end and y.start < x.end:
                return True
            if x.start == y.start and (x.start == x.end or y.start == y.end):
                return True
    return False


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    out: list[str] = []
    pos = 0
    for e in sorted(edits):
        if e.start < pos:
            raise ValueError("overlapping edits")
        out.append(text[pos : e.start])
        out.append(e.new)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)
