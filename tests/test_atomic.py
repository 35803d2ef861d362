"""Atomic replacement of report and fixed files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlsec_lint.atomic import write_atomic


def test_replaces_the_file_with_the_given_or_default_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_atomic(str(target), b"{}\n")
    umask = os.umask(0)
    os.umask(umask)
    assert target.read_bytes() == b"{}\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    write_atomic(str(target), b"[]\n", 0o600)
    assert target.read_bytes() == b"[]\n" and target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_link_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep\n", encoding="utf-8")
    link = tmp_path / "out" / "report.sarif"
    link.parent.mkdir()
    link.symlink_to(outside)
    write_atomic(str(link), b"new\n")
    assert outside.read_text(encoding="utf-8") == "keep\n"
    assert not link.is_symlink() and link.read_bytes() == b"new\n"


def test_nothing_stays_behind_when_the_rename_fails(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(OSError):
        write_atomic(str(tmp_path / "dir"), b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir"]


def test_write_report_writes_utf8_and_names_the_file_on_failure(tmp_path: Path) -> None:
    from mlsec_lint.atomic import write_report
    from mlsec_lint.errors import MlsecLintError

    target = tmp_path / "report.txt"
    write_report(target, "café\n")
    assert target.read_bytes() == "café\n".encode()
    missing = tmp_path / "no-such-dir" / "report.txt"
    with pytest.raises(MlsecLintError, match=r"cannot write .*no-such-dir"):
        write_report(missing, "x")
