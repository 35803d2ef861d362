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


def test_straight_line_reassignment_replaces_the_value() -> None:
    src = (
        "import torch\ndef f(p):\n    w = True\n    w = False\n    torch.load(p, weights_only=w)\n"
    )
    (call,) = [f for f in facts(src) if f.data["callee"] == "torch.load"]
    assert call.data["kwargs"]["weights_only"] is False


def test_disagreeing_assignment_in_a_branch_becomes_unknown() -> None:
    src = (
        "import torch\ndef f(p, c):\n    w = True\n    if c:\n        w = False\n"
        "    torch.load(p, weights_only=w)\n"
        "    for w in (True, False):\n        torch.load(p, weights_only=w)\n"
    )
    loads = [f for f in facts(src) if f.data["callee"] == "torch.load"]
    assert [c.data["kwargs"]["weights_only"] for c in loads] == [UNKNOWN, UNKNOWN]


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
    assert fa.notices and fa.notices[0].code in ("parse-error", "partly-analysed")


def test_long_elif_chains_and_operator_chains_are_analysed() -> None:
    elifs = "".join(f"elif x == {i}:\n    pass\n" for i in range(1, 500))
    chain = " + ".join(["1"] * 1000)
    src = f"import torch\nx = {chain}\nif x == 0:\n    pass\n{elifs}torch.load('m.pt')\n"
    fa = extract(src, "d.py", src.split("\n"))
    assert not fa.notices
    assert [f.data["callee"] for f in fa.facts if f.kind == "python-call"] == ["torch.load"]


def test_a_part_nested_too_deeply_is_named_and_the_rest_analysed() -> None:
    src = "import torch\ny = " + "f(" * 190 + ")" * 190 + "\ntorch.load('m.pt')\n"
    fa = extract(src, "d.py", src.split("\n"))
    assert [(n.code, n.line) for n in fa.notices] == [("partly-analysed", 2)]
    assert "torch.load" in [f.data["callee"] for f in fa.facts if f.kind == "python-call"]


def one(src: str, callee: str) -> Fact:
    (call,) = [f for f in facts(src) if f.data["callee"] == callee]
    return call


def test_functions_see_the_final_module_constants() -> None:
    src = "import torch\ndef f(p):\n    return torch.load(p, weights_only=FLAG)\nFLAG = False\n"
    assert one(src, "torch.load").data["kwargs"]["weights_only"] is False


def test_annotated_tuple_and_class_constants() -> None:
    src = (
        "import torch\nA: bool = False\nB, C = True, 'x'\n"
        "class Cfg:\n    TRUST = True\n"
        "torch.load(1, weights_only=A, b=B, c=C, t=Cfg.TRUST)\n"
    )
    kw = one(src, "torch.load").data["kwargs"]
    assert (kw["weights_only"], kw["b"], kw["c"], kw["t"]) == (False, True, "x", True)


def test_with_targets_and_instance_attributes_keep_the_constructor() -> None:
    src = (
        "import requests, boto3\n"
        "with requests.Session() as s:\n    s.get('u')\n"
        "class Client:\n"
        "    def fetch(self):\n        return self.http.get('u', verify=self.verify)\n"
        "    def __init__(self):\n        self.http = requests.Session()\n"
        "        self.verify = False\n"
        "        self.s3 = boto3.client('s3', endpoint_url='http://minio:9000')\n"
        "    def up(self):\n        self.s3.put_object(Bucket='b')\n"
    )
    got = callees(src)
    assert got.count("requests.Session().get") == 2
    fetch = [f for f in facts(src) if f.data["callee"] == "requests.Session().get"][1]
    assert fetch.data["kwargs"]["verify"] is False
    put = one(src, "boto3.client().put_object")
    assert put.data["receiver"]["kwargs"]["endpoint_url"] == "http://minio:9000"


def test_chained_calls_and_receivers() -> None:
    src = "import boto3\nboto3.session.Session().client('s3', verify=False).upload_file('a')\n"
    call = one(src, "boto3.session.Session().client().upload_file")
    assert call.data["receiver"]["callee"] == "boto3.session.Session().client"
    assert call.data["receiver"]["kwargs"]["verify"] is False


def test_dynamic_imports_getattr_and_function_aliases() -> None:
    src = (
        "import importlib, torch\np = importlib.import_module('pickle')\np.loads(b)\n"
        "__import__('dill').loads(b)\ngetattr(p, 'load')(f)\nL = torch.load\nL(f)\n"
    )
    got = callees(src)
    for name in ("pickle.loads", "dill.loads", "pickle.load", "torch.load"):
        assert name in got


def test_locals_shadow_imports() -> None:
    src = (
        "import torch\nfrom pickle import loads\n"
        "def f(torch):\n    torch.load(x)\n"
        "def loads(b):\n    return b\nloads(1)\n"
    )
    got = callees(src)
    assert "torch.load" not in got and "pickle.loads" not in got and "loads" in got


def test_relative_imports_are_not_top_level_modules() -> None:
    src = "from .pickle import loads\nfrom . import yaml\nloads(b)\nyaml.load(s)\n"
    assert callees(src) == [".pickle.loads", ".yaml.load"]


