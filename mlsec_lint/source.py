"""Reading scanned files: size caps, binary detection, encodings and line indexing.

Nothing here raises on bad input: problems become :class:`~mlsec_lint.model.Notice`
values with stable codes, and the caller decides what to scan.
"""

from __future__ import annotations

import codecs
import os
from array import array

from mlsec_lint.model import Notice
from mlsec_lint.records import Struct

MAX_FILE_BYTES = 5 * 1024 * 1024
"""Files above this size are not parsed (one ``too-large`` notice each)."""

MAX_LINE_CHARS = 200_000
"""Files with a longer line are not parsed (one ``line-too-long`` notice each)."""

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
"""Jupyter notebooks carry their outputs (images as base64, on one line each): they may be
larger, and their long lines are output data, which is never parsed as code."""


def _notebook(display: str) -> bool:
    return display.lower().endswith(".ipynb")


SOURCE_LINE_CHARS = 240
"""The source line a finding carries is cut to this many characters around its column,
so a long line with many findings cannot blow up reports."""


def excerpt(line: str, col: int, width: int = SOURCE_LINE_CHARS) -> str:
    """At most ``width`` characters of ``line`` around 1-based column ``col``; an
    ellipsis marks each cut end."""
    if len(line) <= width:
        return line
    start = max(0, min(col - 1 - width // 3, len(line) - width))
    end = start + width
    return ("…" if start > 0 else "") + line[start:end] + ("…" if end < len(line) else "")


class Source(Struct):
    """A decoded text file. ``text`` has LF line endings only."""

    path: str  # repository-relative display path, with "/" separators
    text: str
    encoding: str = "utf-8"
    abspath: str = ""
    _lines: list[str] | None = None
    _starts: array[int] | None = None

    @property
    def lines(self) -> list[str]:
        """Every line (a list kept until :meth:`release`; :meth:`line` needs none)."""
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def line(self, number: int) -> str:
        """The text of 1-based line ``number`` (empty when out of range)."""
        lines = self._lines
        if lines is not None:
            return lines[number - 1] if 1 <= number <= len(lines) else ""
        starts = self._starts
        if starts is None:
            starts = self._starts = line_starts(self.text)
        if not 1 <= number <= len(starts):
            return ""
        end = starts[number] - 1 if number < len(starts) else len(self.text)
        return self.text[starts[number - 1] : end]

    def line_count(self) -> int:
        return len(self._lines) if self._lines is not None else self.text.count("\n") + 1

    def release(self) -> None:
        """Forget the list of lines: a scan keeps many sources, and a list of lines
        takes several times the memory of the text. It is rebuilt when asked for."""
        self._lines = None

    def __reduce__(self) -> tuple[type[Source], tuple[str, str, str, str]]:
        # what crosses between processes: the text, not the caches derived from it
        return (Source, (self.path, self.text, self.encoding, self.abspath))


def char_col(text: str, byte_col: int) -> int:
    """The 1-based character column of the UTF-8 byte offset ``byte_col`` in the line
    ``text`` (Python's ``ast`` counts bytes; findings count characters)."""
    if text.isascii():
        return byte_col + 1
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace")) + 1


def line_starts(text: str) -> array[int]:
    """Offsets at which the lines of ``text`` start (4 or 8 bytes a line)."""
    starts = array("q", [0])
    find = text.find
    i = find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = find("\n", i + 1)
    return starts


def decode(data: bytes, path: str) -> tuple[str | None, str, list[Notice]]:
    """Decode bytes to LF-normalised text. Returns (text or None, encoding, notices)."""
    notices: list[Notice] = []
    if data.startswith(codecs.BOM_UTF8):
        text, enc = data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, enc = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return (
                None,
                "utf-16",
                [Notice(path, "encoding", "invalid UTF-16 text; file not scanned", "error")],
            )
    else:
        if b"\x00" in data[:8192]:
            return (
                None,
                "binary",
                [Notice(path, "binary", "binary file (NUL bytes); not scanned", "warning")],
            )
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = data.decode("latin-1"), "latin-1"
            notices.append(
                Notice(
                    path,
                    "encoding",
                    "not valid UTF-8; decoded as Latin-1, positions are per character",
                    "note",
                )
            )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        notices.append(
            Notice(path, "binary", "NUL characters in text file; not scanned", "warning")
        )
        return None, enc, notices
    return text, enc, notices


def read_source(
    abspath: str, display: str, max_bytes: int = MAX_FILE_BYTES
) -> tuple[Source | None, list[Notice]]:
    """Read and decode one file; never raises for I/O or encoding problems."""
    if max_bytes == MAX_FILE_BYTES and _notebook(display):
        max_bytes = MAX_NOTEBOOK_BYTES
    try:
        size = os.path.getsize(abspath)
    except OSError as exc:
        return None, [
            Notice(display, "unreadable", f"cannot read file: {exc.strerror or exc}", "error")
        ]
    if size > max_bytes:
        return None, [
            Notice(
                display,
                "too-large",
                f"file is {size:,} bytes, above the {max_bytes:,}-byte limit; not scanned",
                "warning",
            )
        ]
    try:
        with open(abspath, "rb") as fh:
            # a read of max_bytes + 1 would allocate that much first: read what the size
            # promises, then whatever the file has grown by since, up to the same limit
            data = fh.read(size + 1)
            if len(data) > size:
                data += fh.read(max_bytes + 1 - len(data))
    except OSError as exc:
        return None, [
            Notice(display, "unreadable", f"cannot read file: {exc.strerror or exc}", "error")
        ]
    return source_from_bytes(data, display, abspath, max_bytes)


def source_from_bytes(
    data: bytes, display: str, abspath: str = "", max_bytes: int = MAX_FILE_BYTES
) -> tuple[Source | None, list[Notice]]:
    if len(data) > max_bytes:
        return None, [
            Notice(
                display,
                "too-large",
                f"input is above the {max_bytes:,}-byte limit; not scanned",
                "warning",
            )
        ]
    text, enc, notices = decode(data, display)
    if text is None:
        return None, notices
    longest = (
        max((len(x) for x in text.split("\n")), default=0)
        if len(text) > MAX_LINE_CHARS and not _notebook(display)
        else 0
    )
    if longest > MAX_LINE_CHARS:
        notices.append(
            Notice(
                display,
                "line-too-long",
                f"a line has {longest:,} characters, above the {MAX_LINE_CHARS:,} limit; "
                "not scanned",
                "warning",
            )
        )
        return None, notices
    return Source(display, text, enc, abspath), notices
