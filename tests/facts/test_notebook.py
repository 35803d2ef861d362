from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from mlsec_lint.analyze import analyze
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.facts import FileAnalysis
from mlsec_lint.facts.notebook import extract


def _nb(*cells: str | list[str], language: str = "python", outputs: Sequence[object] = ()) -> str:
    raw = []
    for i, cell in enumerate(cells):
        source = cell if isinstance(cell, list) else [ln + "\n" for ln in cell.split("\n")]
        raw.append(
            {
                "cell_type": "code",
                "execution_count": i + 1,
                "metadata": {},
                "outputs": list(outputs) if i == len(cells) - 1 else [],
                "source": source,
            }
        )
    doc = {"cells": raw, "metadata": {"kernelspec": {"language": language}}, "nbformat": 4}
    return json.dumps(doc, indent=1) + "\n"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.split("\n"), start=1) if needle in ln)


def _analyse(text: str) -> FileAnalysis:
    return extract(text, "nb.ipynb", analyze)


def test_cells_are_one_module_reported_at_the_notebook_line() -> None:
    text = _nb("import torch as T", "x = 1", "model = T.load(path)")
    fa = _analyse(text)
    call = next(f for f in fa.facts if f.kind == "python-call")
    assert call.data["callee"] == "torch.load"  # the import of cell 1 resolves cell 3
    assert call.data["notebook_cell"] == 3
    line = _line_of(text, "T.load")
    assert call.anchor.line == line
    col = text.split("\n")[line - 1].index("T.load") + 1
    assert call.data.vspan["callee"].col == col


def test_shell_escapes_and_pip_magics_go_through_the_shell_analysis() -> None:
    text = _nb(
        "!pip install torch\n%pip install -q transformers\npip install vllm\n"
        "files = !ls models\n!pip install \\\n    accelerate",
        ["%%bash\n", "pip install ray\n"],
    )
    fa = _analyse(text)
    deps = {f.data["name"]: f for f in fa.facts if f.kind == "dependency"}
    assert set(deps) == {"torch", "transformers", "vllm", "accelerate", "ray"}
    for name, fact in deps.items():
        assert name in text.split("\n")[fact.anchor.line - 1]
    assert deps["ray"].data["notebook_cell"] == 2
    assert not fa.notices  # the magics did not break the Python of the cell


def test_env_magic_sets_an_environment_variable() -> None:
    text = _nb("%env HF_TOKEN=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")
    env = [f for f in _analyse(text).facts if f.kind == "env"]
    assert [(f.data["name"], f.data["value"], f.data["literal"]) for f in env] == [
        ("HF_TOKEN", "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", True)
    ]
    assert env[0].data.vspan["value"].line == _line_of(text, "%env")


def test_a_cell_that_does_not_parse_is_left_out_with_a_notice() -> None:
    text = _nb(
        "import pickle", "def broken(:", "pickle.loads(blob)", "%%writefile app.py\nimport os"
    )
    fa = _analyse(text)
    assert [f.data["callee"] for f in fa.facts if f.kind == "python-call"] == ["pickle.loads"]
    assert len(fa.notices) == 1
    notice = fa.notices[0]
    assert "cell 2" in notice.message and notice.line == _line_of(text, "def broken")


def test_other_kernels_are_not_analysed_but_outputs_are_searched() -> None:
    token = "ghp_" + "A1b2C3d4" * 4 + "Zz9Y"
    out = [{"output_type": "stream", "name": "stdout", "text": [token + "\n"]}]
    text = _nb("library(torch)", language="R", outputs=out)
    fa = _analyse(text)
    assert [n.code for n in fa.notices] == ["unsupported-language"]
    outputs = [f for f in fa.facts if f.kind == "notebook-output"]
    assert [(f.data["cell"], f.data["token_kind"]) for f in outputs] == [(1, "GitHub token")]
    assert not [f for f in fa.facts if f.kind != "notebook-output"]


def test_outputs_are_never_code() -> None:
    out = [{"output_type": "stream", "name": "stdout", "text": ["torch.load('m.pt')\n"]}]
    fa = _analyse(_nb("print(1)", outputs=out))
    assert [f.data["callee"] for f in fa.facts if f.kind == "python-call"] == ["print"]


def test_invalid_json_is_a_notice() -> None:
    fa = _analyse('{"cells": [{"cell_type": "code", "source": ["x"]}')
    assert [n.code for n in fa.notices] == ["parse-error"] and not fa.facts


