"""Rendering a chart offline with Helm's own template engine.

Two renderers, tried in this order:

* ``sdk``: the optional extra ``mlsec-lint[helm]`` installs ``helm-python-sdk``, a ctypes
  binding of Helm's official Go library. It runs in a child process
  (``python -m mlsec_lint.helm.render``): the Go runtime stays out of the scanning
  process and its forked workers, a crash or a hang costs one notice, and the time is
  bounded.
* ``binary``: a ``helm`` executable on ``PATH`` (``helm template``).

Neither contacts a cluster or a registry: ``lookup`` returns nothing and chart
dependencies are only read from the chart's ``charts/`` directory. Nothing else from the
scanned repository is executed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from mlsec_lint.records import Struct, field

RELEASE = "release"
NAMESPACE = "default"
TIMEOUT = 120
"""Seconds one chart may take to render (both passes)."""
MAX_OUTPUT = 64 * 1024 * 1024

ENABLE_HINT = "install the renderer with pip install 'mlsec-lint[helm]' (or put helm on PATH)"


class Rendered(Struct):
    """Manifests per template (``<chart>/templates/x.yaml``) for each values set, or why
    a pass failed."""

    outputs: list[dict[str, str] | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    renderer: str = ""


def available(choice: str = "auto") -> str | None:
    """The renderer to use (``sdk`` or ``binary``), or None when there is none."""
    if choice == "off":
        return None
    if choice in ("auto", "sdk") and importlib.util.find_spec("helm_python") is not None:
        return "sdk"
    if choice in ("auto", "binary") and shutil.which("helm") is not None:
        return "binary"
    return None


def render(chart: str, value_sets: list[dict[str, Any]], renderer: str) -> Rendered:
    """Render ``chart`` once per values set (each coalesced with the chart's defaults)."""
    return render_many([(chart, value_sets, RELEASE)], renderer)[0]


Job = tuple[str, list[dict[str, Any]], str]
"""A chart directory, the values sets to render it with, and the release name."""


def render_many(jobs: list[Job], renderer: str) -> list[Rendered]:
    """Render several charts. With the SDK they share one child process (its start-up
    and the loading of the Helm library are most of the cost); if that process fails,
    each chart is rendered alone, so one bad chart costs only its own notice."""
    if not jobs:
        return []
    if renderer != "sdk":
        return [_render_binary(chart, value_sets, release) for chart, value_sets, release in jobs]
    results, why = _render_sdk(jobs)
    if results is not None:
        return results
    out: list[Rendered] = []
    for job in jobs:
        alone, reason = _render_sdk([job]) if len(jobs) > 1 else (None, why)
        if alone is not None:
            out.append(alone[0])
        else:
            out.append(Rendered([None for _ in job[1]], [reason], "helm-python-sdk"))
    return out


def _render_sdk(jobs: list[Job]) -> tuple[list[Rendered] | None, str]:
    """Replies per chart, or None and why when the child process gave no usable reply."""
    request = json.dumps({"charts": [{"chart": c, "values": v, "release": r} for c, v, r in jobs]})
    timeout = min(TIMEOUT * len(jobs), 600)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mlsec_lint.helm.render"],
            input=request,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"rendering took longer than {timeout} s"
    except OSError as exc:
        return None, f"cannot start the renderer: {exc}"
    try:
        reply = json.loads(proc.stdout)
        charts = reply["charts"]
        assert isinstance(charts, list) and len(charts) == len(jobs)
    except (ValueError, KeyError, TypeError, AssertionError):
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        return None, "the renderer failed: " + (" ".join(tail) or f"exit {proc.returncode}")
    out: list[Rendered] = []
    for results in charts:
        rendered = Rendered(renderer="helm-python-sdk")
        for item in results if isinstance(results, list) else []:
            if isinstance(item, dict) and isinstance(item.get("manifests"), dict):
                rendered.outputs.append({str(k): str(v) for k, v in item["manifests"].items()})
            else:
                rendered.outputs.append(None)
                rendered.errors.append(str(item.get("error") if isinstance(item, dict) else item))
        out.append(rendered)
    return out, ""


_SOURCE = re.compile(r"^# Source: (.+?)\s*$")


def split_stream(text: str) -> dict[str, str]:
    """``helm template`` output as manifests per template (``# Source:`` comments)."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    doc: list[str] = []

    def flush() -> None:
        if current is not None and any(line.strip() for line in doc):
            out.setdefault(current, []).append("\n".join(doc).rstrip("\n") + "\n")

    for line in text.split("\n"):
        if line.rstrip() == "---":
            flush()
            current, doc = None, []
            continue
        m = _SOURCE.match(line)
        if m and current is None:
            current = m.group(1)
            continue
        doc.append(line)
    flush()
    return {k: "---\n".join(v) for k, v in out.items()}


def _render_binary(chart: str, value_sets: list[dict[str, Any]], release: str) -> Rendered:
    helm = shutil.which("helm")
    out = Rendered(renderer="helm")
    if helm is None:
        out.errors.append("helm is not on PATH")
        return out
    with tempfile.TemporaryDirectory(prefix="mlsec-lint-helm-") as tmp:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tmp,
            "HELM_CACHE_HOME": os.path.join(tmp, "cache"),
            "HELM_CONFIG_HOME": os.path.join(tmp, "config"),
            "HELM_DATA_HOME": os.path.join(tmp, "data"),
        }
        for i, values in enumerate(value_sets):
            path = os.path.join(tmp, f"values-{i}.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(values, fh)
            argv = [helm, "template", release, chart, "--namespace", NAMESPACE, "-f", path]
            try:
                proc = subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT,
                    check=False,
                    env=env,
                    cwd=tmp,
                )
            except (subprocess.TimeoutExpired, OSError) as exc:
                out.outputs.append(None)
                out.errors.append(f"helm template failed: {exc}")
                continue
            if proc.returncode != 0 or len(proc.stdout) > MAX_OUTPUT:
                out.outputs.append(None)
                out.errors.append((proc.stderr.strip() or f"exit {proc.returncode}")[:500])
                continue
            out.outputs.append(split_stream(proc.stdout))
    return out


def _worker() -> int:
    """Child process: render with helm-python-sdk; a JSON request in, a JSON reply out."""
    import helm_python as helm

    request = json.loads(sys.stdin.read())
    replies: list[list[dict[str, Any]]] = []
    for job in request["charts"]:
        results: list[dict[str, Any]] = []
        replies.append(results)
        try:
            chart = helm.Chart.load(job["chart"])
        except helm.HelmError as exc:
            error = {"error": "cannot load the chart: " + " ".join(str(exc).split())[:500]}
            results.extend(error for _ in job["values"])
            continue
        with chart:
            for values in job["values"]:
                try:
                    manifests = chart.render(
                        values=values, name=job.get("release", RELEASE), namespace=NAMESPACE
                    )
                except helm.HelmError as exc:
                    results.append({"error": " ".join(str(exc).split())[:500]})
                    continue
                if sum(len(v) for v in manifests.values()) > MAX_OUTPUT:
                    results.append({"error": f"rendered output larger than {MAX_OUTPUT} bytes"})
                else:
                    results.append({"manifests": manifests})
    json.dump({"charts": replies}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_worker())
