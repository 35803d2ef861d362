from __future__ import annotations

import ast

import pytest

from mlsec_lint.facts.pyconstructs import printed_names, restricts_find_class
from mlsec_lint.facts.python import extract


def _facts(src: str, kind: str) -> list[dict[str, object]]:
    return [dict(f.data) for f in extract(src, "m.py", src.split("\n")).facts if f.kind == kind]


@pytest.mark.parametrize(
    ("body", "restrictive"),
    [
        ("pass", False),
        ("def find_class(self, m, n):\n    return super().find_class(m, n)", False),
        (
            "def find_class(self, m, n):\n    if m == 'torch.storage':\n        return load\n"
            "    return super().find_class(m, n)",
            False,
        ),
        ("def find_class(self, m, n):\n    return getattr(importlib.import_module(m), n)", False),
        (
            "def find_class(self, m, n):\n    if (m, n) in SAFE:\n"
            "        return super().find_class(m, n)\n    raise UnpicklingError(n)",
            True,
        ),
        ("def find_class(self, m, n):\n    return ALLOWED[(m, n)]", True),
    ],
)
def test_find_class_restrictions(body: str, restrictive: bool) -> None:
    src = "class U(pickle.Unpickler):\n" + "\n".join("    " + ln for ln in body.split("\n"))
    cls = ast.parse(src).body[0]
    assert isinstance(cls, ast.ClassDef)
    assert restricts_find_class(cls) is restrictive


def test_unrestricted_unpickler_subclasses_load_like_pickle() -> None:
    src = (
        "import pickle, dill\n"
        "class A(pickle.Unpickler):\n    pass\n"
        "class B(A):\n    pass\n"
        "class Safe(dill.Unpickler):\n"
        "    def find_class(self, m, n):\n        raise ValueError(n)\n"
        "A(f).load()\nB(f).load()\nSafe(f).load()\n"
    )
    callees = [d["callee"] for d in _facts(src, "python-call") if str(d["callee"]).endswith("load")]
    assert callees == ["pickle.Unpickler().load", "pickle.Unpickler().load", "Safe().load"]


def test_settings_class_fields_are_assignments_with_their_defaults() -> None:
    src = (
        "from dataclasses import dataclass, field\n"
        "import pydantic_settings as ps\nfrom pydantic import Field\n"
        "class S(ps.BaseSettings):\n    host: str = Field('0.0.0.0', description='d')\n"
        "    tags: list = Field(default_factory=list)\n    port = 80\n"
        "@dataclass(frozen=True)\nclass D:\n    bind: str = field(default='::')\n    n: int\n"
        "class Plain:\n    host = '0.0.0.0'\n"
    )
    got = {
        (d["target"], d["value"], d["settings_class"])
        for d in _facts(src, "python-assign")
        if "settings_class" in d
    }
    assert got == {
        ("S.host", "0.0.0.0", "pydantic_settings.BaseSettings"),
        ("S.port", 80, "pydantic_settings.BaseSettings"),
        ("D.bind", "::", "dataclasses.dataclass"),
    }


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("api_key", ["api_key"]),
        ("self.cfg.hf_token", ["hf_token"]),
        ("os.environ['HF_TOKEN']", ["HF_TOKEN"]),
        ("os.getenv('OPENAI_API_KEY', '')", ["OPENAI_API_KEY"]),
        ("f'key={key!r} user={user}'", ["key", "user"]),
        ("'token ' + str(tok)", ["tok"]),
        ("'%s' % (secret,)", ["secret"]),
        ("'{}'.format(password)", ["password"]),
        ("token[:4]", []),
        ("len(token)", []),
        ("hashlib.sha256(token).hexdigest()", []),
    ],
)
def test_printed_names(expr: str, names: list[str]) -> None:
    node = ast.parse(expr, mode="eval").body
    assert list(printed_names(node)) == names


def test_print_and_log_calls_carry_the_printed_names() -> None:
    src = "import logging\nprint('t', tok)\nlogging.info('%s', cfg.api_key)\nmax(tok)\n"
    got = {str(d["callee"]): d.get("printed_names", []) for d in _facts(src, "python-call")}
    assert got == {"print": ["tok"], "logging.info": ["api_key"], "max": []}


def test_one_word_literals_assigned_to_names_are_facts() -> None:
    src = (
        "HF_TOKEN = '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'\n"
        "greeting = 'hello world, this has spaces'\nshort = 'abc'\nn = 12345678\n"
    )
    got = [(d["target"], d["value"]) for d in _facts(src, "python-assign")]
    assert got == [("HF_TOKEN", "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")]