def test_references_and_environment_defaults() -> None:
    src = (
        "import os, yaml, uvicorn\nfrom yaml import Loader as L\n"
        "HOST = os.getenv('HOST', '0.0.0.0')\n"
        "yaml.load(s, L)\nyaml.load(s, Loader=yaml.FullLoader)\n"
        "uvicorn.run(app, host=HOST, port=os.environ.get('PORT', 8000))\n"
    )
    first, second = [f for f in facts(src) if f.data["callee"] == "yaml.load"]
    assert first.data["arg_refs"][1] == "yaml.Loader"
    assert second.data["kwarg_refs"]["Loader"] == "yaml.FullLoader"
    run = one(src, "uvicorn.run")
    assert run.data["kwargs"]["host"] is UNKNOWN
    assert run.data["env_defaults"]["host"] == "0.0.0.0"
    assert run.data["env_defaults"]["port"] == 8000


def test_dict_call_and_constant_unpacking() -> None:
    src = (
        "import torch\nEXTRA = dict(mmap=True)\n"
        "torch.load(p, **dict(weights_only=False), **EXTRA)\n"
    )
    kw = one(src, "torch.load").data["kwargs"]
    assert kw["weights_only"] is False and kw["mmap"] is True


def test_comprehension_targets_shadow_constants() -> None:
    src = "import torch\nw = True\n[torch.load(p, weights_only=w) for w in flags]\n"
    assert one(src, "torch.load").data["kwargs"]["weights_only"] is UNKNOWN


def test_environment_setters() -> None:
    src = (
        "import os\nos.environ.setdefault('A', '1')\nos.putenv('B', '2')\n"
        "os.environ.update({'C': '3'}, D='4')\n"
    )
    assert [(e.data["name"], e.data["value"]) for e in facts(src, "env")] == [
        ("A", "1"),
        ("B", "2"),
        ("C", "3"),
        ("D", "4"),
    ]


def test_assignment_value_references() -> None:
    src = "import ssl\nctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_NONE\n"
    (a,) = facts(src, "python-assign")
    assert a.data["target"] == "ssl.create_default_context().verify_mode"
    assert a.data["value_ref"] == "ssl.CERT_NONE"


def _module(n: int) -> str:
    body = "".join(
        f"def f{i}(p):\n    return torch.load(p, weights_only=W{i % 7})\n" for i in range(n)
    )
    return "import torch\n" + "".join(f"W{i} = False\n" for i in range(7)) + body


def _calls_made(src: str) -> int:
    """Function calls (Python and built-in) made while extracting: the work done,
    counted, so the same on a loaded machine."""
    import sys

    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        facts(src)
    finally:
        sys.setprofile(None)
    return count


def _cpu_seconds(*sources: str) -> list[float]:
    """CPU time of each extraction, the least disturbed of three rounds; the sources are
    measured in turn within a round, so a change of load weighs on each alike."""
    import gc
    import time

    best = [float("inf")] * len(sources)
    gc.collect()
    gc.disable()  # collections of the growing heap are not the extractor's work
    try:
        for _ in range(3):
            for i, src in enumerate(sources):
                start = time.process_time()
                facts(src)
                best[i] = min(best[i], time.process_time() - start)
    finally:
        gc.enable()
    return best


def test_large_file_is_one_linear_pass() -> None:
    found = facts(_module(3000))
    assert len(found) == 3000 and all(f.data["kwargs"]["weights_only"] is False for f in found)
    # four times the functions: four times the work, not sixteen (a quadratic pass)
    small, large = _module(400), _module(1600)
    assert _calls_made(large) < 4.5 * _calls_made(small)
    # and the time: eight times the functions take eight times as long, not 64 times
    # (a quadratic pass); the bound leaves room for a loaded machine
    short, long = _cpu_seconds(_module(250), _module(2000))
    assert long < 24 * short


def test_the_analysis_of_a_file_leaves_no_reference_cycles() -> None:
    """Python files are scanned with the young-generation collection made rarer (see
    api._scan_python): what the analysis of a file allocates is freed by reference
    counting."""
    import gc

    src = _module(50) + "class C:\n    def m(self):\n        self.s = requests.Session()\n"
    gc.collect()
    gc.disable()
    try:
        facts(src)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_class_body_names_are_not_visible_in_methods() -> None:
    src = (
        "from pickle import loads\nimport torch\n"
        "class C:\n    torch = None\n    def loads(self, b):\n        return loads(b)\n"
        "    def restore(self, p):\n        return torch.load(p)\n"
    )
    got = callees(src)
    assert "pickle.loads" in got and "torch.load" in got


def test_functools_partial_is_a_call_of_its_target() -> None:
    src = (
        "import functools, torch\nfrom functools import partial\n"
        "unsafe = partial(torch.load, weights_only=False)\n"
        "also = functools.partial(torch.load, 'x.pt')\n"
    )
    loads = [f for f in facts(src) if f.data["callee"] == "torch.load"]
    assert [f.data["kwargs"].get("weights_only") for f in loads] == [False, None]
    assert all(f.data["star_kwargs"] is True for f in loads)
    assert loads[1].data["args"] == ["x.pt"]
