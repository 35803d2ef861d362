"""Baselines: accept today's findings, fail only on new ones.

``mlsec-lint scan --write-baseline FILE`` records every current finding by its
line-independent fingerprint (:func:`mlsec_lint.fingerprints.finding_fingerprint`) with
a count; ``--baseline FILE`` then reports only findings beyond those counts. Moving code
keeps fingerprints, so old findings do not resurface; a new instance of an old problem
has another fingerprint, or exceeds its count, and is reported.

The file is sorted, stable JSON meant to be reviewed in pull requests: it names the rule,
path and object of each entry, never the matched text (which may be a credential).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence

from mlsec_lint.errors import MlsecLintError
from mlsec_lint.model import Finding, Suppression
from mlsec_lint.records import Struct, field

BASELINE_VERSION = 1


class Baseline(Struct):
    counts: Counter[str] = field(default_factory=Counter)
    source: str = ""

    def apply(self, findings: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(new, baselined): each fingerprint absorbs at most its recorded count."""
        left = Counter(self.counts)
        new: list[Finding] = []
        known: list[Finding] = []
        for f in findings:
            if f.fingerprint and left[f.fingerprint] > 0:
                left[f.fingerprint] -= 1
                f.suppression = Suppression("baseline", f"in baseline {self.source}".strip())
                known.append(f)
            else:
                new.append(f)
        return new, known


def render(findings: Iterable[Finding], paths: dict[str, str] | None = None) -> str:
    """The baseline file for ``findings`` (``paths`` maps display paths to stored ones)."""
    groups: dict[tuple[str, str, str, str], int] = {}
    for f in findings:
        path = (paths or {}).get(f.path, f.path)
        k = (path, f.rule_id, f.key, f.fingerprint)
        groups[k] = groups.get(k, 0) + 1
    entries = [
        {"path": p, "rule": r, "key": key, "fingerprint": fp, "count": n}
        for (p, r, key, fp), n in sorted(groups.items())
    ]
    doc = {"version": BASELINE_VERSION, "tool": "mlsec-lint", "findings": entries}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def load(path: str) -> Baseline:
    """Read a baseline file; any problem is a configuration error (exit 2)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise MlsecLintError(
            f"baseline {path} not found; create it with --write-baseline {path}"
        ) from None
    except (OSError, ValueError) as exc:
        raise MlsecLintError(f"cannot read baseline {path}: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("version") != BASELINE_VERSION
        or not isinstance(data.get("findings"), list)
    ):
        raise MlsecLintError(
            f"{path} is not a mlsec-lint baseline (version {BASELINE_VERSION}); "
            "write a new one with --write-baseline"
        )
    counts: Counter[str] = Counter()
    for i, entry in enumerate(data["findings"]):
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        n = entry.get("count", 1) if isinstance(entry, dict) else None
        if not isinstance(fp, str) or not fp or not isinstance(n, int) or n < 1:
            raise MlsecLintError(
                f"{path}: findings[{i}] needs a 'fingerprint' string and a positive 'count'"
            )
        counts[fp] += n
    return Baseline(counts, path)
