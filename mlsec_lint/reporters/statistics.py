"""``--statistics``: counts per rule, category, severity and file kind, including the
findings that suppressions and the baseline set aside."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from mlsec_lint.model import CATEGORIES, Finding, Severity

if TYPE_CHECKING:
    from mlsec_lint.api import Scan


def _split(scan: Scan) -> tuple[list[Finding], list[Finding], list[Finding]]:
    result = scan.result
    baselined = [f for f in result.suppressed if f.suppression and f.suppression.kind == "baseline"]
    suppressed = [f for f in result.suppressed if f not in baselined]
    return result.findings, suppressed, baselined


def render(scan: Scan) -> str:
    findings, suppressed, baselined = _split(scan)
    rules = {r.id: r for r in scan.rules}
    lines = ["Statistics", ""]

    def table(title: str, keys: list[str], count: dict[str, Counter[str]], extra: str = "") -> None:
        width = max([len(k) for k in keys] + [len(title)])
        lines.append(f"  {title:<{width}}  findings  suppressed  baselined{extra}")
        for k in keys:
            c = count[k]
            lines.append(f"  {k:<{width}}  {c['f']:>8}  {c['s']:>10}  {c['b']:>9}")
        lines.append("")

    kind_of = {fa.path: fa.kind for fa in scan.analyses}

    def counts(key: str) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {}
        for tag, group in (("f", findings), ("s", suppressed), ("b", baselined)):
            for f in group:
                k = {
                    "rule": f.rule_id,
                    "category": f.category,
                    "severity": f.severity.label,
                    "kind": kind_of.get(f.path, "other"),
                }[key]
                out.setdefault(k, Counter())[tag] += 1
        return out

    by_rule = counts("rule")
    rule_keys = sorted(by_rule, key=lambda r: (-by_rule[r]["f"], r))
    labelled = {f"{r} {rules[r].name}" if r in rules else r: by_rule[r] for r in rule_keys}
    table("rule", list(labelled), labelled)
    by_sev = counts("severity")
    table(
        "severity",
        [s.label for s in sorted(Severity, reverse=True)],
        {s.label: by_sev.get(s.label, Counter()) for s in Severity},
    )
    by_cat = counts("category")
    table("category", list(CATEGORIES), {c: by_cat.get(c, Counter()) for c in CATEGORIES})
    by_kind = counts("kind")
    files = scan.result.files_by_kind
    kinds = sorted(set(files) | set(by_kind))
    width = max([len(k) for k in kinds] + [9])
    lines.append(f"  {'file kind':<{width}}  files  findings  suppressed  baselined")
    for k in kinds:
        c = by_kind.get(k, Counter())
        lines.append(
            f"  {k:<{width}}  {files.get(k, 0):>5}  {c['f']:>8}  {c['s']:>10}  {c['b']:>9}"
        )
    return "\n".join(lines).rstrip() + "\n"
