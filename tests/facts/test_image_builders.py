from __future__ import annotations

import os
from pathlib import Path

from mlsec_lint.facts import Fact
from mlsec_lint.facts.image_builders import classify
from mlsec_lint.facts.python import extract


def role(callee: str) -> str | None:
    hit = classify(callee)
    return hit[1] if hit is not None else None


def is_python_packages(callee: str) -> bool:
    return role(callee) == "packages"


def is_requirements_file(callee: str) -> bool:
    return role(callee) == "requirements"


def is_run(callee: str) -> bool:
    return role(callee) == "commands"


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


def _scan(root: Path, *rules: str) -> list[tuple[str, int, str]]:
    from mlsec_lint.api import ScanOptions, scan

    result = scan(ScanOptions(paths=[str(root)], select=list(rules))).result
    return sorted((os.path.relpath(f.path, root), f.span.line, f.rule_id) for f in result.findings)


_SERVICE = (
    "import bentoml\n"
    "image = bentoml.images.Image(python_version='3.11').requirements_file({path!r})\n"
    "@bentoml.service(image=image)\n"
    "class Svc:\n"
    "    pass\n"
)


def test_requirements_file_call_is_a_command_naming_the_file() -> None:
    src = _SERVICE.format(path="deps/serving.txt")
    (cmd,) = [
        f for f in extract(src, "svc/service.py", src.split("\n")).facts if f.kind == "command"
    ]
    assert cmd.data["origin"] == "bentoml-image"
    (ref,) = cmd.data["requirement_files"]
    assert ref["path"] == "deps/serving.txt"
    assert list(ref["candidates"]) == ["deps/serving.txt"]
    assert cmd.anchor.line == 2
    assert is_requirements_file("bentoml.images.PythonImage().requirements_file")
    assert not is_requirements_file("bentoml.images.Image().requirements_file().run")


def test_requirements_file_installed_into_the_image(tmp_path: Path) -> None:
    svc = tmp_path / "svc"
    svc.mkdir()
    (svc / "service.py").write_text(_SERVICE.format(path="requirements.txt"), encoding="utf-8")
    (svc / "requirements.txt").write_text("torch==2.5.1\npydantic\ntransformers\n", "utf-8")
    # a requirements file the service does not name is not installed by it
    (tmp_path / "requirements-dev.txt").write_text("pytest\n", encoding="utf-8")
    assert _scan(tmp_path, "MLS-DEP-008", "MLS-DEP-001") == [
        ("svc/requirements.txt", 2, "MLS-DEP-008"),
        ("svc/requirements.txt", 3, "MLS-DEP-001"),
    ]


def test_requirements_file_relative_to_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "service.py").write_text(
        _SERVICE.format(path="requirements.txt"), encoding="utf-8"
    )
    (tmp_path / "requirements.txt").write_text("fastapi>=0.110\n", encoding="utf-8")
    assert _scan(tmp_path, "MLS-DEP-008") == [("requirements.txt", 1, "MLS-DEP-008")]


def test_requirements_file_paths_that_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "requirements.txt").write_text("fastapi\n", encoding="utf-8")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("pydantic\n", encoding="utf-8")
    lines = [
        "import bentoml, os",
        "a = bentoml.images.Image().requirements_file('../outside/requirements.txt')",
        f"b = bentoml.images.Image().requirements_file({str(outside / 'requirements.txt')!r})",
        "c = bentoml.images.Image().requirements_file(os.environ['REQS'])",
        "d = bentoml.images.Image().requirements_file('https://example.com/requirements.txt')",
    ]
    (proj / "service.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _scan(proj, "MLS-DEP-008") == []


def test_image_run_is_a_build_step() -> None:
    src = (
        "import bentoml\n"
        "image = bentoml.images.Image().run('pip install flashinfer-python --pre')\n"
        "import subprocess\n"
        "subprocess.run('pip install rich', shell=True)\n"
    )
    facts = extract(src, "service.py", src.split("\n")).facts
    origins = {str(f.data["name"]): f.data["origin"] for f in facts if f.kind == "dependency"}
    assert origins == {"flashinfer-python": "bentoml-image", "rich": "shell"}
    assert is_run("bentoml.images.Image().python_packages().run")
    assert not is_run("bentoml.run")
    assert not [f for f in facts if f.kind == "server"]


MODAL = """\
import modal

image = (
    modal.Image.debian_slim(python_version="3.12")
    .apt_install("git")
    .pip_install("vllm", ["torch==2.6.0", "transformers>=4.40"])
    .run_commands("curl -fsSL https://example.com/x.sh | sh", "pip install einops")
)
"""


def test_modal_images_install_packages_and_run_build_steps() -> None:
    facts = extract(MODAL, "app.py", MODAL.split("\n")).facts
    found = [f for f in facts if f.kind == "dependency"]
    assert [(f.data["name"], f.anchor.line, f.anchor.col) for f in found] == [
        ("vllm", 6, 18),
        ("torch", 6, 27),
        ("transformers", 6, 43),
        ("einops", 7, 76),
    ]
    assert {f.data["origin"] for f in found} == {"modal-image"}
    pipe = [f for f in facts if f.kind == "command" and f.data.get("piped_from")]
    assert pipe and pipe[0].anchor.line == 7
    assert role("modal.Image.from_registry().pip_install_from_requirements") == "requirements"
    assert role("modal.App().function") is None


def test_builder_callees_are_matched_in_bounded_time() -> None:
    import time

    hostile = [
        "bentoml.Image()" + ".a()" * 90 + ".python_packages",
        "modal.Image.x()" + ".a" * 190,
        "bentoml." + "Image()" * 56,
        "modal.Image." + "a" * 100_000,
    ]
    start = time.process_time()
    for callee in hostile:
        classify(callee)
    assert time.process_time() - start < 1.0
    assert role(hostile[0]) == "packages" and role(hostile[3]) is None
