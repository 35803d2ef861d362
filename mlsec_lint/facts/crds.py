"""ML custom resources: where their pods, containers and models are declared.

Each supported kind has a walker that turns the object into
:class:`~mlsec_lint.facts.k8sobjects.PodUnit` records (so its containers become ordinary
``container`` facts), and the model locations it declares into ``model-source`` facts.

=============================================  ============================================
kind (API group)                               pods and containers
=============================================  ============================================
InferenceService (serving.kserve.io)           ``spec.{predictor,transformer,explainer}``
                                               (inline pod fields and ``containers``), the
                                               predictor shorthand ``model`` / ``sklearn`` …
ServingRuntime, ClusterServingRuntime          ``spec`` (``containers``), ``spec.workerSpec``
ClusterStorageContainer                        ``spec.container``
LLMInferenceService(Config)                    ``spec.template``, ``spec.worker``,
                                               ``spec.prefill.{template,worker}``
SeldonDeployment (machinelearning.seldon.io)   ``spec.predictors[*].componentSpecs[*].spec``,
                                               ``explainer.containerSpec``
Server, ServerConfig (mlops.seldon.io)         ``spec.podSpec``
RayCluster, RayService, RayJob (ray.io)        head and worker group templates,
                                               ``rayStartParams``, RayJob submitter
Service, Configuration (serving.knative.dev)   ``spec.template.spec``
Notebook (kubeflow.org)                        ``spec.template.spec``
PyTorchJob, TFJob, MPIJob … (kubeflow.org)     ``spec.<type>ReplicaSpecs.*.template.spec``
Experiment (kubeflow.org, Katib)               ``spec.trialTemplate.trialSpec`` (a Job or a
                                               training-operator job)
Model (kubeai.org)                             the operator's server container, built from
                                               ``spec.engine``/``url``/``args``/``env``
=============================================  ============================================

Labels that the controllers add to the pods they create (``ray.io/node-type``,
``serving.kserve.io/inferenceservice`` …) are added to ``pod.labels`` so that Services,
NetworkPolicies and mesh policies written against them resolve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.engine.classifiers import is_commit_sha, is_hub_id
from mlsec_lint.facts import Fact, copy_field, kubeai
from mlsec_lint.facts.k8sobjects import (
    CONTAINER_LISTS,
    PodUnit,
    annotations_of,
    api_group,
    meta_of,
    object_key,
)
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList, resolve

KSERVE = "serving.kserve.io"
SELDON_V1 = "machinelearning.seldon.io"
SELDON_V2 = "mlops.seldon.io"
RAY = "ray.io"
KNATIVE = "serving.knative.dev"

RAY_SPEC = {
    "RayCluster": "spec",
    "RayService": "spec.rayClusterConfig",
    "RayJob": "spec.rayClusterSpec",
}
EXPOSED_SERVICE_TYPES = ("LoadBalancer", "NodePort")


def _table() -> dict[str, Any]:
    data: dict[str, Any] = knowledge.table("kubernetes")
    return data


def _pd(value: Any) -> PDict | None:
    return value if isinstance(value, PDict) else None


def _name(obj: PDict) -> tuple[str, Span]:
    meta = meta_of(obj)
    return str(meta.get("name") or ""), meta.vspan.get("name", obj.span)


def _hint(span: Span, **fields: Any) -> PDict:
    d = PDict(span)
    for k, v in fields.items():
        if v is not None:
            d.put(k, v, span, span)
    return d


def _cluster_local(obj: PDict) -> bool:
    labels: dict[Any, Any] = _pd(meta_of(obj).get("labels")) or {}
    return any(
        str(labels.get(k, "")).lower() == "cluster-local" for k in _table()["cluster_local_labels"]
    )


def _lists(pod: PDict) -> list[tuple[PDict, bool]]:
    out: list[tuple[PDict, bool]] = []
    for key, init in CONTAINER_LISTS:
        items = pod.get(key)
        if isinstance(items, PList):
            out.extend((c, init) for c in items if isinstance(c, PDict))
    return out


def shorthand_span(key_span: Span, mapping: PDict) -> Span:
    """A container given as ``key: {…}`` starts at its key (where absences point)."""
    return Span(key_span.line, key_span.col, mapping.span.end_line, mapping.span.end_col)


def _with_name(mapping: PDict, name: str, key_span: Span) -> PDict:
    """A copy of a container-like mapping (KServe shorthand, ``spec.container``) with a
    ``name`` and a span that starts at the key that holds it."""
    copy = PDict(shorthand_span(key_span, mapping))
    if not isinstance(mapping.get("name"), str):
        copy.put("name", name, key_span, key_span)
    for k, v in mapping.items():
        copy.put(k, v, mapping.kspan.get(k), mapping.vspan.get(k))
    return copy


# ------------------------------------------------------------------ KServe


def _inference_service(obj: PDict) -> Iterator[PodUnit]:
    spec = _pd(obj.get("spec"))
    if spec is None:
        return
    name, nspan = _name(obj)
    isvc_labels = _pd(meta_of(obj).get("labels"))
    ann: dict[Any, Any] = annotations_of(obj) or {}
    modelmesh = str(ann.get("serving.kserve.io/deploymentMode", "")).lower() == "modelmesh"
    routed = not _cluster_local(obj) and not modelmesh
    hints = [_hint(nspan, via="InferenceService", name=name)] if routed else []
    shorthand = {
        "predictor": _table()["kserve_frameworks"],
        "explainer": _table()["kserve_explainers"],
        "transformer": [],
    }
    for component, keys in shorthand.items():
        comp = _pd(spec.get(component))
        if comp is None:
            continue
        # the shorthand mapping is the model container: first, before any sidecar; an
        # explicit container named kserve-container customizes it (KServe merges them)
        containers = [
            (_with_name(fw, "kserve-container", comp.kspan.get(key, fw.span)), False)
            for key in keys
            if (fw := _pd(comp.get(key))) is not None
        ]
        for c, init in _lists(comp):
            if containers and not init and c.get("name") == "kserve-container":
                merged = containers[0][0]
                for k, v in c.items():
                    merged.put(k, v, c.kspan.get(k), c.vspan.get(k))
            else:
                containers.append((c, init))
        labels = (
            [(str(k), str(v), isvc_labels.kspan.get(k, nspan)) for k, v in isvc_labels.items()]
            if isvc_labels is not None
            else []
        )
        labels += [
            ("serving.kserve.io/inferenceservice", name, nspan),
            ("component", component, spec.kspan.get(component, nspan)),
        ]
        yield PodUnit(
            comp,
            None,
            component=component,
            containers=containers,
            labels=labels,
            annotations=annotations_of(obj),
            ml=True,
            model_server=True,
            hints=list(hints),
            runtime_argv=_default_runtime(comp, keys),
        )


def _default_runtime(comp: PDict, keys: list[str]) -> PList | None:
    """What KServe runs for a predictor shorthand that names no image, command or custom
    runtime: its default runtime's command, pointing at the shorthand key."""
    for key in keys:
        fw = _pd(comp.get(key))
        if fw is None:
            continue
        if fw.get("image") or fw.get("command") or fw.get("runtime"):
            return None
        fmt = fw.get("modelFormat")
        name = fmt.get("name") if key == "model" and isinstance(fmt, PDict) else key
        argv = _table().get("kserve_runtimes", {}).get(str(name).lower())
        if not argv:
            return None
        span = comp.kspan.get(key, fw.span)
        out = PList(span)
        for word in argv:
            out.push(str(word), span)
        return out
    return None


