"""A POSIX-shell word splitter that keeps character offsets.

``shlex`` splits words correctly but reports no positions, and a finding inside a
``RUN`` line or a ``sh -c "…"`` string must point at the offending word. This lexer
covers what launch commands and install lines use: quoting (single, double, ``$'…'``),
backslash escapes and line continuations, comments, the control operators
``&& || ; | & ( )`` and newlines, redirections, ``VAR=value`` prefixes, and ``$(…)`` /
backquote substitutions kept inside their word. It never evaluates anything.

Offsets are indexes into the input string; callers map them to lines and columns.
"""

from __future__ import annotations

import bisect
import re

from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field

_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")", "\n")
_REDIRECT_START = set("<>")
_OP_START = frozenset("&|;()\n")
_SPECIAL = frozenset(" \t\n;|()&\\'\"$`<>")
"""Characters a word's scan must look at one by one: ends of words, quotes, escapes,
substitutions, and ``<``/``>`` (``&`` after them is part of a redirection)."""
_ORDINARY = re.compile("[^" + re.escape("".join(sorted(_SPECIAL))) + "]+")
_WRAPPERS = {
    "exec",
    "nohup",
    "sudo",
    "time",
    "command",
    "builtin",
    "stdbuf",
    "nice",
    "ionice",
    "setsid",
    "tini",
    "dumb-init",
    "gosu",
    "su-exec",
    "chpst",
    "xargs",
}
_WRAPPER_TAKES_ARG = {"gosu": 1, "su-exec": 1}
_WRAPPER_FLAGS_WITH_VALUE = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "nice": {"-n"},
    "ionice": {"-c", "-n"},
    "stdbuf": {"-i", "-o", "-e"},
}


class Word(Struct, frozen=True):
    """A shell word: its unquoted text and the [start, end) offsets of its source."""

    text: str
    start: int
    end: int
    quoted: bool = False
    dynamic: bool = False
    """True when the word contains an unexpanded ``$VAR`` or ``$(…)``."""


class Command(Struct):
    """A simple command: environment assignments, then argv words."""

    assigns: list[Word] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    separator: str = ""  # the operator that ended the command ("" at end of input)
    stdout_redirected: bool = False
    """Standard output goes to a file (``> f``, ``>> f``, ``1> f``, ``&> f``), not the log."""

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    @property
    def start(self) -> int:
        first = self.assigns or self.words
        return first[0].start if first else 0


class ShellSyntaxError(ValueError):
    pass


SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
"""Programs that read a script (``-c`` or a file) as a POSIX-like shell."""


