"""The file kind of unnamed input (standard input without ``--stdin-filename``), by content.

Only the first lines are looked at, with anchored, linear-time patterns. The answer is a
kind that :func:`mlsec_lint.analyze.analyze` accepts, or None when the content says nothing
recognisable: the caller then refuses the input instead of scanning it as nothing.
"""

from __future__ import annotations

import re

HEAD_LINES = 200
"""Lines looked at (the kind is decided by the start of a file)."""
MAX_LINE = 400
"""Characters of each line looked at."""

_DOCKER_START = re.compile(r"(?i)(FROM|ARG)\s+\S")
_DOCKER_FROM = re.compile(r"(?i)FROM\s+\S")
_PYTHON = re.compile(
    r"(import [A-Za-z_][\w.]*|from [A-Za-z_.][\w.]* import |def [A-Za-z_]\w*\(|"
    r"class [A-Za-z_]\w*[(:]|async def |if __name__ ==)"
)
_YAML_TOP = re.compile(r"(apiVersion|kind|services|version|name|dependencies|channels)\s*:")
_YAML_KEY = re.compile(r"(?<![\w.-])[A-Za-z_][\w.-]*\s*:(\s|$)")
_REQUIREMENT = re.compile(
    r"(?<![A-Za-z0-9._-])([A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.\s-]*\])?\s*(===?|~=|!=|<=?|>=?)\s*\S+"
    r"|-(r|c|e)\s+\S+|--(index-url|extra-index-url|trusted-host|find-links|requirement|"
    r"constraint|hash)\b|git\+https?://\S+)"
)
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.\s-]*\])?\s*(;.*)?")
_DOTENV = re.compile(r"(?<![A-Z0-9_])(export\s+)?[A-Z_][A-Z0-9_]*=")
_PROPERTIES = re.compile(r"(?<![a-z0-9_.])[a-z][a-z0-9_.]*\s*[=:]")
_TOML_TABLE = re.compile(r"\[\[?[A-Za-z0-9_.\"' -]+\]\]?\s*(#.*)?")
_SHEBANG = re.compile(r"#!\s*/\S*(sh|bash|dash|zsh|ksh)\b|#!\s*/usr/bin/env\s+(sh|bash|dash)\b")
_PY_SHEBANG = re.compile(r"#!\s*/\S*python|#!\s*/usr/bin/env\s+python")


def _is_framework(line: str) -> bool:
    """A bare requirement line naming a known ML package (``torch``)."""
    from mlsec_lint import knowledge

    name = re.split(r"[\s\[;]", line, maxsplit=1)[0]
    return knowledge.framework_tier(knowledge.normalize_package(name)) is not None


def _lines(text: str) -> list[str]:
    out = []
    for raw in text.splitlines()[:HEAD_LINES]:
        line = raw[:MAX_LINE].strip()
        if line:
            out.append(line)
    return out


def classify(data: bytes) -> str | None:
    """The kind of ``data`` (``dockerfile``, ``yaml``, ``json``, ``python``, ``requirements``,
    ``shell``, ``dotenv``, ``properties``, ``pyproject``, ``toml``) or None."""
    text = data[: HEAD_LINES * MAX_LINE].decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = _lines(text)
    if not lines:
        return None
    first = lines[0]
    if _SHEBANG.match(first):
        return "shell"
    if _PY_SHEBANG.match(first):
        return "python"
    if first[0] in "{[" and not _TOML_TABLE.fullmatch(first):
        return "json"
    code = [ln for ln in lines if not ln.startswith("#")]
    if not code:
        return None
    if (
        _DOCKER_START.match(code[0])
        and not _PYTHON.match(code[0])
        and any(_DOCKER_FROM.match(ln) for ln in code)
    ):
        return "dockerfile"
    if any(_PYTHON.match(ln) for ln in code[:50]):
        return "python"
    if code[0] == "---" or any(_YAML_TOP.match(ln) for ln in code[:20]):
        return "yaml"
    if any(_TOML_TABLE.fullmatch(ln) for ln in code[:20]):
        tables = [ln for ln in code if ln.startswith("[")]
        if any(t.startswith(("[project]", "[tool.", "[build-system]")) for t in tables):
            return "pyproject"
        return "toml"
    if all(_DOTENV.match(ln) for ln in code):
        return "dotenv"
    if all(_REQUIREMENT.match(ln) or _REQUIREMENT_NAME.fullmatch(ln) for ln in code) and (
        any(_REQUIREMENT.match(ln) for ln in code) or any(_is_framework(ln) for ln in code)
    ):
        return "requirements"
    if all(_PROPERTIES.match(ln) for ln in code):
        return "properties"
    if all(_YAML_KEY.match(ln) or ln.startswith("- ") for ln in code[:20]):
        return "yaml"
    return None
