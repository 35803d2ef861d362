"""Fact builders shared by several file kinds: images, environment variables."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact, record
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

_MUTABLE_TAGS = {
    "latest",
    "nightly",
    "main",
    "master",
    "dev",
    "develop",
    "edge",
    "stable",
    "devel",
    "rolling",
    "unstable",
    "canary",
}
_MUTABLE_PREFIXES = ("latest", "nightly", "main-", "master-", "edge-", "dev-", "rolling-")


# a release named after its branch (LiteLLM's main-v1.52.0) is a fixed tag
_RELEASE_ON_BRANCH = re.compile(r"^(main|master|dev|edge|rolling)-v?\d+\.\d+")
# references that a build or deployment tool replaces (kustomize `images:`, release scripts)
_PLACEHOLDER_TAGS = {"replace", "replaceme", "replace-me", "placeholder", "to-be-replaced"}
_PLACEHOLDER_NAME = re.compile(
    r"(?i)(^|[/_-])(image[_-]?placeholder|placeholder|replace[_-]?me)($|[/_:-])"
)


def image_fact(
    ref: str, span: Span, path: str, origin: str, key: str = "", **extra: object
) -> Fact:
    """An ``image`` fact: the parsed reference plus what the image table knows about it."""
    fields, placeholder, version = _image_knowledge(ref)
    if placeholder:
        extra = {**extra, "placeholder": True}
    data = record(span, **fields, origin=origin, **extra)
    for k in [k for k, v in data.items() if v is None]:
        del data[k]
    if version is not None:
        data.put("version", version[0], span, span)
        if version[1] is not None:
            data.put("component", version[1], span, span)
            if version[2] is not None:
                from mlsec_lint.facts.dependencies import vulnerability_of

                data.put("vulnerable", vulnerability_of(version[2], span), span, span)
    return Fact("image", path, data, span, key or f"image/{ref}")


@functools.lru_cache(maxsize=4096)
def _image_knowledge(
    ref: str,
) -> tuple[
    dict[str, object],
    bool,
    tuple[str, str | None, tuple[tuple[str, Any], ...] | None] | None,
]:
    """What an image fact says about ``ref`` wherever it is written (one image recurs across
    a repository's files): the fields from the reference and the image table, whether it
    is a placeholder, and (version, component, vulnerable fields) for versioned tags."""
    img = knowledge.parse_image(ref)
    fam = knowledge.image_family(ref)
    tag = img.tag
    tag_l = (tag or "").lower()
    mutable = img.digest is None and (
        tag is None
        or tag_l in _MUTABLE_TAGS
        or (tag_l.startswith(_MUTABLE_PREFIXES) and not _RELEASE_ON_BRANCH.match(tag_l))
    )
    placeholder = tag_l in _PLACEHOLDER_TAGS or bool(_PLACEHOLDER_NAME.search(ref[:512]))
    fields: dict[str, object] = {
        "image": ref,
        "registry": img.registry,
        "repository": img.repository,
        "name": img.match_name,
        "tag": tag,
        "digest": img.digest,
        "untagged": tag is None and img.digest is None,
        "mutable_tag": mutable,
        "dynamic": img.dynamic or placeholder,
        "ml": bool(fam and fam.ml),
        "family": fam.family if fam else None,
        "server": fam.server if fam else None,
    }
    return fields, placeholder, _image_version(ref)


def _image_version(ref: str) -> tuple[str, str | None, tuple[tuple[str, Any], ...] | None] | None:
    """``version`` from the tag; ``component`` and the ``vulnerable`` fields for images whose
    tag is the version of what they ship (``data/vulnerable.yaml``)."""
    from mlsec_lint.facts.dependencies import vulnerable_fields

    version = knowledge.image_version(ref)
    if version is None:
        return None
    floor = knowledge.image_floor(ref)
    if floor is None:
        return version, None, None
    return version, str(floor.get("component", "")), vulnerable_fields(ref, version, image=True)


def env_facts_from_k8s(env: PList, path: str, owner_key: str, origin: str) -> Iterator[Fact]:
    """``env:`` items of a container: ``{name, value}`` or ``{name, valueFrom}``."""
    for i, item in enumerate(env):
        if not isinstance(item, PDict) or not isinstance(item.get("name"), str):
            continue
        span = env.item_span(i)
        data = PDict(item.span)
        data.put("name", item["name"], item.kspan.get("name"), item.vspan.get("name"))
        if "value" in item:
            value = item["value"]
            data.put(
                "value",
                "" if value is None else str(value) if not isinstance(value, str) else value,
                item.kspan.get("value"),
                item.vspan.get("value"),
            )
        if "valueFrom" in item:
            data.put(
                "valueFrom",
                item["valueFrom"],
                item.kspan.get("valueFrom"),
                item.vspan.get("valueFrom"),
            )
        data.put("literal", "value" in item and "valueFrom" not in item, span)
        data.put("origin", origin, span)
        data.put("owner", owner_key, span)
        yield Fact("env", path, data, span, f"{owner_key}/env/{item['name']}")


def env_fact(
    name: str,
    value: str | None,
    span: Span,
    value_span: Span | None,
    path: str,
    origin: str,
    owner_key: str = "",
    literal: bool = True,
) -> Fact:
    data = PDict(span)
    data.put("name", name, span, span)
    if value is not None:
        data.put("value", value, value_span or span, value_span or span)
    data.put("literal", literal and value is not None, span)
    data.put("origin", origin, span)
    data.put("owner", owner_key, span)
    return Fact("env", path, data, span, f"{owner_key}/env/{name}")
