"""Unnamed input is classified by its content, or not at all."""

from __future__ import annotations

import time

import pytest

from mlsec_lint.analyze import analyze
from mlsec_lint.contentkind import classify
from mlsec_lint.source import source_from_bytes


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN pip install torch\n", "dockerfile"),
        ("ARG BASE=python:3.11\nFROM ${BASE}\n", "dockerfile"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "yaml"),
        ("---\n# rendered\napiVersion: apps/v1\n", "yaml"),
        ("services:\n  vllm:\n    image: vllm/vllm-openai\n", "yaml"),
        ('{"apiVersion": "v1", "kind": "Pod"}', "json"),
        ("from transformers import AutoModel\n", "python"),
        ("#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("import torch\n", "python"),
        ("torch==2.6.0\nnumpy\n", "requirements"),
        ("-r base.txt\ntransformers>=4\n", "requirements"),
        ("torch\ntransformers[torch]\nrequests\n", "requirements"),
        ("#!/bin/sh\nexec vllm serve m --host 0.0.0.0\n", "shell"),
        ("HF_TOKEN=hf_x\nexport MODEL=gpt2\n", "dotenv"),
        ("inference_address=http://0.0.0.0:8080\nmodel_store=/m\n", "properties"),
        ('[project]\nname = "x"\ndependencies = ["torch"]\n', "pyproject"),
        ("[server]\nport = 8080\n", "toml"),
    ],
)
def test_classify(text: str, kind: str) -> None:
    assert classify(text.encode()) == kind


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "hello world\n", "\x00\x01"])
def test_unrecognisable_input_has_no_kind(text: str) -> None:
    assert classify(text.encode()) is None


def test_classified_input_is_analysed_as_that_kind() -> None:
    data = b"FROM vllm/vllm-openai:latest\n"
    kind = classify(data)
    assert kind == "dockerfile"
    src, _ = source_from_bytes(data, "<stdin>")
    assert src is not None and analyze(src, kind).facts


def test_long_hostile_input_is_classified_quickly() -> None:
    data = ("a" * 100_000 + "[" * 50_000 + "\n") * 300
    start = time.perf_counter()
    classify(data.encode())
    assert time.perf_counter() - start < 1.0