def _is_assignment(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return (
        bool(eq)
        and bool(name)
        and (name[0].isalpha() or name[0] == "_")
        and all(c.isalnum() or c == "_" for c in name)
    )


def tokenize(src: str, strict: bool = False) -> list[Word | str]:
    """Split ``src`` into words and operator strings.

    Unterminated quotes end at the end of input (or raise when ``strict``).
    """
    out: list[Word | str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and i + 1 < n and src[i + 1] == "\n":
            i += 2
            continue
        if c == "#":
            while i < n and src[i] != "\n":
                i += 1
            continue
        op = None
        if c in _OP_START:
            op = next((o for o in _OPERATORS if src.startswith(o, i)), None)
        if op is not None:
            if op == "&" and src.startswith("&>", i):
                op = None  # redirection &>file
            else:
                out.append(op)
                i += len(op)
                continue
        # a word (possibly a redirection)
        start = i
        buf: list[str] = []
        quoted = False
        dynamic = False
        while i < n:
            c = src[i]
            if c not in _SPECIAL:  # a run of ordinary characters
                m = _ORDINARY.match(src, i)
                assert m is not None
                buf.append(m.group())
                i = m.end()
                continue
            if c in " \t\n;|()" or (
                c == "&" and not src.startswith("&>", i) and not (buf and buf[-1] in "<>")
            ):
                break
            if c == "\\":
                if i + 1 < n:
                    if src[i + 1] != "\n":
                        buf.append(src[i + 1])
                    i += 2
                else:
                    i += 1
                continue
            if c == "'":
                j = src.find("'", i + 1)
                if j < 0:
                    if strict:
                        raise ShellSyntaxError("unterminated single quote")
                    j = n
                buf.append(src[i + 1 : j])
                quoted = True
                i = min(j + 1, n)
                continue
            if c == "$" and i + 1 < n and src[i + 1] == "'":
                j = i + 2
                part: list[str] = []
                while j < n and src[j] != "'":
                    if src[j] == "\\" and j + 1 < n:
                        part.append({"n": "\n", "t": "\t"}.get(src[j + 1], src[j + 1]))
                        j += 2
                        continue
                    part.append(src[j])
                    j += 1
                buf.append("".join(part))
                quoted = True
                i = min(j + 1, n)
                continue
            if c == '"':
                j = i + 1
                part = []
                while j < n and src[j] != '"':
                    if src[j] == "\\" and j + 1 < n and src[j + 1] in '"\\$`\n':
                        if src[j + 1] != "\n":
                            part.append(src[j + 1])
                        j += 2
                        continue
                    if (
                        src[j] == "$"
                        and j + 1 < n
                        and (src[j + 1].isalpha() or src[j + 1] in "{(_")
                    ):
                        dynamic = True
                    if src[j] == "$" and src.startswith("$(", j):
                        k = _skip_subst(src, j + 2, ")")
                        part.append(src[j:k])
                        j = k
                        continue
                    part.append(src[j])
                    j += 1
                if j >= n and strict:
                    raise ShellSyntaxError("unterminated double quote")
                buf.append("".join(part))
                quoted = True
                i = min(j + 1, n)
                continue
            if c == "$" and src.startswith("$(", i):
                k = _skip_subst(src, i + 2, ")")
                buf.append(src[i:k])
                dynamic = True
                i = k
                continue
            if c == "`":
                j = src.find("`", i + 1)
                j = n if j < 0 else j + 1
                buf.append(src[i:j])
                dynamic = True
                i = j
                continue
            if c == "$" and i + 1 < n and (src[i + 1].isalpha() or src[i + 1] in "{_"):
                dynamic = True
            buf.append(c)
            i += 1
        out.append(Word("".join(buf), start, i, quoted, dynamic))
    return out


def _skip_subst(src: str, i: int, close: str) -> int:
    depth = 1
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == "(":
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _is_redirection(text: str) -> bool:
    t = text.lstrip("0123456789")
    return bool(t) and (t[0] in _REDIRECT_START or t.startswith("&>"))


def split_commands(src: str) -> list[Command]:
    """Split a shell string into simple commands (pipelines and lists flattened)."""
    commands: list[Command] = []
    cur = Command()
    tokens = tokenize(src)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if isinstance(tok, str):
            if cur.words or cur.assigns:
                cur.separator = tok
                commands.append(cur)
            cur = Command()
            i += 1
            continue
        if _is_redirection(tok.text) and not tok.quoted:
            # "> file" takes the next word; ">file" and "2>&1" are self-contained
            bare = tok.text.lstrip("0123456789").lstrip("&")
            fd = tok.text[: len(tok.text) - len(bare)]
            if fd in ("", "1", "&") and bare.startswith(">") and not bare.startswith(">&"):
                cur.stdout_redirected = True
            if (
                bare in (">", ">>", "<", "<<", "<<<", ">|", "<>", ">&", "<&")
                and i + 1 < len(tokens)
                and isinstance(tokens[i + 1], Word)
            ):
                i += 2
            else:
                i += 1
            continue
        if not cur.words and _is_assignment(tok.text):
            cur.assigns.append(tok)
        elif not cur.words and tok.text in (
            "!",
            "{",
            "}",
            "then",
            "do",
            "else",
            "elif",
            "if",
            "while",
            "until",
            "fi",
            "done",
            "esac",
        ):
            pass
        else:
            cur.words.append(tok)
        i += 1
    if cur.words or cur.assigns:
        commands.append(cur)
    return commands


def strip_wrappers(words: list[Word]) -> list[Word]:
    """Drop ``exec``, ``sudo -u x``, ``env A=1``, ``nohup`` … in front of the real program."""
    i = 0
    while i < len(words):
        w = words[i].text
        base = w.rsplit("/", 1)[-1]
        if base == "env":
            i += 1
            while i < len(words) and (
                words[i].text.startswith("-") or _is_assignment(words[i].text)
            ):
                i += 1
            continue
        if base in _WRAPPERS:
            i += 1
            with_value = _WRAPPER_FLAGS_WITH_VALUE.get(base, set())
            while i < len(words) and words[i].text.startswith("-"):
                flag = words[i].text
                i += 2 if flag in with_value else 1
            if base == "xargs":
                continue
            i += _WRAPPER_TAKES_ARG.get(base, 0)
            if base in ("tini", "dumb-init") and i < len(words) and words[i].text == "--":
                i += 1
            continue
        break
    return words[i:]


def env_prefix(cmd: Command) -> dict[str, Word]:
    """``VAR=value`` assignments before a command (and after ``env``)."""
    out = {w.text.split("=", 1)[0]: w for w in cmd.assigns}
    words = cmd.words
    if words and words[0].text.rsplit("/", 1)[-1] == "env":
        for w in words[1:]:
            if _is_assignment(w.text):
                out[w.text.split("=", 1)[0]] = w
            elif not w.text.startswith("-"):
                break
    return out


class OffsetMap:
    """Maps offsets in a string assembled from source fragments back to line/column."""

    __slots__ = ("_cols", "_lines", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._lines: list[int] = []
        self._cols: list[int] = []

    def add(self, offset: int, line: int, col: int) -> None:
        """Characters from ``offset`` on come from ``line``/``col`` (1-based) onwards."""
        self._starts.append(offset)
        self._lines.append(line)
        self._cols.append(col)

    @classmethod
    def for_text(cls, text: str, line: int = 1, col: int = 1) -> OffsetMap:
        """A map for ``text`` that starts at ``line``/``col`` and spans its own newlines."""
        m = cls()
        m.add(0, line, col)
        off = 0
        for ln in text.split("\n")[:-1]:
            off += len(ln) + 1
            line += 1
            m.add(off, line, 1)
        return m

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return (self._lines[0], self._cols[0]) if self._lines else (1, 1)
        return self._lines[i], self._cols[i] + (offset - self._starts[i])

    def span(self, start: int, end: int) -> Span:
        """The span of the characters ``[start, end)`` (at least the first one)."""
        last = max(start, end - 1)
        starts = self._starts
        i = bisect.bisect_right(starts, start) - 1
        if i < 0 or (i + 1 < len(starts) and last >= starts[i + 1]):
            line, col = self.position(start)
            eline, ecol = self.position(last)
            return Span(line, col, eline, ecol + 1)
        # one fragment holds the whole range (a word on one line)
        line, col0, offset = self._lines[i], self._cols[i], starts[i]
        return Span(line, col0 + start - offset, line, col0 + last - offset + 1)
