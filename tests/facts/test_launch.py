"""Server launches from every launch form, with positions and setting precedence."""

from __future__ import annotations

from typing import Any

import pytest

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import name_kind
from mlsec_lint.facts import Fact
from mlsec_lint.source import Source
from mlsec_lint.tree import UNKNOWN


def facts_of(name: str, text: str) -> list[Fact]:
    kind = name_kind(name) or "shell"
    return analyze(Source(name, text, "utf-8", name), kind).facts


def servers(name: str, text: str) -> list[Fact]:
    return [f for f in facts_of(name, text) if f.kind == "server"]


def where(fact: Fact, setting: str) -> tuple[int, int]:
    span = fact.data["settings"].vspan[setting]
    return span.line, span.col


def test_shell_script_in_a_yaml_block_maps_positions_back() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: python:3.11
      command: ["/bin/bash", "-lc"]
      args:
        - |
          export HOST=0.0.0.0
          exec python -m vllm.entrypoints.openai.api_server \\
            --model org/model --host "$HOST"
"""
    (server,) = servers("pod.yaml", text)
    assert server.data["server"] == "vllm"
    assert server.data["settings"]["host"] == "0.0.0.0"
    assert where(server, "host") == (13, 38)
    assert where(server, "model") == (13, 21)
    assert (server.anchor.line, server.anchor.col) == (12, 16)
    assert server.data["origin"] == "kubernetes"


def test_server_shares_the_container_context_and_reads_env() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          args: ["$(MODEL)", "--host=0.0.0.0", "--port", "8000"]
          env:
            - {name: MODEL, value: org/model}
            - name: VLLM_API_KEY
              valueFrom: {secretKeyRef: {name: k, key: k}}
"""
    facts = facts_of("d.yaml", text)
    container = next(f for f in facts if f.kind == "container")
    (server,) = [f for f in facts if f.kind == "server"]
    assert server.data["context"] is container.data["context"]
    s = server.data["settings"]
    assert s["model"] == "org/model"
    assert s["api_key"] is UNKNOWN and server.data["auth"] is True
    assert server.data["sources"]["api_key"] == "env"
    assert server.data["argv"][:2] == ["vllm", "serve"]  # the image's entrypoint
    assert server.data["version"] == "0.11.0"
    assert server.data["bind"] == "0.0.0.0" and where(server, "host") == (10, 38)
    assert server.data["sources"]["port"] == "flag" and s["port"] == "8000"
    (model,) = [f for f in facts if f.kind == "model-source"]
    assert model.data["hub_id"] == "org/model" and model.data["via"] == "vllm-arg"
    assert model.data["context"] is container.data["context"]


@pytest.mark.parametrize(
    ("argv", "setting", "value"),
    [
        ("mlflow server --host=0.0.0.0", "host", "0.0.0.0"),
        ("mlflow server --host 0.0.0.0", "host", "0.0.0.0"),
        ("mlflow server -h 0.0.0.0", "host", "0.0.0.0"),
        ("python3 -m mlflow server --app-name basic-auth", "app_name", "basic-auth"),
        ("vllm serve org/m --trust_remote_code", "trust_remote_code", True),
        ("vllm serve org/m --no-trust-remote-code", "trust_remote_code", False),
        ("vllm serve -- org/m", "model", "org/m"),
        ("tritonserver --allow-http false", "allow_http", "false"),
        ("tritonserver --grpc-use-ssl=true", "grpc_use_ssl", "true"),
        ("jupyter lab --ServerApp.token=''", "token", ""),
        ("streamlit run app.py --server.address 0.0.0.0", "address", "0.0.0.0"),
        ("streamlit run app.py", "app", "app.py"),
        ("env FOO=1 nohup sudo -u svc ollama serve", "host", "127.0.0.1:11434"),
        ("uv run --with vllm vllm serve org/m", "model", "org/m"),
        ("conda run -n serve text-generation-launcher --model-id org/m", "model", "org/m"),
    ],
)
def test_flag_forms(argv: str, setting: str, value: Any) -> None:
    (server,) = servers("run.sh", argv + "\n")
    assert server.data["settings"][setting] == value


