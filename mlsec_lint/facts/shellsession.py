"""State of a shell analysis: the session of one Dockerfile stage or script (facts,
downloads and copies so far, in order), the per-shell working directory and variables,
and the small helpers every command handler uses.

The walk over the commands is :mod:`mlsec_lint.facts.shellcmds`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.parsers.shell import Word
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict

SpanOf = Callable[[Word], Span]


class Copy(Struct):
    """A Dockerfile ``COPY``/``ADD`` from the build context."""

    sources: list[str]
    dest: str  # absolute container path
    dest_dir: bool


class Session(Struct):
    """State shared by the commands of one Dockerfile stage or one script, in order."""

    path: str
    origin: str  # "dockerfile" | "shell"
    owner: str  # "stage/<name>" or "script"
    variables: dict[str, str] = field(default_factory=dict)
    workdir: str = ""
    copies: list[Copy] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    downloads: list[PDict] = field(default_factory=list)
    clones: list[tuple[str, PDict]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    """Facts numbered per kind (:meth:`key`)."""
    analysed: int = 0
    """Commands analysed so far (at most ``shellcmds.MAX_COMMANDS``)."""
    skipped: int = 0
    """Commands past the budget, not analysed."""
    skipped_from: int | None = None
    """The line of the first command not analysed."""

    def key(self, what: str) -> str:
        n = self.counts.get(what, 0)
        self.counts[what] = n + 1
        return f"{self.owner}/{what}/{n}"

    def context_paths(self, p: str, cwd: str) -> list[str]:
        """Build-context paths that may hold the file a command names as ``p``."""
        if self.origin != "dockerfile":
            return [posixpath.normpath(p)] if p and not p.startswith("/") else []
        absolute = posixpath.normpath(posixpath.join(cwd or "/", p))
        out: list[str] = []
        for copy in reversed(self.copies):
            dest = posixpath.normpath(copy.dest)
            if copy.dest_dir:
                if absolute == dest:
                    out.extend(posixpath.normpath(src) for src in copy.sources)
                elif absolute.startswith(dest.rstrip("/") + "/"):
                    rest = absolute[len(dest.rstrip("/")) + 1 :]
                    for src in copy.sources:
                        if posixpath.basename(src.rstrip("/")) == rest:
                            out.append(posixpath.normpath(src))
                        out.append(posixpath.normpath(posixpath.join(src, rest)))
            elif absolute == dest:
                out.extend(posixpath.normpath(s) for s in copy.sources)
            if out:
                break
        if not p.startswith("/"):
            out.append(posixpath.normpath(p))
        seen: list[str] = []
        for c in out:
            if c not in seen and not c.startswith(".."):
                seen.append(c)
        return seen


class _Shell(Struct):
    """Per-shell state: each ``RUN`` starts a new shell; a script is one shell."""

    cwd: str
    variables: dict[str, str]


def _base(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _put(data: PDict, key: str, value: Any, span: Span) -> None:
    data.put(key, value, span, span)
