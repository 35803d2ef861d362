"""Generate a realistic ML-platform repository for benchmarking.

Each "service" directory holds what a team ships for one model: a Dockerfile, a
requirements file, Python modules (serving, training, utilities), Kubernetes manifests
(Deployment, Service, sometimes an Ingress or a KServe InferenceService), sometimes a
compose file, a TorchServe config and an entrypoint script. Noise that a scanner must
skip is added too: documentation, images, CSV data, ``node_modules`` and ``.git``.

The output is deterministic for a given ``--services`` and ``--seed``.

    python bench/generate.py OUT_DIR --services 300
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

IMAGES = [
    "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime",
    "nvcr.io/nvidia/tritonserver:24.05-py3",
    "vllm/vllm-openai:v0.6.3",
    "pytorch/torchserve:0.11.0-cpu",
    "python:3.11-slim",
    "ghcr.io/huggingface/text-generation-inference:2.4.1",
    "tensorflow/serving:2.16.1",
    "rayproject/ray:2.34.0-py311",
]
PACKAGES = [
    "torch",
    "transformers",
    "numpy",
    "fastapi",
    "uvicorn",
    "pandas",
    "scikit-learn",
    "requests",
    "pydantic",
    "mlflow",
    "boto3",
    "accelerate",
    "safetensors",
    "vllm",
]

PY_HEADER = '''"""Service module {name}."""

import json
import logging
import os
import pickle

import numpy as np
import requests
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

LOG = logging.getLogger(__name__)
MODEL_ID = "org/model-{i}"
TIMEOUT = 30
'''

PY_FUNCS = [
    """

def load_checkpoint_{k}(path):
    LOG.info("loading %s", path)
    state = torch.load(path, map_location="cpu")
    return state
""",
    """

def load_weights_{k}(path):
    return torch.load(path, weights_only=True)
""",
    """

