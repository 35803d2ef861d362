"""No report repeats a credential: masking of lines, messages and every output format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.cli import main
from mlsec_lint.redact import mask_line, mask_lines, mask_text, mask_value

# built at run time, so this file holds no token-shaped literal
HF = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"
OPENAI = "sk-proj-" + "Zq7Wm2Lp9Xc4Vb8Nn3Kd" + "T3BlbkFJ" + "Rt5Yh1Gf6Ds0Aa2Ww9Ee"
PASSWORD = "Vq4-rain-Coat-77"
API_KEY = "kV93ZpLq0cXwT4nE8sRb"
AWS_DOCS = "Zk3qLx9Vb/EXAMPLE7Mn2Pq/" + "Rt5Yh1Gf6Ds0Aa2W"  # real-looking, though "EXAMPLE"
SECRETS = (HF, OPENAI, PASSWORD, API_KEY, AWS_DOCS)


def _leaks(text: str) -> list[str]:
    """Secrets whose masked part appears in ``text`` (the kept prefix may)."""
    return [s for s in SECRETS if s[4:] in text or s[len(s) // 2 :] in text]


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"HF_TOKEN={HF}", HF),
        (f"ENV OPENAI_API_KEY={OPENAI} PORT=8000", OPENAI),
        (f"ENV VLLM_API_KEY {API_KEY}", API_KEY),
        (f'os.environ["HF_TOKEN"] = "{HF}"', HF),
        (f"      MLFLOW_TRACKING_PASSWORD: {PASSWORD}", PASSWORD),
        (f'args: ["--model", "m", "--api-key", "{API_KEY}"]', API_KEY),
        (f"vllm serve m --host 0.0.0.0 --api-key={API_KEY}", API_KEY),
        (f"uri = 'postgresql://mlflow:{PASSWORD}@db:5432/mlflow'", PASSWORD),
        (f"client = OpenAI(api_key='{OPENAI}')", OPENAI),
        (f"# a comment that quotes {HF} somewhere", HF),
        (f"  keystore_pass={PASSWORD}", PASSWORD),
        (f"aws_secret_access_key = {AWS_DOCS}", AWS_DOCS),
        (f'RUN curl -H "Authorization: Bearer {API_KEY}" https://x/m.bin', API_KEY),
        (f"headers = {{'Authorization': 'Bearer {API_KEY}'}}", API_KEY),
        (f'    AWS_SECRET_ACCESS_KEY: "{AWS_DOCS}"', AWS_DOCS),
    ],
)
def test_credentials_are_masked_keeping_a_short_prefix(line: str, secret: str) -> None:
    masked = mask_line(line)
    assert secret not in masked and _leaks(masked) == []
    assert len(masked) == len(line)  # columns stay valid
    assert mask_value(secret) in masked and mask_value(secret).startswith(secret[:4])
    assert mask_line(masked) == masked


@pytest.mark.parametrize(
    "line",
    [
        "AWS_SECRET_ACCESS_KEY: ${AWS_SECRET_ACCESS_KEY}",
        'export HF_TOKEN="$(cat /run/secrets/hf_token)"',
        'OPENAI_API_KEY: "<your-openai-key>"',
        "client = OpenAI(api_key=args.api_key)",
        'token = os.environ.get("HF_TOKEN")',
        "MINIO_ROOT_PASSWORD: minioadmin",  # a published default: the finding names it
        "ENV VLLM_API_KEY=''",
        "image: vllm/vllm-openai:v0.6.3",
        "- --host=0.0.0.0",
        "TOKEN_EXPIRY_SECONDS: '3600'",
    ],
)
def test_non_secrets_stay_readable(line: str) -> None:
    assert mask_line(line) == line


def test_context_lines_are_masked() -> None:
    lines = [
        "        - name: DB_PASSWORD",
        "          # the database",
        f"          value: {PASSWORD}",
        "        - name: MODEL_ID",
        "          value: meta-llama/Llama-3.1-8B",
        "data: |",
        "  -----BEGIN RSA PRIVATE KEY-----",
        "  MIIEowIBAAKCAQEAz9s7Yq0xLm3Vb",
        "  -----END RSA PRIVATE KEY-----",
    ]
    out = mask_lines(lines)
    assert PASSWORD not in out[2] and out[4] == lines[4]
    assert "MIIEowIBAAKCAQEAz9s7Yq0xLm3Vb" not in out[7] and out[6] == lines[6]
    assert mask_text("\n".join(lines)) == "\n".join(out)


def test_hostile_long_line_is_masked_quickly() -> None:
    import time

    line = "a=" * 100_000 + "--x " * 50_000 + "TOKEN:" * 20_000
    start = time.perf_counter()
    mask_line(line)
    assert time.perf_counter() - start < 2.0


# ---------------------------------------------------------------- every output format

DEPLOYMENT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: vllm}}
spec:
  selector: {{matchLabels: {{app: vllm}}}}
  template:
    metadata: {{labels: {{app: vllm}}}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          args: ["--host", "0.0.0.0", "--api-key", "{API_KEY}"]
          env:
            - name: HF_TOKEN
              value: {HF}
            - name: DB_PASSWORD
              value: {PASSWORD}
"""


