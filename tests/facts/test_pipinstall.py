"""Install command lines: which argv is a pip/uv install."""

from __future__ import annotations

import pytest

from mlsec_lint.facts.pipinstall import pip_install_args


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (["pip", "install", "x"], ("pip", 2)),
        (["pip3.11", "--no-cache-dir", "install", "x"], ("pip", 3)),
        (["python3", "-m", "pip", "install", "x"], ("pip", 4)),
        (["/usr/bin/python", "-u", "-m", "pip", "install"], ("pip", 5)),
        (["uv", "pip", "install", "x"], ("uv", 3)),
        (["pip", "download", "x"], None),
        (["python", "-m", "venv", "x"], None),
    ],
)
def test_install_command_detection(argv: list[str], found: tuple[str, int] | None) -> None:
    assert pip_install_args(argv) == found