def fetch_{k}(url, token=None):
    headers = {{"Authorization": f"Bearer {{token}}"}} if token else {{}}
    response = requests.get(url, headers=headers, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()
""",
    """

def restore_features_{k}(blob):
    return pickle.loads(blob)
""",
    """

def build_model_{k}():
    tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
    model = AutoModelForCausalLM.from_pretrained(MODEL_ID, trust_remote_code=True)
    return tokenizer, model
""",
    """

def normalise_{k}(values):
    arr = np.asarray(values, dtype=np.float32)
    mean = arr.mean(axis=0)
    std = arr.std(axis=0) + 1e-6
    return (arr - mean) / std
""",
    """

class Batcher{k}:
    def __init__(self, size=32):
        self.size = size
        self.items = []

    def add(self, item):
        self.items.append(item)
        if len(self.items) >= self.size:
            return self.flush()
        return None

    def flush(self):
        batch, self.items = self.items, []
        return json.dumps(batch)
""",
    """

def read_config_{k}(path=os.environ.get("CONFIG", "config.json")):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    for key in ("model", "batch_size", "max_tokens"):
        if key not in data:
            raise KeyError(key)
    return data
""",
]


def _python_module(rng: random.Random, name: str, i: int) -> str:
    parts = [PY_HEADER.format(name=name, i=i)]
    for k in range(rng.randint(8, 20)):
        parts.append(rng.choice(PY_FUNCS).format(k=k))
    return "".join(parts)


def _dockerfile(rng: random.Random, i: int) -> str:
    image = rng.choice(IMAGES)
    pkgs = rng.sample(PACKAGES, 3)
    pins = [
        p if rng.random() < 0.4 else f"{p}=={rng.randint(1, 3)}.{rng.randint(0, 9)}.0" for p in pkgs
    ]
    user = "\nUSER 10001" if rng.random() < 0.5 else ""
    return (
        f"FROM {image} AS base\n"
        "WORKDIR /app\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt && \\\n"
        f"    pip install --no-cache-dir {' '.join(pins)}\n"
        "COPY app/ /app/\n"
        f"ENV MODEL_NAME=model-{i}\n"
        f"EXPOSE 8080{user}\n"
        'CMD ["python", "-m", "app.server"]\n'
    )


def _requirements(rng: random.Random) -> str:
    lines = []
    for p in rng.sample(PACKAGES, 6):
        lines.append(
            p
            if rng.random() < 0.3
            else f"{p}=={rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 5)}"
        )
    return "\n".join(lines) + "\n"


def _manifests(rng: random.Random, i: int) -> str:
    image = rng.choice(IMAGES)
    svc_type = rng.choice(["ClusterIP", "ClusterIP", "LoadBalancer", "NodePort"])
    docs = [
        f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-{i}
  namespace: ml
  labels: {{app: model-{i}}}
spec:
  replicas: {rng.randint(1, 4)}
  selector:
    matchLabels: {{app: model-{i}}}
  template:
    metadata:
      labels: {{app: model-{i}}}
    spec:
      containers:
        - name: server
          image: {image}
          args: ["--port", "8080"]
          ports:
            - {{name: http, containerPort: 8080}}
          env:
            - name: MODEL_ID
              value: org/model-{i}
            - name: HF_TOKEN
              valueFrom: {{secretKeyRef: {{name: hf, key: token}}}}
          resources:
            limits: {{cpu: "2", memory: 8Gi}}
""",
        f"""apiVersion: v1
kind: Service
metadata:
  name: model-{i}
  namespace: ml
spec:
  type: {svc_type}
  selector: {{app: model-{i}}}
  ports:
    - port: 80
      targetPort: http
""",
    ]
    if rng.random() < 0.3:
        docs.append(f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: model-{i}
  namespace: ml
spec:
  rules:
    - host: model-{i}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {{service: {{name: model-{i}, port: {{number: 80}}}}}}
""")
    if rng.random() < 0.3:
        docs.append(f"""apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: isvc-{i}
  namespace: ml
spec:
  predictor:
    model:
      modelFormat: {{name: sklearn}}
      storageUri: gs://models/isvc-{i}/model.joblib
""")
    return "---\n".join(docs)


def _compose(i: int) -> str:
    return f"""services:
  model:
    image: vllm/vllm-openai:v0.6.3
    command: ["--model", "org/model-{i}", "--host", "0.0.0.0"]
    ports:
      - "8000:8000"
    environment:
      HF_TOKEN: ${{HF_TOKEN}}
  redis:
    image: redis:7.2.5
"""


TS_CONFIG = """inference_address=http://0.0.0.0:8080
management_address=http://127.0.0.1:8081
metrics_address=http://127.0.0.1:8082
model_store=/home/model-server/model-store
"""

ENTRYPOINT = """#!/bin/sh
set -eu
pip install --no-cache-dir "gradio==4.44.1"
exec python -m app.server "$@"
"""


def generate(out: Path, services: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    counts: dict[str, int] = {}

    def write(rel: str, content: str | bytes, kind: str) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        counts[kind] = counts.get(kind, 0) + 1

    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    for i in range(services):
        base = f"services/svc-{i:04d}"
        write(f"{base}/Dockerfile", _dockerfile(rng, i), "dockerfile")
        write(f"{base}/requirements.txt", _requirements(rng), "requirements")
        for m in range(rng.randint(2, 4)):
            write(f"{base}/app/module_{m}.py", _python_module(rng, f"module_{m}", i), "python")
        write(f"{base}/app/__init__.py", "", "python")
        write(f"{base}/k8s/manifests.yaml", _manifests(rng, i), "kubernetes")
        if rng.random() < 0.3:
            write(f"{base}/docker-compose.yml", _compose(i), "compose")
        if rng.random() < 0.2:
            write(f"{base}/config.properties", TS_CONFIG, "properties")
        if rng.random() < 0.3:
            write(f"{base}/entrypoint.sh", ENTRYPOINT, "shell")
        # noise a scanner must skip
        write(f"{base}/README.md", f"# Service {i}\n\nServes model-{i}.\n", "noise")
        write(f"{base}/assets/diagram.png", bytes(rng.getrandbits(8) for _ in range(512)), "noise")
        write(
            f"{base}/data/sample.csv",
            "id,value\n" + "".join(f"{k},{rng.random():.4f}\n" for k in range(20)),
            "noise",
        )
        if i % 25 == 0:
            write(f"{base}/node_modules/left-pad/index.js", "module.exports = () => {};\n", "noise")
            write(f"{base}/node_modules/left-pad/config.yaml", "a: 1\n", "noise")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = generate(args.out, args.services, args.seed)
    total = sum(counts.values())
    print(
        f"{total} files in {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )


if __name__ == "__main__":
    main()
