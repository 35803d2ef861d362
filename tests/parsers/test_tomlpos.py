from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.parsers.tomlpos import locate

DOC = """# leading comment
[project]
name = "svc"
dependencies = [
    "torch>=2.2",  # a comment with "quotes"
    'numpy==2.1.3',
    "torch>=2.2",
]

[tool.poetry.dependencies]
ray = { version = "2.52.1", extras = ["serve"] }
"quoted.key" = "^1.0"
multi = \"\"\"first
second\"\"\"

[[tool.uv.index]]
url = "https://download.pytorch.org/whl/cu124"
"""


def test_strings_keys_and_tables_have_positions() -> None:
    pos = locate(DOC)
    first = pos.string(("project", "dependencies"), "torch>=2.2")
    second = pos.string(("project", "dependencies"), "torch>=2.2", nth=1)
    assert first is not None and (first.line, first.col, first.end_col) == (5, 5, 17)
    assert second is not None and second.line == 7
    numpy = pos.string(("project", "dependencies"), "numpy==2.1.3")
    assert numpy is not None and (numpy.line, numpy.col) == (6, 5)
    assert pos.string(("tool", "poetry", "dependencies", "ray", "version"), "2.52.1") is not None
    extras = pos.strings[("tool", "poetry", "dependencies", "ray", "extras")]
    assert [t for t, _ in extras] == ["serve"]
    key = pos.key(("tool", "poetry", "dependencies", "quoted.key"))
    assert key is not None and key.line == 12
    assert pos.string(("tool", "poetry", "dependencies", "multi"), "first\nsecond") is not None
    url = pos.string(("tool", "uv", "index", "url"), "https://download.pytorch.org/whl/cu124")
    assert url is not None and url.line == 17
    assert pos.tables[("project",)].line == 2
    assert pos.near(("project", "dependencies", "missing")).line == 4


def test_escapes_are_decoded() -> None:
    pos = locate('a = "x\\"y\\u0041"\n')
    assert pos.string(("a",), 'x"yA') is not None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable + "\u00e9", max_size=200))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    locate(text)


def test_looking_up_every_item_of_a_large_array_is_linear() -> None:
    import time

    n = 50_000
    text = "[project]\ndependencies = [\n" + "".join(f'  "p{i}==1",\n' for i in range(n)) + "]\n"
    pos = locate(text)
    start = time.perf_counter()
    spans = [pos.string(("project", "dependencies"), f"p{i}==1") for i in range(n)]
    assert time.perf_counter() - start < 2
    assert spans[0] is not None and spans[0].line == 3
    assert spans[-1] is not None and spans[-1].line == n + 2
    assert pos.string(("project", "dependencies"), "p0==1", nth=1) is None
