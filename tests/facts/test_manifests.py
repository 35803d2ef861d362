from __future__ import annotations

from pathlib import Path
from typing import Any

from mlsec_lint.facts.lockfiles import from_lockfile
from mlsec_lint.facts.manifests import (
    from_conda_env,
    from_pip_conf,
    from_pipfile,
    from_pyproject,
    from_setup_cfg,
)
from mlsec_lint.tree import to_plain


def kinds(fa) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in fa.facts:
        d = to_plain(f.data)
        d["_line"], d["_col"] = f.anchor.line, f.anchor.col
        out.setdefault(f.kind, []).append(d)
    return out


PYPROJECT = """[build-system]
requires = ["setuptools"]

[project]
name = "lib"
dependencies = ["torch>=2", "numpy==2.1.3"]

[project.optional-dependencies]
test = ["pytest"]

[tool.poetry.group.docs.dependencies]
sphinx = "*"
"""


def test_pyproject_dependencies_groups_and_library_detection(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT, encoding="utf-8")
    got = kinds(from_pyproject(PYPROJECT, "pyproject.toml", str(path)))
    deps = {d["name"]: d for d in got["dependency"]}
    assert (deps["torch"]["_line"], deps["torch"]["_col"]) == (6, 17)
    assert deps["numpy"]["pinned"] is True and deps["torch"]["pinned"] is False
    assert deps["pytest"]["dev"] is True and deps["sphinx"]["dev"] is True
    assert all(d["library"] for d in deps.values())
    (manifest,) = got["dependency-manifest"]
    assert manifest["library"] is True and manifest["ml"] == ["torch", "numpy"]
    # a Dockerfile next to it makes it a deployable service
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n", encoding="utf-8")
    got = kinds(from_pyproject(PYPROJECT, "pyproject.toml", str(path)))
    assert got["dependency-manifest"][0]["library"] is False
    assert "Dockerfile next to it" in got["dependency-manifest"][0]["deployable_reason"]


