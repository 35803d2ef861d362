"""Configuration: discovery, validation with one-line errors, precedence, init."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint import config
from mlsec_lint.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_discovered_upward_from_the_scanned_path(project, capsys) -> None:
    project(".git/HEAD", "ref: refs/heads/main\n")
    project("pyproject.toml", '[tool.mlsec-lint]\nignore = ["MLS-DEP-001"]\n')
    project("svc/requirements.txt", "torch\n")
    assert config.find_config(str(project.root / "svc" / "requirements.txt")) == str(
        project.root / "pyproject.toml"
    )
    assert run(capsys, "scan", "svc/requirements.txt")[0] == 0
    assert run(capsys, "scan", "--isolated", "svc")[0] == 1
    # a closer dedicated file wins over the parent's pyproject.toml
    project("svc/.mlsec-lint.yaml", "select: [MLS-DEP-001]\n")
    assert run(capsys, "scan", "svc")[0] == 1


def test_search_stops_at_the_repository_root(project) -> None:
    project(".mlsec-lint.yaml", "ignore: [MLS-DEP-001]\n")
    project("repo/.git/HEAD", "x\n")
    project("repo/requirements.txt", "torch\n")
    assert config.find_config(str(project.root / "repo")) is None


def test_pyproject_without_the_table_is_skipped(project) -> None:
    project(".git/HEAD", "x\n")
    project("pyproject.toml", '[tool.mlsec-lint]\nfail-on = "high"\n')
    project("pkg/pyproject.toml", '[project]\nname = "x"\n# mentions mlsec-lint only\n')
    assert config.find_config(str(project.root / "pkg")) == str(project.root / "pyproject.toml")


def test_every_setting(project, capsys) -> None:
    project(".git/HEAD", "x\n")
    project(
        ".mlsec-lint.toml",
        'fail-on = "high"\n'
        'exclude = ["vendor/"]\n'
        'frameworks = ["acme-infer"]\n'
        'rules-dir = ["policies"]\n'
        '[per-file-ignores]\n"tests/**" = ["pinning"]\n'
        '[severity]\nMLS-DEP-001 = "medium"\n',
    )
    project(
        "policies/ACME-ENV-001.yaml",
        "id: ACME-ENV-001\nname: debug-env\ntitle: Debug mode enabled in the environment\n"
        "category: runtime-hardening\nseverity: high\ntarget: env\n"
        "when: {all: [{path: name, equals: DEBUG}, {path: value, is: truthy}]}\n"
        "message: DEBUG is enabled.\n"
        "docs: {what: Checks DEBUG variables., why: Debug modes leak data.,\n"
        "       example: DEBUG=1, use_instead: DEBUG=0}\n"
        "references: {cwe: [CWE-489]}\n",
    )
    project("vendor/requirements.txt", "vllm\n")
    project("tests/requirements.txt", "vllm\n")
    project("requirements.txt", "acme-infer>=1\n")
    project(".env", "DEBUG=1\n")
    code, out, _ = run(capsys, "scan", "-q", "--format", "json")
    data = json.loads(out)
    got = {(f["rule_id"], f["path"], f["severity"]) for f in data["findings"]}
    assert got == {
        ("MLS-DEP-001", "requirements.txt", "medium"),  # extended framework list, override
        ("ACME-ENV-001", ".env", "high"),  # extra rule directory
    }
    assert code == 1  # fail-on high: the custom rule is high
    assert {(f["path"], f["suppression"]["kind"]) for f in data["suppressed"]} == {
        ("tests/requirements.txt", "config")
    }
    # the command line overrides the file
    assert run(capsys, "scan", "-q", "--fail-on", "critical")[0] == 0
    assert run(capsys, "scan", "-q", "--select", "MLS-DEP")[0] == 0  # medium < high


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("selct: [MLS]\n", "unknown setting 'selct' (did you mean 'select'?)"),
        ("select: MLS-PY\n", "select: expected a list, got 'MLS-PY'"),
        ("fail-on: severe\n", "fail-on: 'severe' is not one of 'critical'"),
        ("severity: {MLS-PY-002: urgent}\n", "severity > MLS-PY-002: 'urgent' is not one of"),
        ("per-file-ignores: {'tests/**': MLS}\n", "per-file-ignores > tests/**:"),
        ("- a\n- b\n", "the configuration must be a mapping"),
        ("select: [\n", "invalid YAML (line 2)"),
        ("select: [MLS-NOPE]\n", "select: 'MLS-NOPE' matches no rule"),
        ("severity: {MLS-NOPE-001: low}\n", "'MLS-NOPE-001' is not a rule id or name"),
    ],
)
def test_invalid_configuration_is_one_line_and_exit_2(project, capsys, text, message) -> None:
    project(".mlsec-lint.yaml", text)
    project("requirements.txt", "torch\n")
    code, out, err = run(capsys, "scan")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert ".mlsec-lint.yaml" in err or "severity" in err


def test_invalid_toml_and_explicit_config(project, capsys) -> None:
    project("custom.toml", "fail-on = \n")
    code, _, err = run(capsys, "scan", "--config", "custom.toml")
    assert code == 2 and "custom.toml: invalid TOML" in err
    project("pyproject.toml", "[project]\nname = 'x'\n")
    code, _, err = run(capsys, "scan", "--config", "pyproject.toml")
    assert code == 2 and "has no [tool.mlsec-lint] table" in err
    code, _, err = run(capsys, "scan", "--config", "missing.yaml")
    assert code == 2 and "file not found" in err


def test_excludes_are_relative_to_the_configuration_file(project, capsys, monkeypatch) -> None:
    project(".git/HEAD", "x\n")
    project(".mlsec-lint.yaml", "exclude: [charts/]\n")
    project("charts/requirements.txt", "torch\n")
    monkeypatch.chdir(project.root / "charts")
    assert run(capsys, "scan")[0] == 0
    # pre-commit passes the file explicitly; --force-exclude still excludes it
    monkeypatch.chdir(project.root)
    assert run(capsys, "scan", "--force-exclude", "charts/requirements.txt")[0] == 0
    assert run(capsys, "scan", "charts/requirements.txt")[0] == 1


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_init_writes_a_valid_commented_config(project, capsys, fmt: str) -> None:
    code, out, _ = run(capsys, "init", "--format", fmt)
    path = project.root / f".mlsec-lint.{fmt}"
    assert code == 0 and path.name in out
    text = path.read_text(encoding="utf-8")
    assert text.count("\n# ") > 10
    cfg = config.load(str(path))
    assert cfg.fail_on == "low" and cfg.path == str(path)
    # every commented-out example is valid too once uncommented
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and not line.startswith("# ---") else line
        for line in text.splitlines()
        if not line.startswith("# mlsec-lint configuration")
    )
    settings_ = _parse(uncommented, fmt)
    config.validate(settings_, path.name)
    assert {"select", "per-file-ignores", "severity", "baseline"} <= set(settings_)
    code, _, err = run(capsys, "init", "--format", fmt)
    assert code == 2 and "already exists" in err
    assert run(capsys, "init", "--format", fmt, "--force")[0] == 0


def _parse(text: str, fmt: str) -> dict[str, Any]:
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(("http", "Paths", "In pyproject", "Rules ", "endpoint", "Exit"))
        and not line.startswith(("or never", "Your ", "Accepted", "Severity", "Directories"))
    ]
    body = "\n".join(lines)
    if fmt == "yaml":
        import yaml

        data: dict[str, Any] = yaml.safe_load(body)
        return data
    import importlib
    import sys

    toml: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    parsed: dict[str, Any] = toml.loads(body)
    return parsed


# -- the quick check agrees with jsonschema ---------------------------------------------

_scalar = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["MLS-PY", "low", "high", "never", "tls", "bad id", ""]),
    st.integers(),
    st.booleans(),
    st.none(),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_keys = st.sampled_from([*config.schema()["properties"], "unknown"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _value, max_size=4))
def test_quick_check_agrees_with_jsonschema(data: dict[str, Any]) -> None:
    valid = jsonschema.Draft202012Validator(config.schema()).is_valid(data)
    quick = config.quick_check(data, config.schema())
    assert quick is not None
    assert quick == valid, data


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(config.schema())


def test_valid_config_does_not_import_jsonschema(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / ".mlsec-lint.yaml").write_text("select: [MLS]\nfail-on: high\n")
    code = (
        "import sys; from mlsec_lint import config; "
        f"config.load({str(tmp_path / '.mlsec-lint.yaml')!r}); "
        "print('jsonschema' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout
    assert out.strip() == "False"


def test_init_never_silently_overrides_pyproject(project, capsys) -> None:
    pyproject = "[project]\nname = 'x'\n\n[tool.mlsec-lint]\nfail-on = 'high'\n"
    project("pyproject.toml", pyproject)
    code, out, err = run(capsys, "init")
    assert code == 2 and out == "" and "[tool.mlsec-lint] in pyproject.toml" in err
    assert not (project.root / ".mlsec-lint.yaml").exists()
    code, _, err = run(capsys, "init", "--force")
    assert code == 0 and "pyproject.toml is ignored" in err and ".mlsec-lint.yaml applies" in err
    assert (project.root / "pyproject.toml").read_text(encoding="utf-8") == pyproject


def test_init_beside_a_plain_pyproject_is_fine(project, capsys) -> None:
    project("pyproject.toml", "[project]\nname = 'x'\n")
    code, _, err = run(capsys, "init")
    assert code == 0 and err == ""


def test_two_configuration_sources_are_reported(project, capsys) -> None:
    project("pyproject.toml", "[tool.mlsec-lint]\nfail-on = 'never'\n")
    project(".mlsec-lint.yaml", "fail-on: low\n")
    project("requirements.txt", "torch\n")
    code, _, err = run(capsys, "scan", "--format", "json")
    assert code == 1  # .mlsec-lint.yaml applies
    assert err.count("\n") == 1 and "two configuration sources" in err
    assert ".mlsec-lint.yaml applies" in err and "[tool.mlsec-lint] in pyproject.toml" in err
    code, _, err = run(capsys, "scan", "--format", "json", "--isolated")
    assert "two configuration sources" not in err


def test_min_severity_from_the_configuration(project, capsys) -> None:
    project(".mlsec-lint.yaml", "min-severity: critical\n")
    project("requirements.txt", "torch\n")  # a high finding
    code, out, _ = run(capsys, "scan")
    assert code == 0 and "MLS-DEP-001" not in out
    code, out, _ = run(capsys, "scan", "--min-severity", "low")
    assert code == 1 and "MLS-DEP-001" in out


def test_helm_settings_are_paths_relative_to_the_file(tmp_path) -> None:
    from mlsec_lint import config

    cfg_file = tmp_path / "deploy" / ".mlsec-lint.toml"
    cfg_file.parent.mkdir()
    cfg_file.write_text(
        'helm-values = ["prod.yaml"]\nhelm-renderer = "off"\n'
        '[helm-chart-values]\n"charts/llm" = ["charts/llm/gpu.yaml"]\n'
    )
    cfg = config.load(str(cfg_file))
    root = tmp_path / "deploy"
    assert cfg.helm_values == [str(root / "prod.yaml")]
    assert cfg.helm_chart_values == {str(root / "charts/llm"): [str(root / "charts/llm/gpu.yaml")]}
    assert cfg.helm_renderer == "off"
    cfg_file.write_text('helm-renderer = "docker"\n')
    from mlsec_lint.errors import MlsecLintError

    with pytest.raises(MlsecLintError, match="helm-renderer"):
        config.load(str(cfg_file))


def test_init_below_a_configured_directory_refuses_too(project, capsys) -> None:
    (project.root / ".git").mkdir()
    project("pyproject.toml", "[tool.mlsec-lint]\nfail-on = 'high'\n")
    (project.root / "svc").mkdir()
    code, _, err = run(capsys, "init", "svc")
    assert code == 2 and "[tool.mlsec-lint] in pyproject.toml" in err
    assert not (project.root / "svc" / ".mlsec-lint.yaml").exists()
    code, _, err = run(capsys, "init", "svc", "--force")
    assert code == 0 and "now applies here instead of" in err


def test_not_looked_up_above_the_current_directory_outside_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".mlsec-lint.yaml").write_text("ignore: [MLS-DEP-001]\n", encoding="utf-8")
    work = tmp_path / "checkout"
    (work / "svc").mkdir(parents=True)
    monkeypatch.chdir(work)
    assert config.find_config("svc") is None  # no .git: the parent's file is not ours
    (work / ".mlsec-lint.yaml").write_text("ignore: [MLS-DEP-001]\n", encoding="utf-8")
    assert config.find_config("svc") == str(work / ".mlsec-lint.yaml")


def test_untrusted_reads_nothing_the_tree_controls(project, capsys) -> None:
    project(".git/HEAD", "ref: refs/heads/main\n")
    project(".mlsec-lint.yaml", "ignore: [MLS-DEP-001, MLS-SUP]\n")
    project(".gitignore", "hidden/\n")
    project("hidden/requirements.txt", "torch\n")
    project("requirements.txt", "vllm\n")
    project("svc/requirements.txt", "ray  # mlsec-lint: ignore[MLS-DEP-001] reviewed\n")
    code, out, _ = run(capsys, "scan", "--format", "json")
    assert code == 0
    code, out, _ = run(capsys, "scan", "--untrusted", "--format", "json")
    found = {(f["path"], f["rule_id"]) for f in json.loads(out)["findings"]}
    assert code == 1
    assert {
        ("hidden/requirements.txt", "MLS-DEP-001"),
        ("requirements.txt", "MLS-DEP-001"),
        ("svc/requirements.txt", "MLS-DEP-001"),
    } <= found
    # settings from outside the tree (the base branch) still apply
    trusted = project.root.parent / f"{project.root.name}-base.yaml"
    trusted.write_text("ignore: [MLS-DEP-001]\n", encoding="utf-8")
    code, out, _ = run(capsys, "scan", "--untrusted", "--config", str(trusted))
    assert code == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".mlsec-lint.toml", "select = " + "[" * 5000 + "]" * 5000 + "\n"),
        (".mlsec-lint.yaml", "select: " + "[" * 5000 + "]" * 5000 + "\n"),
        (".mlsec-lint.yaml", "per-file-ignores: " + "{a: " * 40 + "x" + "}" * 40 + "\n"),
        (
            ".mlsec-lint.yaml",
            "".join(
                f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
                for i in range(1, 9)
            ).replace("*`", "x")
            + "select: *h\n",
        ),
        (".mlsec-lint.yaml", "exclude: [" + ", ".join(["x"] * 400_000) + "]\n"),
    ],
    ids=["deep-toml", "deep-yaml", "deep-mapping", "alias-bomb", "too-large"],
)
def test_hostile_configuration_is_a_configuration_error(
    name: str, text: str, project, capsys
) -> None:
    project(".git/HEAD", "ref: refs/heads/main\n")
    project(name, text)
    project("requirements.txt", "torch\n")
    code, _, err = run(capsys, "scan")
    assert code == 2
    assert err.startswith("mlsec-lint: error:") and len(err) < 600, err[:600]
    assert "internal error" not in err


def test_per_file_ignores_patterns_too_costly_to_match_are_a_config_error(project, capsys) -> None:
    project(".git/HEAD", "ref: refs/heads/main\n")
    project(".mlsec-lint.yaml", 'per-file-ignores:\n  "**/a*a*/**/x": [MLS-DEP-001]\n')
    project("requirements.txt", "torch\n")
    code, _, err = run(capsys, "scan")
    assert code == 2 and "too costly to match" in err
