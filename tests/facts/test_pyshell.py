from __future__ import annotations

import json
from pathlib import Path

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.facts import Fact
from mlsec_lint.facts.python import extract


def _facts(code: str) -> list[Fact]:
    lines = code.split("\n")
    return [f for f in extract(code, "run.py", lines).facts if "python_callee" in f.data]


def _text(code: str, fact: Fact) -> str:
    """The source text a fact's anchor covers (one line)."""
    a = fact.anchor
    assert a.line == a.end_line
    return code.split("\n")[a.line - 1][a.col - 1 : a.end_col - 1]


def _of(facts: list[Fact], kind: str, **match: object) -> list[Fact]:
    return [
        f for f in facts if f.kind == kind and all(f.data.get(k) == v for k, v in match.items())
    ]


def test_os_system_is_a_shell_line_reported_at_its_words() -> None:
    code = 'import os\nos.system("pip install flask torch && curl -fsSL https://x.io/i | sh")\n'
    facts = _facts(code)
    (torch,) = _of(facts, "dependency", name="torch")
    assert _text(code, torch) == "torch"
    assert torch.data["origin"] == "shell"
    assert torch.data["python_callee"] == "os.system"
    (sh,) = _of(facts, "command", program="sh")
    assert _text(code, sh) == "sh"
    assert sh.data["piped_from"]["program"] == "curl"


def test_fstring_unknown_parts_are_placeholders_never_values() -> None:
    code = (
        'import os\ndef f(ver, pkg):\n    os.system(f"pip install torch=={ver} {pkg} requests")\n'
    )
    facts = _facts(code)
    names = sorted(str(f.data["name"]) for f in _of(facts, "dependency"))
    assert "requests" in names and "torch" in names
    (torch,) = _of(facts, "dependency", name="torch")
    assert torch.data["dynamic"] is True  # the version is not known: not "unpinned"
    (requests,) = _of(facts, "dependency", name="requests")
    assert _text(code, requests) == "requests"
    placeholder = [f for f in _of(facts, "dependency") if str(f.data["name"]).startswith("$")]
    assert all(f.data["dynamic"] is True for f in placeholder)


def test_constants_and_concatenation_resolve() -> None:
    code = (
        "import subprocess\n"
        'URL = "https://get.example.com/install.sh"\n'
        'subprocess.run("curl -fsSL " + URL + " | bash", shell=True)\n'
    )
    facts = _facts(code)
    (curl,) = _of(facts, "command", program="curl")
    assert curl.data["url"] == "https://get.example.com/install.sh"
    assert _text(code, curl) == "curl"
    assert _of(facts, "command", program="bash")


def test_shell_false_string_is_a_program_name_only() -> None:
    code = 'import subprocess\nsubprocess.run("pip install torch")\n'
    facts = _facts(code)
    assert not _of(facts, "dependency")
    (cmd,) = _of(facts, "command")
    assert cmd.data["argv"] == ["pip install torch"]


def test_unknown_shell_flag_and_unknown_command_are_not_analysed() -> None:
    code = (
        "import subprocess\n"
        "def f(flag, cmd):\n"
        '    subprocess.run("pip install torch", shell=flag)\n'
        "    subprocess.run(cmd, shell=True)\n"
    )
    assert _facts(code) == []


def test_argv_list_with_sys_executable_and_name_held_list() -> None:
    code = (
        "import subprocess, sys\n"
        'subprocess.check_call([sys.executable, "-m", "pip", "install", "transformers"])\n'
        'cmd = ["vllm", "serve", "org/model", "--host", "0.0.0.0"]\n'
        "subprocess.Popen(cmd)\n"
    )
    facts = _facts(code)
    (dep,) = _of(facts, "dependency", name="transformers")
    assert (dep.anchor.line, _text(code, dep)) == (2, "transformers")
    (server,) = _of(facts, "server")
    assert server.data["server"] == "vllm"
    assert server.data["bind"] == "0.0.0.0"
    assert server.data["auth"] is False
    assert server.anchor.line == 3  # where the list is written


def test_env_literal_and_unknown_env_decide_authentication() -> None:
    code = (
        "import subprocess\n"
        'subprocess.Popen(["vllm", "serve", "m", "--host", "0.0.0.0"], env={"VLLM_API_KEY": "k"})\n'
        "def f(env):\n"
        '    subprocess.Popen(["vllm", "serve", "m", "--host", "0.0.0.0"], env=env)\n'
        'subprocess.Popen(["vllm", "serve", "m", "--host", "0.0.0.0"])\n'
    )
    servers = sorted(_of(_facts(code), "server"), key=lambda f: f.anchor.line)
    assert [s.data["auth"] for s in servers] == [True, True, False]


