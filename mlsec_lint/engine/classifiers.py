"""Value classifiers: the named tests a rule can apply with ``is:`` / ``is-not:``.

Each classifier is a pure function of one value. They hold the domain judgement that a
regular expression in a rule cannot express well (is this bind address reachable from
other hosts? is this a hub model id or a local path?) and read their lists from the
knowledge tables. The set is closed and documented in ``docs/writing-rules.md``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from mlsec_lint import knowledge
from mlsec_lint.engine.literals import caseless_text, required_literal
from mlsec_lint.tree import UNKNOWN

_LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback", "localhost.localdomain"}
_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local", ".pod.cluster.local")
_MODEL_EXT = (
    r"\.(pt|pth|bin|ckpt|pkl|pickle|joblib|h5|hdf5|keras|onnx|gguf|ggml|safetensors|mar|"
    r"pb|tflite|npy|npz|model|engine|plan)(\?|#|$)"
)
_LOCAL_DIRS = {
    "models",
    "model",
    "data",
    "datasets",
    "checkpoints",
    "checkpoint",
    "outputs",
    "output",
    "weights",
    "tmp",
    "mnt",
    "artifacts",
    "cache",
    "src",
    "app",
    "opt",
}
_HUB_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""Patterns are compiled when first used (``re`` keeps them): start-up pays for none."""


def _s(value: Any) -> str | None:
    if value is None or value is UNKNOWN or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_dynamic(value: Any) -> bool:
    """Values decided at deploy time: ``$VAR``, ``${VAR}``, ``$(cmd)``, templates, non-literals."""
    if value is UNKNOWN:
        return True
    s = _s(value)
    return s is not None and ("$" in s or "{{" in s or "{…}" in s)


def bind_host(value: Any) -> str | None:
    """The host part of a bind address, URL or ``host:port``; '' means all interfaces."""
    s = _s(value)
    if s is None:
        return None
    s = s.strip()
    if any(ch.isspace() for ch in s):  # a command or sentence, not an address
        return None
    if "://" in s:
        scheme = s.split("://", 1)[0].lower()
        if scheme == "unix":
            return None
        try:
            parts = urlsplit(s)
            host = parts.hostname
        except ValueError:
            return None
        return host or ""
    if s.startswith(("unix:", "/")):
        return None
    if s.startswith("["):
        return s[1 : s.find("]")] if "]" in s else s[1:]
    if s.count(":") == 1:
        host, _, port = s.partition(":")
        if port.isdigit() or port == "":
            return host
    return s


def _is_loopback_host(host: str) -> bool:
    h = host.strip().lower().strip("[]")
    if h in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def is_public_host(value: Any) -> bool:
    """A bind address reachable from other hosts: 0.0.0.0, ::, *, empty, or any non-loopback."""
    if is_dynamic(value):
        return False
    host = bind_host(value)
    if host is None:
        return False
    return not _is_loopback_host(host)


def is_loopback(value: Any) -> bool:
    if is_dynamic(value):
        return False
    host = bind_host(value)
    return host is not None and host != "" and _is_loopback_host(host)


def is_all_interfaces(value: Any) -> bool:
    host = bind_host(value)
    return (
        host is not None
        and not is_dynamic(value)
        and host.lower() in ("", "0.0.0.0", "::", "*", "[::]")
    )


def is_http_url(value: Any) -> bool:
    s = _s(value)
    return s is not None and s.strip().lower().startswith("http://")


def _url_host(s: str) -> str:
    try:
        return urlsplit(s.strip()).hostname or ""
    except ValueError:
        return ""


def is_cluster_local_host(host: str) -> bool:
    h = host.lower()
    return bool(h) and ("." not in h or h.endswith(_CLUSTER_SUFFIXES))


def is_external_http_url(value: Any) -> bool:
    """``http://`` to a host that is neither loopback nor an in-cluster service name."""
    s = _s(value)
    if s is None or not is_http_url(s):
        return False
    host = _url_host(s)
    if not host or "{" in host or "$" in host:
        return False
    return not _is_loopback_host(host) and not is_cluster_local_host(host)


