"""A progress line for long scans on an interactive terminal.

Shown on standard error only when a person is watching: standard error is a terminal,
no CI system is detected and the report is not a machine-readable stream. It appears
once a scan has run for about a second, redraws at most ten times a second, and erases
itself before the report is printed.
"""

from __future__ import annotations

import os
import time
from typing import TextIO

CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "JENKINS_URL",
    "TF_BUILD",
    "CIRCLECI",
    "TEAMCITY_VERSION",
    "BITBUCKET_BUILD_NUMBER",
)
DELAY = 1.0
INTERVAL = 0.1
WIDTH = 28


def wanted(stream: TextIO, machine_readable: bool) -> bool:
    """Whether a progress line may be shown on ``stream``."""
    if machine_readable or os.environ.get("TERM") == "dumb":
        return False
    if any(os.environ.get(name) for name in CI_VARIABLES):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Callable as ``ScanOptions.progress``: ``(phase, done, total)``."""

    def __init__(self, stream: TextIO, clock: object = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock  # injectable for tests
        self.start = self._now()
        self.last = 0.0
        self.shown = False

    def _now(self) -> float:
        return float(self.clock())  # type: ignore[operator]

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self._now()
        if now - self.start < DELAY or (now - self.last < INTERVAL and done != total):
            return
        self.last = now
        if total:
            filled = int(WIDTH * done / total)
            bar = "#" * filled + "." * (WIDTH - filled)
            text = f"[{bar}] {done}/{total} files  {phase}"
        else:
            text = f"{phase} …"
        self.stream.write(f"\r\x1b[2K{text}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the line (before anything else is written)."""
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False