def test_repeated_and_multi_value_flags_collect_every_value() -> None:
    (server,) = servers(
        "t.sh",
        "tritonserver --model-repository=/a --model-repository /b "
        "--http-restricted-api=logging:k=v --http-restricted-api=trace:k=v\n",
    )
    s = server.data["settings"]
    assert list(s["model_repository"]) == ["/a", "/b"]
    assert list(s["http_restricted_api"]) == ["logging:k=v", "trace:k=v"]
    (ts,) = servers("ts.sh", "torchserve --start --models a.mar b.mar --ncs\n")
    assert list(ts.data["settings"]["models"]) == ["a.mar", "b.mar"]


def test_not_a_start_command() -> None:
    assert servers("s.sh", "torchserve --stop\nvllm bench serve\npython -m mlflow.models\n") == []


def test_precedence_flag_env_image_default() -> None:
    text = """\
services:
  a:
    image: ollama/ollama:0.6.2
  b:
    image: ollama/ollama:0.6.2
    environment:
      - OLLAMA_HOST=127.0.0.1:11434
  c:
    image: python:3.11
    command: ["mlflow", "server"]
"""
    by = {f.data["container"]: f for f in servers("docker-compose.yml", text)}
    assert by["a"].data["bind_source"] == "image-default" and where(by["a"], "host") == (3, 12)
    assert by["b"].data["bind"] == "127.0.0.1:11434" and by["b"].data["bind_source"] == "env"
    assert by["c"].data["bind"] == "127.0.0.1" and by["c"].data["bind_source"] == "default"
    assert where(by["c"], "host") == (10, 15)  # defaults point at the command


def test_compose_published_ports_set_exposure() -> None:
    text = """\
services:
  all:
    image: x
    ports: ["8081:8081", "127.0.0.1:9000:9000"]
  local:
    image: x
    ports: ["127.0.0.1:8081:8081", "[::1]:9:9"]
  random:
    image: x
    ports: [8080]
  long:
    image: x
    ports:
      - {target: 80, published: 8080, host_ip: 127.0.0.1}
      - {target: 81, published: 8081}
  host:
    image: x
    network_mode: host
"""
    ctx = {
        f.data["name"]: f.data["context"]
        for f in facts_of("docker-compose.yml", text)
        if f.kind == "container"
    }
    assert ctx["all"]["exposed"] is True
    assert [e["port"] for e in ctx["all"]["exposure"]] == [8081]
    assert "exposed" not in ctx["local"]
    assert ctx["random"]["exposure"][0]["port"] == 8080
    assert [e["port"] for e in ctx["long"]["exposure"]] == [81]
    assert ctx["host"]["exposure"][0]["via"] == "compose/network_mode"


def test_dockerfile_entrypoint_cmd_env_and_stages() -> None:
    text = """\
FROM python:3.11 AS base
ENV MLFLOW_PORT=5000
ARG BIND=0.0.0.0
ENV MLFLOW_HOST=${BIND}
FROM base
ENTRYPOINT ["mlflow"]
CMD ["server", "--backend-store-uri", "sqlite:///db"]
"""
    (server,) = servers("Dockerfile", text)
    s = server.data["settings"]
    assert s["host"] == "0.0.0.0" and server.data["sources"]["host"] == "env"
    assert where(server, "host") == (4, 17)
    assert s["port"] == "5000"
    assert server.anchor.line == 6


def test_dockerfile_shell_form_expands_env_and_exec_form_does_not() -> None:
    shell = 'FROM python:3.11\nENV H=0.0.0.0\nCMD vllm serve org/m --host "$H"\n'
    (server,) = servers("Dockerfile", shell)
    assert server.data["bind"] == "0.0.0.0" and where(server, "host") == (3, 29)
    exec_form = 'FROM python:3.11\nENV H=0.0.0.0\nCMD ["vllm", "serve", "org/m", "--host", "$H"]\n'
    (server,) = servers("Dockerfile", exec_form)
    assert server.data["bind"] == "$H"


def test_dockerfile_image_defaults_and_program_override() -> None:
    (server,) = servers("Dockerfile", "FROM ollama/ollama:0.6.2\n")
    assert server.data["bind_source"] == "image-default" and server.anchor.line == 1
    args_only = 'FROM vllm/vllm-openai:v0.11.0\nCMD ["org/m", "--port", "9"]\n'
    (server,) = servers("Dockerfile", args_only)
    assert server.data["argv"][:3] == ["vllm", "serve", "org/m"]
    assert server.anchor.line == 2
    overridden = 'FROM vllm/vllm-openai:v0.11.0\nCMD ["python", "/app/serve.py"]\n'
    assert servers("Dockerfile", overridden) == []


