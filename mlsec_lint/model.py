"""Value types shared by every stage: severities, spans, findings and notices."""

from __future__ import annotations

import enum
from typing import Any

from mlsec_lint.records import Struct, field


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {choices})") from None


CATEGORIES: tuple[str, ...] = (
    "tls",
    "storage",
    "endpoint",
    "pinning",
    "supply-chain",
    "secrets",
    "runtime-hardening",
    "suppression",
)


class Span(Struct, frozen=True, order=True, gc=False):
    """A source range. Lines and columns are 1-based; ``end_col`` is exclusive.

    The most numerous objects of a scan: ``gc=False`` (four integers never form a
    reference cycle) keeps them out of the garbage collector's lists and 16 bytes smaller.
    """

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, line: int, col: int = 1) -> Span:
        return cls(line, col, line, col + 1)

    def merge(self, other: Span) -> Span:
        start = min((self.line, self.col), (other.line, other.col))
        end = max((self.end_line, self.end_col), (other.end_line, other.end_col))
        return Span(start[0], start[1], end[0], end[1])


class Suppression(Struct, frozen=True):
    """Why a finding is not counted: an inline comment, an annotation, config or baseline."""

    kind: str  # "inline" | "annotation" | "config" | "baseline"
    reason: str
    line: int | None = None
    """Line of the comment or annotation that suppresses (inline and annotation kinds)."""
    col: int | None = None


class FixPlan(Struct, frozen=True):
    """A rule's fix for one finding, as data: what to do and where (see mlsec_lint.fix).

    ``span`` is the text the operation works on (a value, a keyword argument, a flag);
    ``anchor`` the object it is relative to (a call, a container mapping). The edit itself
    is computed from the file when fixes are applied.
    """

    operation: str
    applicability: str  # "safe" | "unsafe"
    description: str
    span: Span
    anchor: Span
    args: tuple[tuple[str, Any], ...] = ()

    def arg(self, name: str, default: Any = None) -> Any:
        return next((v for k, v in self.args if k == name), default)


class Finding(Struct):
    rule_id: str
    rule_name: str
    title: str
    category: str
    severity: Severity
    path: str
    span: Span
    message: str
    source_line: str
    key: str = ""
    """Line-independent identity of the offending object (kind/name/container, package …)."""
    suppression: Suppression | None = None
    fingerprint: str = ""
    """Line-independent identity: rule, repository-relative path, fact key and the
    normalized matched text (see :mod:`mlsec_lint.baseline`). Set by the scan."""
    annotations: Any = None
    """``metadata.annotations`` of the Kubernetes object behind the finding, if any."""
    also: tuple[str, ...] = ()
    """Rules whose findings on this line and in this category were merged into this one
    (one finding per cause; the message names them)."""
    fix: FixPlan | None = None
    """The rule's fix for this finding, when it has one that applies here."""
    merged: tuple[Finding, ...] = ()
    """The findings merged into this one (one finding per cause): reports show only this
    one, but their fixes are still offered and applied with it."""

    def with_merged(self) -> tuple[Finding, ...]:
        """This finding and every finding merged into it."""
        return (self, *(m for f in self.merged for m in f.with_merged()))

    rendered_from: str = ""
    """For a finding in a rendered Helm manifest, moved to the chart's source: the
    virtual path it was found in (annotations of the rendered object still apply)."""

    def _compared(self) -> tuple[Any, ...]:
        # what a finding is: not its annotations, fix, merged findings or rendered origin
        return (
            self.rule_id,
            self.rule_name,
            self.title,
            self.category,
            self.severity,
            self.path,
            self.span,
            self.message,
            self.source_line,
            self.key,
            self.suppression,
            self.fingerprint,
            self.also,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Finding:
            return NotImplemented
        assert isinstance(other, Finding)
        return self._compared() == other._compared()

    __hash__ = None  # type: ignore[assignment]  # mutable: findings are not set members

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.col

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.col, self.rule_id, self.message)


class Notice(Struct, frozen=True):
    """Something the user must know about a file that is not a finding.

    Unparseable, undecodable, too large, binary or templated files are never skipped
    silently: each produces a notice with a stable ``code``.
    """

    path: str
    code: str
    message: str
    level: str = "warning"  # "error" | "warning" | "note"
    line: int | None = None

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.code)


class ScanResult(Struct):
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    files_scanned: int = 0
    files_by_kind: dict[str, int] = field(default_factory=dict)
    rules_run: int = 0

    @property
    def baselined(self) -> int:
        """How many of the suppressed findings were matched by the baseline."""
        return sum(1 for f in self.suppressed if f.suppression and f.suppression.kind == "baseline")
