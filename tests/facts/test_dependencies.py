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


def test_facts_of_one_requirement_text_keep_their_own_positions_and_lists() -> None:
    """The analysis of a text is shared between its facts; positions and lists are not."""
    a_span, b_span = Span(1, 1, 1, 20), Span(7, 3, 7, 22)
    a = dependency_fact("torch[cuda]==1.13.0", a_span, "a/Dockerfile", "pip-install")
    b = dependency_fact("torch[cuda]==1.13.0", b_span, "b/Dockerfile", "pip-install")
    assert a.data["extras"] == b.data["extras"] == ["cuda"]
    assert a.data["extras"] is not b.data["extras"]
    a.data["extras"].append("x")
    assert dependency_fact("torch[cuda]==1.13.0", a_span, "c", "pip").data["extras"] == ["cuda"]
    for fact, span in ((a, a_span), (b, b_span)):
        assert fact.data.vspan["name"] == span and fact.data.vspan["extras"] == span
        assert fact.data["vulnerable"].span == span and fact.data["vulnerable"]["fixed"] == "2.6.0"
    assert a.data["vulnerable"] is not b.data["vulnerable"]


def test_image_facts_of_one_reference_keep_their_own_positions() -> None:
    from mlsec_lint.facts.common import image_fact

    ref = "pytorch/torchserve:0.8.0-cpu"
    a_span, b_span = Span(1, 6, 1, 34), Span(3, 6, 3, 34)
    a = image_fact(ref, a_span, "a/Dockerfile", "dockerfile", stage="0")
    b = image_fact(ref, b_span, "b.yaml", "kubernetes", placeholder=None)
    assert a.data["version"] == b.data["version"] == "0.8.0"
    assert (
        a.data["vulnerable"]["critical"] is True
        and a.data["vulnerable"] is not b.data["vulnerable"]
    )
    assert a.data["vulnerable"].span == a_span and b.data["vulnerable"].span == b_span
    assert a.data["stage"] == "0" and "stage" not in b.data and "placeholder" not in b.data
    assert (a.data["origin"], b.data["origin"]) == ("dockerfile", "kubernetes")
    assert a.data.vspan["tag"] == a_span and b.data.vspan["tag"] == b_span


def test_framework_tier_follows_frameworks_added_by_configuration() -> None:
    """The analysis of a text is remembered; the tier, which configuration extends, is not."""
    from mlsec_lint import knowledge

    span = Span(1, 1, 1, 20)
    knowledge.reset_frameworks()
    try:
        assert "framework_tier" not in dependency_fact("acme-serve==1.0", span, "a", "pip").data
        knowledge.extend_frameworks(["acme_serve"])
        assert dependency_fact("acme-serve==1.0", span, "a", "pip").data["framework_tier"] == 1
    finally:
        knowledge.reset_frameworks()
    assert "framework_tier" not in dependency_fact("acme-serve==1.0", span, "a", "pip").data
