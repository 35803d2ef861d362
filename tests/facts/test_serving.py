"""Server configuration files and configs embedded in Kubernetes objects."""

from __future__ import annotations

from pathlib import Path

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import name_kind
from mlsec_lint.facts import Fact
from mlsec_lint.source import Source
from mlsec_lint.tree import UNKNOWN


def facts_of(name: str, text: str) -> list[Fact]:
    kind = name_kind(name)
    assert kind is not None
    return analyze(Source(name, text, "utf-8", name), kind).facts


def only(facts: list[Fact], kind: str) -> Fact:
    (fact,) = [f for f in facts if f.kind == kind]
    return fact


def pos(fact: Fact, setting: str) -> tuple[int, int]:
    span = fact.data["settings"].field_span(setting)
    return span.line, span.col


def test_rayservice_serve_config_positions_map_into_the_manifest() -> None:
    text = """\
apiVersion: ray.io/v1
kind: RayService
metadata: {name: s}
spec:
  serveConfigV2: |
    http_options:
      host: 0.0.0.0
      port: 8000
    applications:
      - name: llm
        args:
          llm_configs:
            - model_loading_config:
                model_source: Qwen/Qwen2.5-7B-Instruct
"""
    facts = facts_of("rayservice.yaml", text)
    server = only(facts, "server")
    assert server.data["server"] == "ray-serve" and server.data["origin"] == "rayservice"
    assert pos(server, "host") == (7, 7)
    assert server.data["sources"]["host"] == "rayservice"
    model = only(facts, "model-source")
    assert (model.anchor.line, model.anchor.col) == (14, 31)
    assert model.data["via"] == "ray-serve-llm"


def test_serve_config_file_defaults_to_all_interfaces() -> None:
    text = "applications:\n  - name: a\n    import_path: a:b\n"
    server = only(facts_of("serve.yaml", text), "server")
    assert server.data["bind"] == "0.0.0.0" and server.data["bind_source"] == "default"


def test_inferenceservice_config_reads_json_values_and_skips_example() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: inferenceservice-config, namespace: kserve}
data:
  _example: |-
    {"logger": {"tlsSkipVerify": true}}
  ingress: |-
    {
        "ingressGateway": "knative-serving/knative-ingress-gateway",
        "urlScheme": "http"
    }
  logger: '{"tlsSkipVerify": false}'
"""
    server = only(facts_of("cm.yaml", text), "server")
    settings = server.data["settings"]
    assert set(settings) == {"ingress", "logger"}
    ingress = settings["ingress"]
    assert ingress["urlScheme"] == "http"
    span = ingress.vspan["urlScheme"]
    assert (span.line, span.col) == (10, 22)
    span = settings["logger"].vspan["tlsSkipVerify"]
    assert (span.line, span.col) == (12, 30)


def test_mlserver_settings_and_model_settings() -> None:
    server = only(
        facts_of("settings.json", '{"host": "0.0.0.0", "cors_settings": {"allow_origins": ["*"]}}'),
        "server",
    )
    assert server.data["server"] == "mlserver"
    assert list(server.data["settings"]["cors_allowed_origins"]) == ["*"]
    assert server.data["bind_source"] == "config-file"
    model = only(
        facts_of(
            "model-settings.json",
            '{"name": "m", "implementation": "mlserver_sklearn.SKLearnModel",\n'
            ' "parameters": {"uri": "gs://b/m.joblib", "version": "v2"}}',
        ),
        "model-source",
    )
    assert model.data["format"] == "pickle" and model.data["scheme"] == "gs"
    assert model.data["revision"] == "v2" and model.anchor.line == 2
    assert facts_of("settings.json", '{"editor.tabSize": 2}') == []


def test_jupyter_config_is_read_without_running_it() -> None:
    text = (
        "import os\n"
        "c = get_config()\n"
        "c.ServerApp.token = ''\n"
        "c.ServerApp.ip = '0.0.0.0'\n"
        "c.ServerApp.password = os.environ['PW']\n"
        "c.ServerApp.disable_check_xsrf = True\n"
    )
    server = only(facts_of("jupyter_server_config.py", text), "server")
    s = server.data["settings"]
    assert s["token"] == "" and s["ip"] == "0.0.0.0" and s["disable_check_xsrf"] is True
    assert s["password"] is UNKNOWN
    assert pos(server, "token") == (3, 1)
    assert not any(f.kind == "server" for f in facts_of("other_config.py", text))


def test_streamlit_toml_and_mlflow_ini_positions() -> None:
    toml = "[browser]\ngatherUsageStats = false\n\n[server]\nport = 8501\nenableCORS = false\n"
    server = only(facts_of(".streamlit/config.toml", toml), "server")
    assert server.data["settings"]["enable_cors"] is False
    assert pos(server, "enable_cors") == (6, 1)
    assert server.data["bind_source"] == "default"
    assert facts_of("config.toml", toml) == []
    ini = "[mlflow]\ndefault_permission = READ\nadmin_password: password1234\n"
    server = only(facts_of("basic_auth.ini", ini), "server")
    assert server.data["settings"]["admin_password"] == "password1234"
    span = server.data["settings"].vspan["admin_password"]
    assert (span.line, span.col) == (3, 17)
    assert facts_of("tox.ini", "[tox]\nenvlist = py311\n") == []


def test_bentofile_env_and_bentoml_configuration() -> None:
    bentofile = "service: 'svc:Summarizer'\nenvs:\n  - name: HF_TOKEN\n    value: hf_x\n"
    facts = facts_of("bentofile.yaml", bentofile)
    assert only(facts, "server").data["settings"]["service"] == "svc:Summarizer"
    assert only(facts, "env").data["name"] == "HF_TOKEN"
    config = "api_server:\n  http:\n    cors:\n      access_control_allow_origins: ['*']\n"
    server = only(facts_of("bentoml_configuration.yaml", config), "server")
    assert list(server.data["settings"]["cors_allowed_origins"]) == ["*"]


def test_bentofile_args_trusting_remote_code() -> None:
    bentofile = (
        "service: 'svc:VLLM'\nargs:\n  model_id: org/model\n"
        "  cli_args:\n    - --max-model-len\n    - --trust-remote-code\n"
    )
    server = only(facts_of("bentofile.yaml", bentofile), "server")
    assert server.data["settings"]["trust_remote_code"] is True
    assert server.data["settings"]["model"] == "org/model"
    assert pos(server, "trust_remote_code") == (6, 7)
    plain = bentofile.replace("--trust-remote-code", "--enforce-eager")
    assert (
        "trust_remote_code"
        not in only(facts_of("bentofile.yaml", plain), "server").data["settings"]
    )


def test_bad_embedded_documents_are_skipped() -> None:
    text = """\
