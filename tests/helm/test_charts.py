"""Helm charts in a scan: rendering, positions, notices, suppressions."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlsec_lint.api import Scan, ScanOptions, scan
from mlsec_lint.helm import render
from mlsec_lint.model import ScanResult

needs_sdk = pytest.mark.skipif(
    render.available("sdk") is None, reason="mlsec-lint[helm] is not installed"
)

CHART = "apiVersion: v2\nname: llm\nversion: 0.1.0\n"
VALUES = """\
image:
  repository: vllm/vllm-openai
  tag: v0.11.0
hostIPC: false
ingress:
  enabled: false
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-llm
  annotations:
    {{- toYaml .Values.annotations | nindent 4 }}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      automountServiceAccountToken: false
      hostIPC: {{ .Values.hostIPC }}
      containers:
        - name: llm
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
"""
INGRESS = """\
{{- if .Values.ingress.enabled }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Release.Name }}-llm
spec:
  defaultBackend:
    service: {name: llm, port: {number: 8000}}
{{- end }}
"""


def _chart(root: Path, values: str = VALUES, deployment: str = DEPLOYMENT) -> Path:
    chart = root / "charts" / "llm"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART)
    (chart / "values.yaml").write_text(values.replace("hostIPC", "annotations: {}\nhostIPC", 1))
    (chart / "templates" / "deployment.yaml").write_text(deployment)
    (chart / "templates" / "ingress.yaml").write_text(INGRESS)
    (chart / "templates" / "_helpers.tpl").write_text('{{- define "x" -}}x{{- end }}\n')
    return chart


def _scan(root: Path, **kw: Any) -> Scan:
    return scan(ScanOptions(paths=["."], base=str(root), respect_gitignore=False, **kw))


def _found(result: ScanResult, rule: str) -> list[tuple[str, int]]:
    return [(f.path, f.line) for f in result.findings if f.rule_id == rule]


@needs_sdk
def test_override_values_are_reported_at_their_line(tmp_path: Path) -> None:
    _chart(tmp_path)
    (tmp_path / "prod.yaml").write_text("# production\nhostIPC: true\ningress:\n  enabled: true\n")
    result = _scan(tmp_path, helm_values=["prod.yaml"]).result
    assert _found(result, "MLS-K8S-005") == [("prod.yaml", 2)]
    (k8s005,) = [f for f in result.findings if f.rule_id == "MLS-K8S-005"]
    assert "charts/llm/templates/deployment.yaml" in k8s005.message
    assert "prod.yaml" in k8s005.message and k8s005.source_line == "hostIPC: true"
    # an Ingress switched on by the override: the template line of the object
    assert _found(result, "MLS-K8S-001") == [("charts/llm/templates/ingress.yaml", 2)]
    assert _found(result, "MLS-IMG-001") == [("charts/llm/values.yaml", 3)]
    assert not [n for n in result.notices if n.code.startswith("helm")]
    assert all("#rendered" not in f.path for f in [*result.findings, *result.suppressed])


@needs_sdk
def test_default_chart_is_clean_and_rendered_once(tmp_path: Path) -> None:
    _chart(tmp_path, values=VALUES.replace("tag: v0.11.0", "tag: v0.11.0@sha256:" + "a" * 64))
    result = _scan(tmp_path).result
    rules = {f.rule_id for f in result.findings}
    assert not rules & {"MLS-K8S-005", "MLS-K8S-001", "MLS-IMG-001", "MLS-K8S-003"}
    assert result.files_by_kind.get("helm-template") is None
    assert result.files_by_kind["helm-chart-template"] == 3  # with _helpers.tpl


@needs_sdk
def test_comment_on_a_values_line_suppresses(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    text = (
        (chart / "values.yaml")
        .read_text()
        .replace(
            "hostIPC: false",
            "# mlsec-lint: ignore[MLS-K8S-005] -- shared memory for NCCL\nhostIPC: true",
        )
    )
    (chart / "values.yaml").write_text(text)
    result = _scan(tmp_path).result
    assert _found(result, "MLS-K8S-005") == []
    assert [(f.rule_id, f.suppression.kind) for f in result.suppressed if f.suppression] == [
        ("MLS-K8S-005", "inline")
    ]


@needs_sdk
def test_annotation_rendered_into_the_object_suppresses(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    text = (chart / "values.yaml").read_text()
    text = text.replace(
        "annotations: {}", 'annotations:\n  mlsec-lint.io/ignore.MLS-K8S-005: "NCCL"'
    )
    (chart / "values.yaml").write_text(text.replace("hostIPC: false", "hostIPC: true"))
    result = _scan(tmp_path).result
    assert _found(result, "MLS-K8S-005") == []
    assert [f.rule_id for f in result.suppressed] == ["MLS-K8S-005"]


@needs_sdk
def test_render_error_and_missing_dependency_give_one_notice(tmp_path: Path) -> None:
    chart = _chart(tmp_path, deployment=DEPLOYMENT + '{{ fail "boom" }}\n')
    (chart / "Chart.yaml").write_text(
        CHART + "dependencies:\n  - name: redis\n    version: 1.0.0\n"
        "    repository: https://charts.example.com\n"
    )
    result = _scan(tmp_path).result
    codes = sorted(n.code for n in result.notices if n.code.startswith("helm"))
    assert codes == ["helm-dependency", "helm-render-error"]
    error = next(n for n in result.notices if n.code == "helm-render-error")
    assert "boom" in error.message and error.path == "charts/llm/Chart.yaml"


def test_without_a_renderer_one_notice_per_chart(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    (chart / "values.yaml").write_text(VALUES.replace("hostIPC: false", "hostIPC: true"))
    result = _scan(tmp_path, helm_renderer="off").result
    notes = [n for n in result.notices if n.code.startswith("helm")]
    assert [(n.code, n.path) for n in notes] == [("helm-not-rendered", "charts/llm/Chart.yaml")]
    assert "mlsec-lint[helm]" in notes[0].message
    # the chart's own values are still read by Helm conventions
    assert _found(result, "MLS-K8S-005") == [("charts/llm/values.yaml", 4)]


def test_helm_binary_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helm executable is run as 'helm template' (here a stand-in printing a stream)."""
    project = tmp_path / "project"
    _chart(project)
    stream = "---\n# Source: llm/templates/deployment.yaml\n" + DEPLOYMENT.replace(
        "{{ .Release.Name }}", "release"
    ).replace("{{- toYaml .Values.annotations | nindent 4 }}", "{}").replace(
        "{{ .Values.hostIPC }}", "true"
    ).replace(
        '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"', "vllm/vllm-openai:v0.11.0"
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "stream.yaml").write_text(stream)
    log = bindir / "argv.json"
    helm = bindir / "helm"
    helm.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"sys.stdout.write(open({str(bindir / 'stream.yaml')!r}).read())\n"
    )
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    result = _scan(project, helm_renderer="binary").result
    # untraced (the stand-in ignores the values): the template line of the key
    assert _found(result, "MLS-K8S-005") == [("charts/llm/templates/deployment.yaml", 13)]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls and all(c[:2] == ["template", "release"] and "-f" in c for c in calls)


