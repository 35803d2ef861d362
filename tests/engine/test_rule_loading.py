"""Built-in rules load fast (a hash-checked bundle, lazy compilation) and never stale."""

from __future__ import annotations

import shutil
from pathlib import Path

from mlsec_lint import databundle, datadirs
from mlsec_lint.engine import rules as R


def test_every_builtin_condition_compiles() -> None:
    for rule in R.builtin_rules():
        for cond in [rule.when, *(a.when for a in rule.adjust)]:
            assert isinstance(cond, R.LazyCondition)
            cond.force()


def test_a_stale_bundle_is_ignored(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(datadirs.builtin_rules_dir(), copy)
    databundle.write(copy)
    target = copy / "py" / "MLS-PY-002.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(
        text.replace("title: PyTorch checkpoint", "title: Edited PyTorch checkpoint"),
        encoding="utf-8",
    )
    loaded = {r.id: r for r in R.load_builtin(copy)}
    assert loaded["MLS-PY-002"].title.startswith("Edited")
    (copy / databundle.BUNDLE_NAME).write_text("{not json", encoding="utf-8")
    assert {r.id for r in R.load_builtin(copy)} == set(loaded)


def test_bundle_and_yaml_give_the_same_rules(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(datadirs.builtin_rules_dir(), copy)
    via_bundle = R.load_builtin(copy)
    (copy / databundle.BUNDLE_NAME).unlink()
    via_yaml = R.load_builtin(copy)

    def strip(r: R.Rule) -> tuple[object, ...]:
        return (r.id, r.title, r.message, r.docs, r.references, r.severity, r.target)

    assert [strip(r) for r in via_bundle] == [strip(r) for r in via_yaml]


def test_bundled_guards_are_the_guards_the_rules_imply() -> None:
    from mlsec_lint.engine.evaluate import rule_guards
    from mlsec_lint.records import replace

    rules = R.builtin_rules()
    assert all(r.guards is not None for r in rules), "run: python -m mlsec_lint.bundles"
    for rule in rules:
        assert rule_guards(rule) == rule_guards(replace(rule, guards=None)), rule.id
    assert any(rule_guards(r) for r in rules)


def test_a_stale_bundle_gives_no_guards(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(datadirs.builtin_rules_dir(), copy)
    assert all(r.guards is not None for r in R.load_builtin(copy))
    target = copy / "py" / "MLS-PY-002.yaml"
    target.write_text(target.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert all(r.guards is None for r in R.load_builtin(copy))
