"""The same server without the shortcuts."""

import os

import requests
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

MODEL_ID = "acme/support-llm"
REVISION = "3c1e2f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e"
CA_BUNDLE = os.environ.get("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")


def load_adapter(path: str):
    return load_file(path)


def load_checkpoint(path: str):
    return torch.load(path, weights_only=True, map_location="cpu")


def fetch_prompt_template(url: str) -> str:
    return requests.get(url, timeout=10, verify=CA_BUNDLE).text


model = AutoModelForCausalLM.from_pretrained(MODEL_ID, revision=REVISION)
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID, revision=REVISION)