def test_scan_finds_notebooks_and_names_the_cell(tmp_path: Path) -> None:
    text = _nb("import torch", "m = torch.load('model.pt')")
    (tmp_path / "train.ipynb").write_text(text, encoding="utf-8")
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    found = [f for f in result.findings if f.rule_id == "MLS-PY-002"]
    assert [(f.path, f.line) for f in found] == [("train.ipynb", _line_of(text, "torch.load"))]
    assert found[0].message.endswith(" Notebook cell 2.")
    assert result.files_by_kind == {"notebook": 1}


def test_writefile_cells_are_analysed_as_the_file_they_write() -> None:
    text = _nb(
        "%%writefile serve.py\nimport uvicorn\nuvicorn.run('app:app', host='0.0.0.0')",
        "%%writefile requirements.txt\ntorch\n",
        "%%writefile notes.md\n# torch.load(x)",
    )
    fa = _analyse(text)
    call = next(f for f in fa.facts if f.kind == "python-call")
    assert call.data["callee"] == "uvicorn.run" and call.data["notebook_cell"] == 1
    assert call.anchor.line == _line_of(text, "uvicorn.run")
    dep = next(f for f in fa.facts if f.kind == "dependency")
    assert dep.data["name"] == "torch" and dep.anchor.line == _line_of(text, '"torch')
    assert not fa.notices


def test_magic_like_lines_inside_strings_stay_python() -> None:
    text = _nb(
        'prompt = """Can you explain this charge?\n!rm -rf is not a command here\n"""\n'
        "torch.hub?\nimport pickle\npickle.loads(prompt)"
    )
    fa = _analyse(text)
    assert not fa.notices
    assert not [f for f in fa.facts if f.kind == "command"]
    assert [f.data["callee"] for f in fa.facts if f.kind == "python-call"] == ["pickle.loads"]


def test_cells_are_named_in_a_notebook_written_on_one_line(tmp_path: Path) -> None:
    doc = {
        "cells": [
            {"cell_type": "code", "source": ["import pickle"], "outputs": []},
            {"cell_type": "markdown", "source": ["# load"]},
            {"cell_type": "code", "source": ["pickle.loads(b)"], "outputs": []},
        ],
        "metadata": {},
        "nbformat": 4,
    }
    (tmp_path / "min.ipynb").write_text(json.dumps(doc), encoding="utf-8")
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    found = [f for f in result.findings if f.rule_id == "MLS-PY-001"]
    assert [(f.line, f.message.endswith(" Notebook cell 3.")) for f in found] == [(1, True)]


def test_suppression_comments_in_cells(tmp_path: Path) -> None:
    text = _nb(
        "import pickle\n"
        "m = pickle.load(f)  # mlsec-lint: ignore[MLS-PY-001] -- our own cache\n"
        "# mlsec-lint: ignore[MLS-PY-001] -- written by the previous cell\n"
        "n = pickle.load(g)\n"
        's = """# mlsec-lint: ignore[MLS-PY-001] -- text, not a comment"""\n'
        "o = pickle.load(h)"
    )
    (tmp_path / "cache.ipynb").write_text(text, encoding="utf-8")
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    assert [(f.rule_id, f.line) for f in result.findings] == [
        ("MLS-PY-001", _line_of(text, "o = pickle.load"))
    ]
    assert sorted(f.line for f in result.suppressed) == [
        _line_of(text, "m = pickle.load"),
        _line_of(text, "n = pickle.load"),
    ]


def test_an_invalid_requirement_in_a_written_file_is_said_once() -> None:
    from mlsec_lint.source import Source

    source = Source("nb.ipynb", _nb("%%writefile requirements.txt\ntorch=2.7.0\n"))
    fa = analyze(source, "notebook")
    assert [n.code for n in fa.notices].count("invalid-requirement") == 1


def test_shell_commands_past_the_budget_are_announced_at_the_notebook_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlsec_lint.facts import shellcmds

    monkeypatch.setattr(shellcmds, "MAX_COMMANDS", 2)
    text = _nb("!echo a\n!echo b\n!echo c\n!echo d")
    fa = _analyse(text)
    said = [n for n in fa.notices if n.code == "partly-analysed"]
    assert len(said) == 1 and said[0].line == _line_of(text, "!echo c")
