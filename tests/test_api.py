"""The scan driver: files that requirements files include are read whatever their name."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mlsec_lint import api
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.discovery import RealPaths


def _scan(root: Path, *paths: str) -> tuple[set[tuple[str, str, int]], int]:
    result = scan(ScanOptions(paths=list(paths) or ["."], base=str(root))).result
    return {(f.rule_id, f.path, f.line) for f in result.findings}, result.files_scanned


def test_included_files_are_read_once_even_in_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r base.txt\n", encoding="utf-8")
    (tmp_path / "base.txt").write_text("-r requirements.txt\n-r base.txt\ntorch\n", "utf-8")
    found, scanned = _scan(tmp_path)
    assert ("MLS-DEP-001", "base.txt", 3) in found and scanned == 2


def test_includes_outside_the_scanned_tree_are_not_read(tmp_path: Path) -> None:
    inside = tmp_path / "svc"
    inside.mkdir()
    (tmp_path / "shared.txt").write_text("torch\n", encoding="utf-8")
    (inside / "requirements.txt").write_text("-r ../shared.txt\n-r missing.txt\n", "utf-8")
    found, scanned = _scan(inside)
    assert found == set() and scanned == 1
    # named by its name from the parent directory: the tree is still svc/, not its parent
    result = scan(ScanOptions(paths=["svc"], base=str(tmp_path))).result
    assert {(f.path, f.rule_id) for f in result.findings} == set()
    assert result.files_scanned == 1


def test_an_explicitly_named_file_brings_its_includes(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-c pins.txt\ntorch\n", encoding="utf-8")
    (tmp_path / "pins.txt").write_text("torch==2.6.0\n", encoding="utf-8")
    found, scanned = _scan(tmp_path, "requirements.txt")
    assert found == set() and scanned == 2  # the constraint pins torch


def test_files_a_dockerfile_installs_are_read_whatever_their_name(tmp_path: Path) -> None:
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "serving.txt").write_text("vllm>=0.6\n", encoding="utf-8")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\nCOPY deps/ /app/deps/\nRUN pip install -r /app/deps/serving.txt\n"
        "USER 1000\n",
        encoding="utf-8",
    )
    found, scanned = _scan(tmp_path)
    assert found == {("MLS-DEP-001", "deps/serving.txt", 1)} and scanned == 2


def test_the_default_pool_runs_only_where_it_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsec_lint import api as api_module

    monkeypatch.setattr(api_module, "idle_cpus", lambda: 2)
    monkeypatch.setattr(api_module, "resident_mb", lambda: 50.0)
    assert api_module._workers(0, api_module.PARALLEL_MIN_FILES - 1) == 1
    assert api_module._workers(0, api_module.PARALLEL_MIN_FILES) == 2
    assert api_module._workers(0, 10_000, pays=False) == 1  # facts would have to come back
    assert api_module._workers(3, 5, pays=False) == 3  # --jobs is obeyed
    monkeypatch.setattr(api_module, "idle_cpus", lambda: 1)  # a busy machine
    assert api_module._workers(0, 10_000) == 1


def test_a_large_parent_runs_the_python_files_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsec_lint import api as api_module

    monkeypatch.setattr(api_module, "idle_cpus", lambda: 2)
    if sys.platform.startswith("linux"):
        assert api_module.resident_mb() > 10  # this test process, read from /proc
    monkeypatch.setattr(api_module, "resident_mb", lambda: 50.0)
    assert api_module._workers(0, 10_000) == 2
    # workers would each copy much of a large heap: serial, unless --jobs asks for more
    monkeypatch.setattr(api_module, "resident_mb", lambda: api_module.SERIAL_ABOVE_MB + 1)
    assert api_module._workers(0, 10_000) == 1
    assert api_module._workers(2, 10_000) == 2


def test_idle_cpus_follow_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from mlsec_lint import api as api_module

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (2.4, 0.0, 0.0))
    assert api_module.idle_cpus() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert api_module.idle_cpus() == 1


def test_a_lean_scan_keeps_the_text_of_files_it_may_quote(tmp_path: Path) -> None:
    (tmp_path / "clean.py").write_text("print('hello')\n", encoding="utf-8")
    (tmp_path / "bad.py").write_text("import pickle\npickle.loads(b'')\n", encoding="utf-8")
    (tmp_path / "quiet.py").write_text(
        "x = 1  # mlsec-lint: ignore[MLS-PY-001]\n", encoding="utf-8"
    )
    full = api.scan(api.ScanOptions(paths=[str(tmp_path)], base=str(tmp_path)))
    lean = api.scan(api.ScanOptions(paths=[str(tmp_path)], base=str(tmp_path), lean=True))
    assert [f.fingerprint for f in lean.result.findings] == [
        f.fingerprint for f in full.result.findings
    ]
    assert lean.result.files_scanned == full.result.files_scanned == 3
    assert lean.sources["clean.py"].text == "" and full.sources["clean.py"].text
    assert "pickle.loads" in lean.sources["bad.py"].text
    assert "mlsec-lint: ignore" in lean.sources["quiet.py"].text


def test_a_lean_scan_reports_and_suppresses_like_a_full_one(tmp_path: Path) -> None:
    (tmp_path / "k8s.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: m\n  annotations:\n"
        "    mlsec-lint.io/ignore.MLS-K8S-001: reviewed\nspec:\n  type: LoadBalancer\n"
        "  selector: {app: m}\n  ports: [{port: 8080}]\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: m}\nspec:\n  template:\n"
        "    metadata: {labels: {app: m}}\n    spec:\n      containers:\n"
        "        - name: m\n          image: vllm/vllm-openai:latest\n"
        "          ports: [{containerPort: 8080}]\n",
        encoding="utf-8",
    )
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nRUN pip install torch\n")
    (tmp_path / "serve.py").write_text("import torch\ntorch.load('m.pt')\n", encoding="utf-8")

    def outcome(lean: bool) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
        got = api.scan(api.ScanOptions(paths=[str(tmp_path)], base=str(tmp_path), lean=lean))
        rows = [(f.rule_id, f.path, f.span.line) for f in got.result.findings]
        hidden = [(f.rule_id, f.path, f.span.line) for f in got.result.suppressed]
        return rows, hidden

    assert outcome(True) == outcome(False)
    assert outcome(True)[0]


def test_real_paths_resolve_links_like_the_standard_library(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("x", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    (tmp_path / "d" / "g.txt").symlink_to(tmp_path / "d" / "f.txt")
    (tmp_path / "d" / "e").mkdir()
    (tmp_path / "d" / "e" / "up").symlink_to("..")  # relative, to a directory above
    (tmp_path / "chain").symlink_to("link")  # a link to a link
    real = RealPaths()
    for p in (
        *("d/f.txt", "link/f.txt", "link/g.txt", "d/missing", "link", "d/../d/f.txt", "."),
        *("d/e/up/f.txt", "d/e/up/e/up/g.txt", "chain/e/up/f.txt", "chain/gone/x", "d/e"),
    ):
        path = str(tmp_path / p)
        assert real(path) == os.path.realpath(path), p


def _freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of frozen objects each time the scan evaluates facts."""
    import gc

    from mlsec_lint.engine.evaluate import Evaluator
    from mlsec_lint.model import Finding

    seen: list[int] = []
    run = Evaluator.run

    def spy(self: Evaluator, *args: Any) -> list[Finding]:
        seen.append(gc.get_freeze_count())
        return run(self, *args)

    monkeypatch.setattr(Evaluator, "run", spy)
    return seen


