"""``pip install`` / ``python -m pip install`` / ``uv pip install`` command lines ->
``dependency`` and ``package-index`` facts.

Reads the packages, requirement and constraint files, index options and ``uv`` index
strategy of an install command, and expands ``$VAR`` references with values written in
the same file only. Called by the shell command analysis
(:mod:`mlsec_lint.facts.shellinstalls`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.facts.dependencies import dependency_fact, index_fact
from mlsec_lint.linear import sub_variables
from mlsec_lint.model import Span
from mlsec_lint.parsers.requirements import OPTIONS_WITH_VALUE
from mlsec_lint.parsers.shell import Word
from mlsec_lint.records import Struct, field

# ------------------------------------------------------------------ install commands

# the options of a requirements file, and those only the command line has
PIP_VALUE_OPTIONS = OPTIONS_WITH_VALUE | {
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--progress-bar",
    "--cache-dir",
    "--src",
    "--log",
    "--log-file",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "-C",
    "--use-deprecated",
    "--upgrade-strategy",
    "--report",
    "--python",
    "-p",
    "--root-user-action",
    "--index",
    "--default-index",
    "--index-strategy",
    "--override",
    "--overrides",
    "--group",
    "--torch-backend",
    "--extra",
    "--keyring-provider",
    "--default-timeout",
    "--resolution",
    "--prerelease",
    "--link-mode",
    "# uv pip",
    "-P",
    "--upgrade-package",
    "--reinstall-package",
    "--refresh-package",
    "--no-build-isolation-package",
    "--no-binary-package",
    "--only-binary-package",
    "--exclude-newer",
    "--python-platform",
    "-b",
    "--build-constraint",
    "--build-constraints",
    "--config-file",
    "--directory",
    "--project",
    "--allow-insecure-host",
    "--find-links-url",
}
_SHORT_VALUE = {"-r", "-c", "-e", "-i", "-f", "-t", "-C", "-p", "-P", "-b"}
_INDEX_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--default-index": "--index-url",
    "--index": "--extra-index-url",
    "--extra-index-url": "--extra-index-url",
    "--trusted-host": "--trusted-host",
    "--allow-insecure-host": "--trusted-host",
    "-f": "--find-links",
    "--find-links": "--find-links",
}
_PYTHON = re.compile(r"python[0-9.]*")
_PIP = re.compile(r"pip[0-9.]*")
_UNSAFE_STRATEGIES = ("unsafe-best-match", "unsafe-first-match", "unsafe-any-match")


def pip_install_args(argv: Sequence[str]) -> tuple[str, int] | None:
    """If ``argv`` is a pip/uv install command, (installer, index of first argument)."""
    found = pip_command(argv)
    if found is None or found[1] != "install":
        return None
    return found[0], found[2]


def pip_command(argv: Sequence[str]) -> tuple[str, str, int] | None:
    """(installer, subcommand, index of its first argument) for pip, ``python -m pip``,
    ``uv pip`` and ``pip-sync``; None for anything else."""
    if not argv:
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    i = 1
    if prog == "pip-sync":
        return ("pip", "sync", 1)
    if _PYTHON.fullmatch(prog):
        # python -m pip install …
        while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m":
            i += 1
        if i + 1 < len(argv) and argv[i] == "-m" and argv[i + 1] in ("pip", "pip3"):
            i += 2
            prog = "pip"
        else:
            return None
    if prog == "uv" and i < len(argv) and argv[i] == "pip":
        i += 1
        prog = "uv"
    elif not _PIP.fullmatch(prog):
        return None
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("--python", "-p", "--cache-dir", "--log", "--directory") else 1
    if i < len(argv) and argv[i] in ("install", "sync", "download", "wheel", "config"):
        return ("uv" if prog == "uv" else "pip", argv[i], i + 1)
    return None


class InstallSpec(Struct):
    text: str
    word: Word
    dynamic: bool
    editable: bool = False


class PipInstall(Struct):
    """A parsed ``pip install`` / ``uv pip install`` / ``uv pip sync`` command."""

    installer: str
    action: str
    specs: list[InstallSpec] = field(default_factory=list)
    requirement_files: list[tuple[str, Word]] = field(default_factory=list)
    constraint_files: list[tuple[str, Word]] = field(default_factory=list)
    index: list[tuple[str, str, Word, Word]] = field(default_factory=list)
    upgrade: bool = False
    require_hashes: bool = False
    pre: Word | None = None
    no_deps: bool = False
    index_strategy: str | None = None


def parse_pip_install(
    words: Sequence[Word], variables: dict[str, str] | None = None
) -> PipInstall | None:
    """The packages, files and options of a pip-style install (None for other commands)."""
    found = pip_command([w.text for w in words])
    if found is None or found[1] not in ("install", "sync"):
        return None
    installer, action, i = found
    cmd = PipInstall(installer, action)
    n = len(words)
    while i < n:
        w = words[i]
        t = w.text
        if t.startswith("-") and t != "-":
            name, eq, value = t.partition("=")
            vword = w
            if (
                not eq
                and name not in PIP_VALUE_OPTIONS
                and name[:2] in _SHORT_VALUE
                and len(name) > 2
                and not name.startswith("--")
            ):
                name, value = name[:2], name[2:]
            elif not eq and name in PIP_VALUE_OPTIONS and i + 1 < n:
                i += 1
                vword = words[i]
                value = vword.text
            if name in ("-U", "--upgrade"):
                cmd.upgrade = True
            elif name == "--require-hashes":
                cmd.require_hashes = True
            elif name == "--no-deps":
                cmd.no_deps = True
            elif name in ("-r", "--requirement"):
                cmd.requirement_files.append((value, vword))
            elif name in ("-c", "--constraint", "--override", "--overrides"):
                cmd.constraint_files.append((value, vword))
            elif name in ("-e", "--editable"):
                cmd.specs.append(InstallSpec(value, vword, vword.dynamic, editable=True))
            elif name in _INDEX_OPTIONS:
                cmd.index.append((_INDEX_OPTIONS[name], value, w, vword))
            elif name == "--index-strategy":
                cmd.index_strategy = value
            elif name == "--pre" or (name == "--prerelease" and value == "allow"):
                cmd.pre = w
            i += 1
            continue
        if action == "sync":
            cmd.requirement_files.append((t, w))
            i += 1
            continue
        text = t
        dynamic = w.dynamic
        if dynamic and variables:
            text = expand(text, variables)
            dynamic = "$" in text
        cmd.specs.append(InstallSpec(text, w, dynamic))
        i += 1
    if cmd.index_strategy is None and variables and variables.get("UV_INDEX_STRATEGY"):
        cmd.index_strategy = variables["UV_INDEX_STRATEGY"]
    return cmd


def install_facts(
    cmd: PipInstall,
    span_of: Callable[[Word], Span],
    path: str,
    origin: str,
    manifest: str = "",
) -> list[Fact]:
    """``dependency`` and ``package-index`` facts of a parsed pip-style install."""
    facts: list[Fact] = []
    strategy = cmd.index_strategy
    for option, value, w, vword in cmd.index:
        span = span_of(w).merge(span_of(vword))
        extra: dict[str, Any] = {}
        if cmd.installer == "uv":
            extra["index_strategy"] = strategy or "first-index"
            extra["unsafe_strategy"] = bool(strategy and strategy in _UNSAFE_STRATEGIES)
        setting = w.text if w is vword else f"{w.text} {vword.text}"
        facts.append(
            index_fact(
                option,
                value,
                span,
                path,
                origin,
                installer=cmd.installer,
                setting=setting,
                extra=extra,
            )
        )
    if cmd.pre is not None:
        facts.append(
            index_fact(
                "--pre",
                "",
                span_of(cmd.pre),
                path,
                origin,
                installer=cmd.installer,
                setting=cmd.pre.text,
            )
        )
    flags: dict[str, Any] = {
        "upgrade": cmd.upgrade,
        "require_hashes": cmd.require_hashes,
        "requirement_files": [p for p, _ in cmd.requirement_files],
        "pre": cmd.pre is not None,
        "no_deps": cmd.no_deps,
    }
    if manifest:
        flags["manifest"] = manifest
    for spec in cmd.specs:
        text = spec.text
        if not text or text in (".", "./"):
            continue
        facts.append(
            dependency_fact(
                text,
                span_of(spec.word),
                path,
                origin,
                installer=cmd.installer,
                flags={**flags, "editable": spec.editable},
                dynamic=spec.dynamic,
            )
        )
    return facts


def from_install_command(
    words: Sequence[Word],
    span_of: Callable[[Word], Span],
    path: str,
    origin: str,
    variables: dict[str, str] | None = None,
) -> list[Fact]:
    """dependency/package-index facts for a pip-style install command (else [])."""
    cmd = parse_pip_install(words, variables)
    if cmd is None or cmd.action != "install":
        return []
    return install_facts(cmd, span_of, path, origin)


def expand(text: str, variables: dict[str, str]) -> str:
    """Expand ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` with known values only."""
    if "$" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        op, default = m.group(2), m.group(3)
        value = variables.get(name)
        if value:
            return value
        if op in (":-", "-") and default is not None and "$" not in default:
            return default
        return m.group(0)

    return sub_variables(_VARIABLE, repl, text)


_VARIABLE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)
