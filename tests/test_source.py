"""Source text helpers: the excerpt a finding carries of its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    # 2000 installs of one package on one line are one cause: one finding
    (finding,) = result.findings
    assert len(finding.source_line) <= SOURCE_LINE_CHARS + 2 and "torch" in finding.source_line
    assert len(finding.message) < 1000


def test_lines_are_read_one_by_one_without_keeping_a_list() -> None:
    import pickle

    from mlsec_lint.source import Source

    text = "first\nsecond\n\nlast"
    src = Source("a.txt", text)
    assert [src.line(n) for n in range(6)] == ["", "first", "second", "", "last", ""]
    assert src._lines is None and src.line_count() == 4
    assert [src.line(n) for n in range(1, 5)] == src.lines == text.split("\n")
    src.release()
    assert src._lines is None and src.line(2) == "second"
    back = pickle.loads(pickle.dumps(src))  # the text travels, not its caches
    assert back == Source("a.txt", text) and back.line(4) == "last"
    assert Source("b", "").line(1) == "" and Source("c", "x\n").line(2) == ""


def test_char_col_counts_characters_not_bytes() -> None:
    from mlsec_lint.source import char_col

    assert char_col("x = torch.load(p)", 4) == 5
    line = 'é = "ü"; torch.load(p)'
    assert char_col(line, len(line[:9].encode("utf-8"))) == 10


def test_read_source_reads_whole_files_up_to_the_limit(tmp_path: Path) -> None:
    from mlsec_lint.source import read_source

    at_limit = tmp_path / "at.yaml"
    at_limit.write_text("a" * 99 + "\n")
    src, notices = read_source(str(at_limit), "at.yaml", max_bytes=100)
    assert src is not None and src.text == "a" * 99 + "\n" and notices == []
    above = tmp_path / "above.yaml"
    above.write_text("a" * 100 + "\n")
    src, notices = read_source(str(above), "above.yaml", max_bytes=100)
    assert src is None and [n.code for n in notices] == ["too-large"]


def test_read_source_sees_a_file_that_grew_after_its_size_was_taken(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import os

    from mlsec_lint.source import read_source

    grown = tmp_path / "grown.yaml"
    grown.write_text("key: value\n" * 5)
    monkeypatch.setattr(os.path, "getsize", lambda _path: 3)  # the size taken before it grew
    src, _ = read_source(str(grown), "grown.yaml", max_bytes=1000)
    assert src is not None and src.text == "key: value\n" * 5
    src, notices = read_source(str(grown), "grown.yaml", max_bytes=20)
    assert src is None and [n.code for n in notices] == ["too-large"]
