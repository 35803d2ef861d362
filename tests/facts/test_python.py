from __future__ import annotations

from mlsec_lint.facts import Fact
from mlsec_lint.facts.python import extract
from mlsec_lint.tree import UNKNOWN


def facts(src: str, kind: str = "python-call") -> list[Fact]:
    return [f for f in extract(src, "m.py", src.split("\n")).facts if f.kind == kind]


def callees(src: str) -> list[str]:
    return [f.data["callee"] for f in facts(src)]


def test_import_aliases_and_from_imports() -> None:
    src = (
        "import torch as T\nfrom torch import load as L\nimport os.path\n"
        "from transformers import AutoModel\nT.load(1)\nL(2)\nos.path.join('a')\n"
        "AutoModel.from_pretrained('x')\n"
    )
    assert callees(src) == [
        "torch.load",
        "torch.load",
        "os.path.join",
        "transformers.AutoModel.from_pretrained",
    ]


def test_constructor_methods_direct_and_through_variables() -> None:
    src = (
        "import requests, boto3\nrequests.Session().get('u')\ns = requests.Session()\ns.post('u')\n"
        "def f():\n    c = boto3.client('s3')\n    c.put_object(Bucket='b')\n"
    )
    got = callees(src)
    assert "requests.Session().get" in got and "requests.Session().post" in got
    assert "boto3.client().put_object" in got


def test_literals_constants_and_dict_unpacking() -> None:
    src = (
        "import torch\nFLAG = False\nOPTS = {'map_location': 'cpu'}\n"
        "def f(p, dyn):\n    x = 'http://' + 'h'\n"
        "    torch.load(p, weights_only=FLAG, **{'mmap': True}, url=x, other=dyn, **OPTS)\n"
    )
    (call,) = [f for f in facts(src) if f.data["callee"] == "torch.load"]
    kw = call.data["kwargs"]
    assert kw["weights_only"] is False and kw["mmap"] is True and kw["url"] == "http://h"
    assert kw["other"] is UNKNOWN and kw["map_location"] == "cpu"
    assert call.data["star_kwargs"] is False
    assert call.data["args"][0] is UNKNOWN


def test_fstrings_keep_their_static_parts() -> None:
    src = "import mlflow\nhost = get()\nmlflow.set_tracking_uri(f'http://{host}:5000')\n"
    (call,) = [f for f in facts(src) if f.data["callee"] == "mlflow.set_tracking_uri"]
    assert call.data["args"][0] == "http://{…}:5000"


def test_reassigned_local_becomes_unknown() -> None:
    src = (
        "import torch\ndef f(p):\n    w = True\n    w = False\n    torch.load(p, weights_only=w)\n"
    )
    (call,) = [f for f in facts(src) if f.data["callee"] == "torch.load"]
    assert call.data["kwargs"]["weights_only"] is UNKNOWN


def test_attribute_assignments_and_environ() -> None:
    src = (
        "import os, requests\ns = requests.Session()\ns.verify = False\nc.ServerApp.token = ''\n"
        "os.environ['HF_TOKEN'] = 'hf_x'\n"
    )
    assigns = facts(src, "python-assign")
    assert [(a.data["target"], a.data["value"]) for a in assigns] == [
        ("requests.Session().verify", False),
        ("c.ServerApp.token", ""),
    ]
    (env,) = facts(src, "env")
    assert env.data["name"] == "HF_TOKEN" and env.data["value"] == "hf_x" and env.anchor.line == 5


def test_columns_are_characters_not_bytes() -> None:
    src = "import torch\nx = 'é'; torch.load(p)\n"
    (call,) = [f for f in facts(src) if f.data["callee"] == "torch.load"]
    assert call.anchor.col == 10


def test_syntax_errors_are_notices() -> None:
    fa = extract("def broken(:\n", "b.py", ["def broken(:", ""])
    assert fa.facts == [] and fa.notices[0].code == "parse-error" and fa.notices[0].line == 1


def test_deep_nesting_is_a_notice_not_a_crash() -> None:
    src = "x = " + "(" * 120 + "1" + ")" * 120 + "\n" + "y = " + "-" * 2000 + "1\n"
    fa = extract(src, "d.py", src.split("\n"))
    assert fa.notices and fa.notices[0].code == "parse-error"