def _serving_runtime(obj: PDict) -> Iterator[PodUnit]:
    spec = _pd(obj.get("spec"))
    if spec is None:
        return
    yield PodUnit(spec, None, component="runtime", ml=True, model_server=True)
    worker = _pd(spec.get("workerSpec"))
    if worker is not None:
        yield PodUnit(worker, None, component="runtime-worker", ml=True, model_server=True)


def _storage_container(obj: PDict) -> Iterator[PodUnit]:
    spec = _pd(obj.get("spec"))
    container = _pd(spec.get("container")) if spec is not None else None
    if spec is None or container is None:
        return
    named = _with_name(container, "storage-initializer", spec.kspan.get("container", spec.span))
    yield PodUnit(spec, None, component="storage-initializer", containers=[(named, False)], ml=True)


def _llm_inference_service(obj: PDict) -> Iterator[PodUnit]:
    spec = _pd(obj.get("spec"))
    if spec is None:
        return
    name, _ = _name(obj)
    router = _pd(spec.get("router"))
    hints = []
    if obj.get("kind") == "LLMInferenceService" and router is not None and "route" in router:
        hints.append(_hint(router.field_span("route"), via="LLMInferenceService", name=name))
    places = [("template", spec, "main"), ("worker", spec, "worker")]
    prefill = _pd(spec.get("prefill"))
    if prefill is not None:
        places += [("template", prefill, "prefill"), ("worker", prefill, "prefill-worker")]
    for key, parent, component in places:
        pod = _pd(parent.get(key))
        if pod is not None:
            yield PodUnit(
                pod,
                None,
                component=component,
                annotations=annotations_of(obj),
                ml=True,
                model_server=True,
                hints=list(hints),
            )


