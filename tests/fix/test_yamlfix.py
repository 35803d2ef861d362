"""YAML fixes: edits at parsed positions, proven by ruamel.yaml before they count."""

from __future__ import annotations

import pytest

from mlsec_lint.fix import _apply_one
from mlsec_lint.fix.edits import Unfixable
from mlsec_lint.fix.yamlfix import render_value, verify
from mlsec_lint.model import FixPlan, Span


def mapping_span(text: str, line: int, col: int) -> Span:
    """The span of the mapping that starts at (line, col), as facts anchor containers."""
    from mlsec_lint.fix.yamlfix import YamlFile

    spans = [s for s in YamlFile(text).by_span if (s.line, s.col) == (line, col)]
    return (
        max(spans, key=lambda s: (s.end_line, s.end_col)) if spans else Span(line, col, line, col)
    )


def set_key(text: str, line: int, col: int, path: str, value: object, **extra: object) -> str:
    try:
        anchor = mapping_span(text, line, col)
    except Unfixable:
        anchor = Span(line, col, line, col + 1)
    args = (("path", path), ("value", value), *extra.items())
    return _apply_one(text, "yaml", FixPlan("set-key", "safe", "d", anchor, anchor, args))


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}  # flow
spec:
  containers:
    - name: a  # first
      image: x
      securityContext: {runAsUser: 1000}  # keep me
    - name: b
      image: y
      env:
        - name: K
          value: v

      # a comment after the last entry
  restartPolicy: Never
"""


def test_a_key_goes_into_a_flow_mapping_and_the_comment_stays() -> None:
    out = set_key(POD, 6, 7, "securityContext.allowPrivilegeEscalation", False)
    assert "securityContext: {runAsUser: 1000, allowPrivilegeEscalation: false}  # keep me" in out
    assert out.replace(", allowPrivilegeEscalation: false", "") == POD


def test_a_missing_mapping_is_created_after_the_last_entry() -> None:
    out = set_key(POD, 9, 7, "securityContext.readOnlyRootFilesystem", True)
    assert out == POD.replace(
        "          value: v\n",
        "          value: v\n      securityContext:\n        readOnlyRootFilesystem: true\n",
    )


def test_up_reaches_the_pod_spec_through_the_containers_list() -> None:
    out = set_key(
        POD, 6, 7, "automountServiceAccountToken", False, up=2, **{"parent-key": "containers"}
    )
    assert out.endswith("  restartPolicy: Never\n  automountServiceAccountToken: false\n")
    with pytest.raises(Unfixable, match="'volumes' list"):
        set_key(POD, 6, 7, "x", False, up=2, **{"parent-key": "volumes"})


def test_an_existing_value_is_replaced_in_place() -> None:
    text = "a:\n  b: true   # why\n  c: 1\n"
    assert set_key(text, 2, 3, "b", False) == "a:\n  b: false   # why\n  c: 1\n"
    assert set_key(text, 2, 3, "b", True) == text  # already set


def test_multi_document_positions_are_absolute() -> None:
    text = "a: 1\n---\nb:\n  c: 2\n---\nd: {}\n"
    assert set_key(text, 4, 3, "e", "x") == "a: 1\n---\nb:\n  c: 2\n  e: x\n---\nd: {}\n"
    assert set_key(text, 6, 4, "e", ["ALL"]) == "a: 1\n---\nb:\n  c: 2\n---\nd: {e: [ALL]}\n"


def test_values_shared_through_anchors_aliases_or_merges_are_left_alone() -> None:
    text = "x:\n  s: &s {u: 1}\ny:\n  s: *s\nbase: &b {s: {u: 2}}\nz:\n  <<: *b\n  n: 1\n"
    with pytest.raises(Unfixable, match="shared"):
        set_key(text, 2, 3, "s.v", 1)
    with pytest.raises(Unfixable, match="shared"):
        set_key(text, 4, 3, "s.v", 1)
    with pytest.raises(Unfixable, match="shared"):
        set_key(text, 7, 3, "s.v", 1)


def test_templates_are_never_edited() -> None:
    text = "spec:\n  replicas: {{ .Values.replicas }}\n  a: 1\n"
    with pytest.raises(Unfixable, match="template"):
        set_key(text, 2, 3, "b", 1)


def test_verification_rejects_changes_elsewhere_or_in_two_places() -> None:
    at = Span(1, 1, 1, 2)
    p = FixPlan("set-key", "safe", "d", at, at, (("path", "b"), ("value", 1)))
    verify("a: 0\n", "a: 0\nb: 1\n", [p])
    with pytest.raises(Unfixable, match="unexpectedly"):
        verify("a: 0\n", "a: 2\n", [p])
    with pytest.raises(Unfixable, match="more than one place"):
        verify("x: {}\ny: {}\n", "x: {b: 1}\ny: {b: 1}\n", [p])
    with pytest.raises(Unfixable, match="would not parse"):
        verify("a: 0\n", "a: [\n", [p])


def test_scalars_render_as_yaml_reads_them() -> None:
    assert render_value(False) == "false"
    assert render_value("ALL") == "ALL"
    assert render_value("yes") == '"yes"'
    assert render_value("a: b") == '"a: b"'
    assert render_value(("ALL",)) == "[ALL]"


def test_json_documents_get_json() -> None:
    text = '{"spec": {"containers": [{"name": "a", "image": "x"}]}}\n'
    out = set_key(text, 1, 26, "securityContext.runAsNonRoot", True)
    assert out == (
        '{"spec": {"containers": [{"name": "a", "image": "x", '
        '"securityContext": {"runAsNonRoot": true}}]}}\n'
    )
    import json

    json.loads(out)
