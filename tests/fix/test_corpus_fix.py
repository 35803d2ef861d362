"""--fix --unsafe-fixes on real deployment files: every comment and every untouched line
is kept, the result parses, the fixable findings are gone and a second run changes
nothing."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.cli import main
from mlsec_lint.fix import plan
from mlsec_lint.redact import mask_lines

from ..conftest import SHARED

CORPUS = SHARED / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _changes(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


def test_fixing_the_corpus_keeps_comments_and_layout(tmp_path: Path, capsys) -> None:
    work = tmp_path / "corpus"
    shutil.copytree(CORPUS, work)
    before = _files(work)
    assert main(["scan", "--diff", "--unsafe-fixes", str(work)]) == 1
    assert _files(work) == before  # --diff writes nothing
    diff = capsys.readouterr().out
    main(["scan", "--fix", "--unsafe-fixes", str(work)])
    after = _files(work)
    changed = [name for name in before if before[name] != after[name]]
    # --diff showed exactly what --fix did
    expected = "".join(
        line
        for n in changed
        for line in difflib.unified_diff(before[n].splitlines(True), after[n].splitlines(True))
        for line in [line if line.endswith("\n") else line + "\n"]
    )
    # the diff is a report: credentials on its lines are masked like everywhere else
    assert sorted(_changes(diff)) == sorted(_changes("\n".join(mask_lines(expected.split("\n")))))
    assert len(changed) >= 5
    for name in changed:
        old, new = before[name].splitlines(), after[name].splitlines()
        # every comment line and every line that was not edited is still there, in order
        kept = [ln for ln in old if ln.lstrip().startswith("#")]
        assert _is_subsequence(kept, new), name
        assert len(set(old) - set(new)) <= 8, name
        if name.endswith((".yaml", ".yml")):
            list(yaml.safe_load_all(after[name]))
    result = scan(ScanOptions(paths=["."], base=str(work)))
    left = plan(result, unsafe=True)
    assert left.files == []  # the fixable findings are gone
    assert {why.split(",")[0] for _, why in left.failed} <= {
        "the file contains template expressions ({{ … }})"
    }
    assert main(["scan", "--fix", "--unsafe-fixes", str(work)]) in (0, 1)
    assert _files(work) == after  # a second run changes nothing
    capsys.readouterr()
    assert main(["scan", "--diff", "--unsafe-fixes", str(work)]) == 0
