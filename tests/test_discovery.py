from __future__ import annotations

import os

import pytest

from mlsec_lint.discovery import discover, name_kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Dockerfile", "dockerfile"),
        ("Containerfile", "dockerfile"),
        ("Dockerfile.gpu", "dockerfile"),
        ("serve.dockerfile", "dockerfile"),
        ("Dockerfile.dockerignore", None),
        ("dockerfile_utils.py", "python"),
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("requirements_cuda.txt", "requirements"),
        ("constraints.txt", "requirements"),
        ("requirements/torch_linux.txt", "requirements"),
        ("dev-requirements.in", "requirements"),
        ("notes.txt", None),
        ("pyproject.toml", "pyproject"),
        ("Pipfile", "pipfile"),
        ("setup.cfg", "setup-cfg"),
        ("deploy.yaml", "yaml"),
        ("k.yml", "yaml"),
        ("settings.json", "json"),
        ("config.properties", "properties"),
        ("entrypoint.sh", "shell"),
        (".env", "dotenv"),
        ("prod.env", "dotenv"),
        ("config.toml", "toml"),
        ("README.md", None),
        ("environment.yml", "conda-env"),
        ("environment-gpu.yaml", "conda-env"),
        ("conda.yml", "conda-env"),
        ("uv.lock", "lockfile"),
        ("poetry.lock", "lockfile"),
        ("pdm.lock", "lockfile"),
        ("Pipfile.lock", "lockfile"),
        ("pylock.toml", "lockfile"),
        ("pylock.gpu.toml", "lockfile"),
        ("conda-lock.yml", "lockfile"),
        ("pip.conf", "pip-conf"),
        ("pip.ini", "pip-conf"),
        ("Dockerfile_gpu", "dockerfile"),
        ("DOCKERFILE-cuda12", "dockerfile"),
        ("serve.Dockerfile", "dockerfile"),
        ("inference-dockerfile", "dockerfile"),
        ("Dockerfile_notes.md", None),
        ("train.ipynb", "notebook"),
        ("values.yml.j2", "template"),
        ("deploy.yaml.jinja2", "template"),
        ("config.json.tmpl", "template"),
        ("Dockerfile.yml.j2", "template"),
    ],
)
def test_name_kinds(name: str, kind: str | None) -> None:
    assert name_kind(name) == kind


def test_walk_honours_default_excludes_gitignore_and_shebangs(project) -> None:
    project(".git/HEAD", "ref")
    project(".gitignore", "generated/\n*.tmp.yaml\n!keep.tmp.yaml\n")
    project("deploy/app.yaml", "a: 1\n")
    project("generated/out.yaml", "a: 1\n")
    project("x.tmp.yaml", "a: 1\n")
    project("keep.tmp.yaml", "a: 1\n")
    project("node_modules/m.yaml", "a: 1\n")
    project("venv2/pyvenv.cfg", "home = /usr\n")
    project("venv2/lib/x.py", "")
    project("sub/.gitignore", "local.py\n")
    project("sub/local.py", "")
    project("sub/other.py", "")
    project("bin/entrypoint", "#!/bin/bash\nexec vllm serve\n")
    project("bin/data", "not a script\n")
    targets, notices, skipped = discover(["."])
    names = sorted(t.display for t in targets)
    assert names == ["bin/entrypoint", "deploy/app.yaml", "keep.tmp.yaml", "sub/other.py"]
    assert notices == [] and skipped == 3  # the two .gitignore files and bin/data


def test_explicit_files_bypass_excludes_unless_forced(project) -> None:
    project("node_modules/app.yaml", "a: 1\n")
    project(".gitignore", "ignored.yaml\n")
    project("ignored.yaml", "a: 1\n")
    assert len(discover(["node_modules/app.yaml", "ignored.yaml"])[0]) == 2
    assert discover(["node_modules/app.yaml", "ignored.yaml"], force_exclude=True)[0] == []


def test_configured_excludes(project) -> None:
    project("charts/x/templates/d.yaml", "a: 1\n")
    project("deploy/d.yaml", "a: 1\n")
    targets, _, _ = discover(["."], excludes=["charts/"])
    assert [t.display for t in targets] == ["deploy/d.yaml"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_are_not_followed_and_loops_terminate(project) -> None:
    project("real/app.yaml", "a: 1\n")
    os.symlink(project.root / "real", project.root / "real" / "loop")
    os.symlink(project.root / "real" / "app.yaml", project.root / "link.yaml")
    targets, notices, _ = discover(["."])
    assert [t.display for t in targets] == ["real/app.yaml"]
    assert sorted(n.path for n in notices) == ["link.yaml", "real/loop"]
    assert {n.code for n in notices} == {"symlink"}


def test_extensionless_dockerfiles_are_found_by_content(project) -> None:
    project("docker/gpu", "# syntax=docker/dockerfile:1\nFROM python:3.11\n")
    project("docker/cpu", "# Build the CPU image\n\nARG BASE=python:3.11\nfrom ${BASE}\n")
    project("docker/notes", "# FROM is explained below\nSee the wiki.\nFROM x\n")
    project("docker/README", "FROM here on, read the docs.\n")  # prose: 'FROM' then words
    targets, _, _ = discover(["."])
    kinds = {t.display: t.kind for t in targets}
    assert kinds == {"docker/cpu": "dockerfile", "docker/gpu": "dockerfile"}