# ------------------------------------------------------------------ Seldon


def _seldon_deployment(obj: PDict) -> Iterator[PodUnit]:
    name, nspan = _name(obj)
    for hit in resolve(obj, "spec.predictors[*]"):
        pred = _pd(hit.value)
        if pred is None:
            continue
        group = str(pred.get("name") or "") or None
        for cs_hit in resolve(pred, "componentSpecs[*]"):
            cs = _pd(cs_hit.value)
            pod = _pd(cs.get("spec")) if cs is not None else None
            if cs is None or pod is None:
                continue
            meta = _pd(cs.get("metadata"))
            yield PodUnit(
                pod,
                meta,
                component="predictor",
                group=group,
                labels=[("seldon-deployment-id", name, nspan)],
                ml=True,
                model_server=True,
                every_container=True,
            )
        explainer = _pd(pred.get("explainer"))
        container = _pd(explainer.get("containerSpec")) if explainer is not None else None
        if explainer is not None and container is not None:
            named = _with_name(container, "explainer", explainer.kspan.get("containerSpec", nspan))
            yield PodUnit(
                explainer,
                None,
                component="explainer",
                group=group,
                containers=[(named, False)],
                labels=[("seldon-deployment-id", name, nspan)],
                ml=True,
                model_server=True,
            )


def _seldon_server(obj: PDict) -> Iterator[PodUnit]:
    spec = _pd(obj.get("spec"))
    pod = _pd(spec.get("podSpec")) if spec is not None else None
    if pod is not None:
        yield PodUnit(
            pod, None, component="server", ml=True, model_server=True, every_container=True
        )


def _graph_nodes(node: Any, depth: int = 0) -> Iterator[PDict]:
    """A SeldonDeployment inference graph, depth first (children are nested)."""
    if not isinstance(node, PDict) or depth > 50:
        return
    yield node
    children = node.get("children")
    if isinstance(children, PList):
        for child in children:
            yield from _graph_nodes(child, depth + 1)


# ------------------------------------------------------------------ KubeRay


def _ray_cluster_spec(obj: PDict) -> PDict | None:
    path = RAY_SPEC.get(str(obj.get("kind")))
    hits = resolve(obj, path) if path else []
    return hits[0].value if hits and isinstance(hits[0].value, PDict) else None


def _template(group: PDict) -> tuple[PDict | None, PDict | None]:
    tpl = _pd(group.get("template"))
    if tpl is None:
        return None, None
    return _pd(tpl.get("spec")), _pd(tpl.get("metadata"))


