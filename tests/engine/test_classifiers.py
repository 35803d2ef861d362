from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.engine import classifiers as c
from mlsec_lint.tree import UNKNOWN


@pytest.mark.parametrize(
    ("value", "public"),
    [
        ("0.0.0.0", True),
        ("http://0.0.0.0:8081", True),
        ("::", True),
        ("[::]:80", True),
        ("*", True),
        ("http://:8080", True),
        ("10.0.0.12:8081", True),
        ("https://my-pod:8443", True),
        ("127.0.0.1", False),
        ("http://localhost:8081", False),
        ("[::1]:8080", False),
        ("unix:/run/ts.sock", False),
        ("$HOST", False),
        ("${TS_ADDR}", False),
    ],
)
def test_public_host(value: str, public: bool) -> None:
    assert c.is_public_host(value) is public


@pytest.mark.parametrize(
    "value",
    [
        # a build command passed to `Image().run(...)`: a URL inside text is no bind address
        "uv pip install flashinfer-jit-cache --index-url https://flashinfer.ai/whl/cu128",
        "uv pip uninstall vllm",
    ],
)
def test_text_with_spaces_is_no_bind_address(value: str) -> None:
    assert c.bind_host(value) is None
    assert not c.is_all_interfaces(value)
    assert not c.is_public_host(value)


@pytest.mark.parametrize(
    ("url", "external"),
    [
        ("http://models.example.com/x.bin", True),
        ("http://10.1.2.3:9000", True),
        ("http://minio:9000", False),
        ("http://mlflow.ml.svc.cluster.local:5000", False),
        ("http://127.0.0.1:5000", False),
        ("https://models.example.com", False),
    ],
)
def test_external_http_url(url: str, external: bool) -> None:
    assert c.is_external_http_url(url) is external


def test_hub_ids_and_commits() -> None:
    assert c.is_hub_id("meta-llama/Llama-3.1-8B")
    assert c.is_hub_id("hf://org/model")
    assert not c.is_hub_id("./models/llama")
    assert not c.is_hub_id("/mnt/models")
    assert not c.is_hub_id("models/llama")
    assert c.is_commit_sha("0123456789abcdef0123456789abcdef01234567")
    assert not c.is_commit_sha("main")


def test_credentials_and_placeholders() -> None:
    assert c.is_credential_name("HF_TOKEN") and c.is_credential_name("db_password")
    assert not c.is_credential_name("TOKEN_EXPIRY") and not c.is_credential_name("SECRET_NAME")
    assert c.is_credential_value("hf_aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH")
    assert c.is_credential_value("AKIA2E0A8F3B244C9986")
    for placeholder in ("", "<token>", "${HF_TOKEN}", "changeme", "xxxx", "your-key-here", "EMPTY"):
        assert c.is_placeholder(placeholder), placeholder
    assert not c.is_placeholder("s3cr3t-passw0rd")


def test_frameworks_and_images() -> None:
    assert c.is_ml_framework("torch") and c.is_ml_framework("Sentence_Transformers")
    assert c.is_ml_framework("langchain-community")
    assert not c.is_ml_framework("requests") and c.is_ml_package("pandas")
    assert c.is_ml_image("nvcr.io/nvidia/tritonserver:24.08-py3")
    assert c.is_ml_image("docker.io/pytorch/torchserve")
    assert not c.is_ml_image("python:3.12")


def test_truthiness() -> None:
    assert c.is_truthy("True") and c.is_truthy(1) and not c.is_truthy("false")
    assert c.is_falsy("0") and c.is_falsy(False) and not c.is_falsy(None)


def test_credential_keys_however_they_are_spelled() -> None:
    for key in (
        "secretkey",
        "secret-key",
        "AWS_SECRET_ACCESS_KEY",
        "rclone.secret_access_key",
        "keystore_pass",
        "client-secret",
        "DEX_USER_PASSWORD",
    ):
        assert c.is_credential_key(key), key
    for key in ("max_tokens", "tokenizer", "TOKEN_EXPIRY", "secretName", "key", "monkey"):
        assert not c.is_credential_key(key), key


def test_default_credentials() -> None:
    assert c.is_default_credential("minioadmin") and c.is_default_credential("'minio123'")
    assert c.is_default_credential("Password1234") and c.is_default_credential("changeit")
    assert not c.is_default_credential("minio123x") and not c.is_default_credential(None)


def test_credentials_embedded_in_config_files() -> None:
    assert c.is_embedded_credential("[s3]\ntype = s3\nsecret_access_key = Zk9uQ2xhc3M\n")
    assert c.is_embedded_credential("bind 0.0.0.0\nrequirepass 5241590000000000\n")
    assert c.is_embedded_credential(
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg"}'
    )
    assert c.is_embedded_credential("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")
    # placeholders, code and certificates are not credentials
    assert not c.is_embedded_credential("[s3]\nsecret_access_key = ${S3_SECRET}\n")
    assert not c.is_embedded_credential('token = os.environ["HF_TOKEN"]\n')
    assert not c.is_embedded_credential("password: changeme\n")
    assert not c.is_embedded_credential("-----BEGIN CERTIFICATE-----\nMIIB\n")
    assert not c.is_embedded_credential("max_tokens: 512\npassword_file: /run/pw\n")


def test_model_cache_paths() -> None:
    for path in (
        "/models",
        "/mnt/models/llama",
        "/root/.cache/huggingface",
        "/data",
        "/home/model-server/model-store",
        "/root/.ollama",
    ):
        assert c.is_model_cache_path(path), path
    for path in ("/var/log/apps", "/dev/shm", "/tmp", "/opt/app/data-loader"):
        assert not c.is_model_cache_path(path), path


def test_sensitive_host_paths() -> None:
    for path in ("/", "/etc", "/boot", "/var/lib/kubelet/pki", "/run/crio/crio.sock", "/root"):
        assert c.is_sensitive_host_path(path), path
    for other in ("/mnt/data", "/root/.cache/huggingface", "/srv/models", "etc", 7, None):
        assert not c.is_sensitive_host_path(other), other


@pytest.mark.parametrize(
    ("value", "truthy", "falsy"),
    [
        ("False", True, False),
        ("false", True, False),
        ("", False, True),
        (True, True, False),
        (False, False, True),
        (0, False, True),
        (1, True, False),
        (None, False, False),
        (UNKNOWN, False, False),
    ],
)
def test_python_truthiness_of_literals(value: object, truthy: bool, falsy: bool) -> None:
    assert c.CLASSIFIERS["python-truthy"](value) is truthy
    assert c.CLASSIFIERS["python-falsy"](value) is falsy


def _formats() -> list[str]:
    from mlsec_lint import knowledge

    return [str(v["regex"]) for v in knowledge.table("credentials")["value_patterns"]]


@pytest.mark.parametrize("pattern", _formats())
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_credential_value_is_recognised_as_by_its_formats(
    pattern: str, data: st.DataObject
) -> None:
    from mlsec_lint import knowledge
    from mlsec_lint.engine.classifiers import is_credential_value

    token = data.draw(st.from_regex(pattern, fullmatch=True))
    noise = data.draw(st.text(max_size=20))
    for text in (token, f"{noise} {token} {noise}", noise):
        holds = knowledge.credential_value_kind(text) is not None
        assert is_credential_value(text) is holds
        assert c._may_hold_token(text) or not holds  # never rules out a token
    assert is_credential_value(token)
