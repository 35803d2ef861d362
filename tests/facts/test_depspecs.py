"""Specifier classification: conda match specs and Poetry constraints."""

from __future__ import annotations

import pytest

from mlsec_lint.facts.depspecs import conda_spec_info, poetry_spec_info


@pytest.mark.parametrize(
    ("spec", "pinned", "version", "name"),
    [
        ("pytorch", False, None, "pytorch"),
        ("pytorch=2.1", False, None, "pytorch"),
        ("pytorch=2.1.0", False, None, "pytorch"),
        ("pytorch==2.1.0", True, "2.1.0", "pytorch"),
        ("pytorch=2.1.0=py3.11_cuda12.1_0", True, "2.1.0", "pytorch"),
        ("pytorch 2.1.0 py3.11_0", True, "2.1.0", "pytorch"),
        ("pytorch>=2.1", False, None, "pytorch"),
        ("pytorch::pytorch==2.1.0", True, "2.1.0", "pytorch"),
        ("numpy[version='>=1.26']", False, None, "numpy"),
        ("numpy=1.26.*", False, None, "numpy"),
    ],
)
def test_conda_match_specs(spec: str, pinned: bool, version: str | None, name: str) -> None:
    info = conda_spec_info(spec)
    assert (info["pinned"], info.get("version"), info["name"]) == (pinned, version, name)


@pytest.mark.parametrize(
    ("value", "pinned"),
    [
        ("2.6.0", True),
        ("==2.6.0", True),
        ("^2.6", False),
        ("~2.6", False),
        ("*", False),
        (">=2.6,<3", False),
        ({"version": "2.6.0", "extras": ["x"]}, True),
        ({"git": "https://g/x", "branch": "main"}, False),
        ({"git": "https://g/x", "rev": "0123456789abcdef0123456789abcdef01234567"}, True),
        ([{"version": "2.6.0", "python": ">=3.10"}, {"version": "2.6.0", "python": "<3.10"}], True),
    ],
)
def test_poetry_constraints(value: object, pinned: bool) -> None:
    assert poetry_spec_info("torch", value)["pinned"] is pinned
