"""KubeAI Model resources -> the operator's server container and its model source."""

from __future__ import annotations

from pathlib import Path

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.facts.kubeai import model_ref
from mlsec_lint.facts.kubernetes import extract
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.tree import to_plain

MODEL = """\
apiVersion: kubeai.org/v1
kind: Model
metadata:
  name: qwen
spec:
  url: hf://Qwen/Qwen2.5-7B-Instruct
  engine: VLLM
  env:
    HF_TOKEN: hf_abcdefghijklmnopqrstuvwxyzABCDEFGH
  args:
    - --max-model-len=8192
"""


def test_the_server_container_runs_the_engine_with_the_model_and_the_args() -> None:
    facts = extract([d.value for d in load_stream(MODEL).docs], "m.yaml")
    [container] = [f for f in facts if f.kind == "container"]
    data = to_plain(container.data)
    assert data["name"] == "server" and data["model_server"] is True
    assert data["command"] == [
        "python3",
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
    ]
    assert data["args"] == ["--max-model-len=8192"]
    # the env map becomes a list whose entries point at their own lines
    assert data["env"] == [{"name": "HF_TOKEN", "value": "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"}]
    env = container.data["env"]
    assert env[0].vspan["value"].line == 9 and env[0].kspan["name"].line == 9
    # the model flag points at the url line
    assert container.data["command"].item_span(4).line == 6


def test_pod_security_is_not_judged_on_a_model(tmp_path: Path) -> None:
    """The operator's configuration sets the pod's security context, not the Model."""
    (tmp_path / "model.yaml").write_text(MODEL)
    findings = scan(ScanOptions(paths=["."], base=str(tmp_path))).result.findings
    ids = {f.rule_id for f in findings}
    assert "MLS-XRT-003" in ids and "MLS-SEC-001" in ids
    assert not {i for i in ids if i.startswith("MLS-K8S-")}


def test_model_ref() -> None:
    assert model_ref("hf://org/name/") == ("hf", "org/name")
    assert model_ref("ollama://qwen2.5:0.5b") == ("ollama", "qwen2.5:0.5b")
    assert model_ref("org/name") is None
    assert model_ref(None) is None
