"""SARIF output: both schemas, GitHub's ingestion rules, fingerprints, suppressions."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsec_lint.cli import main
from mlsec_lint.fingerprints import line_hashes

from ..conftest import CORPUS, CORPUS_ABSENT, FIXTURES, ROOT
from .sarif_checks import SCHEMA_SHA256, SCHEMAS, check_sarif, schema_errors


def sarif(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--format", "sarif", *args])
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    check_sarif(doc)
    return code, doc


def results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = doc["runs"][0]["results"]
    return out


def test_the_schemas_are_the_published_files() -> None:
    for name, digest in SCHEMA_SHA256.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name


def test_the_checker_rejects_what_github_rejects() -> None:
    """The validation is real: broken documents fail it."""
    good = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": []}],
    }
    assert schema_errors(good) == []
    for uri in ("deploy/triton server.yaml", "C:\\x\\Dockerfile", "deploy/ümlaut.yaml"):
        bad = json.loads(json.dumps(good))
        bad["runs"][0]["results"] = [
            {
                "message": {"text": "x."},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            }
        ]
        assert schema_errors(bad), uri
    bad = json.loads(json.dumps(good))
    bad["runs"][0]["tool"]["driver"]["rules"] = [{"id": "A"}, {"id": "A"}]
    assert schema_errors(bad)


def test_examples(capsys) -> None:
    code, doc = sarif(capsys, str(ROOT / "examples" / "vulnerable"))
    assert code == 1 and len(results(doc)) >= 10
    run = doc["runs"][0]
    assert run["automationDetails"] == {"id": "mlsec-lint/"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(doc)}
    assert "examples/vulnerable/Dockerfile" in uris  # relative to the repository root


@pytest.mark.parametrize("directory", sorted(p for p in FIXTURES.iterdir() if p.is_dir()))
def test_every_fixture_directory(directory: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(directory)
    sarif(capsys, ".")


def test_corpus(capsys, monkeypatch) -> None:
    if not CORPUS.is_dir():
        pytest.skip(CORPUS_ABSENT)
    monkeypatch.chdir(CORPUS)
    code, doc = sarif(capsys, ".", "--no-gitignore")
    assert code == 1 and len(results(doc)) > 20


def test_clean_run_has_empty_results(project, capsys) -> None:
    project("requirements.txt", "torch==2.6.0\n")
    code, doc = sarif(capsys)
    assert code == 0 and results(doc) == []
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) >= 15


def test_awkward_paths_are_encoded(project, capsys) -> None:
    project("deploy/triton server.yaml", _INGRESS)
    project("ümlaut/requirements.txt", "torch\n")
    project("a#b%c/requirements.txt", "vllm\n")
    _, doc = sarif(capsys)
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(doc)
    )
    assert uris == sorted(
        [
            "a%23b%25c/requirements.txt",
            "deploy/triton%20server.yaml",
            "%C3%BCmlaut/requirements.txt",
        ]
    )


def test_stdin_and_outside_root(project, capsys, monkeypatch, tmp_path_factory) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_INGRESS.encode())))
    _, doc = sarif(capsys, "-")
    assert results(doc)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "%3Cstdin%3E"
    )
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "requirements.txt").write_text("torch\n", encoding="utf-8")
    (project.root / ".git").mkdir()
    _, doc = sarif(capsys, str(elsewhere))
    loc = results(doc)[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc["uri"].startswith("file:///") and "uriBaseId" not in loc


def test_region_snippet_and_line_hash(project, capsys) -> None:
    text = "# deps\nnumpy==2.1.1\n  torch>=2  \n"
    project("requirements.txt", text)
    _, doc = sarif(capsys)
    (res,) = results(doc)
    region = res["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 3)
    assert region["snippet"]["text"] == "torch>=2"
    assert res["partialFingerprints"]["primaryLocationLineHash"] == line_hashes(text)[3]


def test_secrets_are_not_copied_into_the_report(project, capsys) -> None:
    project(".env", "HF_TOKEN=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\n")
    _, doc = sarif(capsys)
    assert results(doc) and "hf_ZyXw" not in json.dumps(doc)


def test_rule_descriptors(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    _, doc = sarif(capsys)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    r = rules["MLS-PY-002"]
    assert r["name"] == "TorchLoadWithoutWeightsOnly"
    assert r["helpUri"] == (
        "https://github.com/mlsec-lint/mlsec-lint/blob/main/docs/rules/MLS-PY-002.md"
    )
    assert "external/cwe/cwe-502" in r["properties"]["tags"]
    assert "external/owasp-ml/ml06-2023" in r["properties"]["tags"]
    assert r["properties"]["security-severity"] == "8.0"
    assert r["defaultConfiguration"]["level"] == "error"
    assert "## Why is this bad?" in r["help"]["markdown"]
    assert "MLS-SUP-003" in rules


def test_severity_override_reaches_the_descriptor(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    project(".mlsec-lint.yaml", "severity:\n  MLS-DEP-001: low\n")
    _, doc = sarif(capsys)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["MLS-DEP-001"]["properties"]["security-severity"] == "3.0"
    assert rules["MLS-DEP-001"]["defaultConfiguration"]["level"] == "note"
    assert results(doc)[0]["level"] == "note"


def test_suppressed_results_are_omitted_unless_asked(project, capsys) -> None:
    project(
        "requirements.txt",
        "torch  # mlsec-lint: ignore[MLS-DEP-001] -- pinned by the base image\nvllm\n",
    )
    _, doc = sarif(capsys)
    assert [r["ruleId"] for r in results(doc)] == ["MLS-DEP-001"]
    assert "suppressions" not in results(doc)[0]
    _, doc = sarif(capsys, "--show-suppressed")
    by_line = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r for r in results(doc)
    }
    assert by_line[2]["suppressions"] == []
    (sup,) = by_line[1]["suppressions"]
    assert sup["kind"] == "inSource" and sup["status"] == "accepted"
    assert sup["justification"] == "pinned by the base image"
    assert sup["location"]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 8}


def test_notices_are_notifications(project, capsys) -> None:
    project("broken.yaml", "a: [\n")
    project("requirements.txt", "torch\n")
    _, doc = sarif(capsys)
    (note,) = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "parse-error" and note["level"] == "warning"


def test_sarif_output_beside_another_format(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    code = main(["scan", "--format", "github", "--sarif-output", "out.sarif"])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("::error ")
    doc = json.loads((project.root / "out.sarif").read_text(encoding="utf-8"))
    check_sarif(doc)
    assert len(results(doc)) == 1


def test_category(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    _, doc = sarif(capsys, "--sarif-category", "mlsec-lint/k8s")
    assert doc["runs"][0]["automationDetails"]["id"] == "mlsec-lint/k8s/"


def test_results_are_capped_at_githubs_limit(project, capsys, monkeypatch) -> None:
    import mlsec_lint.reporters.sarif as mod

    monkeypatch.setattr(mod, "MAX_RESULTS", 3)
    project("requirements.txt", "torch\nvllm\ntransformers\nnumpy\nmlflow\n")
    _, doc = sarif(capsys)
    assert len(results(doc)) == 3
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[-1]["descriptor"]["id"] == "results-truncated"


def test_baseline_state(project, capsys) -> None:
    project("requirements.txt", "torch\n")
    assert main(["scan", "--write-baseline", "base.json", "-q"]) == 0
    project("requirements.txt", "torch\nvllm\n")
    capsys.readouterr()
    code, doc = sarif(capsys, "--baseline", "base.json", "--show-suppressed")
    states = sorted((r["ruleId"], r["baselineState"]) for r in results(doc))
    assert code == 1 and states == [("MLS-DEP-001", "new"), ("MLS-DEP-001", "unchanged")]
    unchanged = next(r for r in results(doc) if r["baselineState"] == "unchanged")
    assert unchanged["suppressions"][0]["kind"] == "external"


_INGRESS = (
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n"
    "spec:\n  rules:\n    - host: a.example.com\n"
)


def test_paths_are_relative_to_the_repository_root_from_a_subdirectory(
    project, capsys, monkeypatch
) -> None:
    (project.root / ".git").mkdir()
    project("svc/requirements.txt", "torch\n")
    project("svc/broken.yaml", "a: [unclosed\n")
    monkeypatch.chdir(project.root / "svc")
    _, doc = sarif(capsys, ".")
    (res,) = results(doc)
    loc = res["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc["uri"] == "svc/requirements.txt"
    (note,) = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    uri = note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "svc/broken.yaml"


_SNIPPETS = {
    "requirements.txt": ["torch\n", "vllm>=0.5  # mlsec-lint: ignore[MLS-DEP-001] -- r\n"],
    "Dockerfile": [
        "FROM pytorch/pytorch:latest\n",
        "ENV HF_TOKEN=hf_ZyXwVuTsRqPoNmLkJiHgFeDcBaZyXw\n",
    ],
    "deploy.yaml": [_INGRESS, "\ufeffapiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"],
    "serve.py": ["import torch\r\nx = torch.load('m.pt')\r\n", "\U0001f600 = 1\n"],
    "config.properties": ["management_address=http://0.0.0.0:8081\n"],
    ".env": ["OPENAI_API_KEY=sk-proj-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"],
}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.text(
                alphabet=st.sampled_from("ab ü#%?[]{}()'&;=+@!~é\u4e2d-_."),
                min_size=1,
                max_size=8,
            ).filter(lambda s: s.strip(" .") == s and s not in (".", "..")),
            st.sampled_from(sorted(_SNIPPETS)),
            st.data(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_generated_projects(project, capsys, files) -> None:
    import shutil

    for child in project.root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for directory, name, data in files:
        text = "".join(data.draw(st.lists(st.sampled_from(_SNIPPETS[name]), min_size=1)))
        project(f"{directory}/{name}", text)
    sarif(capsys, "--show-suppressed")
    sarif(capsys)
