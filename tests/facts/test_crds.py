"""ML custom resources -> container, image, env and model-source facts."""

from __future__ import annotations

from mlsec_lint.facts import Fact
from mlsec_lint.facts.crds import parse_model_uri
from mlsec_lint.facts.kubernetes import extract
from mlsec_lint.parsers.yamldoc import load_stream
from mlsec_lint.tree import get, to_plain


def facts_of(text: str) -> list[Fact]:
    return extract([d.value for d in load_stream(text).docs], "m.yaml")


def of_kind(facts: list[Fact], kind: str) -> list[Fact]:
    return [f for f in facts if f.kind == kind]


ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: iris
  namespace: ml
  labels: {team: a}
  annotations: {mlsec-lint.io/ignore: "x"}
spec:
  predictor:
    serviceAccountName: sa-s3
    model:
      modelFormat: {name: sklearn}
      runtime: kserve-sklearnserver
      storageUri: s3://models/iris/model.joblib
      env:
        - {name: HF_TOKEN, value: abc}
    containers:
      - name: sidecar
        image: envoyproxy/envoy:v1.30.1
  transformer:
    containers:
      - name: kserve-container
        image: acme/transformer:1.0
        env:
          - {name: STORAGE_URI, value: "http://minio.ml:9000/t/model.pkl"}
  explainer:
    alibi:
      type: AnchorTabular
      storageUri: gs://bucket/explainer
"""


def test_inference_service_components_and_shorthand() -> None:
    facts = facts_of(ISVC)
    containers = {f.key: f for f in of_kind(facts, "container")}
    assert sorted(containers) == [
        "InferenceService/ml/iris/explainer/kserve-container",
        "InferenceService/ml/iris/predictor/kserve-container",
        "InferenceService/ml/iris/predictor/sidecar",
        "InferenceService/ml/iris/transformer/kserve-container",
    ]
    model = containers["InferenceService/ml/iris/predictor/kserve-container"]
    # the shorthand container starts at its key, where absence findings point
    assert model.anchor.line == 11
    assert model.data["component"] == "predictor" and model.data["model_server"] is True
    assert model.data["pod"]["serviceAccountName"] == "sa-s3"
    assert model.data["pod"]["labels"] == {
        "team": "a",
        "serving.kserve.io/inferenceservice": "iris",
        "component": "predictor",
    }
    assert to_plain(model.data["exposure_hints"]) == [{"via": "InferenceService", "name": "iris"}]
    # a sidecar next to the model container is not a model server
    sidecar = containers["InferenceService/ml/iris/predictor/sidecar"]
    assert (model.data["primary"], sidecar.data["primary"]) == (True, False)
    assert (sidecar.data["ml"], sidecar.data["model_server"]) == (False, False)
    # every fact of the object carries the object's annotations (suppressions)
    assert all(f.annotations == {"mlsec-lint.io/ignore": "x"} for f in facts)
    envs = of_kind(facts, "env")
    assert [(e.data["name"], e.anchor.line) for e in envs][:1] == [("HF_TOKEN", 16)]


def test_inference_service_model_sources() -> None:
    facts = facts_of(ISVC)
    sources = {(f.data["via"], f.data["component"]): f for f in of_kind(facts, "model-source")}
    assert len(sources) == 3
    s3 = sources[("kserve-storageUri", "predictor")]
    assert (s3.data["scheme"], s3.data["format"], s3.data["model_format"]) == (
        "s3",
        "pickle",
        "sklearn",
    )
    assert s3.data["runtime"] == "kserve-sklearnserver" and s3.anchor.line == 14
    # the model source shares the context of the container that loads it
    model = next(f for f in of_kind(facts, "container") if f.anchor.line == 11)
    assert s3.data["context"] is model.data["context"]
    env = sources[("kserve-env", "transformer")]
    assert (env.data["scheme"], env.data["component"], env.anchor.line) == (
        "http",
        "transformer",
        25,
    )
    explainer = sources[("kserve-storageUri", "explainer")]
    assert (explainer.data["scheme"], explainer.data["model_format"]) == ("gs", "alibi")


def test_kserve_container_customizes_the_shorthand_container() -> None:
    text = ISVC.replace(
        "      - name: sidecar\n        image: envoyproxy/envoy:v1.30.1",
        "      - name: kserve-container\n        securityContext: {privileged: true}",
    )
    containers = [
        f for f in of_kind(facts_of(text), "container") if f.data["component"] == "predictor"
    ]
    (model,) = containers
    assert model.anchor.line == 11 and model.data["securityContext"] == {"privileged": True}
    assert model.data["securityContext"].span.line == 19
    assert model.data["storageUri"] == "s3://models/iris/model.joblib"


def test_modelmesh_inference_service_has_no_route_of_its_own() -> None:
    text = ISVC.replace(
        'annotations: {mlsec-lint.io/ignore: "x"}',
        "annotations: {serving.kserve.io/deploymentMode: ModelMesh}",
    )
    model = next(f for f in of_kind(facts_of(text), "container") if f.anchor.line == 11)
    assert model.data["exposure_hints"] == []


def test_cluster_local_inference_service_has_no_route() -> None:
    text = ISVC.replace(
        "labels: {team: a}", "labels: {networking.kserve.io/visibility: cluster-local}"
    )
    model = next(f for f in of_kind(facts_of(text), "container") if f.anchor.line == 11)
    assert model.data["exposure_hints"] == []


def test_serving_runtimes_and_storage_containers() -> None:
    facts = facts_of(
        """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterServingRuntime
