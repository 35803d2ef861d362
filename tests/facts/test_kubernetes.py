from __future__ import annotations

from mlsec_lint.facts.kubernetes import extract
from mlsec_lint.parsers.yamldoc import load_stream

MANIFEST = """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: retrain, namespace: ml}
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          labels: {app: retrain}
        spec:
          initContainers:
            - name: fetch
              image: busybox:1.36.1
          containers:
            - name: train
              image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
              env:
                - {name: HF_TOKEN, valueFrom: {secretKeyRef: {name: hf, key: token}}}
                - {name: MODE, value: "1"}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers: [{name: c, image: nginx}]
"""


def test_workloads_containers_images_env() -> None:
    docs = [d.value for d in load_stream(MANIFEST).docs]
    facts = extract(docs, "m.yaml")
    kinds = [f.kind for f in facts]
    assert kinds.count("k8s-object") == 2 and kinds.count("container") == 3
    train = next(f for f in facts if f.kind == "container" and f.data["name"] == "train")
    assert train.key == "CronJob/ml/retrain/train"
    assert train.data["pod"]["labels"] == {"app": "retrain"}
    assert train.data["workload"]["kind"] == "CronJob"
    fetch = next(f for f in facts if f.kind == "container" and f.data["name"] == "fetch")
    assert fetch.data["init"] is True
    envs = {f.data["name"]: f.data["literal"] for f in facts if f.kind == "env"}
    assert envs == {"HF_TOKEN": False, "MODE": True}
    images = [f for f in facts if f.kind == "image"]
    assert sorted(i.anchor.line for i in images) == [13, 16, 28]
