"""Checks every SARIF report in the tests must pass: both schemas and GitHub's rules.

The schemas are the OASIS errata01 file (draft-04, the stricter one about regions) and
the copy GitHub's uploader validates against (draft 2020-12), shipped in ``schemas/``
(provenance and licences in schemas/README.md).
Formats are really checked: ``jsonschema[format-nongpl]`` brings the URI checkers, and
the draft-04 schema needs the generic ``FormatChecker()`` (its own does not know
``uri-reference``). The GitHub ingestion rules that no schema expresses (conventions.md,
sections 1.2, 1.8 and 1.9) are explicit assertions.
"""

from __future__ import annotations

import functools
import json
import math
import re
import urllib.parse
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import validators

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = ("sarif-schema-2.1.0.json", "sarif-schema-2.1.0.github-2020-12.json")
SCHEMA_SHA256 = {
    "sarif-schema-2.1.0.json": "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
    "sarif-schema-2.1.0.github-2020-12.json": (
        "46d4203e43b978a433943881354db1e40e81437d4b46c00f05016110c6b14693"
    ),
}
LEVELS = {"none", "note", "warning", "error"}


@functools.cache
def _validator(name: str) -> Any:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    cls = validators.validator_for(schema)
    return cls(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(doc: Any) -> list[str]:
    out = []
    for name in SCHEMA_FILES:
        for err in _validator(name).iter_errors(doc):
            out.append(f"{name}: {'/'.join(map(str, err.absolute_path))}: {err.message}")
    return out


def check_uri_reference(uri: str) -> None:
    from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]

    assert uri, "empty URIs cannot be processed by GitHub"
    assert validate_rfc3986(uri, rule="URI_reference"), f"not an RFC 3986 reference: {uri!r}"
    assert uri.isascii() and " " not in uri and "\\" not in uri, uri


def check_artifact_location(loc: dict[str, Any]) -> None:
    uri = loc["uri"]
    check_uri_reference(uri)
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme:
        assert parsed.scheme == "file" and "uriBaseId" not in loc, loc
        return
    assert loc.get("uriBaseId") == "%SRCROOT%", loc
    assert not uri.startswith("/"), f"relative URIs under a base must not start with '/': {uri}"
    segments = urllib.parse.unquote(uri).split("/")
    assert ".." not in segments and "." not in segments and "" not in segments, uri
    assert not re.match(r"^[A-Za-z]:", urllib.parse.unquote(uri)), uri


def check_region(region: dict[str, Any]) -> None:
    assert region["startLine"] >= 1
    assert region.get("startColumn", 1) >= 1
    end_line = region.get("endLine", region["startLine"])
    assert end_line >= region["startLine"]
    if end_line == region["startLine"] and "endColumn" in region:
        assert region["endColumn"] > region.get("startColumn", 1), region


def check_sarif(doc: Any) -> None:
    """Raise AssertionError for anything the schemas or GitHub would reject."""
    errors = schema_errors(doc)
    assert errors == [], errors
    assert doc["$schema"].endswith("sarif-2.1.0.json") and doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1, "one run per file"
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mlsec-lint"
    assert driver["version"] and driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)), "duplicate rule descriptors"
    for r in rules:
        assert r["name"] and r["name"] != r["id"] and len(r["name"]) <= 255
        for key in ("shortDescription", "fullDescription"):
            assert 0 < len(r[key]["text"]) <= 1024, (r["id"], key)
        assert r["help"]["text"].strip() and r["help"]["markdown"].strip()
        if "helpUri" in r:
            parsed = urllib.parse.urlsplit(r["helpUri"])
            assert parsed.scheme in ("http", "https") and parsed.netloc, r["helpUri"]
        assert r["defaultConfiguration"]["level"] in ("note", "warning", "error")
        props = r["properties"]
        tags = props["tags"]
        assert len(tags) == len(set(tags)) and 0 < len(tags) <= 20 and "security" in tags
        assert all(isinstance(t, str) and t for t in tags)
        assert props["precision"] in ("very-high", "high", "medium", "low")
        score = props["security-severity"]
        assert isinstance(score, str) and re.fullmatch(r"\d+(\.\d+)?", score), score
        assert 0.0 < float(score) <= 10.0 and math.isfinite(float(score))
    assert "results" in run and isinstance(run["results"], list), "results must be present"
    assert len(run["results"]) <= 25_000
    if run["results"]:
        assert run["columnKind"] in ("unicodeCodePoints", "utf16CodeUnits")
    assert run["automationDetails"]["id"].endswith("/")
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    for note in invocation.get("toolExecutionNotifications", []):
        assert note["message"]["text"]
        for loc in note.get("locations", []):
            check_artifact_location(loc["physicalLocation"]["artifactLocation"])
    with_suppressions = [("suppressions" in r) for r in run["results"]]
    assert all(with_suppressions) or not any(with_suppressions), "suppressions: all or none"
    for res in run["results"]:
        assert res["ruleId"] in ids
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in LEVELS
        text = res["message"]["text"]
        assert text.strip() and text.rstrip().endswith((".", "?", "!")), text
        assert len(res["locations"]) == 1
        phys = res["locations"][0]["physicalLocation"]
        check_artifact_location(phys["artifactLocation"])
        check_region(phys["region"])
        fps = res["partialFingerprints"]
        assert re.fullmatch(r"[0-9a-f]{1,16}:\d+", fps["primaryLocationLineHash"])
        assert re.fullmatch(r"[0-9a-f]{32}", fps["mlsecLint/v1"])
        for sup in res.get("suppressions", []):
            assert sup["kind"] in ("inSource", "external") and sup["justification"]
