"""Smoke test: the benchmark itself still runs (the real measurement is not part of CI)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench import generate as gen
from bench import run


def test_generator_is_deterministic_and_includes_noise(tmp_path: Path) -> None:
    first = gen.generate(tmp_path / "a", 4)
    second = gen.generate(tmp_path / "b", 4)
    assert first == second and first["noise"] > 0 and first["python"] > 0
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert a == b


def test_runner_produces_a_table_without_peers(tmp_path: Path) -> None:
    exe = shutil.which("mlsec-lint", path=str(Path(sys.executable).parent))
    assert exe
    out = tmp_path / "bench.md"
    code = run.main(
        [
            "--services",
            "2",
            "--repeat",
            "1",
            "--skip-peers",
            "--workdir",
            str(tmp_path / "w"),
            "--mlsec",
            exe,
            "--out",
            str(out),
        ]
    )
    text = out.read_text(encoding="utf-8")
    assert code == 0
    assert "| single Python file | mlsec-lint |" in text and "time per file" in text
    assert "| single-file scan at most 0.25 s |" in text
    assert "| whole repository: peak memory under 300 MB |" in text


def test_targets_are_judged_from_the_measurements() -> None:
    fast = run.Timing("single Python file", "mlsec-lint", 0.1, 20.0, 3)
    slow = run.Timing("single Python file", "bandit", 0.15, 30.0, 3)
    scaling = [(100, run.Timing("whole", "mlsec-lint", 1.0, 50.0, 3))]
    scaling.append((200, run.Timing("whole", "mlsec-lint", 3.0, 350.0, 3)))
    got = {
        t: (m, ok) for t, m, ok in run.targets([fast, slow], [(fast.label, "bandit", 1.5)], scaling)
    }
    assert got["single-file scan at most 0.25 s"] == ("0.100 s", True)
    assert got["single Python file: at least 2x faster than bandit"] == ("1.5x", False)
    assert got["whole repository: peak memory under 300 MB"] == ("350 MB", False)
    assert got["linear: time per file within 25% across sizes"] == ("1.50x", False)


def test_tree_peak_counts_worker_processes(tmp_path: Path) -> None:
    code = (
        "import os, time\n"
        "block = bytearray(40 * 1024 * 1024)\n"
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    other = bytearray(40 * 1024 * 1024)\n"
        "    for i in range(0, len(other), 4096): other[i] = 1\n"
        "    time.sleep(0.3); os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
    )
    peak = run.tree_peak_mb([sys.executable, "-c", code], tmp_path)
    assert peak > 70  # both 40 MB blocks, not only the parent's
