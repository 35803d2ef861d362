"""Where the data the tool ships lives: the built-in rules and the knowledge tables.

Both are read through their JSON bundles (:mod:`mlsec_lint.databundle`); the rules by
:mod:`mlsec_lint.engine.rules`, the tables by :mod:`mlsec_lint.knowledge`.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


def builtin_rules_dir() -> Path:
    """The ruleset shipped in the wheel, or ``rules/`` of a source checkout."""
    packaged = Path(__file__).resolve().parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"