def test_split_stream() -> None:
    text = (
        "---\n# Source: a/templates/x.yaml\nkind: A\n---\n# Source: a/templates/x.yaml\nkind: B\n"
    )
    out = render.split_stream(text + "---\n# Source: a/templates/y.yaml\nkind: C\n")
    assert out == {
        "a/templates/x.yaml": "kind: A\n---\nkind: B\n",
        "a/templates/y.yaml": "kind: C\n",
    }


@needs_sdk
def test_a_named_template_or_values_file_rechecks_its_chart(tmp_path: Path) -> None:
    """The pre-commit case: only the staged file is named, its whole chart is rendered."""
    chart = _chart(tmp_path)
    (chart / "values.yaml").write_text(VALUES.replace("hostIPC: false", "hostIPC: true"))
    for staged in ("charts/llm/templates/_helpers.tpl", "charts/llm/values.yaml"):
        result = scan(ScanOptions(paths=[staged], base=str(tmp_path), force_exclude=True)).result
        assert _found(result, "MLS-K8S-005") == [("charts/llm/values.yaml", 4)], staged


def test_a_scan_without_charts_loads_no_helm_code(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  containers: [{name: c, image: vllm/vllm-openai:latest}]\n"
    )
    (tmp_path / "values-prod.yaml").write_text("image: {repository: x/y, tag: latest}\n")
    code = (
        "import sys\nfrom mlsec_lint.api import ScanOptions, scan\n"
        f"scan(ScanOptions(paths=['.'], base={str(tmp_path)!r}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('mlsec_lint.helm')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@needs_sdk
def test_values_are_traced_past_a_values_schema(tmp_path: Path) -> None:
    """A schema refuses markers (an enum, an integer): a copy without it is rendered."""
    chart = _chart(tmp_path)
    (chart / "values.yaml").write_text(VALUES.replace("hostIPC: false", "hostIPC: true"))
    (chart / "values.schema.json").write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {
                    "hostIPC": {"type": "boolean"},
                    "image": {"properties": {"tag": {"enum": ["v0.11.0", "latest"]}}},
                },
            }
        )
    )
    result = _scan(tmp_path).result
    assert _found(result, "MLS-K8S-005") == [("charts/llm/values.yaml", 4)]
    assert _found(result, "MLS-IMG-001") == [("charts/llm/values.yaml", 3)]
    assert list(chart.iterdir())  # the chart itself is untouched
    assert (chart / "values.schema.json").exists()


