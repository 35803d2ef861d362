"""The built-in ruleset is valid data: schema, naming, docs and references."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mlsec_lint.datadirs import builtin_rules_dir
from mlsec_lint.engine.rules import builtin_rules, parse_rule, rule_files, schema
from mlsec_lint.errors import MlsecLintError

FILES = rule_files(builtin_rules_dir())


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_there_are_rules() -> None:
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_rule_matches_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(_load(path))
    ]
    assert errors == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_rule_file_layout_and_text(path: Path) -> None:
    data = _load(path)
    assert path.stem == data["id"], "file name must equal the rule id"
    assert path.parent.name == data["id"].split("-")[1].lower(), "rules live in rules/<area>/"
    assert data["message"].rstrip().endswith("."), "messages are sentences"
    for adj in data.get("adjust", []):
        assert not adj.get("note") or adj["note"].rstrip().endswith("."), "notes are sentences"
    assert data["title"][0].isupper() and not data["title"].endswith(".")


def test_ids_and_names_are_unique() -> None:
    rules = builtin_rules()
    assert len({r.id for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def test_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_bad_rule_is_a_clear_error() -> None:
    data = _load(FILES[0])
    data["when"] = {"path": "x", "frobnicate": 1}
    with pytest.raises(MlsecLintError, match="unknown operator"):
        parse_rule(data, "bad.yaml", builtin=False)
    data["when"] = {"path": "x", "exists": True}
    data["target"] = "nothing"
    with pytest.raises(MlsecLintError, match="unknown target"):
        parse_rule(data, "bad.yaml", builtin=False)


def test_targets_and_classifiers_come_from_the_registries() -> None:
    from mlsec_lint.engine.classifiers import CLASSIFIERS
    from mlsec_lint.facts import FACT_KINDS

    for path in FILES:
        data = _load(path)
        assert data["target"] in FACT_KINDS
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"\bis(?:-not)?: \[?([a-z-]+)", text):
            assert name in CLASSIFIERS, f"{path.name}: unknown classifier {name}"
