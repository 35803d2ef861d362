from __future__ import annotations

from mlsec_lint.facts import Fact
from mlsec_lint.facts.bentoml_image import is_python_packages
from mlsec_lint.facts.python import extract


def deps(src: str) -> list[Fact]:
    return [f for f in extract(src, "service.py", src.split("\n")).facts if f.kind == "dependency"]


def test_python_packages_chained_and_through_a_variable() -> None:
    src = (
        "import bentoml\n"
        "from bentoml.images import Image\n"
        "image = bentoml.images.Image(python_version='3.11').python_packages(\n"
        "    'torch', 'vllm>=0.6')\n"
        "other = Image().system_packages('git')\n"
        "other = other.python_packages('pydantic==2.9.2')\n"
    )
    found = deps(src)
    assert [(f.data["name"], f.data["pinned"], f.anchor.line, f.anchor.col) for f in found] == [
        ("torch", False, 4, 5),
        ("vllm", False, 4, 14),
        ("pydantic", True, 6, 31),
    ]
    assert {f.data["origin"] for f in found} == {"bentoml-image"}
    assert found[0].data["installed_by"] == "service.py:3 (BentoML image)"


def test_only_bentoml_images_and_literal_strings() -> None:
    src = (
        "import bentoml\n"
        "from builder import Image\n"
        "Image().python_packages('torch')\n"
        "PKGS = ['numpy']\n"
        "bentoml.images.Image().python_packages(*PKGS, name)\n"
    )
    assert deps(src) == []


def test_callee_matcher() -> None:
    assert is_python_packages("bentoml.images.Image().python_packages")
    assert is_python_packages("bentoml.Image().run().python_packages")
    assert not is_python_packages("bentoml.images.Image().python_packages().run")
    assert not is_python_packages("bentoml.images.python_packages")
    assert not is_python_packages("bentoml." + "a().b" * 200 + ".python_packages")
