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
    assert "files: peak memory under 300 MB |" in text and "median CPU time" in text


def test_targets_are_judged_from_the_measurements() -> None:
    fast = run.Timing("single Python file", "mlsec-lint", 0.1, 20.0, 3, cpu=0.08, load=0.1)
    slow = run.Timing("single Python file", "bandit", 0.15, 30.0, 3, cpu=0.2, load=0.1)
    scaling = [(100, run.Timing("whole", "mlsec-lint", 1.0, 50.0, 3, cpu=1.0))]
    scaling.append((200, run.Timing("whole", "mlsec-lint", 3.0, 350.0, 3, cpu=3.0)))
    memory = (800, run.Timing("whole", "mlsec-lint", 8.0, 250.0, 1, cpu=8.0))
    quiet = run.ratio_of(fast, slow)
    assert not quiet.loaded and round(quiet.quoted, 6) == 1.5 and round(quiet.cpu, 6) == 2.5
    got = {t: (m, ok) for t, m, ok in run.targets([fast, slow], [quiet], scaling, memory)}
    assert got["single-file scan at most 0.25 s"] == ("0.100 s", True)
    assert got["single Python file: at least 2x faster than bandit"] == ("1.5x (wall)", False)
    assert got["whole repository: peak memory under 300 MB"] == ("350 MB", False)
    assert got["800 files: peak memory under 300 MB"] == ("250 MB", True)
    assert got[run.LINEAR_TARGET] == ("1.50x (per file: 10.00 to 10.00 ms)", False)
    # a cost per file that falls as the repository grows is no worse than linear
    falling = [(100, run.Timing("whole", "mlsec-lint", 2.0, 50.0, 3, cpu=2.0))]
    falling.append((800, run.Timing("whole", "mlsec-lint", 9.0, 90.0, 3, cpu=9.0)))
    got = {t: (m, ok) for t, m, ok in run.targets([fast, slow], [quiet], falling)}
    assert got[run.LINEAR_TARGET] == ("1.00x (per file: 20.00 to 11.25 ms)", True)


def test_a_busy_machine_is_judged_on_cpu_time() -> None:
    mine = run.Timing("single Python file", "mlsec-lint", 0.3, 20.0, 3, cpu=0.05, load=9.0)
    peer = run.Timing("single Python file", "bandit", 0.3, 30.0, 3, cpu=0.15, load=9.0)
    busy = run.ratio_of(mine, peer)
    assert busy.loaded and busy.basis == "CPU"
    got = {t: (m, ok) for t, m, ok in run.targets([mine, peer], [busy], [])}
    assert got["single Python file: at least 2x faster than bandit"] == ("3.0x (CPU)", True)


def test_cpu_time_counts_the_processes_a_tool_waits_for(tmp_path: Path) -> None:
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    code = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {spin!r}], check=True)\n"
    r = run.run_once([sys.executable, "-c", code], tmp_path)
    assert r.code == 0 and r.cpu >= 0.25 and r.wall >= r.cpu * 0.5


def test_paired_runs_alternate_the_tools(tmp_path: Path) -> None:
    log = tmp_path / "order"
    tools = [
        (name, [sys.executable, "-c", f"open({str(log)!r}, 'a').write({name!r})"], (0,))
        for name in ("A", "B")
    ]
    timings = run.measure_paired("x", tools, tmp_path, 4)
    assert [t.tool for t in timings] == ["A", "B"] and all(t.runs == 4 for t in timings)
    # warm-up (A B), then A B, B A, A B, B A; the memory sample runs after the timed runs
    assert log.read_text(encoding="utf-8")[:10] == "ABABBAABBA"


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