metadata: {name: vllm}
spec:
  containers:
    - name: kserve-container
      image: vllm/vllm-openai:latest
      args: ["--port=8080"]
---
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata: {name: default}
spec:
  container:
    image: kserve/storage-initializer:latest
  supportedUriFormats: [{prefix: "gs://"}]
"""
    )
    containers = of_kind(facts, "container")
    assert [(c.data["name"], c.data["component"], c.anchor.line) for c in containers] == [
        ("kserve-container", "runtime", 6),
        ("storage-initializer", "storage-initializer", 14),
    ]
    images = of_kind(facts, "image")
    assert [(i.data["image"], i.data["ml"], i.data["crd"]) for i in images] == [
        ("vllm/vllm-openai:latest", True, "ClusterServingRuntime"),
        ("kserve/storage-initializer:latest", True, "ClusterStorageContainer"),
    ]


def test_llm_inference_service() -> None:
    facts = facts_of(
        """\
apiVersion: serving.kserve.io/v1alpha1
kind: LLMInferenceService
metadata: {name: opt}
spec:
  model: {uri: "hf://facebook/opt-125m:0123456789abcdef0123456789abcdef01234567"}
  router: {route: {}, gateway: {}}
  template:
    containers: [{name: main, image: vllm/vllm-openai:v0.11.0}]
  prefill:
    template:
      containers: [{name: main, image: vllm/vllm-openai:v0.11.0}]
"""
    )
    containers = of_kind(facts, "container")
    assert [c.data["component"] for c in containers] == ["main", "prefill"]
    assert containers[0].data["exposure_hints"][0]["via"] == "LLMInferenceService"
    (src,) = of_kind(facts, "model-source")
    assert (src.data["hub_id"], src.data["revision_pinned"]) == ("facebook/opt-125m", True)
    assert src.data["context"] is containers[0].data["context"]


SELDON = """\
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: income, namespace: seldon}
spec:
  oauth_key: k
  predictors:
    - name: default
      componentSpecs:
        - metadata: {labels: {tier: model}}
          spec:
            containers:
              - name: classifier
                image: seldonio/sklearnserver:1.18.0
      graph:
        name: classifier
        implementation: SKLEARN_SERVER
        modelUri: http://models.example.com/income
        logger: {url: "http://logs.example.com/", mode: all}
        children:
          - name: outlier
            implementation: TRITON_SERVER
            modelUri: gs://seldon-models/outlier
      explainer:
        type: AnchorTabular
        modelUri: gs://seldon-models/explainer
        containerSpec:
          image: seldonio/alibiexplainer:1.18.0
"""


def test_seldon_deployment() -> None:
    facts = facts_of(SELDON)
    containers = of_kind(facts, "container")
    assert [(c.data["name"], c.data["component"]) for c in containers] == [
        ("classifier", "predictor"),
        ("explainer", "explainer"),
    ]
    assert containers[0].data["pod"]["labels"] == {
        "tier": "model",
        "seldon-deployment-id": "income",
    }
    sources = of_kind(facts, "model-source")
    assert [
        (s.data["uri"], s.data["via"], s.data.get("format"), s.anchor.line) for s in sources
    ] == [
        ("http://models.example.com/income", "seldon-modelUri", "pickle", 17),
        ("gs://seldon-models/outlier", "seldon-modelUri", None, 22),
        ("gs://seldon-models/explainer", "seldon-modelUri", None, 25),
    ]
    assert sources[0].data["context"] is containers[0].data["context"]
    (obj,) = of_kind(facts, "k8s-object")
    assert to_plain(obj.data["loggers"]) == [
        {"url": "http://logs.example.com/", "mode": "all", "component": "classifier"}
    ]
    assert obj.data["loggers"][0].vspan["url"].line == 18


def test_seldon_v2_server_and_model() -> None:
    facts = facts_of(
        """\
apiVersion: mlops.seldon.io/v1alpha1
kind: ServerConfig
metadata: {name: mlserver}
spec:
  podSpec:
    containers:
      - name: rclone
        image: seldonio/seldon-rclone:2.8.0
        args: [rcd, --rc-no-auth, "--rc-addr=0.0.0.0:5572"]
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata: {name: iris}
spec:
  storageUri: "gs://seldon-models/iris"
  requirements: [sklearn]
