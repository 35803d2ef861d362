"""Per-file analysis: parse a source by its kind and extract facts.

This is the unit of work that runs in parallel; it touches nothing but its input.
"""

from __future__ import annotations

import os
import re

from mlsec_lint.facts import FileAnalysis
from mlsec_lint.model import Notice
from mlsec_lint.source import Source


def analyze(source: Source, kind: str) -> FileAnalysis:
    """Facts and notices of one decoded file; never raises on bad input."""
    path = source.path
    try:
        fa = _DISPATCH.get(kind, _unsupported)(source, kind)
        if kind != "notebook":  # a notebook's written files were analysed with their own text
            _serving(fa, source)
            _invalid_requirements(fa)
        return fa
    except RecursionError:
        return FileAnalysis(
            path,
            kind,
            notices=[
                Notice(path, "parse-error", "input nested too deeply; not scanned", "warning")
            ],
        )
    except MemoryError:
        return FileAnalysis(
            path,
            kind,
            notices=[
                Notice(path, "parse-error", "input too complex to analyse; not scanned", "warning")
            ],
        )
    except Exception as exc:  # any other failure: one file never aborts the scan
        return FileAnalysis(path, kind, notices=[failure_notice(path, exc)])


def failure_notice(path: str, exc: BaseException) -> Notice:
    """The notice for a file whose analysis failed unexpectedly (a bug in mlsec-lint):
    the file is named, the rest of the scan goes on."""
    return Notice(
        path,
        "analysis-error",
        f"analysis failed ({type(exc).__name__}); file not scanned. This is a bug in "
        "mlsec-lint: please report it",
        "warning",
    )


def _invalid_requirements(fa: FileAnalysis) -> None:
    """A requirement that is not valid PEP 508 (``torch=2.7.0``) cannot be checked for
    pinning or known vulnerabilities; say so instead of passing it silently."""
    for f in fa.facts:
        if f.kind != "dependency" or f.data.get("kind") != "invalid" or f.data.get("dynamic"):
            continue  # a variable ($PKG) is not a requirement pip sees
        spec = str(f.data.get("spec") or f.data.get("name") or "")[:200]
        hint = ""
        if re.search(r"[A-Za-z0-9\]][ \t]*=[ \t]*[0-9]", spec) and "==" not in spec:
            hint = " ('=' is not a version operator: use '==' for an exact pin)"
        fa.notices.append(
            Notice(
                f.path,
                "invalid-requirement",
                f"requirement '{spec}' is not a valid specifier{hint}; pip rejects it, and"
                " its pinning and known vulnerabilities are not checked",
                "warning",
                f.anchor.line,
            )
        )


def _serving(fa: FileAnalysis, source: Source) -> None:
    """Server launches of the containers found in any file kind, and server configs
    embedded in Kubernetes objects (RayService, inferenceservice-config)."""
    if fa.kind == "helm-values":
        # the chart's templates decide the command: only launches the values spell out
        facts = [
            f
            for f in fa.facts
            if f.kind == "container" and ("args" in f.data or "launch_params" in f.data)
        ]
    else:
        facts = fa.facts
    if any(f.kind in ("container", "k8s-object") for f in facts):
        from mlsec_lint.facts import serving

        fa.facts.extend(serving.derived(facts, source.text))


def _unsupported(source: Source, kind: str) -> FileAnalysis:
    return FileAnalysis(source.path, kind)


