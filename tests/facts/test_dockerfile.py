from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.facts.dockerfile import extract
from mlsec_lint.tree import to_plain


def of(text: str, kind: str) -> list[dict[str, Any]]:
    out = []
    for f in extract(text, "Dockerfile").facts:
        if f.kind == kind:
            d = to_plain(f.data)
            d["_line"], d["_col"] = f.anchor.line, f.anchor.col
            out.append(d)
    return out


def test_global_args_are_visible_in_a_stage_only_when_redeclared() -> None:
    text = (
        "ARG TORCH=2.6.0\nARG BASE\nFROM ${BASE}\nRUN pip install torch==${TORCH}\n"
        "ARG TORCH\nRUN pip install torch==${TORCH}\n"
    )
    deps = of(text, "dependency")
    assert [(d["dynamic"], d.get("version")) for d in deps] == [(True, None), (False, "2.6.0")]
    (image,) = of(text, "image")
    assert image["image"] == "${BASE}" and image["dynamic"] is True


def test_env_workdir_and_copies_carry_into_child_stages() -> None:
    text = (
        "FROM python:3.12 AS base\nENV TORCH_VERSION=2.6.0\nWORKDIR /srv\n"
        "COPY requirements/ ./requirements/\n"
        "FROM base AS final\nRUN pip install -r requirements/prod.txt torch==$TORCH_VERSION\n"
    )
    (cmd,) = of(text, "command")
    assert cmd["stage"] == "final" and cmd["final_stage"] is True
    assert cmd["requirement_files"][0]["candidates"][0] == "requirements/prod.txt"
    (dep,) = of(text, "dependency")
    assert dep["version"] == "2.6.0"


def test_copy_destinations_map_back_to_the_build_context() -> None:
    text = (
        "FROM python:3.12\nCOPY deploy/reqs.txt /tmp/requirements.txt\n"
        "COPY svc /app\nRUN pip install -r /tmp/requirements.txt -r /app/extra.txt\n"
    )
    (cmd,) = of(text, "command")
    cands = [r["candidates"] for r in cmd["requirement_files"]]
    assert cands == [["deploy/reqs.txt"], ["svc/extra.txt"]]


def test_heredocs_fed_to_a_shell_are_analysed_others_are_not() -> None:
    text = (
        "FROM python:3.12\nRUN <<EOF\npip install vllm\nEOF\n"
        "RUN python3 <<EOF\nimport os  # pip install nothing\nEOF\n"
        "RUN <<EOF bash -e\npip install torch\nEOF\n"
        "RUN <<EOF\n#!/usr/bin/env python3\nprint('pip install x')\nEOF\n"
        "RUN cat <<EOF > /etc/x && pip install ray\nhello\nEOF\n"
    )
    deps = of(text, "dependency")
    assert [(d["name"], d["_line"]) for d in deps] == [("vllm", 3), ("torch", 9), ("ray", 15)]


def test_exec_form_run_and_shell_c_positions() -> None:
    text = (
        'FROM python:3.12\nRUN ["pip", "install", "torch"]\nRUN ["sh", "-c", "pip install ray"]\n'
    )
    deps = of(text, "dependency")
    assert [(d["name"], d["_line"], d["_col"]) for d in deps] == [
        ("torch", 2, 24),
        ("ray", 3, 31),
    ]


def test_add_urls_and_env_index_settings() -> None:
    text = (
        "FROM python:3.12\nENV PIP_EXTRA_INDEX_URL=https://x.example/simple\n"
        "ADD --checksum=sha256:ab https://m.example/model.onnx /models/\n"
        "ADD https://github.com/org/tool/archive/v1.tar.gz /src/\n"
    )
    (src,) = of(text, "model-source")
    assert src["checksum"] == "sha256:ab" and src["output"] == "/models/model.onnx"
    (idx,) = of(text, "package-index")
    assert idx["option"] == "--extra-index-url" and idx["_line"] == 2


def test_unknown_directive_ends_the_directive_block() -> None:
    text = "# foo=bar\n# escape=`\nFROM python:3.12\nRUN echo a \\\n  b\n"
    cmds = of(text, "command")
    assert cmds[0]["argv"] == ["echo", "a", "b"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "FROM",
                "RUN",
                "ARG",
                "ENV",
                "COPY",
                "ADD",
                "WORKDIR",
                "AS",
                "x",
                "${A}",
                "A=1",
                "--from=x",
                "--checksum=sha256:a",
                "<<EOF",
                "EOF",
                "\\",
                "\n",
                "[",
                '"',
                "]",
                "pip install torch",
                "https://h.example/m.bin",
                "/app",
                ".",
                "# escape=`",
                "`",
                "sh -c",
                "'",
            ]
        ),
        max_size=40,
    )
)
def test_never_raises_on_arbitrary_dockerfiles(parts: list[str]) -> None:
    extract(" ".join(parts), "Dockerfile")


def _final(text: str) -> dict[str, Any]:
    (fact,) = of(text, "dockerfile")
    final: dict[str, Any] = fact["final"]
    return final


def test_final_user_root_spellings_arguments_and_bases() -> None:
    assert _final("FROM python:3.12\nUSER 0:1000\n")["root"] is True
    assert _final("FROM python:3.12\nUSER root:wheel\n")["root"] is True
    assert _final("FROM python:3.12\nUSER 1000:0\n")["root"] is False
    # a build argument's default is resolved; one without a default is not assumed root
    resolved = _final("FROM python:3.12\nARG U=root\nUSER $U\n")
    assert resolved["user"] == "root" and resolved["root"] is True
    unresolved = _final("FROM python:3.12\nARG U\nUSER ${U}\n")
    assert unresolved["dynamic_user"] is True and unresolved["root"] is False
    scratch = _final("FROM scratch\nCOPY app /app\n")
    assert scratch.get("scratch") is True and "user" not in scratch
    nonroot = _final("FROM gcr.io/distroless/static-debian12:nonroot\n")
    assert nonroot["user_source"] == "image-default" and nonroot["root"] is False
    assert "user" not in _final("FROM gcr.io/distroless/python3-debian12\n")


def test_build_arguments_without_default_are_env_facts_without_value() -> None:
    text = "FROM python:3.11-slim\nARG HF_TOKEN\nARG MODEL=org/model\n"
    envs = {e["name"]: e for e in of(text, "env")}
    assert "value" not in envs["HF_TOKEN"] and envs["HF_TOKEN"]["literal"] is False
    assert envs["HF_TOKEN"]["origin"] == "dockerfile-arg" and envs["HF_TOKEN"]["_line"] == 2
    assert envs["MODEL"]["value"] == "org/model"


def test_global_arg_defaults_use_earlier_global_args() -> None:
    text = (
        "ARG CUDA=12.4.1\nARG BASE=nvidia/cuda:${CUDA}-runtime-ubuntu22.04\n"
        "ARG IMAGE=${BASE}\nFROM ${IMAGE}\n"
    )
    (image,) = of(text, "image")
    assert image["image"] == "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
    assert image["dynamic"] is False


def test_a_download_piped_into_a_shell_is_recorded_on_the_shell() -> None:
    text = "FROM python:3.11-slim\nRUN curl -fsSL https://example.com/install.sh | sh -s -- -y\n"
    commands = {c["program"]: c for c in of(text, "command")}
    piped = commands["sh"]["piped_from"]
    assert piped["program"] == "curl" and piped["argv"][-1] == "https://example.com/install.sh"
    assert "piped_from" not in commands["curl"]