---
apiVersion: v1
kind: Server
metadata: {name: not-seldon}
"""
    )
    (c,) = of_kind(facts, "container")
    assert c.data["component"] == "server" and c.data["args"][0] == "rcd"
    (src,) = of_kind(facts, "model-source")
    assert src.data["via"] == "seldon-storageUri" and src.data["scheme"] == "gs"


RAY = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: rc}
spec:
  rayVersion: "2.46.0"
  headGroupSpec:
    serviceType: NodePort
    rayStartParams:
      dashboard-host: 0.0.0.0
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.46.0
          - name: sidecar
            image: busybox:1.36.1
  workerGroupSpecs:
    - groupName: gpu
      rayStartParams: {num-gpus: "1"}
      template:
        metadata: {labels: {pool: gpu}}
        spec:
          containers:
            - name: ray-worker
              image: rayproject/ray:2.46.0
              env: [{name: RAY_AUTH_MODE, value: token}]
"""


def test_kuberay_groups_launch_params_and_labels() -> None:
    facts = facts_of(RAY)
    head, sidecar, worker = of_kind(facts, "container")
    assert head.key == "RayCluster//rc/head/headgroup/ray-head"
    assert to_plain(head.data["launch_params"]) == {"dashboard-host": "0.0.0.0"}
    # positions of the map are kept: rules can point at a flag
    assert head.data["launch_params"].vspan["dashboard-host"].line == 9
    assert "launch_params" not in sidecar.data  # only the Ray container gets the map
    assert head.data["pod"]["labels"]["ray.io/node-type"] == "head"
    assert worker.data["pod"]["labels"] == {
        "pool": "gpu",
        "ray.io/is-ray-node": "yes",
        "ray.io/cluster": "rc",
        "ray.io/node-type": "worker",
        "ray.io/group": "gpu",
    }
    assert to_plain(worker.data["launch_params"]) == {"num-gpus": "1"}
    assert to_plain(head.data["exposure_hints"]) == [
        {"via": "Service/NodePort", "name": "rc-head-svc"}
    ]
    (obj,) = of_kind(facts, "k8s-object")
    ray = to_plain(obj.data["ray"])
    assert ray == {"version": "2.46.0", "token_env": False, "auth_disabled_env": False}


def test_ray_service_and_job_cluster_specs() -> None:
    service = RAY.replace("kind: RayCluster", "kind: RayService").replace(
        "spec:\n  rayVersion",
        "spec:\n  serveConfigV2: 'applications: []'\n  rayClusterConfig:\n    rayVersion",
    )
    # re-indent the cluster spec under rayClusterConfig
    lines = service.split("\n")
    head = lines.index("  rayClusterConfig:")
    service = "\n".join(lines[: head + 2] + ["  " + ln if ln else ln for ln in lines[head + 2 :]])
    facts = facts_of(service)
    assert [c.data["component"] for c in of_kind(facts, "container")] == ["head", "head", "worker"]
    (obj,) = of_kind(facts, "k8s-object")
    assert get(obj.data, "ray.version") == "2.46.0"
    job = facts_of(
        """\
apiVersion: ray.io/v1
kind: RayJob
metadata: {name: j}
spec:
  entrypoint: python x.py
  rayClusterSpec:
    headGroupSpec:
      template:
        spec:
          containers: [{name: head, image: "rayproject/ray:2.52.1-py311"}]
  submitterPodTemplate:
    spec:
      containers: [{name: submit, image: "rayproject/ray:2.52.1-py311"}]
"""
    )
    assert [c.data["component"] for c in of_kind(job, "container")] == ["head", "submitter"]
    (obj,) = of_kind(job, "k8s-object")
    assert obj.data["ray"]["version"] == "2.52.1"  # from the head image tag


def test_knative_service_and_core_service_are_told_apart() -> None:
    facts = facts_of(
        """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: llm
  labels: {networking.knative.dev/visibility: cluster-local}
spec:
  template:
    spec:
      containers: [{image: "ghcr.io/huggingface/text-generation-inference:2.4.1"}]
---
apiVersion: v1
kind: Service
metadata: {name: plain}
spec:
  ports: [{port: 80}]
"""
    )
    (c,) = of_kind(facts, "container")
    assert c.data["pod"]["labels"] == {"serving.knative.dev/service": "llm"}
    assert c.data["model_server"] is True and c.data["exposure_hints"] == []


def test_model_uri_parsing() -> None:
    assert parse_model_uri("hf://org/model:main") == {
        "scheme": "hf",
        "hub_id": "org/model",
        "revision": "main",
        "revision_pinned": False,
    }
    assert parse_model_uri("oci://reg.io/models/llm@sha256:" + "a" * 64)["digest"] == (
        "sha256:" + "a" * 64
    )
    assert parse_model_uri("pvc://model-cache/llama")["claim"] == "model-cache"
    assert parse_model_uri("/mnt/models")["scheme"] == "file"
    assert parse_model_uri("meta-llama/Llama-3.1-8B")["scheme"] == "hub"
    assert parse_model_uri("webhdfs://nn:9870/m")["scheme"] == "webhdfs"
