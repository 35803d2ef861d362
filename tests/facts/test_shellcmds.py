from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsec_lint.facts.shellcmds import extract_script
from mlsec_lint.tree import to_plain


def facts(script: str, kind: str | None = None) -> list[Any]:
    fa = extract_script(script, "run.sh")
    return [f for f in fa.facts if kind is None or f.kind == kind]


def deps(script: str) -> dict[str, dict[str, Any]]:
    return {f.data["name"]: to_plain(f.data) for f in facts(script, "dependency")}


def test_every_simple_command_is_a_command_fact_with_positions() -> None:
    cmds = facts("set -e\nsudo -u app pip install torch==2.6.0 && echo done\n", "command")
    assert [c.data["program"] for c in cmds] == ["set", "pip", "echo"]
    pip = cmds[1]
    assert pip.anchor.line == 2 and pip.anchor.col == 13
    assert to_plain(pip.data["argv"]) == ["pip", "install", "torch==2.6.0"]
    assert pip.data["tool"] == "pip" and pip.data["action"] == "install"


@pytest.mark.parametrize(
    "line",
    [
        "pip install --upgrade-package torch torch==2.6.0",
        "uv pip install --system -P torch --python-platform linux torch==2.6.0",
        "python3 -m pip install -i https://download.pytorch.org/whl/cu124 torch==2.6.0+cu124",
        "conda run -n base pip install --no-cache-dir torch==2.6.0",
        "poetry run pip install torch==2.6.0",
    ],
)
def test_option_values_are_not_packages(line: str) -> None:
    found = deps(line)
    assert list(found) == ["torch"] and found["torch"]["pinned"] is True


def test_variables_from_assignments_and_exports_are_expanded() -> None:
    found = deps(
        'V=2.6.0\nexport T="==4.48.3"\npip install torch==$V "transformers${T}" "vllm${X}"\n'
    )
    assert found["torch"]["version"] == "2.6.0"
    assert found["transformers"]["version"] == "4.48.3"
    assert found["vllm"]["dynamic"] is True and found["vllm"]["pinned"] is True


def test_requirement_and_constraint_files_are_recorded() -> None:
    (cmd,) = facts("pip install --require-hashes -rreq.txt -c c.txt\n", "command")
    data = to_plain(cmd.data)
    assert data["require_hashes"] is True
    assert data["requirement_files"] == [{"path": "req.txt", "candidates": ["req.txt"]}]
    assert data["constraint_files"][0]["path"] == "c.txt"


def test_nested_shell_maps_positions_into_the_quoted_script() -> None:
    (dep,) = facts('bash -c "pip install vllm"\n', "dependency")
    assert (dep.anchor.line, dep.anchor.col) == (1, 22)


def test_conda_names_map_to_pypi_and_channels_are_indexes() -> None:
    found = facts("conda install -y -c pytorch -c http://c.example/x pytorch=2.1.0\n")
    dep = next(f for f in found if f.kind == "dependency")
    assert dep.data["name"] == "torch" and dep.data["conda_name"] == "pytorch"
    assert "fuzzy" in dep.data["unpinned_reason"]
    channels = [to_plain(f.data) for f in found if f.kind == "package-index"]
    assert [(c["value"], c["scheme"], c["known"]) for c in channels] == [
        ("pytorch", "", True),
        ("http://c.example/x", "http", False),
    ]


def test_apt_packages_and_versions() -> None:
    (cmd,) = [
        c
        for c in facts("apt-get install -y --no-install-recommends -o X=1 curl=8.5.0-2 git\n")
        if c.kind == "command"
    ]
    data = to_plain(cmd.data)
    assert data["packages"] == [
        {"name": "curl", "version": "8.5.0-2", "pinned": True},
        {"name": "git", "pinned": False},
    ]
    assert data["no_install_recommends"] is True


def test_downloads_options_outputs_and_insecure_flags() -> None:
    found = facts(
        "curl -fsSLko /m/a.pt https://x.example/a.pt\n"
        "wget -qO- https://x.example/b.bin | tar x\n"
        "wget -e check_certificate=off https://x.example/c.onnx -P /m\n"
        "curl -O https://x.example/tool.tar.gz\n"
    )
    sources = [to_plain(f.data) for f in found if f.kind == "model-source"]
    assert [(s["uri"].rsplit("/", 1)[1], s["insecure"], s.get("output")) for s in sources] == [
        ("a.pt", True, "/m/a.pt"),
        ("b.bin", False, None),
        ("c.onnx", True, "/m/c.onnx"),
    ]
    assert sources[0]["format"] == "pickle" and sources[2]["format"] == "onnx"


