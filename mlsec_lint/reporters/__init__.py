"""Reporters: one module per output format, each a ``report(scan, out, opts)`` function."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from mlsec_lint.records import Struct

if TYPE_CHECKING:
    from mlsec_lint.api import Scan


class ReportOptions(Struct, frozen=True):
    color: bool = False
    quiet: bool = False
    show_source: bool = True
    show_suppressed: bool = False
    """List suppressed findings too (text), include them with ``suppressions`` (SARIF)."""
    category: str = "mlsec-lint"
    """SARIF ``automationDetails.id`` prefix (GitHub code scanning category)."""


Reporter = Callable[["Scan", TextIO, ReportOptions], None]


def get_reporter(name: str) -> Reporter:
    """Import the reporter for ``name`` lazily (keeps start-up fast): one module per
    format, ``mlsec_lint/reporters/<format>.py``."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}")
    module = importlib.import_module(f"mlsec_lint.reporters.{name}")
    report: Reporter = module.report
    return report


FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "html")
MACHINE_FORMATS = ("json", "sarif", "github", "gitlab", "junit")
"""Formats read by programs: no banners, progress or statistics on standard output."""
