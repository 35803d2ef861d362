"""Positioned text, arguments and environment of a launch.

A :class:`Doc` is a text that knows the source position of each character (also for text
embedded in a YAML string or a Dockerfile instruction); an :class:`Arg` is one word of a
command line in it. The environment maps variable names to values written in the same
container, stage or script, and :func:`expand` replaces ``$VAR`` / ``${VAR}`` /
``$(VAR)`` references with them; nothing is executed.
"""

from __future__ import annotations

import bisect
import itertools
import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlsec_lint.linear import sub_variables
from mlsec_lint.model import Span
from mlsec_lint.parsers.shell import Word
from mlsec_lint.records import Struct
from mlsec_lint.source import line_starts

# --------------------------------------------------------------------------- text


class Doc:
    """A text and the source position of each of its characters."""

    __slots__ = ("_pos", "text")

    def __init__(self, text: str, pos: Callable[[int], tuple[int, int]]) -> None:
        self.text = text
        self._pos = pos

    @classmethod
    def of_file(cls, text: str, line: int = 1, col: int = 1) -> Doc:
        return cls.with_starts(text, line_starts(text), line, col)

    @classmethod
    def with_starts(cls, text: str, starts: Sequence[int], line: int = 1, col: int = 1) -> Doc:
        def pos(offset: int) -> tuple[int, int]:
            i = bisect.bisect_right(starts, offset) - 1
            return (line + i, (col if i == 0 else 1) + offset - starts[i])

        return cls(text, pos)

    def position(self, offset: int) -> tuple[int, int]:
        return self._pos(max(0, offset))

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        eline, ecol = self.position(max(start, end - 1))
        return Span(line, col, eline, ecol + 1)


_PLUS_ONE = (1).__add__


class FileText:
    """Offsets of line/column positions in a whole file (to re-read YAML scalars)."""

    __slots__ = ("doc", "starts")

    def __init__(self, text: str) -> None:
        # the offset of each line: the running sum of line lengths (newline included),
        # in C, without a Python step per line
        lengths = map(_PLUS_ONE, map(len, text.split("\n")))
        starts = array("q", itertools.accumulate(lengths, initial=0))
        starts.pop()  # the end of the text, where no line starts
        self.starts = starts
        self.doc = Doc.with_starts(text, starts)

    def offset(self, line: int, col: int) -> int:
        if line - 1 >= len(self.starts):
            return len(self.doc.text)
        return min(len(self.doc.text), self.starts[max(0, line - 1)] + col - 1)


def align(text: str, src: str, start: int, end: int) -> list[int]:
    """For each character of ``text`` (a decoded string), its offset in ``src[start:end]``.

    ``text`` is what a YAML scalar, a JSON string or a shell word decodes to; ``src`` is
    what is written (quotes, escapes, block indentation, continuation lines). Characters
    are matched in order; decoding artefacts (folded line breaks, escapes) keep the
    position of the nearest written character.
    """
    out: list[int] = []
    j = start
    last = max(start, end - 1)
    for ch in text:
        if j >= end:
            out.append(last)
            continue
        if ch in " \t\n":
            if src[j] in " \t\n":
                out.append(j)
                j += 1
            else:
                out.append(j)
            continue
        k = src.find(ch, j, min(end, j + 256))
        if k < 0:
            out.append(j)
            continue
        out.append(k)
        j = k + 1
    out.append(min(j, end))
    return out