def _ray(obj: PDict) -> Iterator[PodUnit]:
    kind = str(obj.get("kind"))
    cluster = _ray_cluster_spec(obj)
    name, nspan = _name(obj)
    common = [("ray.io/is-ray-node", "yes", nspan)]
    if kind == "RayCluster":
        common.append(("ray.io/cluster", name, nspan))
    if cluster is not None:
        head = _pd(cluster.get("headGroupSpec"))
        if head is not None:
            pod, meta = _template(head)
            if pod is not None:
                hints = []
                stype = head.get("serviceType")
                if stype in EXPOSED_SERVICE_TYPES:
                    hints.append(
                        _hint(
                            head.field_span("serviceType"),
                            via=f"Service/{stype}",
                            name=f"{name}-head-svc",
                        )
                    )
                if head.get("enableIngress") is True:
                    hints.append(
                        _hint(
                            head.field_span("enableIngress"),
                            via="Ingress",
                            name=f"{name}-head-ingress",
                            port=8265,
                            tls=False,
                        )
                    )
                yield PodUnit(
                    pod,
                    meta,
                    component="head",
                    group="headgroup",
                    labels=[
                        *common,
                        ("ray.io/node-type", "head", cluster.kspan.get("headGroupSpec", nspan)),
                        ("ray.io/group", "headgroup", cluster.kspan.get("headGroupSpec", nspan)),
                    ],
                    launch_params=_pd(head.get("rayStartParams")),
                    ml=True,
                    model_server=True,
                    hints=hints,
                )
        for hit in resolve(cluster, "workerGroupSpecs[*]"):
            group = _pd(hit.value)
            if group is None:
                continue
            pod, meta = _template(group)
            if pod is None:
                continue
            gname = str(group.get("groupName") or "workers")
            yield PodUnit(
                pod,
                meta,
                component="worker",
                group=gname,
                labels=[
                    *common,
                    ("ray.io/node-type", "worker", hit.span),
                    ("ray.io/group", gname, group.vspan.get("groupName", hit.span)),
                ],
                launch_params=_pd(group.get("rayStartParams")),
                ml=True,
                model_server=kind == "RayService",
            )
    if kind == "RayJob":
        for hit in resolve(obj, "spec.submitterPodTemplate"):
            submitter = _pd(hit.value)
            pod = _pd(submitter.get("spec")) if submitter is not None else None
            if submitter is not None and pod is not None:
                yield PodUnit(pod, _pd(submitter.get("metadata")), component="submitter", ml=True)


# ------------------------------------------------------------------ Knative


def _knative(obj: PDict) -> Iterator[PodUnit]:
    tpl = resolve(obj, "spec.template")
    template = _pd(tpl[0].value) if tpl else None
    if template is None or _pd(template.get("spec")) is None:
        return
    name, nspan = _name(obj)
    hints = []
    if obj.get("kind") == "Service" and not _cluster_local(obj):
        hints.append(_hint(nspan, via="KnativeService", name=name))
    yield PodUnit(
        template["spec"],
        _pd(template.get("metadata")),
        component="revision",
        labels=[("serving.knative.dev/service", name, nspan)]
        if obj.get("kind") == "Service"
        else [],
        hints=hints,
    )


KUBEFLOW = "kubeflow.org"
JOBSET = "jobset.x-k8s.io"
TRAINING_REPLICAS = {
    "PyTorchJob": "pytorchReplicaSpecs",
    "TFJob": "tfReplicaSpecs",
    "MPIJob": "mpiReplicaSpecs",
    "XGBoostJob": "xgbReplicaSpecs",
    "PaddleJob": "paddleReplicaSpecs",
    "JAXJob": "jaxReplicaSpecs",
    "MXJob": "mxReplicaSpecs",
}
"""Kubeflow training jobs: kind -> the map of replica type -> ``{template: pod}``."""


def _training_job(obj: PDict) -> Iterator[PodUnit]:
    """Kubeflow training jobs: one pod template per replica type (Master, Worker …)."""
    specs = _pd(_pd(obj.get("spec")) and obj["spec"].get(TRAINING_REPLICAS[str(obj["kind"])]))
    for role, replica in (specs or {}).items():
        pod, meta = _template(replica) if isinstance(replica, PDict) else (None, None)
        if pod is not None:
            yield PodUnit(pod, meta, component=str(role), ml=True)


