"""Scanning is passive: no network, no subprocesses or shells, no imports or execution of
scanned code, no writes to the scanned tree, and YAML tags (in scanned files and in rule
files) are never constructed."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.cli import main

from ..conftest import FIXTURES, ROOT
from . import hostile

EVIL_PY = """import pathlib
pathlib.Path({marker!r}).write_text("imported")
import torch
torch.load("x.pt", weights_only=False)
"""
EVIL_YAML = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n"
    "  x: !!python/object/apply:os.system ['touch {marker}']\n"
)


def _tree_with_traps(root: Path, marker: Path) -> None:
    hostile.build(root / "hostile")
    (root / "evil.py").write_text(EVIL_PY.format(marker=str(marker)), encoding="utf-8")
    (root / "evil.yaml").write_text(EVIL_YAML.format(marker=str(marker)), encoding="utf-8")
    (root / "entrypoint.sh").write_text(
        f"#!/bin/sh\ntouch {marker}\nexec vllm serve m\n", encoding="utf-8"
    )


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + dirnames):
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                out[str(p)] = "other"
            else:
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_no_network_no_subprocess_no_execution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "MARKER"
    _tree_with_traps(tmp_path / "repo", marker)

    def forbidden(*_a: object, **_k: object) -> None:
        raise AssertionError("forbidden call during a scan")

    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket.socket, "connect_ex", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    # the one child process allowed: Helm's renderer (and kustomize/kubectl builds),
    # which reads the chart and writes only its output
    real_init: Any = subprocess.Popen.__init__
    allowed = ("mlsec_lint.helm.render", "helm", "kustomize", "kubectl")

    def renderer_only(
        self: subprocess.Popen[str], args: list[str], *a: object, **k: object
    ) -> None:
        words = [str(w) for w in args]
        if not (words[-1:] == ["mlsec_lint.helm.render"] or Path(words[0]).name in allowed):
            raise AssertionError(f"forbidden subprocess during a scan: {words}")
        children.append(words)
        real_init(self, args, *a, **k)

    children: list[list[str]] = []
    monkeypatch.setattr(subprocess.Popen, "__init__", renderer_only)
    monkeypatch.setattr(os, "system", forbidden)
    monkeypatch.setattr(os, "popen", forbidden)
    for name in ("execv", "execve", "execvp", "spawnv", "posix_spawn"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, forbidden)
    before = _snapshot(tmp_path / "repo")
    for base in (tmp_path / "repo", ROOT / "examples", FIXTURES):
        result = scan(ScanOptions(paths=["."], base=str(base))).result
        assert result.files_scanned > 0
    assert not marker.exists()
    assert _snapshot(tmp_path / "repo") == before
    assert not list((tmp_path / "repo").rglob("__pycache__"))


def test_the_cli_writes_only_the_requested_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "MARKER"
    repo = tmp_path / "repo"
    _tree_with_traps(repo, marker)
    before = _snapshot(repo)
    monkeypatch.chdir(repo)
    assert main(["scan", "--format", "json", "--output", str(tmp_path / "out.json")]) == 1
    capsys.readouterr()
    assert _snapshot(repo) == before and (tmp_path / "out.json").exists() and not marker.exists()


def test_python_tags_in_user_rules_are_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "MARKER"
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "X-001.yaml").write_text(
        f"id: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8"
    )
    code = main(["scan", str(tmp_path), "--rules-dir", str(tmp_path / "rules")])
    _, err = capsys.readouterr()
    assert code == 2 and "cannot read rule file" in err and "Traceback" not in err
    assert not marker.exists()