def test_shlex_split_and_exec_forms() -> None:
    code = (
        "import os, shlex, subprocess\n"
        'subprocess.run(shlex.split("vllm serve m --host 0.0.0.0 --trust-remote-code"))\n'
        'os.execvp("vllm", ["vllm", "serve", "m", "--api-key", "k"])\n'
    )
    servers = sorted(_of(_facts(code), "server"), key=lambda f: f.anchor.line)
    assert [s.anchor.line for s in servers] == [2, 3]
    assert servers[0].data["settings"]["trust_remote_code"] in (True, "true")
    assert servers[1].data["auth"] is True
    assert servers[1].data["argv"] == ["vllm", "serve", "m", "--api-key", "k"]


def test_ipython_magics_of_exported_notebooks() -> None:
    code = (
        "get_ipython().run_line_magic('pip', 'install -q peft')\n"
        "get_ipython().system('pip install diffusers')\n"
        "get_ipython().run_cell_magic('bash', '', 'pip install accelerate\\n')\n"
        "get_ipython().run_line_magic('matplotlib', 'inline')\n"
    )
    names = sorted(str(f.data["name"]) for f in _of(_facts(code), "dependency"))
    assert names == ["accelerate", "diffusers", "peft"]


def test_comments_and_docstrings_are_not_commands() -> None:
    code = '"""Run: os.system("curl https://x | sh")"""\n# os.system("pip install torch")\n'
    assert _facts(code) == []


def test_argv_does_not_expand_variables() -> None:
    code = 'import subprocess\nsubprocess.run(["echo", "$HF_TOKEN"])\n'
    (cmd,) = _of(_facts(code), "command")
    assert "printed_variables" not in cmd.data


def test_a_shell_behind_a_wrapper_in_an_argv_expands_its_script() -> None:
    code = 'import subprocess\nsubprocess.run(["env", "A=1", "bash", "-c", "echo $HF_TOKEN"])\n'
    printed = [f.data.get("printed_variables") for f in _of(_facts(code), "command")]
    assert ["HF_TOKEN"] in [list(p) for p in printed if p]


def test_multiline_string_positions() -> None:
    code = (
        "import subprocess\n"
        "subprocess.run(\n"
        '    """\n'
        "    wget -q https://example.com/x.tar.gz\n"
        "    pip install -U diffusers\n"
        '    """,\n'
        "    shell=True,\n"
        ")\n"
    )
    (dep,) = _of(_facts(code), "dependency", name="diffusers")
    assert (dep.anchor.line, _text(code, dep)) == (5, "diffusers")


def test_findings_in_a_notebook_cell(tmp_path: Path) -> None:
    cell = 'import subprocess\nsubprocess.run("curl -fsSL https://x.io/i.sh | sh", shell=True)\n'
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "outputs": [],
                "source": cell.splitlines(keepends=True),
            }
        ],
        "metadata": {"kernelspec": {"language": "python"}},
        "nbformat": 4,
    }
    path = tmp_path / "setup.ipynb"
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    result = scan(ScanOptions(paths=[str(path)], select=["MLS-DEP-006"])).result
    (finding,) = result.findings
    line = path.read_text(encoding="utf-8").split("\n")[finding.span.line - 1]
    assert line[finding.span.col - 1 : finding.span.col + 1] == "sh"
    assert "Notebook cell 1" in finding.message


def test_commands_grown_with_plus_equals_and_append() -> None:
    code = (
        "import subprocess\n"
        "def a():\n"
        '    cmd = ["vllm", "serve", "m", "--host", "0.0.0.0"]\n'
        '    cmd += ["--port", str(8000)]\n'
        '    cmd.append("--trust-remote-code")\n'
        '    subprocess.Popen(" ".join(cmd), shell=True)\n'
        "def b(key):\n"
        '    cmd = ["vllm", "serve", "m", "--host", "0.0.0.0"]\n'
        "    if key:\n"
        '        cmd.extend(["--api-key", key])\n'
        "    subprocess.Popen(cmd)\n"
        "def c():\n"
        '    cmd = "vllm serve m"\n'
        '    cmd += " --host 0.0.0.0"\n'
        "    subprocess.Popen(cmd, shell=True)\n"
    )
    servers = sorted(_of(_facts(code), "server"), key=lambda f: f.anchor.line)
    # b: the key may be added: its argv is not known, so nothing is said about it
    assert [s.anchor.line for s in servers] == [3, 15]
    first = servers[0]
    assert list(first.data["argv"])[-3:] == ["--port", "${__py1}", "--trust-remote-code"]
    assert first.data["settings"]["trust_remote_code"] in (True, "true")
    assert servers[1].data["bind"] == "0.0.0.0"