def _notebook(obj: PDict) -> Iterator[PodUnit]:
    """Kubeflow Notebook: ``spec.template.spec`` runs the notebook server."""
    spec = _pd(obj.get("spec"))
    pod, meta = _template(spec) if spec is not None else (None, None)
    if pod is not None:
        yield PodUnit(pod, meta, component="notebook", ml=True)


def _jobset(obj: PDict) -> Iterator[PodUnit]:
    """JobSet (distributed training): ``spec.replicatedJobs[*].template.spec.template``."""
    for hit in resolve(obj, "spec.replicatedJobs[*]"):
        job = _pd(hit.value)
        if job is None:
            continue
        found = resolve(job, "template.spec")
        job_spec = _pd(found[0].value) if found else None
        pod, meta = _template(job_spec) if job_spec is not None else (None, None)
        if pod is not None:
            yield PodUnit(pod, meta, component=str(job.get("name")))


def _katib_experiment(obj: PDict) -> Iterator[PodUnit]:
    """Katib ``Experiment``: the trial template's pods (a Job or a training-operator job)."""
    for hit in resolve(obj, "spec.trialTemplate.trialSpec"):
        trial = _pd(hit.value)
        if trial is None:
            continue
        kind = str(trial.get("kind"))
        if kind in TRAINING_REPLICAS:
            yield from _training_job(trial)
            continue
        spec = _pd(trial.get("spec"))
        pod, meta = _template(spec) if spec is not None else (None, None)
        if pod is not None:
            yield PodUnit(pod, meta, component="trial", ml=True)


WALKERS: dict[tuple[str, str], Callable[[PDict], Iterator[PodUnit]]] = {
    (KUBEFLOW, "Experiment"): _katib_experiment,
    (KSERVE, "InferenceService"): _inference_service,
    (KSERVE, "ServingRuntime"): _serving_runtime,
    (KSERVE, "ClusterServingRuntime"): _serving_runtime,
    (KSERVE, "ClusterStorageContainer"): _storage_container,
    (KSERVE, "LLMInferenceService"): _llm_inference_service,
    (KSERVE, "LLMInferenceServiceConfig"): _llm_inference_service,
    (SELDON_V1, "SeldonDeployment"): _seldon_deployment,
    (SELDON_V2, "Server"): _seldon_server,
    (SELDON_V2, "ServerConfig"): _seldon_server,
    (RAY, "RayCluster"): _ray,
    (RAY, "RayService"): _ray,
    (RAY, "RayJob"): _ray,
    (KNATIVE, "Service"): _knative,
    (KNATIVE, "Configuration"): _knative,
    (KUBEFLOW, "Notebook"): _notebook,
    **{(KUBEFLOW, kind): _training_job for kind in TRAINING_REPLICAS},
    (JOBSET, "JobSet"): _jobset,
    (kubeai.GROUP, "Model"): kubeai.model,
}
"""(API group, kind) -> walker. A new CRD with pods is one function and one entry."""


def pod_units(obj: PDict) -> Iterator[PodUnit]:
    walker = WALKERS.get((api_group(obj), str(obj.get("kind"))))
    if walker is not None:
        yield from walker(obj)


# ------------------------------------------------------------------ object extras


def object_extras(obj: PDict, fact: Fact) -> None:
    """Normalized fields on the ``k8s-object`` fact of an ML custom resource."""
    group, kind = api_group(obj), str(obj.get("kind"))
    if (group, kind) in ((KSERVE, "InferenceService"), (SELDON_V1, "SeldonDeployment")):
        loggers = _loggers(obj)
        if loggers:
            fact.data.put("loggers", loggers, loggers.span)
    if group == RAY and kind in RAY_SPEC:
        info = _ray_info(obj)
        if info is not None:
            fact.data.put("ray", info, info.span)


def container_extras(fact: Fact, containers: list[Fact]) -> None:
    """Object-level settings a container rule needs (KubeRay authentication)."""
    ray = fact.data.get("ray")
    if isinstance(ray, PDict):
        for c in containers:
            c.data.put("ray", ray, ray.span)


