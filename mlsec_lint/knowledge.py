"""Domain knowledge tables (``mlsec_lint/data/*.yaml``), loaded lazily and cached.

Rules never hard-code lists of frameworks, images or credential names; they call the
classifiers in :mod:`mlsec_lint.engine.classifiers`, which read these tables. Users can
extend the framework list from configuration (see :func:`extend_frameworks`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from mlsec_lint import databundle
from mlsec_lint.datadirs import DATA_DIR
from mlsec_lint.records import Struct, field


@functools.cache
def _tables() -> dict[str, Any]:
    return {name.rsplit(".", 1)[0]: data for name, data in databundle.load(DATA_DIR)}


def table(name: str) -> Any:
    """One table by name (``servers`` is ``data/servers.yaml``)."""
    return _tables()[name]


def normalize_package(name: str) -> str:
    """PEP 503 normalisation: ``Hugging_Face.Hub`` -> ``hugging-face-hub``."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- frameworks

_EXTRA_FRAMEWORKS: set[str] = set()


def extend_frameworks(names: list[str]) -> None:
    """Add user-configured packages to tier 1 (``frameworks`` in the configuration).

    Names are PEP 503-normalised; conda names (``pytorch``) map to their PyPI names.
    Call before scanning: facts record the tier when they are extracted, and the
    ``ml-framework`` / ``ml-package`` classifiers read the same table when rules run.
    """
    _EXTRA_FRAMEWORKS.update(conda_to_pypi(n) for n in names)
    _changed()


def reset_frameworks() -> None:
    """Forget packages added with :func:`extend_frameworks` (tests, repeated API scans)."""
    _EXTRA_FRAMEWORKS.clear()
    _changed()


GENERATION = [0]
"""Incremented whenever the tables change at run time: what classifiers answered before
(and anything that remembers their answers) may no longer hold."""


def _changed() -> None:
    framework_tier.cache_clear()
    GENERATION[0] += 1


def conda_to_pypi(name: str) -> str:
    """The PyPI name of a conda package (``pytorch`` -> ``torch``), normalised."""
    pkg = normalize_package(name)
    aliases = table("frameworks").get("conda_names") or {}
    return str(aliases.get(pkg, pkg))


@functools.lru_cache(maxsize=4096)
def framework_tier(name: str) -> int | None:
    """1 or 2 for ML frameworks and serving libraries, else None."""
    pkg = normalize_package(name)
    if pkg in _EXTRA_FRAMEWORKS:
        return 1
    data = table("frameworks")
    for tier, key in ((1, "tier1"), (2, "tier2")):
        for entry in data[key]:
            if (entry.endswith("*") and pkg.startswith(entry[:-1])) or pkg == entry:
                return tier
    return None


def security_defaults_package(name: str) -> bool:
    return normalize_package(name) in set(table("frameworks")["security_defaults"])


def vulnerable_floor(name: str) -> dict[str, Any] | None:
    """The known-vulnerable floor of a Python package (``data/vulnerable.yaml``)."""
    pkg = normalize_package(name)
    for entry in table("vulnerable"):
        if entry.get("package") == pkg:
            return dict(entry)
    return None


@functools.lru_cache(maxsize=1)
def _image_floors() -> list[tuple[list[re.Pattern[str]], dict[str, Any]]]:
    return [
        ([re.compile(p) for p in entry["image"]], dict(entry))
        for entry in table("vulnerable")
        if entry.get("image")
    ]


def image_floor(ref: str) -> dict[str, Any] | None:
    """The version floor of an image whose tags carry a component version, by reference."""
    name = parse_image(ref).match_name.lower()
    for patterns, entry in _image_floors():
        if any(p.search(name) for p in patterns):
            return entry
    return None


_IMAGE_VERSION = re.compile(r"^v?(?P<version>[0-9]+(?:\.[0-9]+)+)(?=$|[-_+])")


def image_version(ref: str) -> str | None:
    """The version at the start of an image tag (``24.05-py3`` -> ``24.05``,
    ``v0.6.3`` -> ``0.6.3``, ``0.8.1-cpu`` -> ``0.8.1``); None for other tags."""
    tag = parse_image(ref).tag
    if not tag or "$" in tag:
        return None
    m = _IMAGE_VERSION.match(tag)
    return m.group("version") if m else None


# ---------------------------------------------------------------- images


class ImageRef(Struct, frozen=True):
    raw: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    dynamic: bool = False

    @property
    def match_name(self) -> str:
        """``registry/repository`` with Docker Hub's registry and ``library/`` dropped."""
        repo = (
            self.repository.removeprefix("library/")
            if self.registry == "docker.io"
            else self.repository
        )
        return repo if self.registry == "docker.io" else f"{self.registry}/{repo}"


_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def parse_image(ref: str) -> ImageRef:
    raw = ref
    ref = ref.strip()
    dynamic = "$" in ref or "{{" in ref
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag = None
    slash, colon = ref.rfind("/"), ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, repo = parts[0].lower(), "/".join(parts[1:])
    else:
        registry, repo = "docker.io", ref
    if registry in _DOCKER_HUB:
        registry = "docker.io"
    return ImageRef(raw, registry, repo, tag or None, digest or None, dynamic)


