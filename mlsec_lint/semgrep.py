"""The optional second engine: rules written in Semgrep syntax, run in one subprocess.

Two kinds of Semgrep rules run here:

* **built-in deep rules** (taint from model output or request data into code execution
  and deserializers). Each is a normal rule file in ``rules/`` with ``target:
  semgrep-match`` (id, name, category, severity, message, docs, fixtures) plus the Semgrep
  patterns in ``mlsec_lint/semgrep_rules/<ID>.yaml``;
* **a user's own Semgrep rule files** (``--semgrep-config FILE``): their ids, messages and
  severities are taken from the files, with ``metadata.category`` when it is one of ours.

Semgrep runs once per scan, on the scanned Python files only, with metrics, version
checks and its own ``nosemgrep`` handling off, and never when no Python file is scanned
or no Semgrep rule is selected. Each result becomes a ``semgrep-match`` fact that the rule
evaluates like any other, so findings carry the same ids, severities and messages and go
through the same suppressions, baseline and reporters. Without the ``semgrep`` executable
the scan reports one notice and goes on; the exit code does not change.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsec_lint.model import CATEGORIES, Finding, Notice, Severity, Span
from mlsec_lint.tree import PDict

if TYPE_CHECKING:
    from mlsec_lint.engine.rules import Rule
    from mlsec_lint.facts import FileAnalysis
    from mlsec_lint.source import Source

TARGET = "semgrep-match"
TIMEOUT_SECONDS = 600
INSTALL_HINT = "pip install 'semgrep>=1.180' (the mlsec-lint[semgrep] extra)"
_SEVERITIES = {
    "ERROR": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}
_cache: dict[tuple[Any, ...], dict[str, Any]] = {}


def builtin_patterns_dir() -> Path:
    return Path(__file__).resolve().parent / "semgrep_rules"


def find_executable() -> str | None:
    """``semgrep`` next to this interpreter (an unactivated virtualenv) or on PATH."""
    import shutil

    name = "semgrep.exe" if os.name == "nt" else "semgrep"
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("semgrep")


def available() -> bool:
    return find_executable() is not None


def findings(
    configs: Sequence[str],
    ignore: Sequence[str],
    rules: list[Rule],
    sources: dict[str, Source],
    analyses: Sequence[FileAnalysis],
    notices: list[Notice],
    line_of: Callable[[str, int], str],
) -> list[Finding]:
    """Run the selected built-in Semgrep rules and the user's Semgrep files.

    ``configs`` are the user's Semgrep files (``--semgrep-config``), ``ignore`` the
    selectors of ignored rules (applied to the rules of those files). Rules synthesised
    from the user's files are appended to ``rules`` (so reporters can describe them);
    problems become ``notices``.
    """
    configs = list(configs)
    builtin = [r for r in rules if r.target == TARGET]
    if not builtin and not configs:
        return []
    python = [sources[fa.path] for fa in analyses if fa.kind == "python" and fa.path in sources]
    if not python:
        return []
    user_rules, files = _user_rules(configs, ignore, notices)
    rules.extend(user_rules)
    patterns = builtin_patterns_dir()
    for r in builtin:
        f = patterns / f"{r.id}.yaml"
        if f.is_file():
            files.append(str(f))
    if not files:
        return []
    exe = find_executable()
    if exe is None:
        ids = ", ".join(sorted(r.id for r in [*builtin, *user_rules]))
        notices.append(
            Notice(
                "<semgrep>",
                "semgrep-missing",
                f"Semgrep is not installed, so these rules did not run: {ids}; "
                f"install it with: {INSTALL_HINT}",
                "note",
            )
        )
        return []
    data = _run(exe, files, python, notices)
    if data is None:
        return []
    return _to_findings(data, [*builtin, *user_rules], python, line_of)


def _user_rules(
    configs: Sequence[str], ignore: Sequence[str], notices: list[Notice]
) -> tuple[list[Rule], list[str]]:
    """Rules for the ids in the user's Semgrep files (each file is passed to Semgrep)."""
    import yaml

    from mlsec_lint.engine.rules import matches_selector
    from mlsec_lint.errors import MlsecLintError

    out: list[Rule] = []
    files: list[str] = []
    for config in configs:
        path = Path(config)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise MlsecLintError(f"cannot read Semgrep rules {config}: {exc}") from None
        entries = data.get("rules") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise MlsecLintError(f"{config}: a Semgrep rule file needs a 'rules' list")
        files.append(str(path.resolve()))
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise MlsecLintError(f"{config}: every Semgrep rule needs an 'id'")
            rule = _user_rule(entry, str(path))
            if not any(matches_selector(rule, s) for s in ignore):
                out.append(rule)
    return out, files