def _logger_entry(logger: PDict, component: str) -> PDict:
    entry = PDict(logger.span)
    for key in ("url", "mode"):
        copy_field(entry, key, logger)
    entry.put("component", component, logger.span)
    return entry


def _loggers(obj: PDict) -> PList:
    out = PList(obj.span)
    if obj.get("kind") == "InferenceService":
        for component in ("predictor", "transformer", "explainer"):
            for hit in resolve(obj, f"spec.{component}.logger"):
                if isinstance(hit.value, PDict):
                    out.push(_logger_entry(hit.value, component), hit.value.span)
        return out
    for pred in resolve(obj, "spec.predictors[*]"):
        graph = pred.value.get("graph") if isinstance(pred.value, PDict) else None
        for node in _graph_nodes(graph):
            logger = node.get("logger")
            if isinstance(logger, PDict):
                out.push(_logger_entry(logger, str(node.get("name") or "graph")), logger.span)
    return out


_VERSION = re.compile(r"^v?(\d+\.\d+(?:\.\d+)?)")


def _env_value(container: PDict, name: str) -> str | None:
    env = container.get("env")
    if isinstance(env, PList):
        for item in env:
            if isinstance(item, PDict) and item.get("name") == name and "value" in item:
                return str(item["value"])
    return None


def _ray_info(obj: PDict) -> PDict | None:
    cluster = _ray_cluster_spec(obj)
    if cluster is None:
        return None
    info = PDict(cluster.span)
    if "rayVersion" in cluster:
        info.put(
            "version",
            str(cluster["rayVersion"]),
            cluster.kspan.get("rayVersion"),
            cluster.vspan.get("rayVersion"),
        )
    ray_containers: list[PDict] = []
    for unit in _ray(obj):
        if unit.component in ("head", "worker"):
            first = _lists(unit.pod)
            main = [c for c, init in first if not init]
            if main:
                ray_containers.append(main[0])
    if "version" not in info and ray_containers:
        image = ray_containers[0].get("image")
        tag = knowledge.parse_image(image).tag if isinstance(image, str) else None
        m = _VERSION.match(tag or "")
        if m:
            span = ray_containers[0].vspan.get("image", cluster.span)
            info.put("version", m.group(1), span, span)
    for hit in resolve(cluster, "authOptions.mode"):
        info.put("auth_mode", hit.value, hit.span, hit.span)
    modes = [(_env_value(c, "RAY_AUTH_MODE") or "").lower() for c in ray_containers]
    # absences point at the object; an explicit RAY_AUTH_MODE=disabled at its value
    info.put("token_env", bool(modes) and all(m == "token" for m in modes), obj.span)
    disabled = next(
        (
            e.value.vspan.get("value", e.span)
            for c in ray_containers
            for e in resolve(c, "env[*]")
            if isinstance(e.value, PDict)
            and e.value.get("name") == "RAY_AUTH_MODE"
            and str(e.value.get("value")).lower() == "disabled"
        ),
        None,
    )
    info.put("auth_disabled_env", disabled is not None, disabled or obj.span, disabled or obj.span)
    return info


# ------------------------------------------------------------------ model sources


def parse_model_uri(uri: str) -> dict[str, Any]:
    """Scheme, hub id, revision and digest of a model location."""
    s = uri.strip()
    out: dict[str, Any] = {}
    if "://" in s:
        scheme = s.split("://", 1)[0].lower()
    elif s.startswith(("/", "./", "../")) or not s:
        scheme = "file"
    elif is_hub_id(s):
        scheme = "hub"
    else:
        scheme = "file"
    out["scheme"] = scheme
    if scheme in ("hf", "hub"):
        ref = s[5:] if scheme == "hf" else s
        repo, _, rev = ref.partition(":")
        repo = repo.strip("/")
        out["hub_id"] = repo
        if rev:
            out["revision"] = rev
        out["revision_pinned"] = bool(rev) and is_commit_sha(rev)
    if "@sha256:" in s:
        out["digest"] = "sha256:" + s.split("@sha256:", 1)[1].split("/", 1)[0]
    if scheme == "oci":
        ref = s[6:].split("@", 1)[0]
        slash, colon = ref.rfind("/"), ref.rfind(":")
        if colon > slash:
            out["tag"] = ref[colon + 1 :]
    if scheme == "pvc":
        out["claim"] = s[6:].split("/", 1)[0]
    return out


