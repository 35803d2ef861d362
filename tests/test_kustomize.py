"""Kustomize overlays: built with kustomize/kubectl, findings at base and patch lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint import kustomize
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.model import ScanResult

needs_builder = pytest.mark.skipif(kustomize.builder() is None, reason="no kustomize/kubectl")

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
spec:
  selector: {matchLabels: {app: vllm}}
  template:
    metadata: {labels: {app: vllm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
"""
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
spec:
  template:
    spec:
      hostPID: true
"""


def _tree(root: Path, overlay: str = "") -> None:
    (root / "base").mkdir()
    (root / "base" / "deployment.yaml").write_text(BASE)
    (root / "base" / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n")
    prod = root / "overlays" / "prod"
    prod.mkdir(parents=True)
    (prod / "patch.yaml").write_text(PATCH)
    (prod / "kustomization.yaml").write_text(
        overlay or "resources:\n  - ../../base\nnamePrefix: prod-\npatches:\n  - path: patch.yaml\n"
    )


def _found(result: ScanResult, rule: str) -> list[tuple[str, int, str]]:
    return [(f.path, f.line, f.source_line.strip()) for f in result.findings if f.rule_id == rule]


@needs_builder
def test_overlay_findings_point_at_base_and_patch_lines(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    assert _found(result, "MLS-K8S-005") == [("overlays/prod/patch.yaml", 8, "hostPID: true")]
    (image,) = [f for f in result.findings if f.rule_id == "MLS-IMG-001"]
    assert (image.path, image.line) == ("base/deployment.yaml", 12)
    assert "prod-vllm" in image.key and "overlays/prod/kustomization.yaml" in image.message
    assert all("#built" not in f.path for f in result.findings)


def test_without_a_build_the_files_are_scanned_as_they_are(tmp_path: Path) -> None:
    _tree(tmp_path)
    result = scan(ScanOptions(paths=["."], base=str(tmp_path), kustomize_build=False)).result
    assert [(f.path, f.line) for f in result.findings if f.rule_id == "MLS-IMG-001"] == [
        ("base/deployment.yaml", 12)
    ]
    assert "prod-vllm" not in " ".join(f.message for f in result.findings)


@needs_builder
def test_remote_resources_are_never_fetched(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        "resources:\n  - ../../base\n  - https://github.com/example/deploy//base?ref=v1\n",
    )
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    notes = [n for n in result.notices if n.code == "kustomize-remote"]
    assert [n.path for n in notes] == ["overlays/prod/kustomization.yaml"]
    assert [(f.path, f.line) for f in result.findings if f.rule_id == "MLS-IMG-001"] == [
        ("base/deployment.yaml", 12)
    ]


def test_overlays_are_the_kustomizations_nothing_builds_on(tmp_path: Path) -> None:
    _tree(tmp_path)
    files = [str(p) for p in tmp_path.rglob("kustomization.yaml")]
    overlays = kustomize.find_overlays(files)
    assert [Path(o.directory).relative_to(tmp_path).as_posix() for o in overlays] == [
        "overlays/prod"
    ]
    (prod,) = overlays
    assert [Path(p).name for p in prod.resources] == ["deployment.yaml"]
    assert [Path(p).name for p in prod.patches] == ["patch.yaml"]


@needs_builder
def test_builds_are_bounded_and_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.setattr(kustomize, "MAX_BUILDS", 0)
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    assert [(n.code, n.path) for n in result.notices] == [
        ("kustomize-skipped", "overlays/prod/kustomization.yaml")
    ]
    # the files are scanned as they are (the base's own findings, not the overlay's)
    assert [(f.path, f.line) for f in result.findings if f.rule_id == "MLS-IMG-001"] == [
        ("base/deployment.yaml", 12)
    ]


def test_a_list_of_resources_is_not_built(tmp_path: Path) -> None:
    _tree(tmp_path, "resources:\n  - ../../base\n")
    (prod,) = kustomize.find_overlays([str(p) for p in tmp_path.rglob("kustomization.yaml")])
    assert not prod.transforms
