"""Real public deployment files (../shared/corpus): no crashes, and the known true positives.

False positives found on the corpus and how they were handled are recorded in
docs/corpus.md.
"""

from __future__ import annotations

import pytest

from mlsec_lint.api import ScanOptions, scan

from .conftest import CORPUS, CORPUS_ABSENT

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=CORPUS_ABSENT)


@pytest.fixture(scope="module")
def result():
    return scan(ScanOptions(paths=["."], base=str(CORPUS))).result


def test_every_corpus_file_is_scanned_without_errors(result) -> None:
    assert result.files_scanned >= 25
    assert [n for n in result.notices if n.level == "error"] == []


@pytest.mark.parametrize(
    ("path", "line", "rule"),
    [
        ("pytorch__serve/docker/config.properties", 2, "MLS-TS-001"),
        ("pytorch__serve/docker/config.properties", 5, "MLS-TS-007"),
        # grpc_inference_address=0.0.0.0 without enable_grpc_ssl
        ("pytorch__serve/docker/config.properties", 4, "MLS-TS-004"),
        ("pytorch__serve/kubernetes/examples/mnist/deployment.yaml", 23, "MLS-TS-007"),
        ("SeldonIO__MLServer/docs/examples/sklearn/settings.json", 2, "MLS-XRT-007"),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-cluster.external-redis.yaml",
            165,
            "MLS-SEC-006",
        ),
        ("pytorch__serve/kubernetes/examples/mnist/service.yaml", 17, "MLS-IMG-002"),
        ("pytorch__serve/kubernetes/examples/mnist/deployment.yaml", 23, "MLS-IMG-001"),
        ("pytorch__serve/requirements/torch_linux.txt", 4, "MLS-DEP-004"),
        ("pytorch__serve/requirements/torch_linux.txt", 2, "MLS-DEP-003"),
        ("ollama__ollama/examples/kubernetes/cpu.yaml", 23, "MLS-IMG-001"),
        ("pytorch__serve/kubernetes/examples/mnist/deployment.yaml", 23, "MLS-TS-001"),
        ("pytorch__serve/kubernetes/examples/mnist/deployment.yaml", 23, "MLS-TS-004"),
        ("pytorch__serve/kubernetes/kserve/config.properties", 8, "MLS-TS-005"),
        (
            "kserve__website/docs/model-serving/generative-inference/multi-node/"
            "download-model-to-pvc.yaml",
            46,
            "MLS-DEP-001",
        ),
        (
            "kserve__website/docs/model-serving/inferencegraph/image-pipeline/config/"
            "config.properties",
            11,
            "MLS-TS-005",
        ),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-service.llm-serve.yaml",
            6,
            "MLS-RAY-003",
        ),
        (
            "kserve__kserve/docs/samples/explanation/aif/germancredit/server/requirements.txt",
            1,
            "MLS-DEP-001",
        ),
        (
            "pytorch__serve/examples/usecases/llm_diffusion_serving_app/docker/requirements.txt",
            1,
            "MLS-DEP-003",
        ),
        (
            "pytorch__serve/examples/usecases/llm_diffusion_serving_app/docker/requirements.txt",
            8,
            "MLS-DEP-001",
        ),
        ("pytorch__serve/kubernetes/examples/mnist/deployment.yaml", 19, "MLS-STO-003"),
        # Helm values files without their chart, read by chart conventions
        ("triton-inference-server__server/deploy/aws/values.yaml", 30, "MLS-IMG-001"),
        ("triton-inference-server__server/deploy/aws/values.yaml", 36, "MLS-IMG-002"),
        (
            "vllm-project__production-stack/deployment_on_cloud/aws/"
            "production_stack_specification.yaml",
            6,
            "MLS-IMG-001",
        ),
        ("kserve__kserve/docs/samples/kafka/s3_secret.yaml", 7, "MLS-KSV-003"),
        ("kserve__kserve/docs/samples/kafka/s3_secret.yaml", 11, "MLS-SEC-004"),
        (
            "kubeflow__manifests/applications/pipeline/upstream/third-party/seaweedfs/base/"
            "seaweedfs/mlpipeline-minio-artifact-secret.yaml",
            10,
            "MLS-SEC-004",
        ),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-job.tpu-v6e-singlehost.yaml",
            7,
            "MLS-RAY-004",
        ),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-job.tpu-v6e-singlehost.yaml",
            45,
            "MLS-K8S-003",
        ),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-cluster.external-redis.yaml",
            1,
            "MLS-RAY-002",
        ),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-cluster.external-redis.yaml",
            100,
            "MLS-SEC-003",
        ),
        (
            "ray-project__kuberay/ray-operator/config/samples/ray-service.llm-serve.yaml",
            36,
            "MLS-RAY-001",
        ),
        (
            "kserve__kserve/docs/samples/llmisvc/opt-125m-cpu/"
            "llm-inference-service-facebook-opt-125m-cpu.yaml",
            1,
            "MLS-KSV-001",
        ),
    ],
)
def test_known_true_positives(result, path: str, line: int, rule: str) -> None:
    # a rule merged into another finding on its line (one finding per cause) counts
    reported = {(f.path, f.line, r) for f in result.findings for r in (f.rule_id, *f.also)}
    assert (path, line, rule) in reported


def test_servers_and_models_found_in_the_corpus(result) -> None:
    """Launches and server configs the corpus contains, and what must stay quiet."""
    found = {(f.path, f.rule_id) for f in result.findings}
    # the image default binds 0.0.0.0, but the Service is ClusterIP: not reported
    assert ("ollama__ollama/examples/kubernetes/cpu.yaml", "MLS-LLM-003") not in found
    # a TorchServe config bound to 127.0.0.1 is clean
    diffusion = (
        "pytorch__serve/examples/usecases/llm_diffusion_serving_app/docker/config.properties"
    )
    assert not any(path == diffusion for path, _ in found)


def test_kubernetes_false_positives_stay_fixed(result) -> None:
    got = {(f.path, f.rule_id) for f in result.findings}
    # cluster-scoped runtimes do not borrow the default ServiceAccount of another file
    assert not any(
        f.rule_id == "MLS-SEC-004" and "ClusterServingRuntime" in f.message for f in result.findings
    )
    # the kserve-vllmserver runtime's emptyDir /dev/shm is not a hostPath cache
    assert ("kserve__kserve/config/runtimes/kserve-vllmserver.yaml", "MLS-STO-003") not in got
    # placeholder credentials in samples are ignored
    assert ("kserve__kserve/docs/samples/fluid/s3creds.yaml", "MLS-SEC-005") not in got
    assert (
        "ray-project__kuberay/ray-operator/config/samples/ray-service.llm-serve.yaml",
        "MLS-SEC-005",
    ) not in got


def test_positions_are_real(result) -> None:
    for f in result.findings:
        assert f.line >= 1 and f.column >= 1 and f.source_line.strip(), f


def test_fully_pinned_requirements_are_clean_and_only_lack_hashes(result) -> None:
    path = "huggingface__text-generation-inference/server/requirements_cuda.txt"
    assert [f for f in result.findings if f.path == path] == []
    hashes = scan(ScanOptions(paths=[path], base=str(CORPUS), select=["MLS-DEP-002"])).result
    assert [(f.path, f.line) for f in hashes.findings] == [(path, 3)]
