"""Writing fixed files: atomic, same mode, encoding and line endings, no symlink escape."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mlsec_lint.fix.edits import Unfixable
from mlsec_lint.fix.write import write_fixed


def test_mode_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: 2\r\n")
    os.chmod(p, 0o640)
    write_fixed(str(p), "a: 1\nb: 2\n", "a: 1\nb: 3\nc: 4\n", [str(tmp_path)])
    assert p.read_bytes() == b"\xef\xbb\xbfa: 1\r\nb: 3\r\nc: 4\r\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert [x.name for x in tmp_path.iterdir()] == ["a.yaml"]  # no temporary file left


def test_a_file_changed_since_the_scan_is_not_written(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_text("a: 2\n", encoding="utf-8")
    with pytest.raises(Unfixable, match="changed since"):
        write_fixed(str(p), "a: 1\n", "a: 3\n", [str(tmp_path)])
    assert p.read_text(encoding="utf-8") == "a: 2\n"


def test_mixed_line_endings_are_not_rewritten(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_bytes(b"a: 1\r\nb: 2\n")
    with pytest.raises(Unfixable, match="mixes"):
        write_fixed(str(p), "a: 1\nb: 2\n", "a: 1\nb: 3\n", [str(tmp_path)])


def test_a_symlink_out_of_the_tree_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("a: 1\n", encoding="utf-8")
    tree = tmp_path / "tree"
    tree.mkdir()
    link = tree / "link.yaml"
    link.symlink_to(outside)
    with pytest.raises(Unfixable, match="outside the scanned tree"):
        write_fixed(str(link), "a: 1\n", "a: 2\n", [str(tree)])
    assert outside.read_text(encoding="utf-8") == "a: 1\n"
    # a link inside the tree is followed: the target is fixed, the link stays a link
    inside = tree / "real.yaml"
    inside.write_text("a: 1\n", encoding="utf-8")
    link2 = tree / "link2.yaml"
    link2.symlink_to(inside)
    write_fixed(str(link2), "a: 1\n", "a: 2\n", [str(tree)])
    assert link2.is_symlink() and inside.read_text(encoding="utf-8") == "a: 2\n"
