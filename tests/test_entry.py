"""The executable: plain scans skip the CLI library, exit codes survive the fast exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _run(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlsec_lint", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        check=False,
    )


def _modules_after(cwd: Path, *args: str) -> set[str]:
    code = (
        "import sys, json, contextlib, io\n"
        "from mlsec_lint.entry import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    run({list(args)!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'click', 'rich'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "serve.py").write_text(
        'import torch\nmodel = torch.load("model.pt")\n', encoding="utf-8"
    )
    (tmp_path / "clean.py").write_text("print('hello')\n", encoding="utf-8")
    return tmp_path


def test_a_plain_scan_does_not_import_the_cli_library(repo: Path) -> None:
    assert (
        _modules_after(repo, "scan", "--force-exclude", "--ignore=MLS-SUP-003", "serve.py") == set()
    )
    assert _modules_after(repo, "scan", "--select", "MLS-PY", "-q", "clean.py") == set()


def test_help_and_other_commands_use_it(repo: Path) -> None:
    assert "typer" in _modules_after(repo, "scan", "--help")
    assert "typer" in _modules_after(repo, "rules")
    assert "typer" in _modules_after(repo, "scan", "--bogus", "serve.py")


def test_exit_codes_are_kept(repo: Path) -> None:
    found = _run(repo, "scan", "serve.py")
    assert found.returncode == 1 and "MLS-PY-002" in found.stdout
    assert _run(repo, "scan", "clean.py").returncode == 0
    assert _run(repo, "scan", "--fail-on", "never", "serve.py").returncode == 0
    bad = _run(repo, "scan", "--bogus", "serve.py")
    assert bad.returncode == 2 and "No such option" in bad.stderr
    refused = _run(repo, "scan", "--fail-on", "bogus", "serve.py")
    assert refused.returncode == 2 and "--fail-on" in refused.stderr
    missing = _run(repo, "scan", "--config", "nope.toml", "serve.py")
    assert missing.returncode == 2 and missing.stderr.startswith("mlsec-lint: error:")
    assert _run(repo, "--version").returncode == 0


def test_output_is_complete_when_the_process_skips_teardown(repo: Path) -> None:
    for i in range(300):
        (repo / f"m{i}.py").write_text("import pickle\npickle.loads(b'')\n", encoding="utf-8")
    proc = _run(repo, "scan", "--format", "json", ".")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)  # the whole document arrived
    assert report["summary"]["findings"] >= 300


def test_plain_and_typer_runs_print_the_same(repo: Path) -> None:
    args = ("scan", "--format", "json", "serve.py", "clean.py")
    plain = _run(repo, *args)
    code = (
        "import sys\nfrom mlsec_lint.cli import main\n"
        f"sys.exit(main({list(args)!r}))\n"  # the typer path, always
    )
    typed = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=False
    )
    assert plain.returncode == typed.returncode == 1
    assert json.loads(plain.stdout)["findings"] == json.loads(typed.stdout)["findings"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_unwritable_output_is_an_error(repo: Path) -> None:
    with open("/dev/full", "w") as full:  # every write fails: no space left
        proc = subprocess.run(
            [sys.executable, "-m", "mlsec_lint", "scan", "serve.py"],
            cwd=repo,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert proc.returncode == 2 and "No space left" in proc.stderr
