"""A tree of hostile and broken inputs mixed with files whose findings are known."""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HostileTree:
    root: Path
    known: set[tuple[str, int, str]] = field(default_factory=set)
    """(path, line, rule) findings that must be reported despite the hostile files."""
    notices: dict[str, str] = field(default_factory=dict)
    """path -> notice code that must be reported for it."""


def _bomb(levels: int = 9) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def build(root: Path) -> HostileTree:
    tree = HostileTree(root)

    def write(rel: str, data: str | bytes) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def known(rel: str, line: int, rule: str, data: str | bytes) -> None:
        write(rel, data)
        tree.known.add((rel, line, rule))

    def bad(rel: str, code: str, data: str | bytes) -> None:
        write(rel, data)
        tree.notices[rel] = code

    # files with known findings, including odd encodings, line endings and names
    known("requirements.txt", 1, "MLS-DEP-001", "torch\n")
    known("crlf/requirements.txt", 1, "MLS-DEP-001", b"vllm\r\ntorch==2.6.0\r\n")
    known("cr/requirements.txt", 1, "MLS-DEP-001", b"transformers\rtorch==2.6.0\r")
    known("latin1/requirements.txt", 2, "MLS-DEP-001", "# caf\xe9\nnumpy\n".encode("latin-1"))
    known(
        "bom.yaml",
        1,
        "MLS-K8S-001",
        codecs.BOM_UTF8
        + b"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: b}\nspec: {}\n",
    )
    known(
        "utf16.yaml",
        1,
        "MLS-K8S-001",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: u}\nspec: {}\n".encode(
            "utf-16"
        ),
    )
    known("dir with spaces/requirements.txt", 1, "MLS-DEP-001", "mlflow\n")
    known("ünïcode ✓/requirements.txt", 1, "MLS-DEP-001", "ray\n")
    known(
        "tabs-and-anchors.yaml",
        6,
        "MLS-IMG-001",
        "x: &img ollama/ollama:latest\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  containers: [{name: c, image: ollama/ollama:latest}]\n",
    )
    known(
        "Dockerfile.unknown-instruction",
        1,
        "MLS-IMG-001",
        "FROM pytorch/pytorch:latest\nFROBNICATE all\nUSER 1000\n",
    )
    tree.notices["Dockerfile.unknown-instruction"] = "dockerfile-instruction"
    known(
        "Dockerfile.unterminated",
        1,
        "MLS-IMG-001",
        "FROM vllm/vllm-openai:latest\nUSER 1000\nRUN <<EOF\necho never ends\n",
    )
    tree.notices["Dockerfile.unterminated"] = "dockerfile-heredoc"
    known("serve.py", 2, "MLS-PY-002", "import torch\nm = torch.load('m.pt', weights_only=False)\n")

    # hostile or broken inputs: each must produce a notice and nothing else
    bad("malformed.yaml", "parse-error", "a: [unclosed\n  b: c\n")
    bad("malformed.json", "parse-error", '{"apiVersion": "v1", "kind": ')
    bad("bomb.yaml", "parse-error", _bomb())
    bad("deep-flow.json", "parse-error", "[" * 100_000 + "]" * 100_000)
    bad("deep-compact.yaml", "parse-error", "- " * 90_000 + "x\n")
    bad("tab-indent.yaml", "parse-error", "a:\n\tb: c\n")
    bad(
        "duplicate.yaml",
        "duplicate-key",
        "apiVersion: v1\nkind: Pod\nkind: Pod\nmetadata: {name: x}\n",
    )
    # a chart that Helm cannot render (an undefined template): one notice for the chart
    from mlsec_lint.helm.render import available

    write(
        "charts/llm/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        '{{- if .Values.x }}\n  x: y\n{{- end }}\n{{ include "missing" . }}\n',
    )
    bad(
        "charts/llm/Chart.yaml",
        "helm-render-error" if available() else "helm-not-rendered",
        "apiVersion: v2\nname: llm\nversion: 0.1.0\n",
    )
    bad("jinja.yaml", "template", "{% for x in y %}\n- {{ x }}\n{% endfor %}\n")
    bad("Dockerfile", "binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 2)
    bad("nul.py", "binary", b"import torch\x00\ntorch.load(x)\n")
    bad("big.yaml", "too-large", b"a: b\n" * 1_100_000)
    bad("longline.yaml", "line-too-long", b"a: " + b"x" * 250_000 + b"\n")
    bad("syntax.py", "parse-error", "def f(:\n  pass\n")
    bad("deep.py", "parse-error", "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    write("empty.yaml", b"")
    write("Dockerfile.empty", b"")
    write("empty.py", b"")
    write("odd.properties", "inference_address=http://127.0.0.1:8080\nkey=\\u12\nend=\\\n")
    if hasattr(os, "symlink"):
        os.symlink(root, root / "loop")
        os.symlink("/etc/hostname", root / "outside.yaml")
        tree.notices["loop"] = "symlink"
        tree.notices["outside.yaml"] = "symlink"
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo.yaml")
        tree.notices["fifo.yaml"] = "special-file"
    return tree