class Arg(Struct):
    """One argv word and where it is written (or the image it comes from)."""

    text: str
    doc: Doc | None = None
    start: int = 0
    end: int = 0
    fixed: Span | None = None
    source: str = "flag"
    dynamic: bool = False
    expanded: bool = False
    _aligned: list[int] | None = None
    raw: str | None = None
    """The text before variables were expanded (positions are aligned against it)."""
    _span: Span | None = None

    @classmethod
    def image(cls, text: str, span: Span) -> Arg:
        return cls(text, fixed=span, source="image-default", dynamic="$" in text)

    def _map(self) -> list[int]:
        if self._aligned is None:
            assert self.doc is not None
            text = self.raw if self.raw is not None else self.text
            self._aligned = align(text, self.doc.text, self.start, self.end)
        return self._aligned

    @property
    def span(self) -> Span:
        if self.fixed is not None or self.doc is None:
            return self.fixed or Span(1, 1, 1, 2)
        if self._span is None:
            self._span = self.doc.span(self.start, self.end)
        return self._span

    def sub_span(self, i: int, j: int) -> Span:
        """The span of ``text[i:j]`` (after expansion: from ``i`` to the end of the word,
        as long as the text before ``i`` did not change)."""
        if self.fixed is not None or self.doc is None or i >= j:
            return self.span
        m = self._map()
        if self.expanded:
            if self.raw is None or self.raw[:i] != self.text[:i] or i >= len(self.raw):
                return self.span
            return self.doc.span(m[i], max(m[i] + 1, self.end))
        i = min(i, len(m) - 1)
        j = min(max(j, i + 1), len(m) - 1)
        start = m[i]
        end = m[j - 1] + 1
        return self.doc.span(start, max(start + 1, end))

    def inner(self) -> Doc:
        """This word's text as a document whose positions map to the source (``sh -c``)."""
        if self.fixed is not None or self.doc is None or self.expanded:
            span = self.span
            return Doc(self.text, lambda _o: (span.line, span.col))
        m = self._map()
        doc = self.doc
        return Doc(self.text, lambda o: doc.position(m[min(o, len(m) - 1)]))


def args_of_words(words: Iterable[Word], doc: Doc) -> list[Arg]:
    return [Arg(w.text, doc, w.start, w.end, dynamic=w.dynamic) for w in words]


# --------------------------------------------------------------------------- environment


class EnvVar(Struct, frozen=True):
    name: str
    value: Any
    span: Span
    kspan: Span
    source: str = "env"


Env = dict[str, EnvVar]

_SHELL_VAR = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?:(:?[-=+?])([^}]*))?\}|([A-Za-z_]\w*))")
_K8S_VAR = re.compile(r"(?<!\$)\$\(([A-Za-z_][\w.-]*)\)")


def expand(text: str, env: Env, style: str) -> tuple[str, bool]:
    """Replace variable references with values written in ``env``.

    ``style`` is ``shell`` (``$VAR``, ``${VAR}``, ``${VAR:-default}``) or ``k8s``
    (``$(VAR)``). Returns the text and whether every reference was resolved.
    """
    if "+" in style:
        ok = True
        for part in style.split("+"):
            text, done = expand(text, env, part)
            ok = ok and done
        return text, ok
    resolved = True

    def value_of(name: str) -> str | None:
        var = env.get(name)
        if var is None or not isinstance(var.value, str):
            return None
        return var.value

    if style == "k8s":

        def k8s(m: re.Match[str]) -> str:
            nonlocal resolved
            v = value_of(m.group(1))
            if v is None:
                resolved = False
                return m.group(0)
            return v

        return _K8S_VAR.sub(k8s, text), resolved

    def shell(m: re.Match[str]) -> str:
        nonlocal resolved
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        v = value_of(name)
        if op in (":-", "-", ":=", "="):
            if v:
                return v
            if name in env and op in ("-", "=") and v == "":
                return ""
            if "$" in word:
                resolved = False
            return word
        if op in (":+", "+"):
            return word if v else ""
        if v is None:
            resolved = False
            return m.group(0)
        return v

    return sub_variables(_SHELL_VAR, shell, text), resolved


def _expand_arg(arg: Arg, env: Env, style: str) -> Arg:
    if not arg.dynamic or style == "none":
        return arg
    text, ok = expand(arg.text, env, style)
    if text == arg.text:
        return arg
    raw = arg.raw if arg.raw is not None else arg.text
    return Arg(text, arg.doc, arg.start, arg.end, arg.fixed, arg.source, not ok, True, None, raw)


def _is_assignment(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return bool(eq) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


def _assign(env: Env, arg: Arg, source: str = "env", style: str = "shell") -> None:
    name, _, value = arg.text.partition("=")
    expanded, _ok = expand(value, env, style) if "$" in value else (value, True)
    vspan = arg.sub_span(len(name) + 1, len(arg.text)) if value else arg.span
    env[name] = EnvVar(name, expanded, vspan, arg.span, source)
