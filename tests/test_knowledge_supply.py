"""Framework tiers (and their extension from configuration), conda names, image versions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlsec_lint import knowledge
from mlsec_lint.api import ScanOptions, scan


@pytest.fixture
def reset() -> Iterator[None]:
    knowledge.reset_frameworks()
    yield
    knowledge.reset_frameworks()


def test_tiers_and_prefix_entries() -> None:
    assert knowledge.framework_tier("Torch") == 1
    assert knowledge.framework_tier("langchain_community") == 1  # langchain-*
    assert knowledge.framework_tier("scikit-learn") == 2
    assert knowledge.framework_tier("requests") is None


def test_extend_frameworks_adds_tier_1_packages_for_rules(project, reset) -> None:
    project("requirements.txt", "acme_inference>=1.0\n")

    def findings() -> list[str]:
        result = scan(ScanOptions(paths=["."], base=str(project.root), select=["MLS-DEP-001"]))
        return [f.message for f in result.result.findings]

    assert findings() == []
    knowledge.extend_frameworks(["Acme.Inference", "pytorch"])
    assert knowledge.framework_tier("acme-inference") == 1
    assert findings() == [
        "ML framework 'acme-inference' is not pinned to an exact version: "
        "'>=1.0' is a range, not an exact version."
    ]
    knowledge.reset_frameworks()
    assert knowledge.framework_tier("acme-inference") is None


@pytest.mark.parametrize(
    ("conda", "pypi"),
    [("pytorch", "torch"), ("py-xgboost", "xgboost"), ("ray-core", "ray"), ("numpy", "numpy")],
)
def test_conda_names(conda: str, pypi: str) -> None:
    assert knowledge.conda_to_pypi(conda) == pypi


@pytest.mark.parametrize(
    ("ref", "version", "component"),
    [
        ("nvcr.io/nvidia/tritonserver:24.05-py3", "24.05", "tritonserver"),
        ("pytorch/torchserve:0.8.1-cpu", "0.8.1", "torchserve"),
        ("ollama/ollama:0.1.30", "0.1.30", "ollama"),
        ("vllm/vllm-openai:v0.6.3", "0.6.3", "vllm"),
        ("docker.io/pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime", "2.3.1", "torch"),
        ("nvcr.io/nvidia/pytorch:24.05-py3", "24.05", None),
        ("vllm/vllm-openai:latest", None, "vllm"),
        ("localhost:5000/ollama/ollama", None, "ollama"),
        ("python:3.12.4-slim@sha256:abc", "3.12.4", None),
    ],
)
def test_image_versions(ref: str, version: str | None, component: str | None) -> None:
    assert knowledge.image_version(ref) == version
    floor = knowledge.image_floor(ref)
    assert (floor or {}).get("component") == component