apiVersion: ray.io/v1
kind: RayService
metadata: {name: s}
spec:
  serveConfigV2: "applications: [unterminated"
"""
    assert [f for f in facts_of("r.yaml", text) if f.kind == "server"] == []


def test_configmap_keys_are_read_as_files() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: serving}
data:
  config.properties: |
    inference_address=http://0.0.0.0:8080
    management_address=http://0.0.0.0:8081
  entrypoint.sh: |
    #!/bin/sh
    exec mlflow server --host 0.0.0.0
  notes.txt: "vllm serve x --host 0.0.0.0"
"""
    servers = {f.data["server"]: f for f in facts_of("cm.yaml", text) if f.kind == "server"}
    assert set(servers) == {"torchserve", "mlflow"}
    ts = servers["torchserve"]
    assert pos(ts, "management_address") == (7, 5)
    assert ts.data["configmap_key"] == "config.properties"
    assert ts.key == "ConfigMap//serving/config.properties/torchserve"
    assert servers["mlflow"].data["settings"].vspan["host"].line == 10


def test_torchserve_grpc_listeners_and_their_tls() -> None:
    text = (
        "grpc_inference_address=0.0.0.0\ngrpc_inference_port=7443\n"
        "grpc_management_address=127.0.0.1\n"
        "certificate_file=/tls/cert.pem\nprivate_key_file=/tls/key.pem\n"
    )
    server = only(facts_of("config.properties", text), "server")
    grpc = {e["name"]: e for e in server.data["listeners"] if e["name"].startswith("gRPC")}
    inference, management = grpc["gRPC inference"], grpc["gRPC management"]
    assert (inference["address"], inference["port"], inference["tls"]) == ("0.0.0.0", "7443", False)
    assert inference.span.line == 1
    assert (management["address"], management["port"]) == ("127.0.0.1", "7071")  # the default
    # enable_grpc_ssl turns TLS on for both gRPC APIs, with the certificate and key files
    tls = only(facts_of("config.properties", text + "enable_grpc_ssl=TRUE\n"), "server")
    assert all(e["tls"] for e in tls.data["listeners"] if e["name"].startswith("gRPC"))
    no_key = text.replace("private_key_file=/tls/key.pem\n", "") + "enable_grpc_ssl=true\n"
    half = only(facts_of("config.properties", no_key), "server")
    assert not any(e["tls"] for e in half.data["listeners"] if e["name"].startswith("gRPC"))
    # without an address key (TorchServe 0.11+ default) both listen on loopback
    bare = only(facts_of("config.properties", "grpc_inference_port=7070\n"), "server")
    assert {e["address"] for e in bare.data["listeners"] if e["name"].startswith("gRPC")} == {
        "127.0.0.1"
    }