def is_model_file_url(value: Any) -> bool:
    s = _s(value)
    return (
        s is not None
        and "://" in s
        and bool(re.search(_MODEL_EXT, s.split("?")[0].split("#")[0], re.IGNORECASE))
    )


def is_commit_sha(value: Any) -> bool:
    s = _s(value)
    return s is not None and re.fullmatch(r"[0-9a-fA-F]{40}", s.strip()) is not None


def is_hub_id(value: Any) -> bool:
    """A Hugging Face hub repository id (``org/name``), not a local or absolute path."""
    s = _s(value)
    if s is None or is_dynamic(s):
        return False
    s = s.strip()
    if s.startswith("hf://"):
        s = s[5:].split(":", 1)[0]
    if not re.match(_HUB_ID, s) or s.startswith("."):
        return False
    return s.split("/", 1)[0].lower() not in _LOCAL_DIRS


def is_credential_name(value: Any) -> bool:
    s = _s(value)
    return s is not None and knowledge.is_credential_name(s)


def is_credential_value(value: Any) -> bool:
    s = _s(value)
    if s is None:
        return False
    # until a value may hold a token, the one pattern of all formats (the largest the
    # rules use) is not compiled: most one-file scans never need it; once it is, one
    # search with it is faster than :func:`_may_hold_token`
    if not knowledge.any_credential_value.cache_info().currsize and not _may_hold_token(s):
        return False
    return knowledge.credential_value_kind(s) is not None


def _may_hold_token(text: str) -> bool:
    """False only when no credential format matches ``text``: a format is ruled out by
    the text all its matches hold (``hf_``, ``T3BlbkFJ``), one without such a text by its
    own pattern."""
    literals, caseless, others = _token_prefilter(knowledge.GENERATION[0])
    if any(literal in text for literal in literals):
        return True
    if caseless:
        folded = caseless_text(text)
        if any(literal in folded for literal in caseless):
            return True
    return any(p.search(text) for p in others)


