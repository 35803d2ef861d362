from __future__ import annotations

import pytest

from mlsec_lint.facts.dependencies import dependency_fact, from_requirements
from mlsec_lint.model import Span

S = Span(1, 1, 1, 2)


@pytest.mark.parametrize(
    ("spec", "pinned", "version"),
    [
        ("torch==2.6.0", True, "2.6.0"),
        ("torch===2.6.0", True, "2.6.0"),
        ("torch==2.6.0+cu124", True, "2.6.0+cu124"),
        ("Torch[extra]==2.6.0; python_version>'3.9'", True, "2.6.0"),
        ("torch", False, None),
        ("torch>=2", False, None),
        ("torch==2.*", False, None),
        ("torch~=2.6", False, None),
        (
            "torch @ https://download.pytorch.org/whl/cpu/torch-2.6.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
            True,
            "2.6.0+cpu",
        ),
        ("git+https://github.com/pytorch/pytorch@v2.6.0#egg=torch", False, None),
        (
            "git+https://github.com/pytorch/pytorch@0123456789abcdef0123456789abcdef01234567#egg=torch",
            True,
            None,
        ),
    ],
)
def test_pinning(spec: str, pinned: bool, version: str | None) -> None:
    fact = dependency_fact(spec, S, "r.txt", "requirements")
    assert fact.data["name"] == "torch"
    assert fact.data["pinned"] is pinned
    assert fact.data.get("version") == version


def test_vulnerable_versions_are_annotated() -> None:
    old = dependency_fact("torch==2.5.1", S, "r.txt", "requirements")
    new = dependency_fact("torch==2.6.0", S, "r.txt", "requirements")
    assert old.data["vulnerable"]["fixed"] == "2.6.0" and "vulnerable" not in new.data
    bento = dependency_fact("bentoml==1.3.0", S, "r.txt", "requirements")
    assert bento.data["vulnerable"]["critical"] is True


def test_requirements_file_facts() -> None:
    facts = from_requirements(
        "--extra-index-url https://x/simple\ntorch==2.6.0 --hash=sha256:aa\n", "r.txt"
    )
    assert [f.kind for f in facts] == ["package-index", "dependency", "dependency-manifest"]
    assert facts[1].data["hashed"] is True and facts[1].anchor.line == 2