def _is_pickle(uri: str, model_format: Any) -> bool:
    formats = {str(f).lower() for f in _table()["pickle_model_formats"]}
    if isinstance(model_format, str) and model_format.lower() in formats:
        return True
    tail = uri.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    ext = tail.rsplit(".", 1)[-1].lower() if "." in tail else ""
    return ext in _table()["pickle_extensions"]


def _source_fact(
    obj: PDict,
    path: str,
    uri: Any,
    span: Span,
    via: str,
    context: PDict | None,
    component: str = "",
    **extra: Any,
) -> Fact | None:
    if not isinstance(uri, str) or not uri.strip():
        return None
    data = PDict(span)
    data.put("uri", uri, span, span)
    for k, v in parse_model_uri(uri).items():
        data.put(k, v, span, span)
    data.put("via", via, span)
    if _is_pickle(uri, extra.get("model_format")):
        data.put("format", "pickle", span)
    for k, v in extra.items():
        if v is not None:
            data.put(
                k, v if not isinstance(v, tuple) else v[0], v[1] if isinstance(v, tuple) else span
            )
    meta = meta_of(obj)
    workload = PDict(obj.span)
    copy_field(workload, "kind", obj)
    copy_field(workload, "name", meta)
    copy_field(workload, "namespace", meta)
    data.put("workload", workload, obj.span)
    if component:
        data.put("component", component, span)
    data.put("context", context if context is not None else PDict(span), span)
    key = f"{object_key(obj)}/{component + '/' if component else ''}model/{uri}"
    return Fact("model-source", path, data, span, key, annotations_of(obj))


def _by_anchor(containers: Iterable[Fact]) -> dict[Span, Fact]:
    return {c.anchor: c for c in containers}


def _ctx(fact: Fact | None) -> PDict | None:
    if fact is None:
        return None
    ctx = fact.data.get("context")
    return ctx if isinstance(ctx, PDict) else None


