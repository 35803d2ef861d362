from __future__ import annotations

import os
from pathlib import Path

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
    assert skipped == 3  # the two .gitignore files and bin/data
    assert [(n.path, n.code, n.level) for n in notices] == [
        ("node_modules", "excluded-dir", "note"),
        ("venv2", "excluded-dir", "note"),
    ]


def test_directories_are_excluded_for_what_they_are_not_their_name(project) -> None:
    project("venv/pyvenv.cfg", "")  # empty: not a virtual environment
    project("venv/Dockerfile", "FROM python:latest\n")
    project(".venv/pyvenv.cfg", "home = /usr/bin\nversion = 3.12\n")
    project(".venv/lib/python3.12/site-packages/x/requirements.txt", "torch\n")
    project("old-env/bin/activate", "")
    project("old-env/requirements.txt", "torch\n")
    project("build/Dockerfile", "FROM python:latest\n")  # a Docker build context
    project("dist/pkg-1.0-py3-none-any.whl", "")
    project("dist/pkg-1.0.tar.gz", "")
    project("_build/html/index.html", "")
    project("_build/doctrees/x.pickle", "")
    targets, notices, _ = discover(["."])
    assert sorted(t.display for t in targets) == ["build/Dockerfile", "venv/Dockerfile"]
    assert sorted((n.path, n.message.split(";")[0]) for n in notices) == [
        (".venv", "virtual environment"),
        ("_build", "build output"),
        ("dist", "build output"),
        ("old-env", "virtual environment"),
    ]


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


def test_symlinks_named_on_the_command_line_pointing_outside_are_not_read(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "requirements.txt").write_text("torch\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "inside.txt").write_text("x\n", encoding="utf-8")
    (repo / "requirements.txt").symlink_to(outside / "requirements.txt")
    (repo / "dir").symlink_to(outside)
    (repo / "ok-requirements.txt").symlink_to(repo / "inside.txt")
    targets, notices, _ = discover(
        ["requirements.txt", "dir", "dir/requirements.txt", "ok-requirements.txt"],
        base=str(repo),
    )
    assert [t.display for t in targets] == ["ok-requirements.txt"]
    assert sorted((n.path, n.code) for n in notices) == [
        ("dir", "symlink"),
        ("dir/requirements.txt", "symlink"),
        ("requirements.txt", "symlink"),
    ]


def test_explicit_files_not_scanned_get_a_notice(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("torch\n", encoding="utf-8")
    targets, notices, _ = discover(
        ["README.md", "requirements.txt"],
        base=str(tmp_path),
        excludes=["requirements.txt"],
        force_exclude=True,
    )
    assert targets == []
    assert sorted((n.path, n.code) for n in notices) == [
        ("README.md", "unsupported"),
        ("requirements.txt", "excluded"),
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        "**/a*/**/a*/**/a*/**/a*/x",
        "**/a*a*/**/a*a*x",
        "**/a*a*/**/x",
        "*a*a*a*a*a*a*a*a*a*",
        "a" * 2000,
    ],
)
def test_gitignore_patterns_too_costly_to_match_are_refused_with_a_notice(
    pattern: str, tmp_path: Path
) -> None:
    import time

    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text(f"{pattern}\nignored.txt\n", encoding="utf-8")
    deep = tmp_path.joinpath(*["a" * 60] * 40)
    deep.mkdir(parents=True)
    (deep / "requirements.txt").write_text("torch\n", encoding="utf-8")
    start = time.perf_counter()
    targets, notices, _ = discover(["."], base=str(tmp_path))
    assert time.perf_counter() - start < 10
    assert [t.kind for t in targets] == ["requirements"]
    assert [(n.path, n.code, n.line) for n in notices] == [(".gitignore", "gitignore-pattern", 1)]


def test_ordinary_gitignore_patterns_are_honoured(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text(
        "**/node_modules/\n*.py[cod]\n**/gen/**\n*_*.yaml\nsecret/*.txt\n", encoding="utf-8"
    )
    for rel in ("a/gen/x/app.yaml", "a_b.yaml", "keep.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("a: 1\n", encoding="utf-8")
    targets, notices, _ = discover(["."], base=str(tmp_path))
    assert [t.display for t in targets] == ["keep.yaml"]
    assert notices == []


def test_configured_exclude_patterns_too_costly_to_match_are_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch\n", encoding="utf-8")
    targets, notices, _ = discover(
        ["."],
        base=str(tmp_path),
        excludes=["**/a*a*/**/x", "*.tmp"],
        extra_excludes=[(str(tmp_path), ["**/b*/**/b*/**/b*"])],
    )
    assert [t.display for t in targets] == ["requirements.txt"]
    assert sorted((n.path, n.code) for n in notices) == [
        ("--exclude", "exclude-pattern"),
        ("configuration exclude", "exclude-pattern"),
    ]


@pytest.mark.parametrize("base", ["/repo", "/repo/sub", "/", "/repo/", "/repo/./sub", "//repo"])
@pytest.mark.parametrize(
    "path",
    [
        "/repo/a.py",
        "/repo/sub/Dockerfile",
        "/repo",
        "/repo/",
        "/repository/x",
        "/repo/./x",
        "/repo/sub/../y",
        "/other/z",
        "//repo/a",
        "/a",
    ],
)
def test_display_paths_are_what_relpath_gives(path: str, base: str) -> None:
    from mlsec_lint.discovery import display_path

    rel = os.path.relpath(path, base)
    expected = (path if rel.startswith("..") else rel).replace(os.sep, "/")
    assert display_path(path, base) == expected
