"""Cross-file supply-chain resolution: installs, constraints, locks, deployability, versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.tree import to_plain


def facts(root, kind: str) -> dict[str, list[dict[str, Any]]]:
    result = scan(ScanOptions(paths=["."], base=str(root)))
    out: dict[str, list[dict[str, Any]]] = {}
    for fa in result.analyses:
        for f in fa.facts:
            if f.kind == kind:
                out.setdefault(f.path, []).append(to_plain(f.data))
    return out


def test_requirement_files_learn_how_they_are_installed(project) -> None:
    project(
        "docker/Dockerfile",
        "FROM python:3.12\nWORKDIR /app\nCOPY reqs/ reqs/\n"
        "RUN pip install --require-hashes -r reqs/prod.txt\n",
    )
    project("reqs/prod.txt", "-r base.txt\ntorch==2.6.0\n")
    project("reqs/base.txt", "numpy==2.1.3\n")
    deps = facts(project.root, "dependency")
    for path in ("reqs/prod.txt", "reqs/base.txt"):
        (dep,) = deps[path]
        assert dep["require_hashes"] is True and dep["installed_by"] == "docker/Dockerfile:4"
    manifests = facts(project.root, "dependency-manifest")
    assert manifests["reqs/prod.txt"][0]["installed_by"] == ["docker/Dockerfile:4"]


def test_constraints_pin_packages_of_the_files_and_commands_they_constrain(project) -> None:
    project("requirements.txt", "-c constraints.txt\ntorch\nvllm\n")
    project("constraints.txt", "torch==2.6.0\n")
    project("install.sh", "#!/bin/sh\npip install -c constraints-serve.txt transformers vllm\n")
    project("constraints-serve.txt", "vllm==0.11.0\n")
    deps = facts(project.root, "dependency")
    by_name = {d["name"]: d for d in deps["requirements.txt"]}
    assert by_name["torch"]["pinned"] is True
    assert by_name["torch"]["constrained_by"] == "constraints.txt:1"
    assert by_name["vllm"]["pinned"] is False
    inline = {d["name"]: d for d in deps["install.sh"]}
    assert inline["vllm"]["pinned"] is True and inline["transformers"]["pinned"] is False
    manifests = facts(project.root, "dependency-manifest")
    assert manifests["constraints.txt"][0]["format"] == "constraints"
    assert manifests["constraints-serve.txt"][0]["format"] == "constraints"


def test_lock_files_in_the_scan_lock_their_manifest(project) -> None:
    project("svc/pyproject.toml", '[project]\nname = "s"\ndependencies = ["torch>=2"]\n')
    project("svc/poetry.lock", '[[package]]\nname = "torch"\nversion = "2.6.0"\n')
    deps = facts(project.root, "dependency")
    assert deps["svc/pyproject.toml"][0]["locked"] is True


def test_a_project_installed_by_a_dockerfile_is_deployable(project) -> None:
    project(
        "pyproject.toml",
        '[build-system]\nrequires = ["hatchling"]\n[project]\nname = "s"\n'
        'dependencies = ["torch>=2"]\n',
    )
    project(
        "docker/Dockerfile",
        "FROM python:3.12\nWORKDIR /app\nCOPY . /app\nRUN pip install --no-cache-dir .\n",
    )
    manifests = facts(project.root, "dependency-manifest")
    (m,) = manifests["pyproject.toml"]
    assert m["library"] is False and m["deployable_reason"] == "installed by docker/Dockerfile:4"
    result = scan(ScanOptions(paths=["."], base=str(project.root), select=["MLS-DEP-001"]))
    assert [(f.path, f.line) for f in result.result.findings] == [("pyproject.toml", 5)]


def _torch_load_context(root: Path) -> dict[str, Any]:
    """The context a torch.load call in serve.py gets from the rest of the scan (Python
    facts are evaluated where they are analysed and are not part of the scan result)."""
    from mlsec_lint.analyze import analyze
    from mlsec_lint.discovery import discover
    from mlsec_lint.resolve import VersionIndex, attach_versions, resolve_all
    from mlsec_lint.source import read_source

    targets, _, _ = discover(["."], base=str(root))
    analysed = {}
    for t in targets:
        src, _ = read_source(t.abspath, t.display)
        assert src is not None
        analysed[t.display] = analyze(src, t.kind).facts
    python = analysed.pop("serve.py")
    index: list[VersionIndex] = []
    resolve_all([f for fs in analysed.values() for f in fs], index)
    attach_versions(python, index[0])
    call = next(f for f in python if f.kind == "python-call" and f.data["callee"] == "torch.load")
    return dict(to_plain(call.data["context"]))


def test_image_versions_feed_context_versions(project) -> None:
    project("Dockerfile", "FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime\nCOPY . /app\n")
    project("serve.py", "import torch\nmodel = torch.load('m.pt')\n")
    context = _torch_load_context(project.root)
    assert context["versions"]["torch"] == "2.3.1"
    assert context["version_sources"]["torch"] == "Dockerfile:1"
    # a package pin in the same directory wins over the image
    project("requirements.txt", "torch==2.6.0\n")
    assert _torch_load_context(project.root)["versions"]["torch"] == "2.6.0"


def test_a_project_installed_as_a_requirements_file_is_deployable(project) -> None:
    project(
        "pyproject.toml",
        '[build-system]\nrequires = ["hatchling"]\n[project]\nname = "s"\n'
        'dependencies = ["vllm>=0.6"]\n',
    )
    project("run.sh", "#!/bin/sh\nuv pip install --system -r pyproject.toml\n")
    (m,) = facts(project.root, "dependency-manifest")["pyproject.toml"]
    assert m["library"] is False and m["installed_by"] == ["run.sh:2"]
