"""What counts as a credential: names in any case style, token formats, placeholders."""

from __future__ import annotations

import pytest

from mlsec_lint import knowledge
from mlsec_lint.engine import classifiers


@pytest.mark.parametrize(
    "name", ["dbPassword", "DB_PASS", "db-pass", "apiKey", "amazonToken", "keyPassphrase"]
)
def test_credential_names_in_any_case_style(name: str) -> None:
    assert knowledge.is_credential_name(name)
    assert classifiers.is_credential_key(name)


@pytest.mark.parametrize("name", ["PWD", "OLDPWD", "BYPASS", "max_tokens", "tokenizer", "PASS"])
def test_words_that_only_look_like_credentials(name: str) -> None:
    assert not knowledge.is_credential_name(name)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("glpat-Xy7zK2mNpQ4rS8tUvW1a", "GitLab token"),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "Slack token"),
        ("SG." + "a" * 22 + "." + "b" * 43, "SendGrid API key"),
        ("AIza" + "B" * 35, "Google API key"),
        ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "Stripe secret key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
    ],
)
def test_token_formats(value: str, kind: str) -> None:
    assert knowledge.credential_value_kind(value) == kind


def test_the_storage_emulator_key_is_not_a_leaked_token() -> None:
    azurite = (
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"
        "/K1SZFPTOtr/KBHBeksoGMGw=="
    )
    assert knowledge.credential_value_kind(azurite) is None


@pytest.mark.parametrize(
    "value",
    ["${DB_PASSWORD:-secret}", "${{ secrets.HF_TOKEN }}", "hf_xxxx", "%{token}", "{api_key}"],
)
def test_placeholders(value: str) -> None:
    assert knowledge.is_placeholder(value)


def test_connection_urls_with_a_password_are_embedded_credentials() -> None:
    assert classifiers.is_embedded_credential("postgresql://mlflow:Wq7pz3Lm@db:5432/mlflow")
    assert classifiers.is_embedded_credential("redis://:s3cretpw@redis:6379/0")
    assert not classifiers.is_embedded_credential("postgresql://mlflow:${PW}@db:5432/mlflow")
    assert not classifiers.is_embedded_credential("https://user@github.com/org/repo.git")


def test_the_credential_formats_join_in_one_alternation() -> None:
    # a format with a leading inline flag ((?i)AccountKey=…) is scoped, not refused
    assert knowledge.any_credential_value() is not None
    key = "AccountKey=" + "Q" * 86 + "=="
    assert knowledge.may_hold_credential_value("x " + key.lower())
    assert not knowledge.may_hold_credential_value("image: tensorflow/serving:2.16.1")


def test_patterns_with_global_flags_combine_into_one_alternation() -> None:
    both = knowledge.one_alternation(["(?i)accountkey=", "x[0-9]"])
    assert both is not None and both.search("AccountKey=") and both.search("x1")
    assert not both.search("X1")  # the flag stays with its own pattern
    assert knowledge.one_alternation(["(unclosed"]) is None
    assert knowledge.any_credential_value() is not None
