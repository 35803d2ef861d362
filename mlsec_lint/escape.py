"""Escaping at the output boundary: file names and file contents reach reports, notices
and CI logs, and are written by whoever controls the scanned repository.

* terminals and CI logs: no raw control characters or terminal escapes in scanned text,
  no line that starts a GitHub workflow command (``::error …``, ``::add-mask::…``) or
  contains a legacy one (``##[…]``) unless mlsec-lint means it;
* JSON (JSON, SARIF, GitLab): no lone surrogates, so the output is valid UTF-8;
* XML (JUnit, HTML): only characters XML allows, no lone surrogates.

A file name that is not valid UTF-8 arrives with surrogate escapes (``\\udcff`` for the
byte 0xff); it is shown as ``\\xff``.
"""

from __future__ import annotations

import re
from typing import TextIO

# Pattern strings, compiled by ``re`` on first use (and cached there): most outputs never
# need them, and compiling them costs a one-file scan about a millisecond.
_SURROGATE = "[\ud800-\udfff]"
_CONTROL = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"
_XML_INVALID = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]"
_COMMAND_START = r"(?m)^([ \t]*):(?=:)"


def _has_surrogates(value: str) -> bool:
    """Lone surrogates are the only characters UTF-8 cannot encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


LEGACY_COMMAND = "##["
"""The runner recognises ``##[command]`` anywhere in a line."""


def _repr(c: str) -> str:
    n = ord(c)
    if 0xDC80 <= n <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{n - 0xDC00:02x}"
    if n <= 0xFF:
        return f"\\x{n:02x}"
    return f"\\u{n:04x}"


def text(value: str) -> str:
    """One scanned value (a path, a message, a source line) for a terminal or a log: one
    line, printable, and unable to start a workflow command."""
    if value.isprintable() and LEGACY_COMMAND not in value and not value.lstrip().startswith("::"):
        return value
    out = re.sub(_CONTROL, lambda m: _repr(m.group(0)), value)
    return _neutralise(out, "\\x3a", "##\\x5b")


def _neutralise(output: str, colon: str, bracket: str) -> str:
    output = re.sub(_COMMAND_START, lambda m: m.group(1) + colon, output)
    return output.replace(LEGACY_COMMAND, bracket)


def log(output: str) -> str:
    """A whole text output (not GitHub annotations): lines that would be read as workflow
    commands are defused; undecodable characters shown escaped."""
    if _has_surrogates(output):
        output = re.sub(_SURROGATE, lambda m: _repr(m.group(0)), output)
    if "::" not in output and LEGACY_COMMAND not in output:
        return output
    return _neutralise(output, "\\x3a", "##\\x5b")


def json_output(output: str) -> str:
    """Rendered JSON: lone surrogates (only possible inside strings) become the text
    ``\\xNN``, and ``##[`` the equivalent ``##\\u005b``."""
    if _has_surrogates(output):
        output = re.sub(_SURROGATE, lambda m: "\\" + _repr(m.group(0)), output)
    return output.replace(LEGACY_COMMAND, "##\\u005b")


def xml_output(output: str) -> str:
    """Rendered XML or HTML: characters XML forbids and lone surrogates become the text
    ``\\xNN``; CR, a ``:`` starting a line and ``##[`` become character references."""
    output = re.sub(_XML_INVALID, lambda m: _repr(m.group(0)), output).replace("\r", "&#13;")
    return _neutralise(output, "&#58;", "##&#91;")


_BY_FORMAT = {"json": json_output, "sarif": json_output, "gitlab": json_output}


def output(rendered: str, fmt: str) -> str:
    """A report of format ``fmt`` as it may be written to a file or standard output."""
    if fmt in _BY_FORMAT:
        return _BY_FORMAT[fmt](rendered)
    if fmt in ("junit", "html"):
        return xml_output(rendered)
    if fmt == "github":
        return github_output(rendered)
    return log(rendered)


def github_output(rendered: str) -> str:
    """Annotations are the reporter's own commands (their values escaped by
    :func:`github_data`/:func:`github_property`); any other line is defused."""
    lines = rendered.split("\n")
    out = []
    for line in lines:
        if line.startswith(("::error ", "::warning ", "::notice ")):
            out.append(re.sub(_SURROGATE, lambda m: _repr(m.group(0)), line))
        else:
            out.append(log(line))
    return "\n".join(out)


def github_data(value: str) -> str:
    """The message of a workflow command (``%``, CR and LF escaped as the runner
    expects; other control characters and surrogates shown escaped)."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return re.sub(_CONTROL, lambda m: _repr(m.group(0)), value)


def github_property(value: str) -> str:
    """A property value of a workflow command: also ``:`` and ``,``."""
    return github_data(value).replace(":", "%3A").replace(",", "%2C")


class LineOutput:
    """A text stream for a line-based report (text, GitHub annotations): what the
    reporter writes is escaped as by :func:`output` and passed on in blocks of whole
    lines, so a large report is never held in memory whole. Call :meth:`close` at the
    end (it writes an unfinished last line)."""

    LINE_BASED = frozenset({"text", "github"})
    _BLOCK = 1 << 16

    def __init__(self, stream: TextIO, fmt: str) -> None:
        self._stream = stream
        self._fmt = fmt
        self._pending: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= self._BLOCK:
            block = "".join(self._pending)
            cut = block.rfind("\n") + 1  # escaping works on whole lines
            rest = block[cut:]
            self._pending = [rest] if rest else []
            self._size = len(rest)
            if cut:
                self._stream.write(output(block[:cut], self._fmt))
        return len(text)

    def close(self) -> None:
        block = "".join(self._pending)
        self._pending, self._size = [], 0
        if block:
            self._stream.write(output(block, self._fmt))
