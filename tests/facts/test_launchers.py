"""SkyPilot, dstack and Cog files -> facts of their scripts, environment and packages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.facts.launchers import detect, extract
from mlsec_lint.parsers.yamldoc import load_stream


def _doc(text: str) -> Any:
    return load_stream(text).docs[0].value


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("resources: {accelerators: L4:1}\nrun: python train.py\n", "task.yaml", "skypilot"),
        ("setup: pip install -r requirements.txt\nnum_nodes: 2\n", "t.yml", "skypilot"),
        ("type: service\ncommands: [python serve.py]\nport: 8000\n", "x.yml", "dstack"),
        ("type: task\nimage: x\n", "train.dstack.yml", "dstack"),
        ("build: {python_version: '3.11'}\npredict: predict.py:Predictor\n", "cog.yaml", "cog"),
        # not launchers
        ("build: {python_version: '3.11'}\n", "config.yaml", None),
        ("run: python train.py\nname: x\n", "step.yaml", None),
        ("on: push\njobs: {test: {steps: [{run: pytest}]}}\n", "ci.yml", None),
        ("type: task\nname: x\n", "x.yml", None),
        ("apiVersion: v1\nkind: Pod\nrun: x\nresources: {}\n", "pod.yaml", None),
    ],
)
def test_detect(text: str, name: str, kind: str | None) -> None:
    assert detect(_doc(text), name) == kind


SKY = """\
envs:
  MODEL: Qwen/Qwen2.5-7B-Instruct
run: |
  pip install vllm
  vllm serve $MODEL --host 0.0.0.0
"""


def test_script_words_point_at_their_characters_in_the_block_scalar() -> None:
    facts = extract(_doc(SKY), "sky.yaml", SKY, "skypilot")
    dep = next(f for f in facts if f.kind == "dependency")
    assert dep.data["name"] == "vllm"
    assert (dep.anchor.line, dep.anchor.col) == (4, 15)
    server = next(f for f in facts if f.kind == "server")
    bind = server.data.vspan["bind"]
    assert (bind.line, bind.col) == (5, 28)
    assert server.data["bind"] == "0.0.0.0"
    # the task's envs reach the script: the model named by $MODEL is known
    model = next(f for f in facts if f.kind == "model-source")
    assert model.data["hub_id"] == "Qwen/Qwen2.5-7B-Instruct"


def test_cog_requirements_file_is_installed_into_the_image(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text(
        "build:\n  python_requirements: requirements.txt\npredict: predict.py:Predictor\n"
    )
    (tmp_path / "requirements.txt").write_text("einops\ntorch==2.6.0\n")
    findings = scan(ScanOptions(paths=["."], base=str(tmp_path))).result.findings
    got = {(f.rule_id, Path(f.path).name, f.line) for f in findings}
    assert ("MLS-DEP-008", "requirements.txt", 1) in got
    assert not any(f.line == 2 and f.path.endswith("requirements.txt") for f in findings)


def test_long_scalars_are_not_analysed_as_shell() -> None:
    text = "resources: {}\nrun: " + "x" * 300_000 + "\n"
    assert extract(_doc(text), "sky.yaml", text, "skypilot") == []


@pytest.mark.parametrize(
    ("text", "exposed"),
    [
        ("resources: {ports: 8000}\nrun: vllm serve m --host 0.0.0.0\n", True),
        ("service: {replicas: 2}\nrun: vllm serve m --host 0.0.0.0\n", True),
        ("resources: {cloud: aws}\nrun: vllm serve m --host 0.0.0.0\n", False),
        ("type: service\nauth: false\nport: 8000\ncommands: [vllm serve m]\n", True),
        ("type: service\nport: 8000\ncommands: [vllm serve m]\n", False),
        ("type: task\nauth: false\ncommands: [vllm serve m]\n", False),
    ],
)
def test_servers_learn_what_the_launcher_publishes(text: str, exposed: bool) -> None:
    doc = _doc(text)
    kind = detect(doc, "x.yml")
    assert kind is not None
    server = next(f for f in extract(doc, "x.yml", text, kind) if f.kind == "server")
    assert bool(server.data["context"].get("exposed")) is exposed


def test_commands_past_the_budget_are_announced(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsec_lint.facts import shellcmds
    from mlsec_lint.model import Notice

    monkeypatch.setattr(shellcmds, "MAX_COMMANDS", 3)
    text = "resources: {}\nrun: |\n" + "".join(f"  echo {i}\n" for i in range(6))
    notices: list[Notice] = []
    extract(_doc(text), "sky.yaml", text, "skypilot", notices)
    assert [(n.code, n.line) for n in notices] == [("partly-analysed", 6)]


def test_a_long_one_line_script_is_analysed_in_bounded_time() -> None:
    import time

    script = "echo " + "a" * 100_000 + " && pip install " + "x" * 50_000
    text = "resources: {}\nrun: " + script + "\n"
    start = time.process_time()
    facts = extract(_doc(text), "sky.yaml", text, "skypilot")
    assert time.process_time() - start < 5.0
    assert any(f.kind == "command" for f in facts)
