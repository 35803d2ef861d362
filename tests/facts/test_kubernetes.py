from __future__ import annotations

from mlsec_lint.facts.kubernetes import extract
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.tree import UNKNOWN

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


POD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
  annotations: {owner: ml}
spec:
  template:
    metadata:
      labels: {app: llm}
    spec:
      volumes:
        - name: cache
          hostPath: {path: /var/lib/hf}
        - name: shm
          emptyDir: {medium: Memory}
        - name: weights
          persistentVolumeClaim: {claimName: weights}
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          volumeMounts:
            - {name: cache, mountPath: /root/.cache/huggingface}
            - {name: shm, mountPath: /dev/shm}
            - {name: weights, mountPath: /models, readOnly: true}
        - name: proxy
          image: nginx:1.27.0
"""


def test_mounts_are_joined_with_volumes() -> None:
    facts = extract([d.value for d in load_stream(POD).docs], "m.yaml")
    vllm, proxy = (f for f in facts if f.kind == "container")
    mounts = vllm.data["mounts"]
    assert [(m["mountPath"], m["type"]) for m in mounts] == [
        ("/root/.cache/huggingface", "hostPath"),
        ("/dev/shm", "emptyDir"),
        ("/models", "persistentVolumeClaim"),
    ]
    assert mounts[0]["host_path"] == "/var/lib/hf" and mounts[0].vspan["host_path"].line == 13
    assert (mounts[1]["medium"], mounts[2]["claim"], mounts[2]["readOnly"]) == (
        "Memory",
        "weights",
        True,
    )
    assert mounts.item_span(0).line == 22
    assert (vllm.data["primary"], proxy.data["primary"]) == (True, False)
    assert (vllm.data["model_server"], vllm.data["ml"], proxy.data["ml"]) == (True, True, False)
    assert vllm.data["image_info"]["server"] == "vllm"
    assert all(f.annotations == {"owner": "ml"} for f in facts)


def test_configmap_and_secret_entries() -> None:
    text = """\
apiVersion: v1
kind: Secret
metadata: {name: s3, annotations: {serving.kserve.io/s3-usehttps: "0"}}
type: Opaque
data:
  AWS_SECRET_ACCESS_KEY: bWluaW8xMjM=
  blob: //79/A==
stringData:
  token: plain
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data:
  enabled: true
  rclone.conf: |
    [s3]
    secret_access_key = abc
"""
    facts = extract([d.value for d in load_stream(text).docs], "m.yaml")
    entries = [f for f in facts if f.kind == "config-entry"]
    got = [(e.data["kind"], e.data["key"], e.data["value"], e.data["encoded"]) for e in entries]
    assert got[0] == ("Secret", "AWS_SECRET_ACCESS_KEY", "minio123", True)
    assert got[1][:2] == ("Secret", "blob") and got[1][2] is UNKNOWN  # not text
    assert got[2] == ("Secret", "token", "plain", False)
    assert got[3] == ("ConfigMap", "enabled", "true", False)
    assert got[4][1] == "rclone.conf" and "secret_access_key" in got[4][2]
    assert [e.anchor.line for e in entries] == [6, 7, 9, 15, 16]
    assert entries[0].annotations == {"serving.kserve.io/s3-usehttps": "0"}


def test_crd_reusing_a_core_kind_name_is_not_a_core_workload() -> None:
    text = """\
apiVersion: example.com/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      containers: [{name: c, image: nginx}]
"""
    facts = extract([d.value for d in load_stream(text).docs], "m.yaml")
    assert [f.kind for f in facts] == ["k8s-object"]
