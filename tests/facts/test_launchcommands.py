"""Command lines -> server: scripts of any text never raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.facts.launchargs import Doc
from mlsec_lint.facts.launchcommands import run_script


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="vlm serv-=$(){}'\"\\\n#;&|0.:/ hHost", max_size=80))
def test_scripts_never_raise(text: str) -> None:
    list(run_script(Doc.of_file(text), {}))
