"""Source text helpers: the excerpt a finding carries of its line."""

from __future__ import annotations

from pathlib import Path

from mlsec_lint import budget
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.source import SOURCE_LINE_CHARS, excerpt


def test_short_lines_are_kept_whole() -> None:
    assert excerpt("torch==2.1.0", 1) == "torch==2.1.0"


def test_long_lines_are_cut_around_the_column() -> None:
    line = "a" * 1000 + "TARGET" + "b" * 1000
    cut = excerpt(line, 1001)
    assert "TARGET" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) == SOURCE_LINE_CHARS + 2
    assert excerpt(line, 1).startswith("aaa") and excerpt(line, 1).endswith("…")
    assert excerpt(line, len(line)).startswith("…") and excerpt(line, len(line)).endswith("b")


def test_many_findings_on_one_long_line_keep_reports_small(tmp_path: Path) -> None:
    script = " && ".join(["pip install torch"] * 2000)
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n"
        f'    - {{name: c, image: "python:3.11", command: [sh, -c, "{script}"]}}\n',
        encoding="utf-8",
    )
    result = scan(ScanOptions(paths=["."], base=str(tmp_path), select=["MLS-DEP-001"])).result
    # 2000 findings: the per-file budget keeps the first 1000 and says so
    assert len(result.findings) == budget.MAX_FINDINGS_PER_FILE
    assert [n.code for n in result.notices] == ["findings-budget"]
    assert all(len(f.source_line) <= SOURCE_LINE_CHARS + 2 for f in result.findings)
    assert all("torch" in f.source_line for f in result.findings)
