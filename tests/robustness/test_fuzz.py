"""Property-based fuzzing of every parser and extractor: arbitrary input never raises.

Runs a few dozen examples per target in the test suite; for a long local run:
``MLSEC_FUZZ_EXAMPLES=20000 python -m pytest tests/robustness/test_fuzz.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsec_lint.analyze import analyze
from mlsec_lint.discovery import FILE_KINDS
from mlsec_lint.parsers import dockerfile, properties, requirements, shell
from mlsec_lint.parsers.yamldoc import YamlError, load_stream
from mlsec_lint.source import Source, source_from_bytes

EXAMPLES = int(os.environ.get("MLSEC_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

SPECIAL = "\\\"'`$(){}[]<>|&;#=:-*!?%@,.\t \n\r\x0b\x0c\u2028\u0085é😀\x00"
chars = st.text(st.sampled_from(SPECIAL) | st.characters(exclude_categories=["Cs"]), max_size=200)

DOCKER_LINES = st.sampled_from(
    [
        "FROM python:3.12 AS build",
        "FROM ${BASE:-x}",
        "FROM build",
        "ARG BASE=pytorch/pytorch:latest",
        "RUN pip install torch \\",
        "    transformers==4.0",
        "RUN <<EOF",
        "RUN <<-'END' python",
        "EOF",
        "END",
        'CMD ["vllm", "serve"',
        'CMD ["a", "b"]',
        'ENV A=1 B="two words"',
        "ENV LEGACY value here",
        "USER root",
        "USER ${UID}",
        "# escape=`",
        "# syntax=docker/dockerfile:1",
        "COPY --from=build /a /b",
        "ONBUILD RUN x",
        "RUN sh -c \"pip install 'vllm>=0.5'\"",
        "\\",
        "",
        "HEALTHCHECK CMD curl -f http://localhost",
    ]
)
YAML_LINES = st.sampled_from(
    [
        "apiVersion: v1",
        "kind: Pod",
        "kind: List",
        "items:",
        "- apiVersion: v1",
        "metadata: {name: x}",
        "spec:",
        "  containers:",
        "    - name: c",
        "      image: ollama/ollama",
        "      env:",
        "        - {name: HF_TOKEN, value: hf_x}",
        "  ports: [{port: 8081}]",
        "---",
        "a: &a [1, 2]",
        "b: *a",
        "<<: *a",
        "? complex",
        ": value",
        "x: |",
        "  block",
        "'q': \"s\"",
        "- - - x",
        "{[(",
    ]
)


@FUZZ
@given(st.binary(max_size=400))
def test_decoding_never_raises(data: bytes) -> None:
    source, notices = source_from_bytes(data, "f.yaml")
    assert source is not None or notices


@FUZZ
@given(
    st.sampled_from(FILE_KINDS),
    st.one_of(chars, st.lists(DOCKER_LINES | YAML_LINES | chars, max_size=20).map("\n".join)),
)
def test_analysis_of_every_kind_never_raises(kind: str, text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        return  # decoding refuses NUL before any parser sees the text
    name = {
        "dockerfile": "Dockerfile",
        "requirements": "requirements.txt",
        "pyproject": "pyproject.toml",
        "pipfile": "Pipfile",
        "setup-cfg": "setup.cfg",
        "properties": "config.properties",
        "shell": "run.sh",
        "dotenv": ".env",
        "toml": "config.toml",
        "python": "m.py",
        "json": "m.json",
        "yaml": "m.yaml",
    }.get(kind, f"m.{kind}")
    fa = analyze(Source(name, text), kind)
    for fact in fa.facts:
        assert fact.anchor.line >= 1 and fact.anchor.col >= 1


@FUZZ
@given(st.lists(DOCKER_LINES | chars, max_size=25).map("\n".join))
def test_dockerfile_parser(text: str) -> None:
    df = dockerfile.parse(text)
    for inst in df.instructions:
        assert 1 <= inst.span.line <= inst.span.end_line


@FUZZ
@given(chars)
def test_shell_lexer_offsets_stay_in_the_input(text: str) -> None:
    for cmd in shell.split_commands(text):
        for w in cmd.words + cmd.assigns:
            assert 0 <= w.start <= w.end <= len(text)


@FUZZ
@given(chars)
def test_requirements_and_properties(text: str) -> None:
    requirements.parse(text)
    properties.parse(text)


@FUZZ
@given(st.lists(YAML_LINES | chars, max_size=20).map("\n".join))
def test_yaml_loader_raises_only_its_own_error(text: str) -> None:
    try:
        load_stream(text)
    except YamlError as exc:
        assert exc.message