def _user_rule(entry: dict[str, Any], source: str) -> Rule:
    from mlsec_lint.engine.predicates import compile_condition
    from mlsec_lint.engine.rules import Rule

    rid = str(entry["id"])
    raw_meta = entry.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    category = str(meta.get("category", "")).lower()
    severity = _SEVERITIES.get(str(entry.get("severity", "WARNING")).upper(), Severity.MEDIUM)
    message = " ".join(str(entry.get("message", rid)).split())
    refs: dict[str, Any] = {}
    cwe = meta.get("cwe")
    if cwe:
        refs["cwe"] = [str(c).split(":")[0] for c in (cwe if isinstance(cwe, list) else [cwe])]
    return Rule(
        id=rid,
        name=rid.lower().replace("_", "-").replace(".", "-"),
        title=message.split(". ")[0][:120] or rid,
        category=category if category in CATEGORIES else "runtime-hardening",
        severity=severity,
        target=TARGET,
        when=compile_condition({"path": "check", "equals": rid}),
        message="{message}",
        docs={"what": message},
        references=refs,
        source=source,
        builtin=False,
    )


def _run(
    exe: str, files: list[str], python: list[Source], notices: list[Notice]
) -> dict[str, Any] | None:
    import json
    import subprocess
    import tempfile

    key = (
        exe,
        tuple((f, os.path.getmtime(f)) for f in files),
        tuple((s.abspath, s.path, hash(s.text)) for s in python),
    )
    if key in _cache:
        return _cache[key]
    with tempfile.TemporaryDirectory(prefix="mlsec-lint-semgrep-") as tmp:
        targets = []
        for i, s in enumerate(python):
            if s.abspath and os.path.isfile(s.abspath):
                targets.append(s.abspath)
            else:  # standard input: give Semgrep a file with the same name
                d = Path(tmp) / str(i)
                d.mkdir()
                copy = d / (Path(s.path).name or "stdin.py")
                copy.write_text(s.text, encoding="utf-8")
                targets.append(str(copy))
        cmd = [
            exe,
            "scan",
            "--json",
            "--quiet",
            "--metrics=off",
            "--disable-version-check",
            "--disable-nosem",
            "--no-git-ignore",
            "--scan-unknown-extensions",
        ]
        for f in files:
            cmd += ["--config", f]
        env = {
            **os.environ,
            "SEMGREP_SEND_METRICS": "off",
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
        }
        try:
            proc = subprocess.run(
                [*cmd, "--", *targets],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                env=env,
                cwd=tmp,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            notices.append(Notice("<semgrep>", "semgrep-error", f"Semgrep failed: {exc}", "error"))
            return None
        try:
            data: dict[str, Any] = json.loads(proc.stdout)
        except ValueError:
            detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            notices.append(
                Notice(
                    "<semgrep>",
                    "semgrep-error",
                    f"Semgrep exited with code {proc.returncode}: {detail}",
                    "error",
                )
            )
            return None
        data["_targets"] = dict(zip(targets, [s.path for s in python], strict=True))
    for err in data.get("errors") or []:
        where = err.get("path") or "<semgrep>"
        msg = " ".join(str(err.get("message") or err.get("type") or err).split())
        notices.append(
            Notice(
                data["_targets"].get(where, where),
                "semgrep-error",
                f"Semgrep: {msg[:300]}",
                "warning",
            )
        )
    if len(_cache) >= 8:
        _cache.clear()
    _cache[key] = data
    return data


def _to_findings(
    data: dict[str, Any],
    rules: list[Rule],
    python: list[Source],
    line_of: Callable[[str, int], str],
) -> list[Finding]:
    from mlsec_lint.engine.evaluate import Evaluator
    from mlsec_lint.facts import Fact

    by_id = {r.id: r for r in rules}
    targets: dict[str, str] = data.get("_targets", {})
    sources = {s.path: s for s in python}
    out: list[Finding] = []
    for res in data.get("results") or []:
        rule = _rule_for(str(res.get("check_id", "")), by_id)
        path = targets.get(str(res.get("path")))
        if rule is None or path is None:
            continue
        start, end = res.get("start") or {}, res.get("end") or {}
        line, col = int(start.get("line", 1)), int(start.get("col", 1))
        eline, ecol = int(end.get("line", line)), int(end.get("col", col + 1))
        span = Span(line, col, eline, ecol if eline > line else max(ecol, col + 1))
        src = sources[path]
        text = src.line(line)
        matched = text[col - 1 : ecol - 1] if eline == line else text[col - 1 :]
        extra = res.get("extra") or {}
        data_ = PDict(span)
        for k, v in (
            ("check", rule.id),
            ("message", " ".join(str(extra.get("message", "")).split())),
            ("severity", str(extra.get("severity", ""))),
            ("code", matched.strip()),
            ("line", text.strip()),
        ):
            data_.put(k, v, span, span)
        fact = Fact(TARGET, path, data_, span, f"semgrep/{rule.id}/{text.strip()}")
        out.extend(Evaluator.check(rule, fact, line_of))
    return out


def _rule_for(check_id: str, by_id: dict[str, Rule]) -> Rule | None:
    """Semgrep prefixes rule ids with the config file's location; match the longest id."""
    best: Rule | None = None
    for rid, rule in by_id.items():
        if (check_id == rid or check_id.endswith("." + rid)) and (
            best is None or len(rid) > len(best.id)
        ):
            best = rule
    return best
