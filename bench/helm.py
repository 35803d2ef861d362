"""What Helm support costs: nothing for a repository without charts, and the rendering
time per chart.

* a generated repository without charts (``bench/generate.py``), scanned in process:
  wall time and whether any ``mlsec_lint.helm`` module was imported;
* the same repository plus N copies of a small model-server chart: the scan time with
  the charts rendered and with rendering off, so the difference divided by N is the
  rendering cost per chart (two renders: the values, then the markers that trace them).

    python bench/helm.py --services 100 --charts 10 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402

CHART = ROOT / "fixtures" / "MLS-IMG-002" / "helm-torchserve"

_PROBE = """
import json, sys, time
from mlsec_lint.api import ScanOptions, scan
start = time.perf_counter()
result = scan(ScanOptions(paths=["."], base=sys.argv[1], helm_renderer=sys.argv[2])).result
elapsed = time.perf_counter() - start
helm = sorted(m for m in sys.modules if m.startswith("mlsec_lint.helm"))
print(json.dumps({"seconds": elapsed, "helm_modules": helm, "files": result.files_scanned}))
"""


def probe(repo: Path, renderer: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(repo), renderer],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def median_seconds(repo: Path, renderer: str, repeat: int) -> tuple[float, dict[str, object]]:
    runs = [probe(repo, renderer) for _ in range(repeat)]
    return statistics.median(float(str(r["seconds"])) for r in runs), runs[-1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=100)
    ap.add_argument("--charts", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mlsec-lint-bench-helm-") as tmp:
        repo = Path(tmp) / "repo"
        generate(repo, args.services)
        plain, info = median_seconds(repo, "auto", args.repeat)
        print(
            f"no charts, {info['files']} files: {plain:.2f} s; helm modules imported: "
            f"{info['helm_modules'] or 'none'}"
        )
        for i in range(args.charts):
            shutil.copytree(CHART, repo / "charts" / f"model-{i:03d}")
        off, _ = median_seconds(repo, "off", args.repeat)
        on, info = median_seconds(repo, "auto", args.repeat)
        per_chart = (on - off) / max(args.charts, 1)
        print(
            f"{args.charts} charts, rendering off: {off:.2f} s; rendered: {on:.2f} s; "
            f"rendering cost per chart: {per_chart * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
