"""Reading scanned files: size caps, binary detection, encodings and line indexing.

Nothing here raises on bad input: problems become :class:`~mlsec_lint.model.Notice`
values with stable codes, and the caller decides what to scan.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field

from mlsec_lint.model import Notice

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


@dataclass(slots=True)
class Source:
    """A decoded text file. ``text`` has LF line endings only."""

    path: str  # repository-relative display path, with "/" separators
    text: str
    encoding: str = "utf-8"
    abspath: str = ""
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def line(self, number: int) -> str:
        """The text of 1-based line ``number`` (empty when out of range)."""
        lines = self.lines
        return lines[number - 1] if 1 <= number <= len(lines) else ""


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
            data = fh.read(max_bytes + 1)
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
