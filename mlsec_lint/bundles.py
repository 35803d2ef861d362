"""Rewrite the data bundles: ``python -m mlsec_lint.bundles`` (after editing anything in
``rules/`` or ``mlsec_lint/data/``; a test fails while a bundle is stale).

What a bundle carries besides the parsed files is derived here, above both the bundle
reader (:mod:`mlsec_lint.databundle`, which the rule engine reads rules through) and the
rule engine: the index guards of the built-in rules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlsec_lint import databundle
from mlsec_lint.datadirs import builtin_rules_dir
from mlsec_lint.engine.evaluate import derived_data


def deriver(directory: Path) -> Callable[[list[tuple[str, Any]]], Any] | None:
    """What is derived from ``directory``'s files when it is bundled (None: nothing)."""
    return derived_data if directory == builtin_rules_dir() else None


def main() -> None:
    for directory in databundle.directories():
        print(databundle.write(directory, deriver(directory)))


if __name__ == "__main__":  # pragma: no cover - developer entry point
    main()
