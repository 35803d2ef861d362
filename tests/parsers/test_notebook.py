from __future__ import annotations

import json

import pytest

from mlsec_lint.parsers.notebook import NotebookError, parse


def _nb(cells: list[dict[str, object]], **meta: object) -> str:
    return json.dumps({"cells": cells, "metadata": meta, "nbformat": 4}, indent=1) + "\n"


def test_cells_keep_the_file_position_of_each_source_line() -> None:
    text = _nb(
        [
            {"cell_type": "markdown", "source": ["# t"]},
            {"cell_type": "code", "source": ["import torch\n", 'x = torch.load("m.pt")']},
        ],
        kernelspec={"language": "python"},
    )
    nb = parse(text)
    assert nb.language == "python"
    assert [c.number for c in nb.cells] == [1, 2]
    code = nb.cells[1]
    assert [ln.text for ln in code.lines] == ["import torch", 'x = torch.load("m.pt")']
    file_lines = text.split("\n")
    line, col = code.lines[1].position(4)  # the "t" of torch
    assert file_lines[line - 1][col - 1 : col + 9] == "torch.load"


def test_columns_account_for_escapes_and_one_string_sources() -> None:
    src = 'print("\\t", "é")\ny = torch.load(p)'
    text = json.dumps({"cells": [{"cell_type": "code", "source": src}]})  # ASCII escapes
    nb = parse(text)
    lines = nb.cells[0].lines
    assert [ln.text for ln in lines] == ['print("\\t", "é")', "y = torch.load(p)"]
    line, col = lines[1].position(4)
    assert line == 1 and text[col - 1 : col + 9] == "torch.load"
    _, col = lines[0].position(len('print("\\t", "'))  # after an escaped tab, before é
    assert text[col - 1 : col + 5] == "\\u00e9"


def test_outputs_are_text_with_positions() -> None:
    text = _nb(
        [
            {
                "cell_type": "code",
                "source": ["print(1)"],
                "outputs": [
                    {"output_type": "stream", "text": ["1\n"]},
                    {
                        "output_type": "display_data",
                        "data": {"image/png": "iVBOR", "text/plain": "<Figure>"},
                    },
                ],
            }
        ]
    )
    outs = parse(text).cells[0].outputs
    assert [(o.output_type, o.text) for o in outs] == [
        ("stream", "1\n"),
        ("display_data", "<Figure>"),
    ]
    assert text.split("\n")[outs[0].line - 1][outs[0].col - 1 :].startswith("1\\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "unexpected end"),
        ('{"cells": 1}', "not a Jupyter notebook"),
        ('{"worksheets": []}', "nbformat 3"),
        ("[" * 100 + "]" * 100, "nested deeper"),
        ('{"cells": []} x', "extra data"),
    ],
)
def test_bad_notebooks_raise_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(NotebookError, match=message):
        parse(text)


def test_shell_cells() -> None:
    from mlsec_lint.parsers.notebook import is_shell_cell

    assert is_shell_cell("bash", "") and is_shell_cell("system", "")
    assert is_shell_cell("script", "bash --login") and is_shell_cell("script", "/bin/sh")
    assert not is_shell_cell("script", "python3") and not is_shell_cell("html", "")
