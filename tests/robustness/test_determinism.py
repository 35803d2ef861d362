"""The same input gives byte-identical output whatever the number of workers and the
order in which directories are listed."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.reporters import ReportOptions, get_reporter


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("determinism")
    generate(root, 12)  # Python files with findings, manifests, Dockerfiles, requirements
    return root


def _reports(root: Path, **options: Any) -> dict[str, str]:
    result = scan(ScanOptions(paths=["."], base=str(root), **options))
    out = {}
    for fmt in ("json", "sarif", "text"):
        buf = io.StringIO()
        get_reporter(fmt)(result, buf, ReportOptions())
        out[fmt] = buf.getvalue()
    return out


def test_workers_do_not_change_the_output(repo: Path) -> None:
    serial = _reports(repo, jobs=1)
    assert '"findings": []' not in serial["json"]
    assert _reports(repo, jobs=2) == serial
    assert _reports(repo, jobs=3) == serial


def test_listing_order_does_not_change_the_output(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _reports(repo, jobs=1)
    real = os.scandir

    class Reversed:
        def __init__(self, path: Any) -> None:
            self.entries = list(reversed(list(real(path))))

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self.entries

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(os, "scandir", Reversed)
    assert _reports(repo, jobs=1) == expected
