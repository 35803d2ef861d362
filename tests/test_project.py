"""Project invariants: README commands, CI script, generated docs, the installed wheel."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from mlsec_lint.docs import render_index, render_rule_markdown
from mlsec_lint.engine.rules import builtin_rules

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = re.findall(r"```sh\n(.+?)\n```", README)


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:1200]
    assert len(COMMANDS) >= 2 and COMMANDS[0] in head and COMMANDS[1] in head
    assert "mlsec-lint scan examples" in COMMANDS[0]
    assert "pytest" in COMMANDS[1]


def test_readme_counts_the_rules() -> None:
    m = re.search(r"Its (\d+) rules cover", README)
    assert m and int(m.group(1)) == len(builtin_rules())


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert COMMANDS[1] in ci.splitlines()
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_ci_pins_every_dependency_through_constraints() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'PIP_CONSTRAINT="$PWD/.ci/constraints.txt"' in ci and "MLSEC_LINT_LATEST" in ci
    pins: dict[str, str] = {}
    for line in (ROOT / ".ci" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not an exact pin: {line}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert "mlsec-lint" not in pins
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in ("test", "semgrep"):
        wanted += project["optional-dependencies"][extra]
    for req in map(Requirement, wanted):
        if req.marker is None or req.marker.evaluate():
            name = re.sub(r"[-_.]+", "-", req.name).lower()
            assert name in pins, f"{req.name} is not pinned in .ci/constraints.txt"
            assert req.specifier.contains(pins[name], prereleases=True), (req, pins[name])


def test_generated_rule_docs_are_current() -> None:
    rules = list(builtin_rules())
    docs = ROOT / "docs" / "rules"
    stale = [
        r.id
        for r in rules
        if not (docs / f"{r.id}.md").exists()
        or (docs / f"{r.id}.md").read_text(encoding="utf-8") != render_rule_markdown(r)
    ]
    assert stale == [], "run: python -m mlsec_lint.docs docs/rules"
    assert (docs / "README.md").read_text(encoding="utf-8") == render_index(rules)
    extra = {p.stem for p in docs.glob("MLS-*.md")} - {r.id for r in rules}
    assert extra == set()


def test_examples_behave_as_documented(capsys: pytest.CaptureFixture[str]) -> None:
    from mlsec_lint.cli import main

    assert main(["scan", str(ROOT / "examples" / "hardened")]) == 0
    assert main(["scan", str(ROOT / "examples" / "vulnerable")]) == 1
    out = capsys.readouterr().out
    for rule in (
        "MLS-TS-001",
        "MLS-PY-002",
        "MLS-DEP-001",
        "MLS-K8S-001",
        "MLS-IMG-002",
        "MLS-SEC-001",
    ):
        assert rule in out


@pytest.mark.slow
def test_wheel_ships_the_rules_and_works_when_installed(tmp_path: Path) -> None:
    """Build the wheel, install it in a fresh virtual environment, scan the examples."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("mlsec_lint-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlsec_lint/_rules/rule.schema.json" in names
    assert sum(
        1 for n in names if n.startswith("mlsec_lint/_rules/") and n.endswith(".yaml")
    ) == len(builtin_rules())
    assert (
        "mlsec_lint/data/frameworks.yaml" in names
        and "mlsec_lint/schemas/report.schema.json" in names
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    # run from an unrelated directory so nothing can come from the source tree
    proc = subprocess.run(
        [str(bindir / "mlsec-lint"), "scan", str(ROOT / "examples" / "vulnerable")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "MLS-TS-001" in proc.stdout and "MLS-PY-006" in proc.stdout
    proc = subprocess.run(
        [str(bindir / "mlsec-lint"), "rules", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert proc.stdout.count('"id":') == len(builtin_rules())


def test_install_instructions_do_not_promise_what_does_not_exist() -> None:
    """No release is tagged or published yet: a pre-commit rev, an action tag or a package
    index install in the documentation is a commit placeholder or says it is future."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    tagged = re.compile(r"rev:\s*v\d|mlsec-lint/mlsec-lint@v\d")
    index = re.compile(
        r"(pip install|pipx run|uvx)\s+['\"]?mlsec-lint(\[\w+\])?(?!\s*@)['\"]?(\s|$)"
    )
    for path in docs:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{number}: {line.strip()}"
            assert not tagged.search(line), where
            if index.search(line):
                assert "once" in line and "PyPI" in line, where
