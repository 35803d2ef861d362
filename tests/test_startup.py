"""Start-up cost: a pre-commit run imports only what it uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlsec_lint import api, suppressions

LAZY = (
    "jsonschema",
    "mlsec_lint.suppressions",
    "mlsec_lint.baseline",
    "mlsec_lint.reporters.sarif",
    "mlsec_lint.reporters.json",
    "mlsec_lint.docs",
    "ruamel.yaml",
    "mlsec_lint.fix.yamlfix",
    "mlsec_lint.fix.python",
    "mlsec_lint.fix.run",
)


NOT_FOR_ONE_FILE = (
    "typer",
    "click",
    "yaml",
    "pathspec",
    "multiprocessing",
    "concurrent.futures",
    "mlsec_lint.semgrep",
    "mlsec_lint.parsers.yamldoc",
    "typing_extensions",
    *LAZY,
)
"""What a pre-commit run on one Python file or Dockerfile does without: YAML (rules and
tables come from JSON bundles), .gitignore matching (explicit files are not checked
against it), the process pool and the Semgrep engine, for the plain arguments of a hook
the CLI library, and ``typing_extensions`` (which msgspec loads unless
:mod:`mlsec_lint.records` imports it)."""

NOT_FOR_ONE_PYTHON_FILE = (*NOT_FOR_ONE_FILE, "dataclasses", "inspect")
"""A Python file also does without code generation for classes (a Dockerfile's pip
installs need ``packaging.requirements``, which uses dataclasses)."""


def _imported(cwd: Path, *args: str, watch: tuple[str, ...] = LAZY) -> set[str]:
    code = (
        "import sys, json, contextlib, io\n"
        "from mlsec_lint.entry import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    run({list(args)!r})\n"
        f"print(json.dumps([m for m in {list(watch)!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_clean_scan_with_configuration_imports_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.6.0\n", encoding="utf-8")
    (tmp_path / ".mlsec-lint.yaml").write_text(
        "select: [MLS]\nper-file-ignores: {'tests/**': [MLS-SEC-001]}\n", encoding="utf-8"
    )
    assert _imported(tmp_path, "scan", "-q") == set()


def test_suppressions_load_only_when_a_file_mentions_them(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned by the image\n", encoding="utf-8"
    )
    assert "mlsec_lint.suppressions" in _imported(tmp_path, "scan", "-q")


def test_one_file_scans_import_only_what_they_use(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n*.log\n", encoding="utf-8")
    (tmp_path / "serve.py").write_text(
        'import torch\nmodel = torch.load("model.pt")\n', encoding="utf-8"
    )
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nRUN pip install torch\n", encoding="utf-8"
    )
    assert _imported(tmp_path, "scan", "serve.py", watch=NOT_FOR_ONE_PYTHON_FILE) == set()
    assert _imported(tmp_path, "scan", "Dockerfile", watch=NOT_FOR_ONE_FILE) == set()
    # version bounds of rules are parsed when a version meets them
    assert _imported(tmp_path, "scan", "serve.py", watch=("packaging.version",)) == set()


def test_a_directory_walk_still_honours_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n", encoding="utf-8")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    assert "pathspec" in _imported(tmp_path, "scan", ".", watch=("pathspec",))
    proc = subprocess.run(
        [sys.executable, "-I", "-m", "mlsec_lint", "scan", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "0 files scanned" in proc.stdout


def test_markers_agree() -> None:
    assert api.MARKER == suppressions.MARKER
    assert api.ANNOTATION_PREFIX == suppressions.ANNOTATION_PREFIX