def test_torchserve_image_config_and_envvars_gate() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: default
      image: pytorch/torchserve:0.12.0-cpu
      env: [{name: TS_DISABLE_TOKEN_AUTHORIZATION, value: "true"}]
    - name: own
      image: pytorch/torchserve:0.12.0-cpu
      args: ["torchserve", "--start", "--ts-config", "/c/config.properties"]
"""
    by = {f.data["container"]: f for f in servers("p.yaml", text)}
    d = by["default"].data
    assert d["settings"]["management_address"] == "http://0.0.0.0:8081"
    assert d["sources"]["management_address"] == "image-default"
    assert [(entry["name"], entry["address"], entry["tls"]) for entry in d["listeners"]] == [
        ("inference", "http://0.0.0.0:8080", False),
        ("management", "http://0.0.0.0:8081", False),
        ("metrics", "http://0.0.0.0:8082", False),
        ("gRPC inference", "0.0.0.0", False),
        ("gRPC management", "0.0.0.0", False),
    ]
    assert "disable_token_authorization" not in d["settings"]
    assert d["ignored"]["disable_token_authorization"] == "true"
    own = by["own"].data
    assert "management_address" not in own["settings"]  # the named config file decides
    assert own["settings"]["ts_config"] == "/c/config.properties"


def test_launch_params_are_flags() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: head
      image: rayproject/ray:2.52.0
"""
    from mlsec_lint.facts import launch
    from mlsec_lint.facts.launchargs import FileText
    from mlsec_lint.tree import PDict

    (container,) = [f for f in facts_of("p.yaml", text) if f.kind == "container"]
    params = PDict(container.anchor)
    params.put("dashboard-host", "0.0.0.0", container.anchor, container.anchor)
    params.put("num-cpus", "0", container.anchor, container.anchor)
    container.data.put("launch_params", params, container.anchor)
    (server,) = launch.from_container(container, FileText(text))
    assert server.data["server"] == "ray"
    assert server.data["bind"] == "0.0.0.0"
    assert server.data["flags"]["num-cpus"] == "0"


def test_shell_scripts_follow_assignments_and_wrappers() -> None:
    text = """\
#!/bin/sh
set -e
export MLFLOW_HOST="0.0.0.0"
PORT=${PORT:-5000}
if [ -n "$X" ]; then
  exec gosu mlflow mlflow server --port "$PORT" &
fi
"""
    (server,) = servers("entrypoint", text)
    assert server.data["bind"] == "0.0.0.0" and where(server, "host") == (3, 21)
    assert server.data["settings"]["port"] == "5000"
    assert server.data["origin"] == "shell"


def test_kubernetes_variables_inside_a_script_keep_exact_positions() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: python:3.11
      command: ["sh", "-c", "exec vllm serve $(MODEL) --host=$HOST"]
      env:
        - {name: MODEL, value: org/m}
        - {name: HOST, value: 0.0.0.0}
"""
    (server,) = servers("p.yaml", text)
    assert server.data["settings"]["model"] == "org/m" and where(server, "model") == (8, 46)
    assert server.data["bind"] == "0.0.0.0" and where(server, "host") == (8, 62)


def test_dockerfile_arg_fills_shell_form_but_is_not_runtime_env() -> None:
    text = (
        "FROM python:3.11\n"
        "ARG HOST=0.0.0.0\n"
        "ARG VLLM_API_KEY=build-only\n"
        "CMD vllm serve org/m --host ${HOST}\n"
    )
    (server,) = servers("Dockerfile", text)
    assert server.data["bind"] == "0.0.0.0"
    assert server.data["auth"] is False and "env" not in server.data


def test_dockerfile_launch_environment_with_and_without_variables_in_the_command() -> None:
    """The environment is read whenever the command can start a server: a server named
    through a variable, and a literal command whose settings come from ``ENV``."""
    named = "FROM python:3.11\nENV SERVER=vllm\nCMD $SERVER serve org/m --host 0.0.0.0\n"
    (server,) = servers("Dockerfile", named)
    assert server.data["argv"][:3] == ["vllm", "serve", "org/m"]
    literal = 'FROM python:3.11\nENV VLLM_API_KEY=k\nCMD ["vllm", "serve", "org/m"]\n'
    (server,) = servers("Dockerfile", literal)
    assert server.data["sources"]["api_key"] == "env" and server.data["auth"] is True
    assert servers("Dockerfile", 'FROM python:3.11\nENV A=1\nCMD ["python", "app.py"]\n') == []