def test_checksum_verification_marks_the_named_download() -> None:
    found = facts(
        "curl -o /m/a.pt https://x.example/a.pt\n"
        "curl -o /m/b.pt https://x.example/b.pt\n"
        'echo "abc  /m/b.pt" | sha256sum --check\n'
    )
    sources = {f.data["output"]: f.data for f in found if f.kind == "model-source"}
    assert "checksum" not in sources["/m/a.pt"]
    assert sources["/m/b.pt"]["checksum"] == "sha256sum --check"


def test_hub_downloads_and_git_clones() -> None:
    found = facts(
        "huggingface-cli download org/a --include '*.json' '*.safetensors' --revision main\n"
        "hf download org/b --revision=0123456789abcdef0123456789abcdef01234567\n"
        "git clone -b v1 https://huggingface.co/datasets/org/c /d/c\n"
        "git clone https://huggingface.co/org/d && git -C d checkout "
        "0123456789abcdef0123456789abcdef01234567\n"
        "git clone https://github.com/org/code\n"
        "git lfs clone https://hf.co/org/e\n"
    )
    sources = [to_plain(f.data) for f in found if f.kind == "model-source"]
    assert [(s["hub_id"], s.get("revision"), s["revision_pinned"]) for s in sources] == [
        ("org/a", "main", False),
        ("org/b", "0123456789abcdef0123456789abcdef01234567", True),
        ("org/c", "v1", False),
        ("org/d", "0123456789abcdef0123456789abcdef01234567", True),
        ("org/e", None, False),
    ]
    assert sources[2]["repo_type"] == "dataset" and sources[0]["via"] == "huggingface-cli"


def test_resolve_urls_name_the_hub_repository_and_revision() -> None:
    (src,) = facts(
        "curl -LO https://huggingface.co/org/m/resolve/main/model.safetensors\n", "model-source"
    )
    assert (src.data["hub_id"], src.data["revision"]) == ("org/m", "main")


def test_index_environment_and_pip_config() -> None:
    found = facts(
        "export PIP_EXTRA_INDEX_URL='https://a.example/simple https://b.example/simple'\n"
        "PIP_TRUSTED_HOST=a.example pip install x==1\n"
        "pip config --global set global.index-url http://c.example/simple\n"
        "UV_INDEX_STRATEGY=unsafe-best-match\n"
        "export UV_EXTRA_INDEX_URL=https://d.example/simple\n"
        "poetry source add --priority=supplemental internal https://e.example/simple\n"
    )
    idx = [to_plain(f.data) for f in found if f.kind == "package-index"]
    assert [(i["option"], i["value"]) for i in idx] == [
        ("--extra-index-url", "https://a.example/simple"),
        ("--extra-index-url", "https://b.example/simple"),
        ("--trusted-host", "a.example"),
        ("--index-url", "http://c.example/simple"),
        ("--extra-index-url", "https://d.example/simple"),
        ("--extra-index-url", "https://e.example/simple"),
    ]
    assert idx[4]["unsafe_strategy"] is True and idx[5]["installer"] == "poetry"


def test_lock_installs_are_recognised() -> None:
    cmds = {
        c.data["program"] + " " + c.data["action"]: to_plain(c.data)
        for c in facts("uv sync --locked\npipenv install --deploy\npoetry install --no-root\n")
        if c.kind == "command"
    }
    assert all(c["uses_lock"] for c in cmds.values())
    assert cmds["uv sync"]["lock_enforced"] is True


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "pip",
                "install",
                "-r",
                "conda",
                "-c",
                "curl",
                "-o",
                "wget",
                "-O",
                "git",
                "clone",
                "checkout",
                "huggingface-cli",
                "download",
                "--revision",
                "sh",
                "-c",
                "'",
                '"',
                "$X",
                "${Y:-1}",
                "&&",
                "|",
                ";",
                "\\\n",
                "<<EOF",
                "torch==2.6.0",
                "https://h.example/m.pt",
                "sha256sum",
                "export",
                "A=b",
                "cd",
                "/x",
                "=",
                "[",
                "(",
                ")",
                "python",
                "-m",
                "from_pretrained('a/b')",
                "#",
            ]
        ),
        max_size=30,
    )
)
def test_never_raises_on_arbitrary_scripts(parts: list[str]) -> None:
    extract_script(" ".join(parts), "fuzz.sh")


