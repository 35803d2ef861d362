"""Model references as written -> ``model-source`` facts (see docs/facts.md): the URI's
scheme, hub id and revision, an image digest, and a pickle format by file extension.

Shared by the server configuration readers (:mod:`mlsec_lint.facts.serving`) and the
launches (:mod:`mlsec_lint.facts.launch`).
"""

from __future__ import annotations

import re

from mlsec_lint.engine.classifiers import is_commit_sha, is_hub_id
from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict

# --------------------------------------------------------------------------- model sources

_SCHEMES = {
    "hf": "hf",
    "http": "http",
    "https": "https",
    "s3": "s3",
    "gs": "gs",
    "gcs": "gs",
    "pvc": "pvc",
    "oci": "oci",
    "file": "file",
    "hdfs": "hdfs",
    "webhdfs": "webhdfs",
    "azure": "azure",
    "abfs": "azure",
    "wasbs": "azure",
}
_PICKLE_EXT = re.compile(r"\.(pkl|pickle|joblib|bin|pt|pth|ckpt)$", re.IGNORECASE)


def model_source_fact(
    uri: str,
    span: Span,
    path: str,
    via: str,
    *,
    revision: tuple[str, Span] | None = None,
    context: PDict | None = None,
    key: str = "",
    annotations: PDict | None = None,
    pickle: bool = False,
) -> Fact:
    """A ``model-source`` fact (see docs/facts.md) for a model reference as written."""
    data = PDict(span)
    data.put("uri", uri, span, span)
    scheme, hub_id, rev = _classify_uri(uri)
    data.put("scheme", scheme, span, span)
    if hub_id:
        data.put("hub_id", hub_id, span, span)
    if revision is not None:
        rev = revision[0]
        data.put("revision", rev, revision[1], revision[1])
    elif rev:
        data.put("revision", rev, span, span)
    if hub_id:
        data.put("revision_pinned", bool(rev) and is_commit_sha(rev), span, span)
    digest = re.search(r"@(sha256:[0-9a-fA-F]{64})", uri)
    if digest:
        data.put("digest", digest.group(1), span, span)
    data.put("via", via, span, span)
    if pickle or _PICKLE_EXT.search(uri.split("?", 1)[0]):
        data.put("format", "pickle", span, span)
    data.put("context", context if context is not None else PDict(span), span)
    return Fact("model-source", path, data, span, key or f"model/{uri}", annotations)


def _classify_uri(uri: str) -> tuple[str, str | None, str | None]:
    """(scheme, hub id, revision written in the URI)."""
    u = uri.strip()
    if "://" in u:
        scheme = u.split("://", 1)[0].lower()
        if scheme == "hf":
            ref = u[5:]
            repo, _, rev = ref.partition(":")
            return "hf", repo or None, rev or None
        return _SCHEMES.get(scheme, scheme), None, None
    if u.startswith(("/", "./", "../", "~")):
        return "file", None, None
    if is_hub_id(u):
        return "hub", u, None
    return "file", None, None