def test_facts_are_kept_out_of_full_collections_while_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install torch\n", "utf-8")
    seen = _freezes(monkeypatch)
    assert gc.get_freeze_count() == 0
    found, _ = _scan(tmp_path)
    assert found and seen and seen[0] > 0  # frozen while the rules ran
    assert gc.get_freeze_count() == 0  # and given back when the scan ended


def test_a_callers_frozen_objects_stay_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN pip install torch\n", "utf-8")
    seen = _freezes(monkeypatch)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        found, _ = _scan(tmp_path)
        assert found and seen == [frozen] and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_includes_named_like_requirements_files_need_no_real_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "requirements.txt").write_text("-r requirements-dev.txt\n", encoding="utf-8")
    (tmp_path / "requirements-dev.txt").write_text("torch\n", encoding="utf-8")
    resolved: list[str] = []
    real = RealPaths.__call__

    def spy(self: RealPaths, path: str) -> str:
        resolved.append(path)
        return real(self, path)

    monkeypatch.setattr(RealPaths, "__call__", spy)
    found, scanned = _scan(tmp_path)
    assert ("MLS-DEP-001", "requirements-dev.txt", 1) in found and scanned == 2
    # discovery picks the include by its name: no file needed its real path
    assert not [p for p in resolved if p.endswith(".txt")]
    (tmp_path / "requirements.txt").write_text("-r base.txt\n", encoding="utf-8")
    (tmp_path / "base.txt").write_text("torch\n", encoding="utf-8")
    found, scanned = _scan(tmp_path)
    assert ("MLS-DEP-001", "base.txt", 1) in found and scanned == 3
    assert any(p.endswith("base.txt") for p in resolved)
