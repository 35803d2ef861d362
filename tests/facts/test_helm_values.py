from __future__ import annotations

from mlsec_lint.analyze import analyze
from mlsec_lint.facts.helm_values import documents, looks_like_values, named_like_values
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.source import Source

VALUES = """\
image:
  registry: docker.io
  repository: pytorch/torchserve
  tag: latest
securityContext:
  runAsUser: 0
hostPID: true
service:
  type: NodePort
  port: 8080
ingress:
  enabled: true
worker:
  image: {repository: rayproject/ray, tag: ""}
  env:
    HF_TOKEN: {valueFrom: {secretKeyRef: {name: hf, key: token}}}
    MODE: fast
"""


def _docs(text: str) -> list[object]:
    return [d.value for d in load_stream(text).docs]


def test_names() -> None:
    for name in ("values.yaml", "values-prod.yaml", "values.gpu.yml", "jupyterhub-values.yaml"):
        assert named_like_values(f"deploy/{name}"), name
    for name in ("deployment.yaml", "valuesfile.txt", "my-values.json", "evaluations.yaml"):
        assert not named_like_values(f"deploy/{name}"), name


def test_content_sniffing() -> None:
    assert looks_like_values(_docs(VALUES), "cfg/prod.yaml")
    assert looks_like_values(_docs("servingEngineSpec: {modelSpec: []}\n"), "stack.yaml")
    assert not looks_like_values(_docs("image: x\nname: y\n"), "cfg/app.yaml")
    assert not looks_like_values(_docs("apiVersion: v1\nkind: Pod\n"), "values.yaml")
    assert not looks_like_values(_docs("a: 1\n---\nb: 2\n"), "values.yaml")


def test_objects_point_at_values_lines() -> None:
    objects, anchors = documents(_docs(VALUES)[0], "deploy/values.yaml")  # type: ignore[arg-type]
    kinds = [o["kind"] for o in objects]
    assert kinds == ["Deployment", "Service", "Ingress", "Deployment"]
    pod = objects[0]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "docker.io/pytorch/torchserve:latest"
    assert container.vspan["image"].line == 4  # the tag a person edits
    assert container["securityContext"].vspan["runAsUser"].line == 6
    assert pod["hostPID"] is True and pod.kspan["hostPID"].line == 7
    assert objects[1]["spec"]["type"] == "NodePort" and objects[1].span.line == 9
    assert objects[2].span.line == 12 and "tls" not in objects[2]["spec"]
    worker = objects[3]["spec"]["template"]["spec"]["containers"][0]
    assert worker["image"] == "rayproject/ray:{{ .Chart.AppVersion }}"  # empty tag: appVersion
    env = {e["name"]: e for e in worker["env"]}
    assert "valueFrom" in env["HF_TOKEN"] and env["MODE"]["value"] == "fast"
    assert len(anchors) == 2


def test_analysis_kind_and_absence_anchors() -> None:
    fa = analyze(Source("values.yaml", VALUES), "yaml")
    assert fa.kind == "helm-values"
    images = [f for f in fa.facts if f.kind == "image"]
    assert next(f.data["image"] for f in images) == "docker.io/pytorch/torchserve:latest"
    assert fa.extra["helm_absence_anchors"]


def test_kuberay_groups_become_a_ray_cluster() -> None:
    text = (
        "image: {repository: rayproject/ray, tag: 2.40.0}\n"
        "head:\n  serviceType: LoadBalancer\n  rayStartParams:\n    dashboard-host: 0.0.0.0\n"
        "worker:\n  rayStartParams: {num-cpus: '4'}\n"
    )
    objects, _ = documents(_docs(text)[0], "ray-values.yaml")  # type: ignore[arg-type]
    clusters = [o for o in objects if o["kind"] == "RayCluster"]
    assert [sorted(o["spec"]) for o in clusters] == [["headGroupSpec"], ["workerGroupSpecs"]]
    head = clusters[0]["spec"]["headGroupSpec"]
    assert head["rayStartParams"]["dashboard-host"] == "0.0.0.0"
    container = head["template"]["spec"]["containers"][0]
    assert container["image"] == "rayproject/ray:2.40.0"  # the top-level image
    fa = analyze(Source("ray-values.yaml", text), "yaml")
    assert any(f.kind == "server" for f in fa.facts)  # rayStartParams read as Ray flags
