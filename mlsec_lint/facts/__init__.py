"""Facts: the normalized records rules are written against.

Every file format is turned into a few kinds of facts, so one rule covers every place
the same thing is declared (a container in a Deployment, an InferenceService or a
compose file; a package pin in a requirements file or a ``RUN pip install``).
A fact's ``data`` is a positioned tree (:class:`~mlsec_lint.tree.PDict`): rules address
it with paths, and every value keeps the span of the source text it came from.

The fact kinds, and the fields each carries, are documented in ``docs/facts.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlsec_lint.model import Notice, Span
from mlsec_lint.records import Struct, field
from mlsec_lint.tree import PDict

FACT_KINDS: dict[str, str] = {
    "k8s-object": "a Kubernetes object (core kinds and ML CRDs) with its manifest under 'object'",
    "container": "a container from a pod template, an ML CRD, a compose service or a Dockerfile",
    "service-port": "one port of a Kubernetes Service, with the containers it reaches",
    "image": "a container image reference (Dockerfile FROM, pod specs, CRD fields, compose)",
    "env": "an environment variable (pod env, Dockerfile ENV/ARG, compose, Python, shell)",
    "dependency": "a Python package requirement (requirements, pyproject, Dockerfile installs …)",
    "package-index": "a package index option (--index-url, --extra-index-url, --trusted-host)",
    "dockerfile": "a whole Dockerfile: its stages and the effective user of the final stage",
    "server": "a model or app server: its settings from config files, flags and environment",
    "command": "a shell command run at build or start time (RUN lines, scripts, container args)",
    "python-call": "a Python call with its fully qualified callee and literal arguments",
    "python-assign": "a Python attribute assignment (session.verify = False, c.App.token = '')",
    "model-source": "where a model comes from: a hub id, a URL, a bucket or registry reference",
    "suppression": "an inline suppression comment or annotation, after it was applied",
    "semgrep-match": "a result of a rule written in Semgrep syntax (run by the optional engine)",
    "dependency-manifest": "a dependency file or install step: how its packages are pinned",
    "config-entry": "one key of a Kubernetes ConfigMap or Secret, with its (decoded) value",
    "notebook-output": "a Jupyter cell output that prints a known credential format",
}


class Fact(Struct):
    kind: str
    path: str
    data: PDict
    anchor: Span
    """Where a finding points when nothing more specific matched (absence findings)."""
    key: str = ""
    """Line-independent identity within the file (used for fingerprints and baselines)."""
    annotations: PDict | None = None
    """``metadata.annotations`` of the Kubernetes object the fact comes from (suppressions)."""


class FileAnalysis(Struct):
    """What one file contributed: its kind, facts and notices."""

    path: str
    kind: str
    facts: list[Fact] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def record(span: Span, **fields: Any) -> PDict:
    """A fact tree from keyword fields: ``name=value`` or ``name=(value, span)``."""
    d = PDict(span)
    plain: dict[str, Any] = {}  # fields at ``span``, set together
    for key, value in fields.items():
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Span):
            if plain:
                d.put_all(plain, span)
                plain = {}
            d.put(key, value[0], value[1], value[1])
        else:
            plain[key] = value
    if plain:
        d.put_all(plain, span)
    return d


def copy_fields(dst: PDict, keys: Iterable[str], src: Any) -> None:
    """:func:`copy_field` of each of ``keys`` (the absent ones are skipped)."""
    if not isinstance(src, dict):
        return
    kspans = src.kspan if isinstance(src, PDict) else {}
    vspans = src.vspan if isinstance(src, PDict) else {}
    for key in keys:
        if key in src:
            dst.put(key, src[key], kspans.get(key), vspans.get(key))


def copy_field(dst: PDict, key: str, src: Any, src_key: Any = None) -> None:
    """Copy ``src[src_key]`` into ``dst[key]`` with its spans (no-op when absent)."""
    sk = key if src_key is None else src_key
    if isinstance(src, dict) and sk in src:
        kspan = src.kspan.get(sk) if isinstance(src, PDict) else None
        vspan = src.vspan.get(sk) if isinstance(src, PDict) else None
        dst.put(key, src[sk], kspan, vspan)
