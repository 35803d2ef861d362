from __future__ import annotations

from typing import Any

from mlsec_lint.helm import trace
from mlsec_lint.parsers.yamldoc import load_stream

DEFAULTS = """\
image:
  repository: vllm/vllm-openai
  tag: v0.11.0
hostIPC: false
runAsUser: 0
args: [--a, --b]
"""
PROD = """\
image:
  tag: latest
args: [--c]
hostIPC: null
"""


def _doc(text: str) -> Any:
    return load_stream(text).docs[0].value


def test_merge_keeps_the_origin_of_each_leaf() -> None:
    values = trace.merge([("values.yaml", _doc(DEFAULTS)), ("prod.yaml", _doc(PROD))])
    assert values.merged == {
        "image": {"repository": "vllm/vllm-openai", "tag": "latest"},
        "runAsUser": 0,
        "args": ["--c"],  # lists are replaced, null removes a default
    }
    assert values.origins[("image", "tag")].path == "prod.yaml"
    assert values.origins[("image", "tag")].span.line == 2
    assert values.origins[("image", "repository")].path == "values.yaml"
    assert values.origins[("args", 0)].path == "prod.yaml"


def test_markers_keep_falsy_values_and_mark_zero() -> None:
    values = trace.merge([("v.yaml", _doc(DEFAULTS + "disabled: false\nempty: ''\n"))])
    marked, table = trace.marked(values)
    assert marked["hostIPC"] is False and marked["disabled"] is False and marked["empty"] == ""
    assert trace.MARKER.fullmatch(marked["runAsUser"])
    assert [o.key for o in table][:2] == ["image.repository", "image.tag"]
    strings, _ = trace.marked(values, strings_only=True)
    assert strings["runAsUser"] == 0 and trace.MARKER.fullmatch(strings["image"]["tag"])


def test_pairing_finds_values_by_position() -> None:
    values = trace.merge([("v.yaml", _doc(DEFAULTS))])
    marked, table = trace.marked(values)
    tag = marked["image"]["repository"] + ":" + marked["image"]["tag"]
    real = load_stream("spec:\n  image: vllm/vllm-openai:v0.11.0\n  literal: x\n").docs[0]
    mark = load_stream(f"spec:\n  image: {tag}\n  literal: x\n").docs[0]
    out: dict[tuple[int, int], trace.Origin] = {}
    trace.pair_values(real.value, mark.value, table, out)
    assert out[(2, 10)].key == "image.tag"  # the tag is what the image's text shows last
    assert out[(2, 3)].key == "image.tag"  # the key points at it too
    assert (3, 12) not in out and (3, 3) not in out


def test_template_lines() -> None:
    template = [
        "{{- if .Values.enabled }}",
        "apiVersion: v1",
        "kind: Service",
        "metadata:",
        "  name: {{ .Release.Name }}",
        "spec:",
        "  type: {{ .Values.type }}",
        "{{- end }}",
    ]
    rendered = ["apiVersion: v1", "kind: Service", "metadata:", "  name: r", "spec:", "  type: X"]
    assert trace.template_lines(rendered, template) == [2, 3, 4, 5, 6, 7]


def test_keys_name_list_items() -> None:
    values = trace.merge([("v.yaml", _doc("spec:\n  models:\n    - {tag: latest}\n"))])
    assert values.origins[("spec", "models", 0, "tag")].key == "spec.models[0].tag"


def test_blank_crds_keeps_line_numbers() -> None:
    text = "kind: A\n---\napiVersion: v1\nkind: CustomResourceDefinition\nspec: {}\n---\nkind: B\n"
    out = trace.blank_crds(text)
    assert out.split("\n") == ["kind: A", "---", "", "", "", "---", "kind: B", ""]
    assert trace.blank_crds("kind: Pod\n") == "kind: Pod\n"
