"""Reporters: one module per output format, each a ``report(scan, out, opts)`` function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from mlsec_lint.api import Scan


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False
    quiet: bool = False
    show_source: bool = True
    show_suppressed: bool = False
    """List suppressed findings too (text), include them with ``suppressions`` (SARIF)."""
    category: str = "mlsec-lint"
    """SARIF ``automationDetails.id`` prefix (GitHub code scanning category)."""


Reporter = Callable[["Scan", TextIO, ReportOptions], None]


def get_reporter(name: str) -> Reporter:
    """Import the reporter for ``name`` lazily (keeps start-up fast)."""
    if name == "text":
        from mlsec_lint.reporters import text

        return text.report
    if name == "json":
        from mlsec_lint.reporters import json as json_reporter

        return json_reporter.report
    if name == "sarif":
        from mlsec_lint.reporters import sarif

        return sarif.report
    if name == "github":
        from mlsec_lint.reporters import github

        return github.report
    if name == "gitlab":
        from mlsec_lint.reporters import gitlab

        return gitlab.report
    if name == "junit":
        from mlsec_lint.reporters import junit

        return junit.report
    if name == "html":
        from mlsec_lint.reporters import html

        return html.report
    raise ValueError(f"unknown format {name!r}")


FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "html")
MACHINE_FORMATS = ("json", "sarif", "github", "gitlab", "junit")
"""Formats read by programs: no banners, progress or statistics on standard output."""
