"""The pre-commit hooks, run by pre-commit itself on a throwaway repository.

The hook repository is a snapshot of this working tree (so uncommitted changes are
tested too); pre-commit installs it from a local wheelhouse with the package index
switched off, so the hook run is offline. Building the wheelhouse is the only step that
may reach a package index (and usually hits pip's cache).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
SNAPSHOT = ("mlsec_lint", "rules", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
GIT = ["git", "-c", "user.name=mlsec-lint tests", "-c", "user.email=tests@example.invalid"]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def test_manifest_is_valid() -> None:
    proc = subprocess.run(
        [*PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in SNAPSHOT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "snapshot")
    return repo, _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of the project's dependencies and of its build backend."""
    import importlib

    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    project = toml.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    wheels = tmp_path_factory.mktemp("wheelhouse")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels), *requirements],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return wheels


def _offline_env(home: Path, wheels: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(home),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        NO_COLOR="1",
    )
    return env


@pytest.mark.slow
def test_hooks_run_through_pre_commit_offline(
    hook_repo: tuple[Path, str], wheelhouse: Path, tmp_path: Path
) -> None:
    repo, rev = hook_repo
    work = tmp_path / "consumer"
    work.mkdir()
    files = {
        ".pre-commit-config.yaml": (
            f"repos:\n  - repo: {repo}\n    rev: {rev}\n"
            "    hooks:\n      - id: mlsec-lint\n      - id: mlsec-lint-repo\n"
        ),
        ".mlsec-lint.yaml": "exclude: [vendored/]\n",
        "requirements.txt": "torch\n",
        "vendored/requirements.txt": "vllm\n",
        "app.dockerfile": "FROM pytorch/pytorch:latest\nUSER 1000\n",
        "Dockerfile_gpu": "FROM pytorch/pytorch:latest\nUSER 1000\n",
        "train.ipynb": json.dumps(
            {
                "cells": [{"cell_type": "code", "source": ["import pickle\n", "pickle.load(f)"]}],
                "metadata": {},
                "nbformat": 4,
            },
            indent=1,
        ),
        "README.md": "torch\n",
    }
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text, encoding="utf-8")
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    env = _offline_env(tmp_path / "pre-commit-home", wheelhouse)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PRE_COMMIT, "run", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    proc = run("mlsec-lint", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "requirements.txt:1:1: MLS-DEP-001" in out
    assert "app.dockerfile:1:6: MLS-IMG-001" in out  # no identify tag: matched by name
    assert "Dockerfile_gpu:1:6: MLS-IMG-001" in out
    assert "train.ipynb:7:6: MLS-PY-001" in out  # the notebook line of the cell's source
    assert "vendored/requirements.txt:1" not in out  # --force-exclude honours the config
    assert "vendored/requirements.txt: note: excluded" in out  # and says so
    assert "README.md" not in out

    # fixed, with a suppression that stays unused: the per-file hook passes ...
    (work / "requirements.txt").write_text(
        "torch==2.6.0  # mlsec-lint: ignore[MLS-DEP-001] -- was unpinned\n", encoding="utf-8"
    )
    (work / "app.dockerfile").write_text(
        "FROM pytorch/pytorch:2.6.0-cuda12.4-cudnn9-runtime@sha256:" + "ab" * 32 + "\nUSER 1000\n",
        encoding="utf-8",
    )
    _git(work, "add", "-A")
    proc = run("mlsec-lint", "--files", "requirements.txt", "vendored/requirements.txt")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # ... and the repository hook, which sees everything, reports the stale suppression
    proc = run("mlsec-lint-repo", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "requirements.txt:1:36: MLS-SUP-003" in out


@pytest.mark.slow
def test_fix_hook_changes_files_and_fails_then_passes(
    hook_repo: tuple[Path, str], wheelhouse: Path, tmp_path: Path
) -> None:
    repo, rev = hook_repo
    work = tmp_path / "consumer"
    work.mkdir()
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: mlsec-lint-fix\n",
        encoding="utf-8",
    )
    serve = work / "serve.py"
    serve.write_text('import torch\nstate = torch.load("m.pt")  # weights\n', encoding="utf-8")
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    env = _offline_env(tmp_path / "pre-commit-home", wheelhouse)
    cmd = [*PRE_COMMIT, "run", "mlsec-lint-fix", "--all-files"]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "files were modified by this hook" in proc.stdout + proc.stderr
    fixed = serve.read_text(encoding="utf-8")
    assert fixed == 'import torch\nstate = torch.load("m.pt", weights_only=True)  # weights\n'
    _git(work, "add", "-A")
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert serve.read_text(encoding="utf-8") == fixed
