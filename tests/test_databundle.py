"""Bundles of shipped YAML data: current, equal to the YAML, never served stale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlsec_lint import databundle
from mlsec_lint.errors import MlsecLintError


@pytest.mark.parametrize("directory", databundle.directories(), ids=lambda d: d.name)
def test_bundles_are_current(directory: Path) -> None:
    assert databundle.is_current(directory), "run: python -m mlsec_lint.bundles"


@pytest.mark.parametrize("directory", databundle.directories(), ids=lambda d: d.name)
def test_bundle_gives_what_the_yaml_gives(directory: Path) -> None:
    files = databundle.read_all(directory)
    assert databundle.load(directory) == databundle._parse_yaml(directory, files)


def test_an_edited_file_is_read_from_yaml(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    databundle.write(tmp_path)
    assert databundle.load(tmp_path) == [("a.yaml", {"x": 1})]
    (tmp_path / "a.yaml").write_text("x: 2\n", encoding="utf-8")
    assert not databundle.is_current(tmp_path)
    assert databundle.load(tmp_path) == [("a.yaml", {"x": 2})]
    (tmp_path / "b.yml").write_text("[1]\n", encoding="utf-8")
    assert databundle.load(tmp_path) == [("a.yaml", {"x": 2}), ("b.yml", [1])]


@pytest.mark.parametrize("content", ["{not json", "[]", '{"checksum": 3}', ""])
def test_a_malformed_bundle_is_ignored(tmp_path: Path, content: str) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    (tmp_path / databundle.BUNDLE_NAME).write_text(content, encoding="utf-8")
    assert databundle.load(tmp_path) == [("a.yaml", {"x": 1})]


def test_yaml_is_normalised_to_json_types(tmp_path: Path) -> None:
    (tmp_path / "ports.yaml").write_text("{8080: http}\n", encoding="utf-8")
    assert databundle.load(tmp_path) == [("ports.yaml", {"8080": "http"})]
    (tmp_path / "when.yaml").write_text("day: 2026-11-23\n", encoding="utf-8")
    with pytest.raises(MlsecLintError, match=r"when\.yaml: not JSON-compatible"):
        databundle.load(tmp_path)


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    with pytest.raises(MlsecLintError, match=r"bad\.yaml"):
        databundle.load(tmp_path)


def test_the_checksum_sees_renames_and_moves() -> None:
    a = databundle.checksum([("a.yaml", b"x"), ("b.yaml", b"y")])
    assert a != databundle.checksum([("a.yaml", b"y"), ("b.yaml", b"x")])
    assert a != databundle.checksum([("a.yaml", b"xb.yaml"), ("", b"y")])
    assert a == databundle.checksum([("a.yaml", b"x"), ("b.yaml", b"y")])


def test_the_shipped_rules_directory_is_copied_intact(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(databundle.directories()[0], copy)
    assert databundle.is_current(copy)


def test_derived_data_is_served_only_with_a_current_bundle(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("b: 2\na: 1\n", encoding="utf-8")
    seen: list[object] = []

    def derive(files: list[tuple[str, object]]) -> dict[str, object]:
        seen.append(files)
        return {"n": len(files)}

    databundle.write(tmp_path, derive)
    assert seen == [[["a.yaml", {"a": 1, "b": 2}]]]  # the data as the bundle holds it
    assert databundle.load_with_derived(tmp_path) == ([("a.yaml", {"a": 1, "b": 2})], {"n": 1})
    (tmp_path / "a.yaml").write_text("a: 3\n", encoding="utf-8")
    assert databundle.load_with_derived(tmp_path) == ([("a.yaml", {"a": 3})], {})
