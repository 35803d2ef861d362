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
