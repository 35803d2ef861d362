from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"
# The corpus of real public deployment files is evaluation data kept beside the repository
# (or named by MLSEC_LINT_CORPUS) and not redistributed with it: tests over it skip, with
# this reason, on other clones.
CORPUS = Path(os.environ.get("MLSEC_LINT_CORPUS") or SHARED / "corpus")
CORPUS_ABSENT = (
    "../shared/corpus is absent (real public deployment files used for evaluation, "
    "not redistributed with the repository)"
)


@pytest.fixture(autouse=True)
def _no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A temporary working directory; write(name, text) creates files in it."""
    monkeypatch.chdir(tmp_path)

    def write(name: str, text: str) -> Path:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        return p

    write.root = tmp_path  # type: ignore[attr-defined]
    return write


def pytest_report_header() -> str:
    return f"mlsec-lint tests; corpus {CORPUS if CORPUS.is_dir() else 'absent'}"


os.environ.setdefault("PYTHONHASHSEED", "0")