@functools.lru_cache(maxsize=1)
def _token_prefilter(
    generation: int,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """The literals of the credential formats (case-sensitive, in any case) and the
    formats without one, for one generation of the knowledge tables."""
    literals: list[str] = []
    caseless: list[str] = []
    others: list[re.Pattern[str]] = []
    for v in knowledge.table("credentials")["value_patterns"]:
        pattern = str(v["regex"])
        needed = required_literal(pattern)
        if needed is None:
            others.append(re.compile(pattern))
        else:
            (caseless if needed[1] else literals).append(needed[0])
    return tuple(literals), tuple(caseless), tuple(others)


def is_placeholder(value: Any) -> bool:
    if value is None or value is UNKNOWN:
        return True
    s = _s(value)
    return s is None or knowledge.is_placeholder(s) or is_dynamic(s)


def is_ml_framework(value: Any) -> bool:
    s = _s(value)
    return s is not None and knowledge.framework_tier(s) == 1


def is_ml_package(value: Any) -> bool:
    s = _s(value)
    return s is not None and knowledge.framework_tier(s) is not None


def is_security_defaults_package(value: Any) -> bool:
    s = _s(value)
    return s is not None and knowledge.security_defaults_package(s)


def is_ml_image(value: Any) -> bool:
    s = _s(value)
    if s is None:
        return False
    fam = knowledge.image_family(s)
    return fam is not None and fam.ml


def is_truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    s = _s(value)
    return s is not None and s.strip().lower() in ("true", "yes", "on", "1", "y")


def is_falsy(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value == 0
    s = _s(value)
    return s is not None and s.strip().lower() in ("false", "no", "off", "0", "n")


def is_python_truthy(value: Any) -> bool:
    """True as Python's ``if`` sees a literal: any non-empty string is true, so
    ``allow_pickle="False"`` allows pickles."""
    if value is None or value is UNKNOWN or isinstance(value, (dict, list)):
        return False
    return bool(value)


def is_python_falsy(value: Any) -> bool:
    """A literal Python's ``if`` sees as false: ``False``, ``0``, ``""``. ``None`` is not
    one: for most flags it means "the default"."""
    if value is None or value is UNKNOWN or isinstance(value, (dict, list)):
        return False
    return not value


@functools.lru_cache(maxsize=1)
def _credential_keys() -> tuple[frozenset[str], tuple[str, ...]]:
    data = knowledge.table("credentials")
    names = frozenset(re.sub(r"[^A-Z0-9]", "", str(n).upper()) for n in data["names"])
    suffixes = tuple(re.sub(r"[^A-Z0-9]", "", str(n).upper()) for n in data["name_suffixes"])
    return names, suffixes


def is_credential_key(value: Any) -> bool:
    """A credential name however it is spelled: ``secretkey``, ``secret-key``,
    ``AWS_SECRET_ACCESS_KEY``, ``rclone.secret_access_key`` (ConfigMap and Secret keys)."""
    s = _s(value)
    if s is None:
        return False
    if knowledge.is_credential_name(s):
        return True
    compact = re.sub(r"[^A-Z0-9]", "", s.rsplit(".", 1)[-1].upper() if "." in s else s.upper())
    names, suffixes = _credential_keys()
    return compact in names or any(compact.endswith(x) and len(x) >= 5 for x in suffixes)


@functools.lru_cache(maxsize=1)
def _default_values() -> frozenset[str]:
    return frozenset(
        str(v["value"]).lower() for v in knowledge.table("credentials")["default_values"]
    )


def is_default_credential(value: Any) -> bool:
    """A password or key that an ML stack or its samples ship with (``minioadmin``,
    ``minio123``, MLflow's ``password1234``, the Java keystore ``changeit`` …)."""
    s = _s(value)
    return s is not None and s.strip().strip("'\"").lower() in _default_values()


@functools.lru_cache(maxsize=1)
def _embedded_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in knowledge.table("credentials")["embedded_assignments"])


def is_embedded_credential(value: Any) -> bool:
    """A configuration file held as one value that writes a credential in clear
    (``secret_access_key = …`` in rclone.conf, ``requirepass`` in redis.conf, a private
    key); placeholders do not count."""
    s = _s(value)
    if s is None or len(s) > 200_000:
        return False
    for pattern in _embedded_patterns():
        for m in pattern.finditer(s):
            secret = m.group("v").strip().strip("'\"")
            if secret.startswith("-----BEGIN") or not knowledge.is_placeholder(secret):
                return True
    return False


@functools.lru_cache(maxsize=1)
def _model_cache_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in knowledge.table("kubernetes")["model_cache_paths"])


def is_model_cache_path(value: Any) -> bool:
    """A directory that holds model weights, hub caches or datasets (``/models``,
    ``~/.cache/huggingface``, ``model-store`` … from ``data/kubernetes.yaml``)."""
    s = _s(value)
    return s is not None and any(p.search(s) for p in _model_cache_patterns())


def is_sensitive_host_path(value: Any) -> bool:
    """A node path whose mount gives the node away (``/``, ``/etc``, ``/var/lib/kubelet``
    …) or a container runtime socket, from ``data/hardening.yaml``."""
    s = _s(value)
    if s is None:
        return False
    from mlsec_lint.facts.hardening import host_path_kind

    return host_path_kind(s) is not None


CLASSIFIERS: dict[str, Callable[[Any], bool]] = {
    "public-host": is_public_host,
    "all-interfaces": is_all_interfaces,
    "loopback": is_loopback,
    "http-url": is_http_url,
    "external-http-url": is_external_http_url,
    "model-file-url": is_model_file_url,
    "commit-sha": is_commit_sha,
    "hub-id": is_hub_id,
    "credential-name": is_credential_name,
    "credential-value": is_credential_value,
    "placeholder": is_placeholder,
    "dynamic": is_dynamic,
    "ml-framework": is_ml_framework,
    "ml-package": is_ml_package,
    "security-defaults-package": is_security_defaults_package,
    "ml-image": is_ml_image,
    "truthy": is_truthy,
    "falsy": is_falsy,
    "python-truthy": is_python_truthy,
    "python-falsy": is_python_falsy,
    "credential-key": is_credential_key,
    "default-credential": is_default_credential,
    "embedded-credential": is_embedded_credential,
    "model-cache-path": is_model_cache_path,
    "sensitive-host-path": is_sensitive_host_path,
}
