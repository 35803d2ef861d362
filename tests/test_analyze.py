"""Per-file analysis of Kubernetes input: Helm chart templates, rendered Helm and kustomize
streams read from standard input, with positions in the rendered stream."""

from __future__ import annotations

from mlsec_lint.api import ScanOptions, scan

CHART_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "llm.fullname" . }}
spec:
  template:
    spec:
      containers:
        - name: server
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            privileged: {{ .Values.privileged }}
"""

RENDERED = """\
---
# Source: llm/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: release-llm
---
# Source: llm/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: release-llm
spec:
  type: LoadBalancer
  selector:
    app.kubernetes.io/name: llm
  ports:
    - name: mgmt
      port: 8081
      targetPort: 8081
---
# Source: llm/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-llm
spec:
  template:
    metadata:
      labels:
        app.kubernetes.io/name: llm
    spec:
      containers:
        - name: server
          image: "pytorch/torchserve:0.11.0-cpu"
          ports:
            - containerPort: 8081
          securityContext:
            privileged: true
"""


def test_chart_templates_get_a_notice_not_a_parse_error(tmp_path) -> None:
    chart = tmp_path / "charts" / "llm"
    (chart / "templates").mkdir(parents=True)
    (chart / "templates" / "deployment.yaml").write_text(CHART_TEMPLATE, encoding="utf-8")
    (chart / "templates" / "service.yaml").write_text(CHART_TEMPLATE, encoding="utf-8")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: llm\nversion: 0.1.0\n")
    options = ScanOptions(paths=["."], base=str(tmp_path), helm_renderer="off")
    result = scan(options).result
    # without a renderer: one notice for the chart, none per template, no parse error
    notices = [n for n in result.notices if n.code != "symlink"]
    assert [(n.code, n.level, n.path) for n in notices] == [
        ("helm-not-rendered", "note", "charts/llm/Chart.yaml")
    ]
    assert "mlsec-lint[helm]" in notices[0].message and "\n" not in notices[0].message
    assert result.findings == []
    assert result.files_by_kind.get("helm-template") == 2


def test_a_template_outside_a_chart_gets_a_notice(tmp_path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "deployment.yaml").write_text(CHART_TEMPLATE, encoding="utf-8")
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    assert [(n.code, n.level) for n in result.notices] == [("helm-template", "note")]
    assert "helm template" in result.notices[0].message


def test_rendered_helm_stream_from_stdin_has_positions_in_the_stream() -> None:
    result = scan(
        ScanOptions(
            paths=["-"],
            stdin=RENDERED.encode(),
            stdin_filename="rendered.yaml",
        )
    ).result
    assert [n for n in result.notices if n.level != "note"] == []
    got = {(f.rule_id, f.path, f.line) for f in result.findings}
    # the Service port (third document) and the privileged flag (fourth document)
    assert ("MLS-IMG-002", "rendered.yaml", 19) in got
    assert ("MLS-K8S-002", "rendered.yaml", 39) in got
    privileged = next(f for f in result.findings if f.rule_id == "MLS-K8S-002")
    assert privileged.source_line.strip() == "privileged: true"
    assert privileged.column == 13


def test_kustomize_output_without_a_file_name_is_read_as_yaml() -> None:
    stream = RENDERED.replace("# Source: ", "# from ")
    result = scan(ScanOptions(paths=["-"], stdin=stream.encode())).result
    lines = {(f.rule_id, f.line) for f in result.findings if f.path == "<stdin>"}
    assert ("MLS-K8S-002", 39) in lines and ("MLS-IMG-002", 19) in lines


def test_invalid_requirement_specifiers_get_a_notice(tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text("torch=2.7.0\nnumpy==1.26.4\n")
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nRUN pip install "transformers==4.48.3" torch=2.7.0\n'
    )
    result = scan(ScanOptions(paths=["."], base=str(tmp_path))).result
    got = sorted((n.path, n.line) for n in result.notices if n.code == "invalid-requirement")
    assert got == [("Dockerfile", 2), ("requirements.txt", 1)]
    message = next(n.message for n in result.notices if n.code == "invalid-requirement")
    assert "torch=2.7.0" in message and "'=='" in message


def test_documents_past_the_yaml_budget_are_announced_and_the_first_kept(
    tmp_path, monkeypatch
) -> None:
    from mlsec_lint.parsers import yamldoc

    monkeypatch.setattr(yamldoc, "MAX_NODES", 200)
    doc = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: b}\nspec: {}\n"
    (tmp_path / "a.yaml").write_text(doc + "---\n" * 1000, encoding="utf-8")
    result = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path), jobs=1)).result
    assert [(f.rule_id, f.line) for f in result.findings] == [("MLS-K8S-001", 1)]
    assert [(n.path, n.code) for n in result.notices] == [("a.yaml", "partly-analysed")]
