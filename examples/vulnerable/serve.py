"""A minimal model server with the usual shortcuts."""

import pickle

import requests
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

MODEL_ID = "acme/support-llm"


def load_adapter(path: str):
    return torch.load(path)


def load_features(blob: bytes):
    return pickle.loads(blob)


def fetch_prompt_template(url: str) -> str:
    return requests.get(url, timeout=10, verify=False).text


model = AutoModelForCausalLM.from_pretrained(MODEL_ID, trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