@pytest.fixture
def tokens_project(project):
    project("deploy/vllm.yaml", DEPLOYMENT)
    project(".env", f"OPENAI_API_KEY={OPENAI}\nAWS_SECRET_ACCESS_KEY={AWS_DOCS}\n")
    project("app.py", f'import os\nos.environ["HF_TOKEN"] = "{HF}"\n')
    return project


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab", "junit", "html"])
def test_no_output_format_repeats_a_credential(tokens_project, capsys, fmt: str) -> None:
    code = main(["scan", "--format", fmt, "--statistics", "--show-suppressed"])
    out, err = capsys.readouterr()
    assert code == 1
    assert _leaks(out + err) == [], fmt
    if fmt not in ("github", "gitlab"):  # these two carry no source text
        assert "*" * 8 in out  # the masked values are there, prefix kept


def test_json_source_lines_are_masked_also_for_other_findings(tokens_project, capsys) -> None:
    main(["scan", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    on_args = [f for f in data["findings"] if f["path"] == "deploy/vllm.yaml" and f["line"] == 12]
    # the args line is reported for cleartext HTTP, not for the key it also holds
    assert on_args and all(f["rule_id"] != "MLS-SEC-001" for f in on_args)
    for f in on_args:
        assert API_KEY not in f["source_line"] and mask_value(API_KEY) in f["source_line"]


def test_written_reports_and_baselines_repeat_no_credential(tokens_project, capsys) -> None:
    root: Path = tokens_project.root
    assert main(["scan", "--sarif-output", "r.sarif", "--html-output", "r.html", "-q"]) == 1
    assert main(["scan", "--write-baseline", "baseline.json"]) == 0
    capsys.readouterr()
    for name in ("r.sarif", "r.html", "baseline.json"):
        assert _leaks((root / name).read_text(encoding="utf-8")) == [], name


def test_prefilters_do_not_change_what_is_masked() -> None:
    # lines that name no credential and hold no token format are skipped cheaply; the
    # rest are masked exactly as before (reference: every pattern on every line)
    lines = [
        "apiVersion: apps/v1",
        "  - name: HF_TOKEN",
        "    value: hf_" + "a" * 34,
        "dbPassword: hunter2hunter2",
        "x AccountKey=" + "Q" * 86 + "==",
        "url: https://user:s3cr3tpass@host/x",
        "plain text with a token hf_" + "b" * 34 + " inside",
    ]
    masked = mask_lines(lines)
    assert masked[0] == lines[0]
    assert "a" * 20 not in masked[2] and "hunter2hunter2" not in masked[3]
    assert "Q" * 20 not in masked[4] and "s3cr3tpass" not in masked[5]
    assert "b" * 20 not in masked[6]
    assert [len(m) for m in masked] == [len(line) for line in lines]


def test_redacting_a_scan_leaves_no_list_of_lines_on_its_sources() -> None:
    from mlsec_lint.model import Finding, Severity, Span
    from mlsec_lint.redact import redact_scan
    from mlsec_lint.source import Source

    token = "hf_" + "c" * 34
    clean = Source("clean.yaml", "kind: Service\nspec: {}\n")
    secret = Source("secret.env", f"A=1\nHF_TOKEN={token}\n")
    sources = {s.path: s for s in (clean, secret)}
    findings = [
        Finding("X-1", "x", "t", "tls", Severity.LOW, p, Span.point(2), "m", "") for p in sources
    ]
    redact_scan(sources, findings)
    # a source kept without change has no list of its lines (it outweighs the text)
    assert sources["clean.yaml"] is clean and clean._lines is None
    assert token not in sources["secret.env"].text and secret.text.endswith(token + "\n")
    assert token not in findings[1].source_line and findings[0].source_line == ""


def _masked_line_by_line(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``mask_lines`` without the whole-text hints (as for a short message)."""
    from mlsec_lint import redact

    with monkeypatch.context() as m:
        m.setattr(redact, "_HINTS_FROM", 10**9)
        return mask_lines(lines)


def test_whole_text_hints_mask_what_every_line_would(monkeypatch: pytest.MonkeyPatch) -> None:
    account = "AccountKey=" + "Q" * 86 + "=="
    lines = [
        "import os",
        f"dbPassword = '{PASSWORD}'",  # camel case: DB_PASSWORD
        f"hf-token: {HF}",
        f"settings.api.key = {API_KEY}",  # dots read as underscores
        "        - name: MINIO_SECRET_KEY",
        f"          value: {PASSWORD}",
        f"conn = 'DefaultEndpointsProtocol=https;{account}'",
        f"# {OPENAI}",
        "  -----BEGIN PRIVATE KEY-----",
        "  MIIEowIBAAKCAQEAz9s7Yq0xLm3Vb",
        "  -----END PRIVATE KEY-----",
        f"curl -H 'Proxy-Authorization: Basic {API_KEY}' https://u:{PASSWORD}@h/x",
        "print('nothing here')",
        "        - name: HF_TOKEN",
        "        - name: MODEL_ID",  # not a credential: the value below is readable
        "          value: meta-llama/Llama-3.1-8B",
    ]
    lines += [f"filler_{i} = {i}" for i in range(20)]
    out = mask_lines(lines)
    assert out == _masked_line_by_line(lines, monkeypatch)
    assert _leaks("\n".join(out)) == [] and "Q" * 80 not in out[6]
    assert out[0] == lines[0] and out[-1] == lines[-1] and out[15] == lines[15]


def test_a_token_pattern_hint_is_weaker_than_the_pattern() -> None:
    from mlsec_lint.redact import _hint, _token_hints

    samples = [HF, OPENAI, f"x {HF}.", f"({OPENAI})", "AccountKey=" + "a" * 86 + "=="]
    for pattern, hint in _token_hints():
        for text in samples:
            if pattern.search(text):
                assert hint is None or hint.search(text), (pattern.pattern, text)
    hints = {p.pattern: h for p, h in _token_hints()}
    assert all(h is not None for h in hints.values())
    account = next(h for p, h in hints.items() if "AccountKey" in p)
    assert account is not None and account.pattern == "(?i)AccountKey="
    assert _hint(r"\bhf_[A-Za-z]{34}\b").pattern == "hf_[A-Za-z]{34}"  # type: ignore[union-attr]
    assert _hint(r"ab(?=c)") is None  # too short once cut
    assert _hint(r"(abcd(?!e)f)") is None  # cut inside a group
    assert _hint(r"^abcdef") is None


def test_lines_that_may_name_a_credential() -> None:
    from mlsec_lint.redact import _naming_lines

    text = "x = 1\ndbPassword = 2\nhf-token: 3\nname: value\n__init__.Secret.x = 4"
    assert _naming_lines(text) == {1, 2, 4}
    assert _naming_lines("a = 1\nb = 2") == set()


_TEXTS = [
    "plain message without anything",
    f"Container 'x' holds credentials ('HF_TOKEN'). Also on this line: MLS-K8S-004 ({HF})",
    f"dbPassword = '{PASSWORD}'",
    f"settings.api.key = {API_KEY}\nnext line: 1",
    f"env:\n  - name: MINIO_SECRET_KEY\n    value: {PASSWORD}\n  - name: MODEL_ID\n    value: m",
    "  -----BEGIN PRIVATE KEY-----\n  MIIEowIBAAKCAQEAz9s7Yq0xLm3Vb\n  -----END PRIVATE KEY-----",
    f"curl -H 'Proxy-Authorization: Basic {API_KEY}' https://u:{PASSWORD}@h/x",
    f"--hf-token={HF} and --api-key {API_KEY}",
    "conn = 'DefaultEndpointsProtocol=https;AccountKey=" + "Q" * 86 + "=='",
    f"ENV VLLM_API_KEY {API_KEY}",
    "token: ${HF_TOKEN} key: <your-key> password: changeme",
    "value: not-after-a-name",
    "",
]


@pytest.mark.parametrize("cut", range(len(_TEXTS)))
def test_texts_masked_together_are_masked_as_each_alone(cut: int) -> None:
    from mlsec_lint.redact import mask_texts

    # every split of the texts into a first and a second batch, repeats included
    for texts in (_TEXTS[:cut], _TEXTS[cut:], [*_TEXTS[cut:], *_TEXTS[:cut], _TEXTS[cut]]):
        masked = mask_texts(texts)
        assert set(masked) == set(texts)
        assert all(masked[t] == mask_text(t) for t in texts)
    assert _leaks("\n".join(mask_texts(_TEXTS).values())) == []


_FIELD_CHARS = st.sampled_from(
    [
        *("a", "Z", "_", "-", ".", "9", " ", "\t", "=", ":", "'", '"', "]", "[", "/", "(", "$"),
        *("TOKEN", "key", "Pass", "secret", "api", "HF", "auth", "//", "Bearer ", API_KEY),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FIELD_CHARS, max_size=40).map("".join))
def test_assignments_are_searched_only_where_a_field_may_name_a_credential(line: str) -> None:
    from mlsec_lint import redact

    with pytest.MonkeyPatch.context() as m:
        m.setattr(redact, "_names_a_field", lambda head: True)
        everywhere = redact._ranges(line)
    assert redact._ranges(line) == everywhere


def test_token_formats_are_ruled_out_as_by_their_hints() -> None:
    from mlsec_lint.redact import _token_hints, _tokens_in

    account = "AccountKey=" + "Q" * 86 + "=="
    texts = [
        "nothing at all",
        f"x {HF} y {OPENAI}",
        f"conn = '{account}'",
        account.upper(),
        "\u212accountkey=" + "q" * 86,  # the Kelvin sign matches k in any case
        "A" + "c" * 2 + "ount\u212aey=1",
        "abc1Q~" + "x" * 32,
        "rk_live_" + "9" * 24,
    ]
    for text in texts:
        expected = tuple(p for p, h in _token_hints() if h is None or h.search(text))
        assert _tokens_in(text) == expected, text


_QUIET_LINES = st.sampled_from(
    [
        "filler: 1",
        "  - name: HF_TOKEN",
        "  - name: MODEL_ID",
        f"    value: {PASSWORD}",
        "    value: meta-llama/Llama-3.1-8B",
        f"dbPassword = '{PASSWORD}'",
        f"url: https://user:{PASSWORD}@host/x",
        "see https://example.com/docs",
        "    valueFrom: {secretKeyRef: {name: s}}",
        "",
        "# a comment about the key",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_QUIET_LINES, min_size=5, max_size=30))
def test_a_text_without_tokens_is_masked_as_line_by_line(lines: list[str]) -> None:
    with pytest.MonkeyPatch.context() as m:
        expected = _masked_line_by_line(lines, m)
    assert mask_lines(lines) == expected


_DOCKER_CHARS = st.sampled_from(
    [
        " ",
        "\t",
        "ENV",
        "env",
        "Arg",
        "ARG",
        "\u212a",
        "\u017f",
        "\u0131",
        "name:",
        "=",
        "x",
        "HF_TOKEN",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_DOCKER_CHARS, max_size=12).map("".join))
def test_line_patterns_are_tried_only_where_their_start_is(line: str) -> None:
    from mlsec_lint import redact

    if redact._DOCKER_ENV.rx.match(line):
        assert line.lstrip(" \t")[:3].upper() in ("ENV", "ARG")
    if redact._ENV_NAME.rx.match(line):
        assert "name:" in line
