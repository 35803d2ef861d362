from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint.helm import render

needs_sdk = pytest.mark.skipif(
    render.available("sdk") is None, reason="mlsec-lint[helm] is not installed"
)


def _chart(root: Path, name: str) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n"
        "data: {x: {{ .Values.x | quote }}, ns: {{ .Release.Namespace }}}\n"
        '{{- $s := lookup "v1" "Secret" "default" "s" }}\n'
    )
    return chart


@needs_sdk
def test_charts_share_one_renderer_and_fail_alone(tmp_path: Path) -> None:
    a = _chart(tmp_path, "a")
    missing = tmp_path / "missing"
    results = render.render_many(
        [(str(a), [{"x": "1"}, {"x": "mlsv0z"}], "r"), (str(missing), [{}], "r")], "sdk"
    )
    assert len(results) == 2
    first, second = results
    assert first.errors == [] and first.outputs[0] is not None
    assert first.outputs[0]["a/templates/cm.yaml"].count("default") == 1  # offline lookup
    assert 'x: "1"' in first.outputs[0]["a/templates/cm.yaml"]
    assert first.outputs[1] is not None and "mlsv0z" in first.outputs[1]["a/templates/cm.yaml"]
    assert second.outputs == [None] and "cannot load the chart" in second.errors[0]


def test_no_renderer_when_off() -> None:
    assert render.available("off") is None
    assert render.render_many([], "sdk") == []
