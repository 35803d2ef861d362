"""Compare mlsec-lint's Python rules with bandit's overlapping tests on the same files.

Usage (bandit lives in its own virtual environment, outside the project):

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install bandit
    .venv/bin/python bench/compare_bandit.py --bandit /tmp/peers/bin/bandit

Files: every Python fixture of the MLS-PY rules and the scripts in bench/scripts.
Findings are compared per family at the line of the enclosing call (bandit reports the
call's first line, mlsec-lint the argument that decides). Prints the counts per family,
the lines only one tool reports, and the whole-process time of a single-file scan
(median of several runs) for both tools.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FAMILIES = {
    "pickle": ({"B301"}, {"MLS-PY-001"}),
    "yaml": ({"B506"}, {"MLS-PY-004"}),
    "tls-verify": ({"B501"}, {"MLS-PY-010", "MLS-PY-017"}),
    "bind-all": ({"B104"}, {"MLS-PY-012/bind"}),
    "flask-debug": ({"B201"}, {"MLS-PY-012/debug"}),
    "torch-load": ({"B614"}, {"MLS-PY-002"}),
    "hub-revision": ({"B615"}, {"MLS-PY-007", "MLS-PY-006"}),
}
TESTS = sorted({t for b, _ in FAMILIES.values() for t in b})


def python_files() -> list[Path]:
    files = sorted((ROOT / "fixtures").glob("MLS-PY-*/**/*.py"))
    return files + sorted((ROOT / "bench" / "scripts").glob("*.py"))


def call_lines(files: list[Path]) -> dict[str, list[tuple[int, int]]]:
    """(first line, last line) of every call, per file: to align both tools' lines."""
    from mlsec_lint.facts.python import extract

    out: dict[str, list[tuple[int, int]]] = {}
    for f in files:
        text = f.read_text(encoding="utf-8")
        facts = extract(text, str(f), text.split("\n")).facts
        out[str(f)] = [(x.anchor.line, x.anchor.end_line) for x in facts if x.kind == "python-call"]
    return out


def align(path: str, line: int, calls: dict[str, list[tuple[int, int]]]) -> int:
    spans = [s for s in calls.get(path, []) if s[0] <= line <= s[1]]
    return min(spans, key=lambda s: s[1] - s[0])[0] if spans else line


def run_bandit(bandit: str, files: list[Path]) -> list[tuple[str, str, int]]:
    proc = subprocess.run(
        [bandit, "-q", "-f", "json", "-t", ",".join(TESTS), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(proc.stdout)
    return [(r["test_id"], r["filename"], r["line_number"]) for r in data["results"]]


def run_mlsec(files: list[Path]) -> list[tuple[str, str, int]]:
    from mlsec_lint.api import ScanOptions, scan

    rules = sorted({r.split("/")[0] for _, m in FAMILIES.values() for r in m})
    out: list[tuple[str, str, int]] = []
    for directory in sorted({f.parent for f in files}):
        result = scan(
            ScanOptions(paths=["."], base=str(directory), select=rules, respect_gitignore=False)
        ).result
        for f in result.findings:
            full = str(directory / f.path)
            if Path(full) in files:
                rid = f.rule_id
                if rid == "MLS-PY-012":  # one rule, two bandit tests
                    rid += "/debug" if "Debug mode" in f.message else "/bind"
                out.append((rid, full, f.line))
    return out


def single_file_time(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bandit", default="bandit")
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    files = python_files()
    calls = call_lines(files)
    bandit = run_bandit(args.bandit, files)
    mlsec = run_mlsec(files)
    print(f"{len(files)} files\n")
    print(f"{'family':<13} {'both':>5} {'mlsec only':>11} {'bandit only':>12}")
    detail: dict[str, list[str]] = defaultdict(list)
    for family, (btests, mrules) in FAMILIES.items():
        b = {(p, align(p, ln, calls)) for t, p, ln in bandit if t in btests}
        m = {(p, align(p, ln, calls)) for r, p, ln in mlsec if r in mrules}
        print(f"{family:<13} {len(b & m):>5} {len(m - b):>11} {len(b - m):>12}")
        for p, ln in sorted(m - b):
            detail[family].append(f"  mlsec only   {Path(p).relative_to(ROOT)}:{ln}")
        for p, ln in sorted(b - m):
            detail[family].append(f"  bandit only  {Path(p).relative_to(ROOT)}:{ln}")
    for family, lines in detail.items():
        print(f"\n{family}")
        print("\n".join(lines))
    target = str(ROOT / "bench" / "scripts" / "serve_fastapi.py")
    mlsec_exe = str(Path(sys.executable).parent / "mlsec-lint")
    t_mlsec_ast = single_file_time([mlsec_exe, "scan", target], args.runs)
    t_mlsec = single_file_time([mlsec_exe, "scan", target, "--select", "ALL"], args.runs)
    t_bandit = single_file_time([args.bandit, "-q", target], args.runs)
    print(f"\nsingle-file scan, whole process, median of {args.runs} runs:")
    print(f"  mlsec-lint (default rules)    {t_mlsec_ast:.3f} s")
    print(f"  mlsec-lint (--select ALL)     {t_mlsec:.3f} s")
    print(f"  bandit (all tests)            {t_bandit:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