@needs_sdk
def test_override_files_beside_the_chart_are_rendered_too(tmp_path: Path) -> None:
    chart = _chart(tmp_path)
    (chart / "values-prod.yaml").write_text(
        "hostIPC: true\nimage:\n  tag: latest\nunusedByTheChart:\n  privileged: true\n"
    )
    result = _scan(tmp_path).result
    assert _found(result, "MLS-K8S-005") == [("charts/llm/values-prod.yaml", 1)]
    # the defaults' finding is reported once, not once per render
    assert sorted(_found(result, "MLS-IMG-001")) == [
        ("charts/llm/values-prod.yaml", 3),
        ("charts/llm/values.yaml", 3),
    ]
    # what the chart does not use is not reported (rendered, not read by convention)
    assert _found(result, "MLS-K8S-002") == []


@needs_sdk
def test_packed_subchart_is_rendered_and_traced(tmp_path: Path) -> None:
    import helm_python

    sub = _chart(tmp_path / "build")
    (sub / "Chart.yaml").write_text(CHART.replace("name: llm", "name: sub"))
    parent = tmp_path / "repo" / "parent"
    (parent / "charts").mkdir(parents=True)
    helm_python.package(str(sub), destination=str(parent / "charts"))
    (parent / "Chart.yaml").write_text(
        "apiVersion: v2\nname: parent\nversion: 0.1.0\n"
        "dependencies:\n  - name: sub\n    version: 0.1.0\n"
    )
    (parent / "values.yaml").write_text("sub:\n  hostIPC: true\n")
    result = _scan(tmp_path / "repo").result
    assert _found(result, "MLS-K8S-005") == [("parent/values.yaml", 2)]
    # what the packed subchart's own files decide: its dependency entry
    assert _found(result, "MLS-IMG-001") == [("parent/Chart.yaml", 5)]
    assert not [n for n in result.notices if n.code.startswith("helm")]


@needs_sdk
def test_a_finding_about_a_container_stays_in_the_template(tmp_path: Path) -> None:
    """The container's first key is a traced image: a finding about what the container
    lacks still points at the template, not at the image's tag."""
    image = 'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
    deployment = DEPLOYMENT.replace(
        "        - name: llm\n          " + image, "        - " + image + "          name: llm\n"
    ).replace("            readOnlyRootFilesystem: true\n", "")
    _chart(tmp_path, deployment=deployment)
    result = _scan(tmp_path).result
    assert _found(result, "MLS-K8S-006") == [("charts/llm/templates/deployment.yaml", 15)]
    assert _found(result, "MLS-IMG-001") == [("charts/llm/values.yaml", 3)]


@needs_sdk
def test_cli_helm_values_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlsec_lint.cli import main

    _chart(tmp_path)
    (tmp_path / "a.yaml").write_text("hostIPC: true\n")
    (tmp_path / "b.yaml").write_text("hostIPC: false\n")  # later files win, like helm -f
    monkeypatch.chdir(tmp_path)
    code = main(
        ["scan", "charts", "--helm-values", "b.yaml", "--helm-values", "a.yaml", "-f", "json"]
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert [(f["path"], f["line"]) for f in findings if f["rule_id"] == "MLS-K8S-005"] == [
        ("a.yaml", 1)
    ]


@needs_sdk
def test_values_are_traced_in_later_documents_of_a_template(tmp_path: Path) -> None:
    sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: llm\n---\n"
    _chart(tmp_path, deployment=sa + DEPLOYMENT)
    chart = tmp_path / "charts" / "llm"
    (chart / "values.yaml").write_text(VALUES.replace("hostIPC: false", "hostIPC: true"))
    result = _scan(tmp_path).result
    assert _found(result, "MLS-K8S-005") == [("charts/llm/values.yaml", 4)]


@needs_sdk
def test_rendered_text_that_holds_braces_is_analysed(tmp_path: Path) -> None:
    """A ConfigMap that carries Go templates for a controller (KServe's config)."""
    chart = _chart(tmp_path)
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
        'data:\n  template: {{ "{{ .Name }}" | quote }}\n'
    )
    (chart / "values.yaml").write_text(VALUES.replace("hostIPC: false", "hostIPC: true"))
    result = _scan(tmp_path).result
    assert [n for n in result.notices if n.code in ("helm-template", "template")] == []
    assert _found(result, "MLS-K8S-005") == [("charts/llm/values.yaml", 4)]