def model_sources(obj: PDict, path: str, containers: list[Fact]) -> Iterator[Fact]:
    group, kind = api_group(obj), str(obj.get("kind"))
    anchors = _by_anchor(containers)
    out: list[Fact | None] = []
    if (group, kind) == (KSERVE, "InferenceService"):
        for component, keys in (
            ("predictor", _table()["kserve_frameworks"]),
            ("explainer", _table()["kserve_explainers"]),
            ("transformer", []),
        ):
            comps = resolve(obj, f"spec.{component}")  # once, not once per framework key
            for key in keys:
                for hit in comps:
                    comp = hit.value
                    fw = comp.get(key) if isinstance(comp, PDict) else None
                    if isinstance(comp, PDict) and isinstance(fw, PDict):
                        out.extend(
                            _kserve_sources(obj, path, fw, key, component, anchors, comp.kspan[key])
                        )
            for hit in resolve(obj, f"spec.{component}.containers[*]"):
                c = hit.value
                if isinstance(c, PDict):
                    for env in resolve(c, "env[*]"):
                        e = env.value
                        if isinstance(e, PDict) and e.get("name") == "STORAGE_URI":
                            out.append(
                                _source_fact(
                                    obj,
                                    path,
                                    e.get("value"),
                                    e.vspan.get("value", env.span),
                                    "kserve-env",
                                    _ctx(anchors.get(c.span)),
                                    component,
                                )
                            )
    elif (group, kind) == (KSERVE, "TrainedModel"):
        for hit in resolve(obj, "spec.model"):
            m = hit.value
            if isinstance(m, PDict):
                out.append(
                    _source_fact(
                        obj,
                        path,
                        m.get("storageUri"),
                        m.vspan.get("storageUri", hit.span),
                        "kserve-storageUri",
                        None,
                        "model",
                        model_format=m.get("framework"),
                    )
                )
    elif (group, kind) == (KSERVE, "LLMInferenceService"):
        for hit in resolve(obj, "spec.model.uri"):
            main = [c for c in containers if c.data.get("component") == "main"]
            out.append(
                _source_fact(
                    obj,
                    path,
                    hit.value,
                    hit.span,
                    "kserve-llm-uri",
                    _ctx(main[0] if main else None),
                    "main",
                )
            )
    elif (group, kind) == (SELDON_V1, "SeldonDeployment"):
        by_name = {
            (str(c.data.get("group")), str(c.data.get("name"))): c
            for c in containers
            if c.data.get("component") == "predictor"
        }
        for pred in resolve(obj, "spec.predictors[*]"):
            p = pred.value
            if not isinstance(p, PDict):
                continue
            for node in _graph_nodes(p.get("graph")):
                if "modelUri" in node:
                    impl = node.get("implementation")
                    owner = by_name.get((str(p.get("name")), str(node.get("name"))))
                    out.append(
                        _source_fact(
                            obj,
                            path,
                            node["modelUri"],
                            node.vspan["modelUri"],
                            "seldon-modelUri",
                            _ctx(owner),
                            "predictor",
                            model_format=impl,
                            node=node.get("name"),
                            env_secret=node.get("envSecretRefName"),
                        )
                    )
            for hit in resolve(p, "explainer.modelUri"):
                out.append(
                    _source_fact(
                        obj, path, hit.value, hit.span, "seldon-modelUri", None, "explainer"
                    )
                )
    elif (group, kind) == (kubeai.GROUP, "Model") and not kubeai.launches_model(obj):
        spec = _pd(obj.get("spec"))
        ref = kubeai.model_ref(spec.get("url")) if spec is not None else None
        if spec is not None and ref is not None and ref[0] == "hf":
            server = [c for c in containers if c.data.get("component") == "server"]
            out.append(
                _source_fact(
                    obj,
                    path,
                    spec["url"],
                    spec.vspan["url"],
                    "kubeai-url",
                    _ctx(server[0] if server else None),
                    "server",
                )
            )
    elif (group, kind) == (SELDON_V2, "Model"):
        for hit in resolve(obj, "spec.storageUri"):
            out.append(
                _source_fact(obj, path, hit.value, hit.span, "seldon-storageUri", None, "model")
            )
    for f in out:
        if f is not None:
            yield f


def _kserve_sources(
    obj: PDict,
    path: str,
    fw: PDict,
    key: str,
    component: str,
    anchors: dict[Span, Fact],
    key_span: Span,
) -> Iterator[Fact | None]:
    owner = anchors.get(shorthand_span(key_span, fw))
    ctx = _ctx(owner)
    fmt = fw.get("modelFormat")
    model_format = fmt.get("name") if isinstance(fmt, PDict) else (key if key != "model" else None)
    extra: dict[str, Any] = {"model_format": model_format}
    if "runtime" in fw:
        extra["runtime"] = (fw["runtime"], fw.vspan["runtime"])
    if "storageUri" in fw:
        yield _source_fact(
            obj,
            path,
            fw["storageUri"],
            fw.vspan["storageUri"],
            "kserve-storageUri",
            ctx,
            component,
            **extra,
        )
    for hit in resolve(fw, "storageUris[*]"):
        item = hit.value
        if isinstance(item, PDict):
            yield _source_fact(
                obj,
                path,
                item.get("uri"),
                item.vspan.get("uri", hit.span),
                "kserve-storageUris",
                ctx,
                component,
                **extra,
            )
    storage = fw.get("storage")
    if isinstance(storage, PDict):
        uri = storage.get("path") or ""
        span = storage.vspan.get("path", fw.field_span("storage"))
        extra["storage_key"] = storage.get("key")
        if not uri:
            extra["scheme"] = "storage"
        yield _source_fact(
            obj,
            path,
            uri or f"storage:{storage.get('key') or ''}",
            span,
            "kserve-storage",
            ctx,
            component,
            **extra,
        )
