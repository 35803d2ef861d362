"""``python -m mlsec_lint`` inside a scanned repository imports nothing from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_modules_planted_in_the_current_directory_are_not_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    for name in ("yaml.py", "typer.py", "packaging.py", "pathspec.py", "click.py"):
        (tmp_path / name).write_text(
            f"open({str(marker)!r}, 'a').write({name!r})\nraise SystemExit(99)\n",
            encoding="utf-8",
        )
    (tmp_path / "requirements.txt").write_text("torch\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mlsec_lint", "scan", "-q", "--format", "json", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert not marker.exists(), marker.read_text()
    assert proc.returncode == 1, proc.stderr
    assert "MLS-DEP-001" in proc.stdout
