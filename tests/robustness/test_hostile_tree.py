"""Hostile input never crashes the scan, hides a finding or hangs: run the real CLI in a
subprocess (a segfault or a hang fails the test) on a tree that mixes hostile files with
files whose findings are known."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import hostile


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> hostile.HostileTree:
    return hostile.build(tmp_path_factory.mktemp("hostile"))


def _scan(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-I", "-m", "mlsec_lint", "scan", *args],  # -I: cwd not on sys.path
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc, time.perf_counter() - start


def test_known_findings_survive_hostile_neighbours(tree: hostile.HostileTree) -> None:
    proc, elapsed = _scan(tree.root, "--format", "json")
    assert proc.returncode == 1, proc.stderr  # findings, not an error: bad files never change it
    assert "Traceback" not in proc.stderr and elapsed < 20
    report = json.loads(proc.stdout)
    found = {(f["path"], f["line"], f["rule_id"]) for f in report["findings"]}
    assert tree.known <= found
    notices = {(n["path"], n["code"]) for n in report["notices"]}
    for path, code in tree.notices.items():
        assert (path, code) in notices, (path, code)
    # nothing is reported twice and nothing crashed into an "error" notice
    assert len(report["findings"]) == len(found)
    assert all(n["level"] != "error" for n in report["notices"])


def test_text_output_has_no_traceback_and_notices_go_to_stderr(tree: hostile.HostileTree) -> None:
    proc, _ = _scan(tree.root)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "bomb.yaml" in proc.stderr and "bomb.yaml" not in proc.stdout
    assert all(ord(c) >= 32 or c in "\n\t" for c in proc.stdout)  # no control characters


def test_each_hostile_file_alone_is_a_clean_exit(tree: hostile.HostileTree) -> None:
    for rel in (
        "bomb.yaml",
        "deep-flow.json",
        "deep-compact.yaml",
        "Dockerfile",
        "deep.py",
        "fifo.yaml",
    ):
        if not (tree.root / rel).exists() and not (tree.root / rel).is_fifo():
            continue
        proc, elapsed = _scan(tree.root, rel)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (rel, proc.stderr)
        assert elapsed < 10, rel
        assert rel in proc.stderr