def test_bentoml_configuration_bind_addresses_and_recognition() -> None:
    v1 = "version: 1\napi_server:\n  http:\n    host: 0.0.0.0\n    port: 3000\n"
    server = only(facts_of("configuration.yaml", v1), "server")
    assert (server.data["bind"], server.data["tls"]) == ("0.0.0.0", False)
    assert pos(server, "host") == (4, 5)
    assert (
        "host"
        not in only(facts_of("c.yaml", "api_server:\n  workers: 2\n"), "server").data["settings"]
    )  # a config file that does not set the host adds no default
    legacy = "api_server:\n  host: 0.0.0.0\n  cors:\n    enabled: true\n"
    legacy += "    access_control_allow_origin: '*'\n"
    settings = only(facts_of("cfg.yml", legacy), "server").data["settings"]
    assert (settings["host"], settings["cors_allowed_origins"]) == ("0.0.0.0", "*")
    v2 = "version: 2\nservices:\n  http:\n    host: 0.0.0.0\n  ssl:\n    certfile: /t/c.pem\n"
    v2 += "    keyfile: /t/k.pem\n"
    tls = only(facts_of("configuration.yaml", v2), "server")
    assert (tls.data["bind"], tls.data["tls"]) == ("0.0.0.0", True)
    grpc = "runners:\n  batching:\n    enabled: true\napi_server:\n  grpc:\n    host: 0.0.0.0\n"
    assert only(facts_of("x.yaml", grpc), "server").data["settings"]["grpc_host"] == "0.0.0.0"
    # by name, even with no setting of its own yet
    named = only(facts_of("bentoml_configuration.yaml", "version: 1\n"), "server")
    assert named.data["server"] == "bentoml"
    # not BentoML: a compose v2 file, an unrelated `services:` list, a Home Assistant config
    compose = "version: '2'\nservices:\n  metrics:\n    extends: {file: base.yml}\n"
    assert [f for f in facts_of("stack.yaml", compose) if f.kind == "server"] == []
    other = "version: 2\nservices: {http: [a, b]}\n"
    assert [f for f in facts_of("configuration.yaml", other) if f.kind == "server"] == []
    assert facts_of("configuration.yaml", "homeassistant:\n  name: Home\n") == []


def test_torchserve_before_0_11_binds_grpc_everywhere() -> None:
    from mlsec_lint.facts.serving import torchserve_release_defaults
    from mlsec_lint.tree import PDict

    text = "grpc_inference_port=7070\ngrpc_management_address=127.0.0.1\n"

    def released(version: str | None) -> Fact:
        server = only(facts_of("config.properties", text), "server")
        if version is not None:
            versions = PDict()
            versions.put("torchserve", version, None)
            server.data["context"].put("versions", versions, None)
        torchserve_release_defaults([server])
        return server

    old = released("0.10.0")
    settings, sources = old.data["settings"], old.data["sources"]
    assert settings["grpc_inference_address"] == settings["grpc_management_address"] == "0.0.0.0"
    assert sources["grpc_management_address"] == "release-default"
    assert old.data["ignored"]["grpc_management_address"] == "127.0.0.1"  # no effect before 0.11
    assert pos(old, "grpc_management_address") == (2, 1)  # at the address written
    assert pos(old, "grpc_inference_address") == (1, 1)  # at the port line
    grpc = [e for e in old.data["listeners"] if e["name"].startswith("gRPC")]
    assert [e["address"] for e in grpc] == ["0.0.0.0", "0.0.0.0"]
    assert all(e["release_default"] for e in grpc)
    for version in ("0.11.0", "0.12.0", None):
        kept = released(version).data["settings"]
        assert kept["grpc_management_address"] == "127.0.0.1"
        assert kept["grpc_inference_address"] == "127.0.0.1"


def test_torchserve_release_found_through_a_pin(tmp_path: Path) -> None:
    from mlsec_lint.api import ScanOptions, scan

    (tmp_path / "requirements.txt").write_text("torchserve==0.9.0\n")
    (tmp_path / "config.properties").write_text(
        "management_address=http://127.0.0.1:8081\ngrpc_management_port=7071\n"
    )
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    found = {(f.rule_id, f.line) for f in result.findings if f.path == "config.properties"}
    assert {("MLS-TS-004", 2), ("MLS-TS-007", 2)} <= found
    (tmp_path / "requirements.txt").write_text("torchserve==0.12.0\n")
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    assert not [f for f in result.findings if f.rule_id in ("MLS-TS-004", "MLS-TS-007")]