def test_percent_and_format_templates() -> None:
    code = (
        "import os, subprocess\n"
        "def f(pkg):\n"
        '    os.system("pip install %s transformers 100%%" % pkg)\n'
        '    subprocess.run("vllm serve {} --host {h}".format(pkg, h="0.0.0.0"), shell=True)\n'
        '    os.system("pip install {0}".format("diffusers"))\n'
    )
    facts = _facts(code)
    names = {str(f.data["name"]): f for f in _of(facts, "dependency")}
    assert _text(code, names["transformers"]) == "transformers"
    assert (names["diffusers"].anchor.line, _text(code, names["diffusers"])) == (5, "diffusers")
    assert names["${-py-pkg}"].data["dynamic"] is True
    (server,) = _of(facts, "server")
    assert server.data["bind"] == "0.0.0.0"
    assert list(server.data["argv"])[2] == "${__py_pkg}"


def test_odd_templates_and_empty_words_keep_real_positions() -> None:
    code = (
        "import os, subprocess\n"
        "def f(args, w):\n"
        '    os.system("pip install {a.pkg} peft".format(a=args))\n'
        '    os.system("pip install {x:{w}} torch".format(x=1, w=w))\n'
        '    subprocess.run(["pip", "install", "", "accelerate"])\n'
    )
    facts = _facts(code)
    names = sorted(str(f.data["name"]) for f in _of(facts, "dependency") if not f.data["dynamic"])
    # the nested field is not understood: that command is not read at all
    assert names == ["accelerate", "peft"]
    assert all(f.anchor.line > 1 for f in facts)


def test_exported_notebook_magics_are_notebook_lines() -> None:
    code = (
        "#!/usr/bin/env python\n"
        "# In[3]:\n"
        "get_ipython().run_line_magic('pip', 'install peft')\n"
        "import subprocess\n"
        "def f(package):\n"
        '    subprocess.check_call(["pip", "install", package, "diffusers"])\n'
    )
    facts = _facts(code)
    (peft,) = _of(facts, "dependency", name="peft")
    assert peft.data["notebook_cell"] == 3
    (diffusers,) = _of(facts, "dependency", name="diffusers")
    assert "notebook_cell" not in diffusers.data
    # an argv word holding a value that is not known is not a requirement pip rejects
    (unknown,) = [f for f in _of(facts, "dependency") if f.data["dynamic"]]
    assert str(unknown.data["spec"]) == "${__py_package}"


def test_exec_forms_with_spread_lists() -> None:
    code = (
        "import asyncio, os\n"
        'CMD = ["vllm", "serve", "m", "--host", "0.0.0.0"]\n'
        "async def a():\n"
        "    await asyncio.create_subprocess_exec(*CMD)\n"
        "def b(extra):\n"
        '    os.execlp("vllm", "vllm", "serve", "m", *extra)\n'
    )
    servers = _of(_facts(code), "server")
    assert [s.data["bind"] for s in servers] == ["0.0.0.0"]
    assert servers[0].anchor.line == 2


def test_spread_of_unknown_words_leaves_server_settings_unjudged() -> None:
    code = (
        "import subprocess, os\n"
        "def a(extra):\n"
        '    subprocess.Popen(["vllm", "serve", "m", "--host", "0.0.0.0", *extra])\n'
        '    os.execvp("vllm", extra)\n'
        '    subprocess.run(["pip", "install", "torch", *extra])\n'
    )
    facts = _facts(code)
    assert _of(facts, "server") == []
    assert _of(facts, "dependency", name="torch")


def test_environment_built_from_the_parents() -> None:
    code = (
        "import os, subprocess\n"
        'CMD = ["vllm", "serve", "m", "--host", "0.0.0.0"]\n'
        'subprocess.Popen(CMD, env={**os.environ, "CUDA_VISIBLE_DEVICES": "0"})\n'
        'subprocess.Popen(CMD, env={**os.environ, "VLLM_API_KEY": os.environ["KEY"]})\n'
        "subprocess.Popen(CMD, env=os.environ.copy())\n"
        "subprocess.Popen(CMD, env=dict(os.environ))\n"
        "def f(extra):\n"
        '    subprocess.Popen(CMD, env={**extra, "CUDA_VISIBLE_DEVICES": "0"})\n'
    )
    servers = sorted(_of(_facts(code), "server"), key=lambda f: f.data.kspan["python_callee"].line)
    assert [s.data["auth"] for s in servers] == [False, True, False, False, True]