def _dockerfile(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import dockerfile

    return dockerfile.extract(source.text, source.path)


def _requirements(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import dependencies

    notices: list[Notice] = []
    facts = dependencies.from_requirements(source.text, source.path, notices)
    return FileAnalysis(source.path, kind, facts=facts, notices=notices)


def _python(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import python

    fa = python.extract(source.text, source.path, source.lines)
    if "jupyter" in os.path.basename(source.path):  # cheap test first: keeps start-up lean
        from mlsec_lint.facts import serving

        if serving.is_jupyter_config(source.path):
            fa.facts.extend(serving.from_jupyter_config(source.text, source.path, source.lines))
    return fa


def _notebook(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import notebook

    return notebook.extract(source.text, source.path, analyze)


def _template(source: Source, kind: str) -> FileAnalysis:
    return FileAnalysis(
        source.path,
        "template",
        notices=[
            Notice(
                source.path,
                "template",
                "template file (Jinja or similar) not scanned; render it and scan the result",
                "note",
            )
        ],
    )


def _properties(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import serving

    return serving.from_properties(source.text, source.path)


def _in_chart_templates(path: str) -> bool:
    parts = path.replace(os.sep, "/").split("/")
    return "templates" in parts[:-1]


def _yaml(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import compose, kubernetes, manifests
    from mlsec_lint.parsers.yamldoc import YamlError, load_stream, looks_templated

    path = source.path
    templated = looks_templated(source.text)
    if templated and _in_chart_templates(path) and "#rendered" not in path:
        return FileAnalysis(
            path,
            "helm-template",
            notices=[
                Notice(
                    path,
                    "helm-template",
                    "Helm chart template not scanned; scan the rendered output instead: "
                    "helm template <chart> | mlsec-lint scan - --stdin-filename rendered.yaml",
                    "note",
                )
            ],
        )
    try:
        stream = load_stream(source.text)
    except YamlError as exc:
        if templated:
            return FileAnalysis(
                path,
                "template",
                notices=[
                    Notice(
                        path,
                        "template",
                        "templated YAML (Helm/Jinja) not scanned; render it first and "
                        "scan the result",
                        "note",
                        exc.line,
                    )
                ],
            )
        label = "JSON" if kind == "json" else "YAML"
        return FileAnalysis(
            path,
            kind,
            notices=[
                Notice(
                    path,
                    "parse-error",
                    exc.message.replace("invalid YAML", f"invalid {label}"),
                    "warning",
                    exc.line,
                )
            ],
        )
    fa = FileAnalysis(path, kind)
    fa.extra["scalar_spans"] = stream.scalar_spans
    if stream.stopped is not None:
        n = len(stream.docs)
        fa.notices.append(
            Notice(
                path,
                "partly-analysed",
                f"the first {n} document{'s' if n != 1 else ''} scanned, the rest not: "
                f"{stream.stopped.message}",
                "warning",
                stream.stopped.line,
            )
        )
    for key, line in stream.duplicate_keys[:20]:
        fa.notices.append(
            Notice(
                path,
                "duplicate-key",
                f"duplicate key '{key}'; the last value is used",
                "note",
                line,
            )
        )
    docs = [d.value for d in stream.docs]
    facts = kubernetes.extract(docs, path)
    if facts:
        fa.kind = "kubernetes"
        fa.facts = facts
        return fa
    if len(docs) == 1 and compose.is_compose(docs[0], os.path.basename(path)):
        fa.kind = "compose"
        fa.facts = compose.extract(docs[0], path)
        return fa
    if len(docs) == 1 and manifests.looks_like_conda_env(docs[0]):  # by content
        fa.kind = "conda-env"
        fa.facts = manifests.conda_env_facts(docs[0], path, source.abspath).facts
        return fa
    from mlsec_lint.facts import launchers

    launcher = launchers.detect(docs[0], os.path.basename(path)) if len(docs) == 1 else None
    if launcher is not None:
        fa.kind = launcher
        fa.facts = launchers.extract(docs[0], path, source.text, launcher, fa.notices)
        return fa
    from mlsec_lint.facts import helm_values

    if helm_values.looks_like_values(docs, path):
        objects, anchors = helm_values.documents(docs[0], path)
        fa.facts = kubernetes.extract(list(objects), path)
        if fa.facts:
            fa.kind = "helm-values"
            fa.extra[helm_values.ABSENCE_ANCHORS] = anchors
            return fa
    from mlsec_lint.facts import serving

    config = serving.from_documents(docs, path)
    if config is not None:
        fa.kind, fa.facts = config
    return fa


def _dotenv(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts.common import env_fact
    from mlsec_lint.model import Span

    fa = FileAnalysis(source.path, kind)
    for i, line in enumerate(source.lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        body = stripped.removeprefix("export ").strip()
        name, eq, value = body.partition("=")
        if not eq or not name.strip():
            continue
        name = name.strip()
        col = line.find(name) + 1
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        vcol = line.find("=", col) + 2
        fa.facts.append(
            env_fact(
                name,
                value,
                Span(i, col, i, len(line) + 1),
                Span(i, vcol, i, len(line) + 1),
                source.path,
                "dotenv",
                "dotenv",
            )
        )
    return fa


def _shell(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import launch, shellcmds

    fa = shellcmds.extract_script(source.text, source.path)
    fa.facts.extend(launch.from_shell(source.text, source.path))
    return fa


def _pyproject(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import manifests

    return manifests.from_pyproject(source.text, source.path, source.abspath)


def _pipfile(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import manifests

    return manifests.from_pipfile(source.text, source.path, source.abspath)


def _setup_cfg(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import manifests

    return manifests.from_setup_cfg(source.text, source.path, source.abspath)


def _conda_env(source: Source, kind: str) -> FileAnalysis:
    """``environment.yml`` by name; other YAML content falls back to the YAML analysis."""
    from mlsec_lint.facts import manifests

    found = manifests.from_conda_env(source.text, source.path, source.abspath)
    return found if found is not None else _yaml(source, "yaml")


def _lockfile(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import lockfiles

    return lockfiles.from_lockfile(source.text, source.path)


def _pip_conf(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import manifests

    return manifests.from_pip_conf(source.text, source.path)


def _toml(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import serving

    return serving.from_streamlit_toml(source.text, source.path)


def _ini(source: Source, kind: str) -> FileAnalysis:
    from mlsec_lint.facts import serving

    return serving.from_ini(source.text, source.path)


_DISPATCH = {
    "dockerfile": _dockerfile,
    "requirements": _requirements,
    "python": _python,
    "properties": _properties,
    "yaml": _yaml,
    "json": _yaml,
    "dotenv": _dotenv,
    "shell": _shell,
    "toml": _toml,
    "ini": _ini,
    "pyproject": _pyproject,
    "pipfile": _pipfile,
    "setup-cfg": _setup_cfg,
    "conda-env": _conda_env,
    "lockfile": _lockfile,
    "pip-conf": _pip_conf,
    "notebook": _notebook,
    "template": _template,
}
