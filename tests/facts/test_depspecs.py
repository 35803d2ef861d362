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


_SPECS = [
    "torch",
    "torch==2.1.0",
    "Torch==02.1",
    "scikit-learn>=1.5",
    "numpy<2",
    "numpy>1",
    "numpy<=1.26.4",
    "numpy!=1.26.0",
    "numpy~=1.26",
    "numpy~=1",
    "numpy==1.*",
    "numpy===1.0",
    "numpy==1.0a1",
    "numpy==1.0.post1",
    "numpy==1.0+local",
    "numpy>=1,<2",
    "numpy >=1",
    "numpy== 1",
    "uvicorn[standard]",
    "uvicorn[standard]==0.30.1",
    "uvicorn[b,a,b]>=0.30",
    "uvicorn[Standard]",
    "uvicorn[]",
    "uvicorn[a,]",
    "uvicorn[a, b]",
    "a",
    "a_",
    "_a",
    "a-",
    "a.b-c_d",
    "a..b==1",
    "foo.whl",
    "foo.tar.gz",
    "foo.zip",
    "foo.zip==1",
    "torch=2.1",
    "torch==",
    "torch==2.",
    "torch==.2",
    "torch==2..1",
    "torch>=2.1; python_version<'3.12'",
    "torch @ https://x/torch-2.1-py3-none-any.whl",
    "tørch==1",
    "torch==\u0661",  # a non-ASCII digit
    "$PKG",
    "torch==2.1.0\n",
]


@pytest.mark.parametrize("spec", _SPECS)
def test_plain_specs_read_as_packaging_reads_them(spec: str) -> None:
    """The hand reading of the common forms is exactly the ``packaging`` one, and the rest
    is left to ``packaging``."""
    from mlsec_lint.facts.depspecs import _analyse_spec, _general_spec, _plain_spec

    plain = _plain_spec(spec)
    general = _general_spec(spec)
    if plain is not None:
        assert list(plain.items()) == list(general.items())
    assert _analyse_spec(spec) == general


def test_plain_specs_cover_the_common_forms() -> None:
    from mlsec_lint.facts.depspecs import _plain_spec

    for spec in ("torch", "torch==2.1.0", "uvicorn[standard]>=0.30", "numpy~=1.26", "a<2"):
        assert _plain_spec(spec) is not None, spec
    for spec in ("numpy==1.*", "numpy~=1", "foo.whl", "numpy >=1", "torch>=2; os_name=='nt'"):
        assert _plain_spec(spec) is None, spec


def test_plain_specs_agree_with_packaging_on_generated_strings() -> None:
    """Every string of a small alphabet up to a length: where the hand reading answers,
    ``packaging`` answers the same."""
    import itertools

    from mlsec_lint.facts.depspecs import _general_spec, _plain_spec

    alphabet = "a1.-_[],=<>!~"
    answered = 0
    for n in range(1, 6):
        for chars in itertools.product(alphabet, repeat=n):
            spec = "".join(chars)
            plain = _plain_spec(spec)
            if plain is not None:
                answered += 1
                assert list(plain.items()) == list(_general_spec(spec).items()), spec
    assert answered > 100