def test_pyproject_without_build_system_is_deployable_and_sees_locks(tmp_path: Path) -> None:
    text = '[project]\nname = "svc"\ndependencies = ["vllm>=0.6"]\n'
    (tmp_path / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    got = kinds(from_pyproject(text, "svc/pyproject.toml", str(tmp_path / "pyproject.toml")))
    (manifest,) = got["dependency-manifest"]
    assert manifest["library"] is False and manifest["lock_files"] == ["svc/uv.lock"]
    assert got["dependency"][0]["locked"] is True


def test_pyproject_uv_sources_and_indexes() -> None:
    text = (
        '[project]\nname = "s"\ndependencies = ["vllm"]\n'
        '[tool.uv]\nindex-strategy = "unsafe-best-match"\n'
        'extra-index-url = ["https://x.example/simple"]\n'
        "[tool.uv.sources]\n"
        'vllm = { git = "https://github.com/vllm-project/vllm", tag = "v0.6.3" }\n'
    )
    got = kinds(from_pyproject(text, "pyproject.toml"))
    dep = got["dependency"][0]
    assert dep["pinned"] is False and "tag" not in dep and "git" in dep["unpinned_reason"]
    (index,) = got["package-index"]
    assert index["option"] == "--extra-index-url" and index["unsafe_strategy"] is True
    assert index["_line"] == 6


def test_pyproject_bentoml_build_packages_are_installed_into_the_image() -> None:
    text = (
        '[project]\nname = "svc"\ndependencies = ["bentoml==1.4.8"]\n\n'
        '[tool.bentoml.build]\nservice = "service:S"\npackages = ["vllm>=0.6"]\n\n'
        '[tool.bentoml.build.python]\npackages = [\n  "torch",\n  "numpy==2.1.3",\n  3,\n]\n'
    )
    got = kinds(from_pyproject(text, "svc/pyproject.toml"))
    bento = [d for d in got["dependency"] if d["origin"] == "bentofile"]
    assert [(d["name"], d["pinned"], d["_line"], d["_col"]) for d in bento] == [
        ("vllm", False, 7, 13),
        ("torch", False, 11, 3),
        ("numpy", True, 12, 3),
    ]
    assert {d["installed_by"] for d in bento} == {"svc/pyproject.toml (BentoML build)"}
    manifest = got["dependency-manifest"][0]
    assert manifest["library"] is False


def test_pyproject_bentoml_build_args_trusting_remote_code_are_a_server() -> None:
    text = (
        '[tool.bentoml.build]\nservice = "service.py:LLM"\n\n'
        '[tool.bentoml.build.args]\nmodel_id = "org/model"\n'
        'cli_args = [\n  "--max-model-len",\n  "--trust-remote-code",\n]\n'
    )
    got = kinds(from_pyproject(text, "pyproject.toml"))
    [server] = got["server"]
    assert server["server"] == "bentoml"
    assert server["settings"] == {"model": "org/model", "trust_remote_code": True}
    assert server["sources"]["trust_remote_code"] == "config-file"
    untrusting = text.replace('"--trust-remote-code"', '"--enforce-eager"')
    assert "server" not in kinds(from_pyproject(untrusting, "pyproject.toml"))


def test_invalid_toml_is_a_notice() -> None:
    fa = from_pyproject("[project\n", "pyproject.toml")
    assert fa.facts == [] and fa.notices[0].code == "parse-error"


def test_pipfile_sources_and_dev_packages() -> None:
    text = (
        '[[source]]\nurl = "http://pypi.internal/simple"\nverify_ssl = false\nname = "x"\n'
        '[packages]\ntorch = {version = "==2.6.0", index = "x"}\n'
        'vllm = {git = "https://github.com/vllm-project/vllm.git", ref = "main"}\n'
        '[dev-packages]\nnumpy = "*"\n'
    )
    got = kinds(from_pipfile(text, "Pipfile"))
    deps = {d["name"]: d for d in got["dependency"]}
    assert deps["torch"]["pinned"] and not deps["vllm"]["pinned"] and deps["numpy"]["dev"]
    assert [(i["option"], i["_line"]) for i in got["package-index"]] == [
        ("--index-url", 2),
        ("--trusted-host", 3),
    ]


def test_setup_cfg_requirements_and_file_includes() -> None:
    text = (
        "[options]\ninstall_requires =\n    torch>=2  # needs cuda\n"
        "    file: requirements.txt\n[options.extras_require]\ntest = pytest\n"
    )
    got = kinds(from_setup_cfg(text, "setup.cfg"))
    deps = {d["name"]: d for d in got["dependency"]}
    assert deps["torch"]["spec"] == "torch>=2" and deps["torch"]["_line"] == 3
    assert deps["pytest"]["dev"] is True
    assert got["dependency-manifest"][0]["includes"][0]["path"] == "requirements.txt"


def test_conda_environment_and_non_conda_yaml() -> None:
    text = (
        "channels: [pytorch]\ndependencies:\n  - pytorch=2.1\n"
        "  - pip:\n    - --extra-index-url https://x.example/simple\n    - vllm==0.11.0\n"
    )
    fa = from_conda_env(text, "environment.yml")
    assert fa is not None
    got = kinds(fa)
    deps = {d["name"]: d for d in got["dependency"]}
    assert deps["torch"]["pinned"] is False and deps["vllm"]["pinned"] is True
    assert deps["vllm"]["_line"] == 6
    assert [i["option"] for i in got["package-index"]] == ["channel", "--extra-index-url"]
    assert from_conda_env("apiVersion: v1\nkind: Pod\n", "environment.yml") is None


def test_lock_files() -> None:
    uv = (
        'version = 1\n[[package]]\nname = "torch"\nversion = "2.5.1"\n'
        'wheels = [{ url = "u", hash = "sha256:ab" }]\n'
    )
    dep = kinds(from_lockfile(uv, "uv.lock"))["dependency"][0]
    assert (dep["version"], dep["_line"], dep["hashed"], dep["locked"]) == ("2.5.1", 3, True, True)
    assert dep["vulnerable"]["fixed"] == "2.6.0"
    pipfile_lock = '{"default": {"numpy": {"version": "==1.16.0", "hashes": ["sha256:x"]}}}'
    dep = kinds(from_lockfile(pipfile_lock, "Pipfile.lock"))["dependency"][0]
    assert dep["version"] == "1.16.0" and "vulnerable" in dep
    conda_lock = "package:\n  - name: pytorch\n    version: 2.6.0\n    manager: conda\n"
    dep = kinds(from_lockfile(conda_lock, "conda-lock.yml"))["dependency"][0]
    assert dep["name"] == "torch" and dep["_line"] == 2


def test_pip_conf() -> None:
    text = "[global]\nextra-index-url =\n    https://a.example/simple\ntrusted-host = h.example\n"
    got = kinds(from_pip_conf(text, "pip.conf"))["package-index"]
    assert [(i["option"], i["value"], i["_line"]) for i in got] == [
        ("--extra-index-url", "https://a.example/simple", 3),
        ("--trusted-host", "h.example", 4),
    ]


def test_conda_environments_with_other_names_are_found_by_content(project) -> None:
    from mlsec_lint.api import ScanOptions, scan

    project("envs/gpu.yml", "channels: [conda-forge]\ndependencies:\n  - pytorch=2.5\n")
    project("Chart.yaml", "apiVersion: v2\nname: c\ndependencies:\n  - name: redis\n")
    project("requirements.yaml", "dependencies:\n  - name: redis\n    version: 1.0.0\n")
    result = scan(ScanOptions(paths=["."], base=str(project.root), select=["MLS-DEP-001"]))
    assert [(f.path, f.line) for f in result.result.findings] == [("envs/gpu.yml", 3)]
    kinds = {fa.path: fa.kind for fa in result.analyses}
    assert kinds["envs/gpu.yml"] == "conda-env" and kinds["requirements.yaml"] == "yaml"
