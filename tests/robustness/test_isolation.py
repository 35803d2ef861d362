"""One file never aborts the scan: a failure while analysing a file becomes a notice
naming that file, and every other file's findings are still reported."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from mlsec_lint import analyze as analyze_mod
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.cli import main

# kind -> (file name, content, module, function the analysis of that kind goes through)
PARSERS: dict[str, tuple[str, str, str, str]] = {
    "dockerfile": ("Dockerfile", "FROM python:3.12\n", "mlsec_lint.parsers.dockerfile", "parse"),
    "requirements": (
        "requirements.txt",
        "torch\n",
        "mlsec_lint.parsers.requirements",
        "iter_lines",
    ),
    "python": ("app.py", "import torch\n", "mlsec_lint.facts.python", "extract"),
    "properties": (
        "config.properties",
        "inference_address=http://0.0.0.0:8080\n",
        "mlsec_lint.parsers.properties",
        "parse",
    ),
    "yaml": ("pod.yaml", "kind: Pod\n", "mlsec_lint.parsers.yamldoc", "load_stream"),
    "json": ("pod.json", '{"kind": "Pod"}\n', "mlsec_lint.parsers.yamldoc", "load_stream"),
    "dotenv": (".env", "TOKEN=x\n", "mlsec_lint.facts.common", "env_fact"),
    "shell": ("run.sh", "pip install torch\n", "mlsec_lint.facts.shellcmds", "extract_script"),
    "toml": (
        ".streamlit/config.toml",
        "[server]\nenableCORS = false\n",
        "mlsec_lint.facts.serving",
        "from_streamlit_toml",
    ),
    "ini": ("basic_auth.ini", "[mlflow]\n", "mlsec_lint.facts.serving", "from_ini"),
    "pyproject": (
        "pyproject.toml",
        '[project]\nname = "x"\ndependencies = ["torch"]\n',
        "mlsec_lint.facts.manifests",
        "locate",
    ),
    "pipfile": ("Pipfile", '[packages]\ntorch = "*"\n', "mlsec_lint.facts.manifests", "locate"),
    "setup-cfg": (
        "setup.cfg",
        "[options]\ninstall_requires =\n    torch\n",
        "mlsec_lint.facts.manifests",
        "from_setup_cfg",
    ),
    "conda-env": (
        "environment.yml",
        "dependencies:\n  - numpy\n",
        "mlsec_lint.facts.manifests",
        "conda_env_facts",
    ),
    "lockfile": ("poetry.lock", "", "mlsec_lint.facts.lockfiles", "from_lockfile"),
    "pip-conf": ("pip.conf", "[global]\n", "mlsec_lint.facts.manifests", "from_pip_conf"),
    "notebook": (
        "train.ipynb",
        '{"cells": [{"cell_type": "code", "source": ["import torch\\n"]}], "metadata": {}}\n',
        "mlsec_lint.facts.notebook",
        "extract",
    ),
}

NOT_PARSED = {"template"}
"""Kinds that are announced (a notice that says how to scan them), never parsed."""

GOOD = ("other/requirements.txt", "vllm\n", 1, "MLS-DEP-001")


def test_every_analysed_kind_has_an_injection_point() -> None:
    assert set(PARSERS) == set(analyze_mod._DISPATCH) - NOT_PARSED
    for _name, _text, module, function in PARSERS.values():
        assert callable(getattr(importlib.import_module(module), function))


def _tree(tmp_path: Path, name: str, text: str) -> None:
    for rel, data in ((name, text), (GOOD[0], GOOD[1])):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data, encoding="utf-8")


@pytest.mark.parametrize("error", [ValueError("boom"), KeyError("k"), MemoryError()])
@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_a_failing_parser_is_a_notice_for_its_file(
    kind: str, error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, text, module, function = PARSERS[kind]
    _tree(tmp_path, name, text)
    real = getattr(importlib.import_module(module), function)

    def fail(*args: object, **kwargs: object) -> object:
        # the good file is a requirements file too: only ours fails
        if kind == "requirements" and args and args[0] != text:
            return real(*args, **kwargs)
        raise error

    monkeypatch.setattr(importlib.import_module(module), function, fail)
    result = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path), jobs=1)).result
    found = {(f.path, f.line, f.rule_id) for f in result.findings}
    assert (GOOD[0], GOOD[2], GOOD[3]) in found
    notices = [n for n in result.notices if n.path == name]
    assert notices, f"no notice for {name}"
    assert all(n.level == "warning" for n in notices)
    assert any(n.code in ("analysis-error", "parse-error") for n in notices)


def test_conda_channel_in_a_spec_without_channels(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text("name: x\ndependencies:\n  - conda-forge::numpy\n")
    result = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path))).result
    assert [(f.rule_id, f.line) for f in result.findings] == [("MLS-DEP-001", 3)]
    assert not result.notices


def test_jupyter_config_the_parser_runs_out_of_memory_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "c.ServerApp.token = " + "-" * 100_000 + "1\n"  # MemoryError in ast.parse
    (tmp_path / "jupyter_server_config.py").write_text(hostile)
    (tmp_path / "requirements.txt").write_text("vllm\n")
    monkeypatch.chdir(tmp_path)
    code = main(["scan", ".", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 1
    assert '"MLS-DEP-001"' in out
    assert "jupyter_server_config.py" in out
