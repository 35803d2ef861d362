"""The record base: msgspec's Struct, loaded without typing_extensions."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from mlsec_lint.model import Finding, Notice, Severity, Span
from mlsec_lint.records import Struct, field, replace


def test_records_load_msgspec_without_typing_extensions_and_leave_it_importable() -> None:
    code = (
        "import sys\n"
        "import mlsec_lint.records\n"
        "assert 'msgspec' in sys.modules\n"
        "assert 'typing_extensions' not in sys.modules and 'inspect' not in sys.modules\n"
        "import typing_extensions\n"  # others may still import it afterwards
        "print(typing_extensions.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "typing_extensions"


def test_a_msgspec_without_fallback_is_imported_the_ordinary_way() -> None:
    # a msgspec that requires typing_extensions: the blocked import fails, then succeeds
    code = (
        "import sys, builtins\n"
        "real = builtins.__import__\n"
        "def fussy(name, *a, **k):\n"
        "    if name == 'msgspec' and sys.modules.get('typing_extensions', 1) is None:\n"
        "        raise ImportError('typing_extensions is required')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = fussy\n"
        "from mlsec_lint.records import Struct\n"
        "class P(Struct):\n"
        "    x: int\n"
        "print(P(1).x, 'typing_extensions' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "1"


class _Point(Struct, frozen=True, order=True):
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


class _Bag(Struct):
    items: list[int] = field(default_factory=list)


def test_structs_behave_as_the_records_need() -> None:
    p = _Point(1)
    assert p == _Point(1, 0) and hash(p) == hash(_Point(1, 0))
    assert sorted([_Point(2), _Point(1, 5)]) == [_Point(1, 5), _Point(2)]
    assert replace(p, y=3) == _Point(1, 3)
    with pytest.raises(AttributeError):
        p.x = 2  # type: ignore[misc]
    a, b = _Bag(), _Bag()
    a.items.append(1)
    assert b.items == []  # default factories are not shared
    assert pickle.loads(pickle.dumps(p)) == p


def test_a_finding_is_compared_on_what_makes_it_a_finding() -> None:
    span = Span(1, 1, 1, 5)
    args = ("MLS-X", "x", "title", "secrets", Severity.HIGH, "a.py", span, "msg", "line")
    a = Finding(*args, annotations={"a": 1}, rendered_from="chart/x.yaml")
    b = Finding(*args)
    assert a == b  # annotations, fix, merged findings and rendered origin are not compared
    assert a != Finding(*args, key="other")
    assert a != replace(b, message="other")
    with pytest.raises(TypeError):
        hash(a)  # mutable
    assert Notice("a.py", "code", "m") != Finding(*args)
