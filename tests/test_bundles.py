"""The bundle writer: which directories carry derived data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mlsec_lint import bundles, databundle
from mlsec_lint.datadirs import DATA_DIR, builtin_rules_dir
from mlsec_lint.engine.evaluate import derived_data


def test_the_built_in_rules_carry_their_guards_and_the_tables_nothing() -> None:
    assert bundles.deriver(builtin_rules_dir()) is derived_data
    assert bundles.deriver(DATA_DIR) is None


def test_a_rules_bundle_written_with_its_deriver_holds_the_guards(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(builtin_rules_dir(), copy)
    databundle.write(copy, derived_data)
    written = json.loads((copy / databundle.BUNDLE_NAME).read_text(encoding="utf-8"))
    shipped = json.loads((builtin_rules_dir() / databundle.BUNDLE_NAME).read_text("utf-8"))
    assert written["derived"] == shipped["derived"] and written["derived"]["guards"]