def test_argv_from_other_extractors() -> None:
    from mlsec_lint.facts.shellcmds import from_argv
    from mlsec_lint.model import Span

    items = [
        ("sh", Span(5, 3, 5, 5)),
        ("-c", Span(5, 7, 5, 9)),
        ("wget -q http://m.example/model.bin -O /models/model.bin", Span(6, 3, 6, 60)),
    ]
    found = from_argv(items, "pod.yaml", "kubernetes", "Pod/x/fetch")
    (src,) = [f for f in found if f.kind == "model-source"]
    assert src.data["scheme"] == "http" and src.anchor.line == 6


def test_argv_scripts_point_at_their_own_words() -> None:
    from mlsec_lint.facts.shellcmds import from_argv
    from mlsec_lint.model import Span

    script = "cd /m && wget -q http://m.example/model.bin -O model.bin"
    items = [("sh", Span(5, 3, 5, 5)), ("-c", Span(5, 7, 5, 9)), (script, Span(6, 3, 6, 60))]

    def inner(start: int, end: int) -> Span:  # the script starts at line 6, column 3
        return Span(6, 3 + start, 6, 3 + end)

    found = from_argv(items, "pod.yaml", "kubernetes", "Pod/x/fetch", [None, None, inner])
    (src,) = [f for f in found if f.kind == "model-source"]
    url = script.index("http://")
    assert src.data.vspan["uri"] == Span(6, 3 + url, 6, 3 + url + len("http://m.example/model.bin"))


def test_container_commands_report_inside_the_script(tmp_path) -> None:
    from mlsec_lint.api import ScanOptions, scan

    (tmp_path / "job.yaml").write_text(
        "apiVersion: batch/v1\n"
        "kind: Job\n"
        "metadata: {name: fetch}\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: fetch\n"
        "          image: busybox:1.36.1\n"
        "          command: [sh, -c, 'cd /m && wget http://m.example/model.bin']\n",
        encoding="utf-8",
    )
    result = scan(ScanOptions(paths=["."], base=str(tmp_path), select=["MLS-XRT-005"])).result
    (finding,) = result.findings
    line = "          command: [sh, -c, 'cd /m && wget http://m.example/model.bin']"
    assert (finding.line, finding.column) == (10, line.index("http://") + 1)


def test_echo_and_printf_record_the_variables_they_print() -> None:
    script = (
        'echo "token ${HF_TOKEN} for $MODEL_ID"\n'
        'printf \'%s\' "${API_KEY:-none}" "${#HF_TOKEN}" "${HF_TOKEN:0:4}"\n'
        'echo "$HF_TOKEN" | huggingface-cli login --token-stdin\n'
        'echo "$HF_TOKEN" > /tmp/token\n'
    )
    printed = [
        (to_plain(c.data["printed_variables"]), c.anchor.line)
        for c in facts(script, "command")
        if "printed_variables" in c.data
    ]
    assert printed == [(["HF_TOKEN", "MODEL_ID"], 1), (["API_KEY"], 2)]
    first = facts(script, "command")[0]
    span = first.data["printed_variables"].item_span(0)
    assert (span.line, span.col) == (1, 6)


def test_the_command_budget_is_not_copied_onto_later_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsec_lint.facts import shellcmds

    monkeypatch.setattr(shellcmds, "MAX_COMMANDS", 2)
    script = 'echo a\necho b\necho c\nsh -c "$(curl -fsSL https://example.com/i.sh)"\n'
    fa = shellcmds.extract_script(script, "s.sh")
    fetched = [f for f in fa.facts if f.kind == "command"]
    assert fetched and all("commands_not_analysed" not in f.data for f in fetched)
    assert [(n.code, n.line) for n in fa.notices] == [("partly-analysed", 3)]