class ImageFamily(Struct, frozen=True):
    family: str
    ml: bool
    server: str | None = None
    ports: dict[int, str] = field(default_factory=dict)
    admin: tuple[int, ...] = ()
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def _families() -> list[tuple[list[re.Pattern[str]], ImageFamily]]:
    out = []
    for entry in table("images"):
        fam = ImageFamily(
            family=entry["family"],
            ml=bool(entry.get("ml", False)),
            server=entry.get("server"),
            ports={int(k): str(v) for k, v in (entry.get("ports") or {}).items()},
            admin=tuple(int(p) for p in entry.get("admin", [])),
            user=entry.get("user"),
            env={str(k): str(v) for k, v in (entry.get("env") or {}).items()},
        )
        out.append(([re.compile(p) for p in entry["match"]], fam))
    return out


@functools.lru_cache(maxsize=4096)
def image_family(ref: str) -> ImageFamily | None:
    name = parse_image(ref).match_name.lower()
    for patterns, fam in _families():
        if any(p.search(name) for p in patterns):
            return fam
    return None


def ports_of_server(server: str) -> tuple[dict[int, str], tuple[int, ...]]:
    """Default ports and admin ports of a model server, from the image table."""
    for _, fam in _families():
        if fam.server == server:
            return fam.ports, fam.admin
    return {}, ()


# ---------------------------------------------------------------- credentials


@functools.lru_cache(maxsize=1)
def _credential_names() -> tuple[set[str], tuple[str, ...]]:
    data = table("credentials")
    return {n.upper() for n in data["names"]}, tuple(data["name_suffixes"])


@functools.lru_cache(maxsize=1)
def _credential_formats() -> list[tuple[str, re.Pattern[str]]]:
    """Each token format, compiled: only needed once the combined pattern has matched."""
    return [(v["name"], re.compile(v["regex"])) for v in table("credentials")["value_patterns"]]


@functools.lru_cache(maxsize=1)
def _placeholders() -> tuple[list[re.Pattern[str]], set[str]]:
    data = table("credentials")
    placeholders = [re.compile(p) for p in data["placeholders"]]
    return placeholders, {str(v).lower() for v in data["non_secrets"]}


@functools.lru_cache(maxsize=1)
def _short_suffixes() -> tuple[str, ...]:
    return tuple(str(s) for s in table("credentials").get("short_suffixes", ()))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def credential_name_words(name: str) -> str:
    """``dbPassword`` -> ``DB_PASSWORD``, ``db-pass`` -> ``DB_PASS``, ``s3.secretKey`` ->
    ``S3_SECRET_KEY``: the upper-case, ``_``-separated form names are compared in."""
    return _CAMEL.sub("_", name[:200]).upper().replace("-", "_").replace(".", "_")


def credential_name_terms() -> tuple[str, ...]:
    """Every name and name suffix :func:`is_credential_name` accepts a name by."""
    names, suffixes = _credential_names()
    return (*sorted(names), *suffixes, *_short_suffixes())


def is_credential_name(name: str) -> bool:
    if len(name) > _NAME_MEMO_CHARS:
        return _is_credential_name(name)
    return _credential_name_memo(name)


_NAME_MEMO_CHARS = 200


@functools.lru_cache(maxsize=16_384)
def _credential_name_memo(name: str) -> bool:
    """Names repeat on every line that assigns them (the credentials table is fixed)."""
    return _is_credential_name(name)


def _is_credential_name(name: str) -> bool:
    names, suffixes = _credential_names()
    upper = name.upper().replace("-", "_").replace(".", "_")
    if upper in names:
        return True
    for form in {upper, credential_name_words(name)}:
        if any(form == s or form.endswith("_" + s) for s in suffixes):
            return True
        if any(form.endswith("_" + s) and len(form) > len(s) + 1 for s in _short_suffixes()):
            return True
    return False


def credential_value_kind(value: str) -> str | None:
    """The token type when ``value`` contains a known credential format."""
    any_token = any_credential_value()
    if any_token is not None and any_token.search(value) is None:
        return None  # one pass over the text instead of one per format: most values
    for name, pattern in _credential_formats():
        if pattern.search(value):
            return str(name)
    return None


def may_hold_credential_value(text: str) -> bool:
    """False only when no known credential format occurs in ``text`` (one pass over the
    text for all formats); True means: try the formats one by one."""
    any_token = any_credential_value()
    return any_token is None or any_token.search(text) is not None


@functools.cache
def any_credential_value() -> re.Pattern[str] | None:
    """All credential formats as one alternation (None if they cannot be combined)."""
    return one_alternation(str(v["regex"]) for v in table("credentials")["value_patterns"])


GLOBAL_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
"""Inline flags at the start of a pattern (``(?i)``): global, so not joinable as they are."""


def one_alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern that matches where any of ``patterns`` does (None if they cannot be
    combined). A pattern's leading global flags (``(?i)…``) become a scoped group
    (``(?i:…)``): global flags are only allowed at the start of the whole expression."""
    parts = []
    for p in patterns:
        m = GLOBAL_FLAGS.match(p)
        parts.append(f"(?{m.group(1)}:{p[m.end() :]})" if m else f"(?:{p})")
    try:
        return re.compile("|".join(parts))
    except re.error:
        return None


def is_placeholder(value: str) -> bool:
    placeholders, non_secrets = _placeholders()
    v = value.strip()
    if v.lower() in non_secrets:
        return True
    return any(p.search(v) for p in placeholders)
