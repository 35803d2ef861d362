"""Source positions for TOML documents.

``tomllib`` parses TOML correctly but reports no positions. This locator scans the same
text once and records where each key and each string value is written, addressed by
its key path (``("project", "dependencies")``). Values are always taken from
``tomllib``; the locator only answers "where is this string / key". It tolerates
anything it does not understand by skipping to the end of the line, so a position is
at worst missing (the caller falls back to the key or the table header), never wrong
about which value it names.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.source import line_starts

Path = tuple[str, ...]


class TomlPositions(Struct):
    keys: dict[Path, Span] = field(default_factory=dict)
    """The span of each key, by full path (first occurrence)."""
    strings: dict[Path, list[tuple[str, Span]]] = field(default_factory=dict)
    """String values by the path of the key holding them (array items share the path)."""
    tables: dict[Path, Span] = field(default_factory=dict)
    """The span of each ``[table]`` / ``[[array]]`` header (first occurrence)."""

    def key(self, path: Path) -> Span | None:
        return self.keys.get(path)

    index: dict[Path, dict[str, list[Span]]] = field(default_factory=dict)
    """``strings`` by path and value, built on first use (lookups stay O(1) for arrays
    of any length)."""

    def string(self, path: Path, value: str, nth: int = 0) -> Span | None:
        """The span of the ``nth`` string equal to ``value`` under ``path``."""
        by_value = self.index.get(path)
        if by_value is None:
            by_value = self.index[path] = {}
            for text, span in self.strings.get(path, ()):
                by_value.setdefault(text, []).append(span)
        spans = by_value.get(value, ())
        return spans[nth] if 0 <= nth < len(spans) else None

    def near(self, path: Path) -> Span:
        """The best span for ``path``: its key, else the nearest enclosing key or table."""
        p = path
        while p:
            span = self.keys.get(p) or self.tables.get(p)
            if span is not None:
                return span
            p = p[:-1]
        return Span(1, 1, 1, 2)


_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "e": "\x1b",
}


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.starts = line_starts(text)
        self.out = TomlPositions()
        self.strings: dict[Path, list[tuple[str, Span]]] = defaultdict(list)

    def pos(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.pos(start)
        eline, ecol = self.pos(max(start, end - 1))
        return Span(line, col, eline, ecol + 1)

    # ---------------------------------------------------------------- low level

    def skip_ws(self, newlines: bool = False) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                while self.i < self.n and self.s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def skip_line(self) -> None:
        while self.i < self.n and self.s[self.i] != "\n":
            self.i += 1

    def string(self) -> tuple[str, int, int] | None:
        """A string at the cursor: (decoded value, start, end offsets)."""
        s, i = self.s, self.i
        start = i
        if s.startswith('"""', i) or s.startswith("'''", i):
            quote = s[i : i + 3]
            j = s.find(quote, i + 3)
            if j < 0:
                return None
            while s.startswith(quote[0], j + 3) and j + 3 < self.n:
                j += 1  # up to two extra quotes belong to the content
            body = s[i + 3 : j]
            if body.startswith("\n"):
                body = body[1:]
            if quote == '"""':
                body = _unescape(body, multiline=True)
            self.i = j + 3
            return body, start, self.i
        if i < self.n and s[i] == "'":
            j = s.find("'", i + 1)
            nl = s.find("\n", i + 1)
            if j < 0 or (0 <= nl < j):
                return None
            self.i = j + 1
            return s[i + 1 : j], start, self.i
        if i < self.n and s[i] == '"':
            j = i + 1
            while j < self.n and s[j] != '"':
                if s[j] == "\n":
                    return None
                j += 2 if s[j] == "\\" else 1
            if j >= self.n:
                return None
            self.i = j + 1
            return _unescape(s[i + 1 : j]), start, self.i
        return None

    def key(self) -> list[tuple[str, int, int]] | None:
        """A dotted key: its parts with offsets."""
        parts: list[tuple[str, int, int]] = []
        while True:
            self.skip_ws()
            if self.i >= self.n:
                return None
            c = self.s[self.i]
            if c in "\"'":
                found = self.string()
                if found is None:
                    return None
                parts.append(found)
            elif c in _BARE:
                j = self.i
                while j < self.n and self.s[j] in _BARE:
                    j += 1
                parts.append((self.s[self.i : j], self.i, j))
                self.i = j
            else:
                return None
            self.skip_ws()
            if self.i < self.n and self.s[self.i] == ".":
                self.i += 1
                continue
            return parts

    # ---------------------------------------------------------------- structure

    def document(self) -> TomlPositions:
        table: Path = ()
        while self.i < self.n:
            self.skip_ws(newlines=True)
            if self.i >= self.n:
                break
            c = self.s[self.i]
            if c == "[":
                start = self.i
                double = self.s.startswith("[[", self.i)
                self.i += 2 if double else 1
                parts = self.key()
                if parts is None:
                    self.skip_line()
                    continue
                self.skip_ws()
                close = "]]" if double else "]"
                if self.s.startswith(close, self.i):
                    self.i += len(close)
                table = tuple(p for p, _, _ in parts)
                self.out.tables.setdefault(table, self.span(start, self.i))
                for k in range(1, len(table) + 1):
                    self.out.keys.setdefault(table[:k], self.span(parts[k - 1][1], parts[k - 1][2]))
                self.skip_line()
                continue
            parts = self.key()
            if parts is None:
                self.skip_line()
                continue
            path = table + tuple(p for p, _, _ in parts)
            self.out.keys.setdefault(path, self.span(parts[0][1], parts[-1][2]))
            self.skip_ws()
            if self.i < self.n and self.s[self.i] == "=":
                self.i += 1
                self.skip_ws()
                self.value(path)
            self.skip_line()
        self.out.strings = dict(self.strings)
        return self.out

    def value(self, path: Path, depth: int = 0) -> None:
        if self.i >= self.n or depth > 100:
            return
        c = self.s[self.i]
        if c in "\"'":
            found = self.string()
            if found is not None:
                text, start, end = found
                self.strings[path].append((text, self.span(start, end)))
            return
        if c == "[":
            self.i += 1
            while self.i < self.n:
                self.skip_ws(newlines=True)
                if self.i >= self.n:
                    return
                if self.s[self.i] == "]":
                    self.i += 1
                    return
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                before = self.i
                self.value(path, depth + 1)
                if self.i == before:
                    self.i += 1
            return
        if c == "{":
            self.i += 1
            while self.i < self.n:
                self.skip_ws(newlines=True)
                if self.i >= self.n:
                    return
                if self.s[self.i] == "}":
                    self.i += 1
                    return
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                parts = self.key()
                if parts is None:
                    self.i += 1
                    continue
                inner = path + tuple(p for p, _, _ in parts)
                self.out.keys.setdefault(inner, self.span(parts[0][1], parts[-1][2]))
                self.skip_ws()
                if self.i < self.n and self.s[self.i] == "=":
                    self.i += 1
                    self.skip_ws()
                    self.value(inner, depth + 1)
            return
        # number, boolean, date: up to a delimiter
        while self.i < self.n and self.s[self.i] not in ",]}\n#":
            self.i += 1


def _unescape(body: str, multiline: bool = False) -> str:
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            try:
                out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
            except ValueError:
                out.append(body[i : i + 2 + width])
            i += 2 + width
        elif multiline and nxt in " \t\n":
            j = i + 1
            while j < n and body[j] in " \t\r\n":
                j += 1
            i = j  # line-ending backslash trims following whitespace
        else:
            out.append(c)
            i += 1
    return "".join(out)


def locate(text: str) -> TomlPositions:
    """Positions of the keys, tables and string values of a TOML document."""
    return _Scanner(text).document()
