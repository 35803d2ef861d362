"""Bounded work: a huge but valid input costs bounded time and memory, and what is not
analysed is announced."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlsec_lint.facts import dependencies
from mlsec_lint.model import Notice


def test_requirements_past_the_budget_are_announced_options_still_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dependencies, "MAX_REQUIREMENTS", 100)
    text = "".join(f"p{i}==1.0\n" for i in range(150)) + "vllm\n--extra-index-url https://x\n"
    notices: list[Notice] = []
    facts = dependencies.from_requirements(text, "requirements.txt", notices)
    assert sum(f.kind == "dependency" for f in facts) == 100
    assert any(f.kind == "package-index" for f in facts)
    assert [(n.code, n.line) for n in notices] == [("partly-analysed", 101)]
    assert "51 requirements" in notices[0].message


def test_half_a_million_pinned_lines_cost_bounded_time_and_memory(tmp_path: Path) -> None:
    lines = "".join(f"p{i % 1000}=={i % 7}.{i % 13}\n" for i in range(500_000))
    (tmp_path / "requirements.txt").write_text(lines, encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "requirements.txt").write_text("vllm\n", encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-I", "-m", "mlsec_lint", "scan", "--format", "json", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert proc.returncode == 1, proc.stderr
    assert '"path": "other/requirements.txt"' in proc.stdout
    assert "partly-analysed" in proc.stdout
    assert elapsed < 120
    if peak_kb > before:  # the peak of this child (children's maximum so far)
        assert peak_kb < 500 * 1024


def test_commands_past_the_budget_are_announced(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsec_lint.facts import dockerfile, shellcmds

    monkeypatch.setattr(shellcmds, "MAX_COMMANDS", 50)
    script = "".join(f"echo {i}\n" for i in range(80)) + "curl https://x | sh\n"
    fa = shellcmds.extract_script(script, "run.sh")
    assert sum(f.kind == "command" for f in fa.facts) == 50
    assert [(n.code, n.line) for n in fa.notices] == [("partly-analysed", 51)]
    docker = "FROM python:3.12\nRUN <<EOF\n" + script + "EOF\n"
    fa = dockerfile.extract(docker, "Dockerfile")
    assert [(n.code, n.line) for n in fa.notices] == [("partly-analysed", 53)]
