"""Finding the files to scan and classifying them by name.

Directories are walked in sorted order without following symbolic links; ``.gitignore``
files (from the repository root down) and configured excludes are honoured with
``pathspec``'s gitignore semantics; version-control, virtual-environment, dependency and
build directories are excluded by default. Files named on the command line are always
scanned unless ``force_exclude`` is set (the pre-commit case). Content-based
classification (Kubernetes vs compose vs other YAML) happens after parsing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlsec_lint.model import Notice
from mlsec_lint.records import Struct

DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "_darcs",
        ".jj",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".eggs",
        "build",
        "dist",
        "_build",
        "site-packages",
        ".ipynb_checkpoints",
        ".terraform",
        ".direnv",
        ".cache",
        ".idea",
        ".vscode",
    }
)
"""Directory names never descended into (unless named on the command line)."""

_REQUIREMENTS = re.compile(r"(^|[-_.])(requirements|constraints)([-_.][^/]*)?\.(txt|in|pip)$", re.I)
_CONDA_ENV = re.compile(r"^(environment|conda|conda[-_]env)([-_.][^/]*)?\.ya?ml$")
_LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "pipfile.lock", "pylock.toml")
# what only files without a telling name are sniffed with: compiled by re on first use
_SHEBANG_SHELLS = rb"^#!\s*(/usr)?(/local)?/bin/(env\s+)?(ba|da|a|z|k)?sh\b"
_DOCKERFILE_DIRECTIVE = rb"^#[ \t]*(syntax|escape|check)[ \t]*="
_DOCKERFILE_FROM = (
    rb"^[ \t]*FROM[ \t]+(--platform=\S+[ \t]+)?[\w${}./:@-]+([ \t]+AS[ \t]+[\w.-]+)?[ \t]*\r?$"
)
_DOCKERFILE_PREAMBLE = rb"^[ \t]*(#.*|ARG[ \t]+\S.*)?$"
_TEMPLATE = re.compile(
    r"\.(ya?ml|json|toml|py|cfg|ini|env|properties)\.(j2|jinja2?|tmpl|template|mustache)$"
)
"""Files rendered by a template engine before use (``values.yml.j2``); ``*.tpl`` files are
Helm's and classified as YAML."""
_DOCKERFILE_NOT = (
    ".dockerignore",
    ".md",
    ".txt",
    ".yaml",
    ".yml",
    ".json",
    ".py",
    ".sh",
    ".bak",
    ".orig",
    ".swp",
)

FILE_KINDS = (
    "dockerfile",
    "yaml",
    "json",
    "python",
    "requirements",
    "pyproject",
    "pipfile",
    "setup-cfg",
    "properties",
    "shell",
    "dotenv",
    "toml",
    "ini",
    "conda-env",
    "lockfile",
    "pip-conf",
    "notebook",
    "template",
)


def name_kind(path: str) -> str | None:
    """The file kind implied by a file's name (None when the name says nothing)."""
    base = os.path.basename(path)
    low = base.lower()
    _stem, ext = os.path.splitext(low)
    if (
        low in ("dockerfile", "containerfile")
        or low.endswith((".dockerfile", ".containerfile", "-dockerfile", "_dockerfile"))
        or (
            low.startswith(
                ("dockerfile.", "containerfile.", "dockerfile-", "dockerfile_", "containerfile-")
            )
            and not low.endswith(_DOCKERFILE_NOT)
            and not _TEMPLATE.search(low)
        )
    ):
        return "dockerfile"
    if ext == ".py":
        return "python"
    if ext == ".ipynb":
        return "notebook"
    if _TEMPLATE.search(low):
        return "template"
    if _REQUIREMENTS.search(low) or (
        ext == ".txt"
        and os.path.basename(os.path.dirname(path)).lower()
        in ("requirements", "requirements.d", "reqs")
    ):
        return "requirements"
    if low == "pyproject.toml":
        return "pyproject"
    if base == "Pipfile":
        return "pipfile"
    if low == "setup.cfg":
        return "setup-cfg"
    if (
        low in _LOCK_FILES
        or (low.startswith("pylock.") and ext == ".toml")
        or (
            (low.startswith("conda-lock") or low.endswith(".conda-lock.yml"))
            and ext in (".yml", ".yaml")
        )
    ):
        return "lockfile"
    if _CONDA_ENV.match(low):
        return "conda-env"
    if low in ("pip.conf", "pip.ini"):
        return "pip-conf"
    if ext in (".yaml", ".yml") or (
        ext == ".tpl" and os.path.basename(os.path.dirname(path)) == "templates"
    ):
        return "yaml"  # a .tpl of a Helm chart: its chart is rendered
    if ext == ".json":
        return "json"
    if ext == ".properties":
        return "properties"
    if ext in (".sh", ".bash"):
        return "shell"
    if low == ".env" or low.startswith(".env.") or ext == ".env":
        return "dotenv"
    if ext == ".toml":
        return "toml"
    if ext == ".ini":
        return "ini"
    return None


def sniff_kind(abspath: str) -> str | None:
    """Classify an extensionless file by its start: a shell shebang (entrypoint scripts),
    or a Dockerfile (a ``# syntax=`` directive, or ``FROM`` after comments and ``ARG``s)."""
    try:
        with open(abspath, "rb") as fh:
            head = fh.read(2048)
    except OSError:
        return None
    if re.match(_SHEBANG_SHELLS, head):
        return "shell"
    return "dockerfile" if _looks_like_dockerfile(head) else None


def _looks_like_dockerfile(head: bytes) -> bool:
    head = head.removeprefix(b"\xef\xbb\xbf")
    if re.match(_DOCKERFILE_DIRECTIVE, head, re.I):
        return True
    lines = head.split(b"\n")
    for line in lines[:-1] if len(lines) > 1 else lines:  # the last one may be cut
        if re.match(_DOCKERFILE_FROM, line, re.I):
            return True
        if not re.match(_DOCKERFILE_PREAMBLE, line.rstrip(b"\r"), re.I):
            return False
    return False


class Target(Struct, frozen=True):
    abspath: str
    display: str
    kind: str
    explicit: bool


class RealPaths:
    """``os.path.realpath`` for many files of few directories: each directory is
    resolved once, from its resolved parent, and a file or directory costs one ``lstat``
    (is it a link itself?)."""

    def __init__(self) -> None:
        self.dirs: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        path = os.path.abspath(path)
        directory, name = os.path.split(path)
        if not name:
            return os.path.realpath(path)
        full = os.path.join(self._directory(directory), name)
        return os.path.realpath(full) if os.path.islink(full) else full

    def _directory(self, directory: str) -> str:
        real = self.dirs.get(directory)
        if real is None:
            parent, name = os.path.split(directory)
            if not name:  # the root
                real = os.path.realpath(directory)
            else:
                full = os.path.join(self._directory(parent), name)
                real = os.path.realpath(full) if os.path.islink(full) else full
            self.dirs[directory] = real
        return real


def display_path(abspath: str, base: str) -> str:
    if (
        os.sep == "/"
        and abspath.startswith(base)
        and abspath[len(base) : len(base) + 1] == "/"
        and base != "/"
        and not abspath.startswith("//")
        and abspath == os.path.normpath(abspath)
        and base == os.path.normpath(base)
    ):
        return abspath[len(base) + 1 :]  # below the base: what relpath finds, without it
    rel = os.path.relpath(abspath, base)
    if rel.startswith(".."):
        rel = abspath
    return rel.replace(os.sep, "/")


def scanned_roots(
    paths: Iterable[str], base: str, real: Callable[[str], str] = os.path.realpath
) -> list[str]:
    """The trees a scan covers (real paths): each scanned directory, and the directory of
    each scanned file; standard input (``-``) covers none."""
    roots: list[str] = []
    for raw in paths:
        if raw == "-":
            continue
        path = os.path.join(base, raw)
        roots.append(real(path if os.path.isdir(path) else os.path.dirname(path)))
    return roots


def find_repo_root(start: str) -> str | None:
    cur = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(cur, ".git")):
            return cur
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


class _Ignore:
    """Stacked .gitignore specs plus configured exclude patterns."""

    def __init__(
        self,
        root: str,
        stop: str,
        excludes: Sequence[str],
        use_gitignore: bool,
        extra: Sequence[tuple[str, Sequence[str]]] = (),
    ) -> None:
        self.root = root  # configured excludes are relative to this directory
        self.stop = stop  # .gitignore files are looked up to this directory (repository root)
        self.use_gitignore = use_gitignore
        self.specs: dict[str, Any] = {}
        self.notices: list[Notice] = []
        """Patterns of ``.gitignore`` files refused by :func:`gitignore_pattern_problem`."""
        self.exclude_spec: Any = None
        self.extra_specs: list[tuple[str, Any]] = []
        excludes = self._affordable("--exclude", excludes)
        extra = [(d, self._affordable("configuration exclude", p)) for d, p in extra]
        if excludes or any(patterns for _, patterns in extra):
            import pathspec

            if excludes:
                self.exclude_spec = pathspec.GitIgnoreSpec.from_lines(excludes)
            self.extra_specs = [
                (os.path.abspath(d), pathspec.GitIgnoreSpec.from_lines(p)) for d, p in extra if p
            ]

    def _affordable(self, origin: str, patterns: Sequence[str]) -> list[str]:
        """Configured patterns that matching can afford (a configuration file may come
        from the scanned repository); a notice for each refused one."""
        kept = []
        for pattern in patterns:
            problem = gitignore_pattern_problem(pattern)
            if problem is None:
                kept.append(pattern)
            else:
                self.notices.append(
                    Notice(
                        origin,
                        "exclude-pattern",
                        f"pattern {pattern[:80]!r} not honoured ({problem})",
                        "warning",
                    )
                )
        return kept

    def load_dir(self, directory: str) -> None:
        """Read ``directory/.gitignore``; it is compiled when a path is first checked."""
        if not self.use_gitignore or directory in self.specs:
            return
        path = os.path.join(directory, ".gitignore")
        lines: list[str] = []
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    lines = fh.read(MAX_GITIGNORE_BYTES + 1).splitlines()
            except OSError:
                lines = []
            lines = self._bounded(path, lines)
        self.specs[directory] = lines or None

    def _bounded(self, path: str, lines: list[str]) -> list[str]:
        """The patterns of a ``.gitignore`` that matching can afford (notices for the
        rest): a scanned repository writes its own ``.gitignore``."""
        kept: list[str] = []
        display = display_path(path, self.root)
        for number, line in enumerate(lines, start=1):
            problem = gitignore_pattern_problem(line)
            if problem is None and len(kept) >= MAX_GITIGNORE_PATTERNS:
                problem = f"more than {MAX_GITIGNORE_PATTERNS} patterns in the file"
            if problem is None:
                kept.append(line)
                continue
            self.notices.append(
                Notice(
                    display,
                    "gitignore-pattern",
                    f"pattern not honoured ({problem}); files it would exclude are scanned",
                    "warning",
                    number,
                )
            )
            if len(kept) >= MAX_GITIGNORE_PATTERNS:
                break  # one notice for the rest of the file
        return kept

    def _spec(self, directory: str) -> Any:
        spec = self.specs.get(directory)
        if isinstance(spec, list):  # explicit files are never checked: pathspec stays unloaded
            import pathspec

            spec = self.specs[directory] = pathspec.GitIgnoreSpec.from_lines(spec)
        return spec

    def ignored(self, abspath: str, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if self.exclude_spec is not None:
            rel = display_path(abspath, self.root)
            if self.exclude_spec.match_file(rel + suffix):
                return True
        for directory, spec in self.extra_specs:
            rel = os.path.relpath(abspath, directory)
            if not rel.startswith(os.pardir) and spec.match_file(rel.replace(os.sep, "/") + suffix):
                return True
        if not self.use_gitignore:
            return False
        directory = os.path.dirname(abspath)
        while True:
            spec = self._spec(directory)
            if spec is not None:
                rel = os.path.relpath(abspath, directory).replace(os.sep, "/")
                res = spec.check_file(rel + suffix)
                if res.include is not None:
                    return bool(res.include)
            if directory == self.stop or len(directory) <= len(self.stop):
                return False
            parent = os.path.dirname(directory)
            if parent == directory:
                return False
            directory = parent


MAX_GITIGNORE_BYTES = 1 << 20
MAX_GITIGNORE_PATTERNS = 5000
MAX_PATTERN_LENGTH = 1024
MAX_PATTERN_STARS = 8
MAX_PATTERN_GLOBSTARS = 2


def gitignore_pattern_problem(line: str) -> str | None:
    """Why a ``.gitignore`` line is too costly to match (None when it is fine): matching
    backtracks polynomially in the number of wildcards, so their count is bounded."""
    if len(line) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    globstars = line.count("**")
    if globstars > MAX_PATTERN_GLOBSTARS:
        return f"more than {MAX_PATTERN_GLOBSTARS} '**'"
    if line.count("*") - 2 * globstars > MAX_PATTERN_STARS:
        return f"more than {MAX_PATTERN_STARS} '*'"
    per_segment = 1 if globstars else 2
    if any(part.count("*") > per_segment for part in line.split("/") if part != "**"):
        return (
            "more than one '*' in a path segment of a pattern with '**'"
            if globstars
            else "more than two '*' in a path segment"
        )
    return None


def discover(
    paths: Iterable[str],
    *,
    base: str | None = None,
    excludes: Sequence[str] = (),
    respect_gitignore: bool = True,
    force_exclude: bool = False,
    extra_excludes: Sequence[tuple[str, Sequence[str]]] = (),
) -> tuple[list[Target], list[Notice], int]:
    """Files to scan, notices, and the number of files skipped as unsupported kinds.

    ``extra_excludes`` are (directory, patterns) pairs whose patterns are relative to
    their directory (the excludes of a configuration file).
    """
    base = os.path.abspath(base or os.getcwd())
    targets: list[Target] = []
    notices: list[Notice] = []
    skipped = 0
    seen: set[str] = set()
    repo_root = find_repo_root(base) or base
    ignore = _Ignore(base, repo_root, excludes, respect_gitignore, extra_excludes)
    # .gitignore files from the repository root down to the base directory apply too
    cur = base
    while respect_gitignore:
        ignore.load_dir(cur)
        if cur == repo_root or os.path.dirname(cur) == cur:
            break
        cur = os.path.dirname(cur)

    real_path = RealPaths()  # many files named in few directories (a pre-commit run)
    for raw in paths:
        abspath = os.path.normpath(os.path.join(base, raw))
        display = display_path(abspath, base)
        if not os.path.lexists(abspath):
            notices.append(Notice(display, "not-found", "no such file or directory", "error"))
            continue
        real = real_path(abspath)
        if real != abspath and not _within(real, repo_root):
            notices.append(
                Notice(
                    display,
                    "symlink",
                    "symbolic link to a path outside the scanned tree; not read",
                    "warning",
                )
            )
            continue
        if os.path.isdir(abspath):
            if force_exclude and ignore.ignored(abspath, True):
                continue
            found, more_notices, more_skipped = _walk(abspath, base, ignore, seen)
            targets.extend(found)
            notices.extend(more_notices)
            skipped += more_skipped
            continue
        if force_exclude and (ignore.ignored(abspath, False) or _in_excluded_dir(abspath, base)):
            notices.append(
                Notice(display, "excluded", "excluded by configuration or .gitignore", "note")
            )
            continue
        if not os.path.isfile(abspath):
            notices.append(
                Notice(display, "special-file", "not a regular file; not scanned", "warning")
            )
            continue
        kind = name_kind(abspath) or (
            sniff_kind(abspath) if "." not in os.path.basename(abspath) else None
        )
        if kind is None:
            notices.append(
                Notice(
                    display, "unsupported", "not a file type mlsec-lint reads; not scanned", "note"
                )
            )
            continue
        if real in seen:
            continue  # named twice: scanned once
        seen.add(real)
        targets.append(Target(abspath, display, kind, True))
    return targets, notices + ignore.notices, skipped


def _within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (real paths)."""
    root_real = os.path.realpath(root)
    return path == root_real or path.startswith(root_real.rstrip(os.sep) + os.sep)


def _in_excluded_dir(abspath: str, base: str) -> bool:
    rel = display_path(abspath, base)
    if rel == abspath.replace(os.sep, "/"):  # outside the base: judge by name
        return any(part in DEFAULT_EXCLUDED_DIRS for part in rel.split("/")[:-1])
    parts = rel.split("/")[:-1]
    return any(
        part in _SILENT_DIRS or excluded_dir_reason(os.path.join(base, *parts[: i + 1])) is not None
        for i, part in enumerate(parts)
    )


_SILENT_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", "__pycache__"})
"""Version-control internals and bytecode caches: skipped without a notice."""
_VENV_NAMES = frozenset({".venv", "venv"})
_BUILD_NAMES = frozenset({"build", "dist", "_build"})
_BUILD_ENTRIES = re.compile(
    r"\A(?:(?:lib|bdist|temp|scripts)(?:[.-].*)?|html|dirhtml|singlehtml|doctrees|"
    r"\.doctrees|latex|epub|man|text|\.buildinfo)\Z"
)
_BUILD_SUFFIXES = (".egg-info", ".whl", ".egg", ".zip", ".tar.gz", ".tar.bz2", ".tgz")
_LIST_LIMIT = 1000


def _is_venv(path: str) -> bool:
    """A virtual environment: ``pyvenv.cfg`` with a ``home`` key (venv, virtualenv 20+,
    uv), or the activation script of an older virtualenv."""
    try:
        with open(os.path.join(path, "pyvenv.cfg"), encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        head = ""
    if any(line.split("=", 1)[0].strip().lower() == "home" for line in head.splitlines()):
        return True
    return any(
        os.path.isfile(os.path.join(path, *parts))
        for parts in (("bin", "activate"), ("Scripts", "activate.bat"))
    )


def _is_build_output(path: str) -> bool:
    """Only what setuptools, wheel builders or Sphinx put in ``build``/``dist``."""
    try:
        with os.scandir(path) as it:
            for i, entry in enumerate(it):
                name = entry.name
                if i >= _LIST_LIMIT or not (
                    name.endswith(_BUILD_SUFFIXES) or _BUILD_ENTRIES.match(name)
                ):
                    return False
    except OSError:
        return False
    return True


def excluded_dir_reason(path: str) -> str | None:
    """Why a directory is not descended into by default (None: it is walked).

    Names alone do not decide: a ``venv`` or ``build`` directory is excluded when it is
    a real virtual environment or build output, and any directory that is a virtual
    environment is excluded whatever its name."""
    name = os.path.basename(path)
    if name in _SILENT_DIRS:
        return ""
    if _is_venv(path):
        return "virtual environment"
    if name in _VENV_NAMES:
        return None
    if name in _BUILD_NAMES:
        return "build output" if _is_build_output(path) else None
    if name in DEFAULT_EXCLUDED_DIRS:
        return "dependency, cache or editor directory"
    return None


def _walk(
    top: str, base: str, ignore: _Ignore, seen: set[str]
) -> tuple[list[Target], list[Notice], int]:
    targets: list[Target] = []
    notices: list[Notice] = []
    skipped = 0
    stack = [top]
    while stack:
        directory = stack.pop()
        ignore.load_dir(directory)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            notices.append(
                Notice(
                    display_path(directory, base),
                    "unreadable",
                    f"cannot list directory: {exc.strerror or exc}",
                    "error",
                )
            )
            continue
        subdirs = []
        for entry in entries:
            path = entry.path
            try:
                if entry.is_symlink():
                    if not ignore.ignored(path, False):
                        notices.append(
                            Notice(
                                display_path(path, base),
                                "symlink",
                                "symbolic link not followed",
                                "note",
                            )
                        )
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in _SILENT_DIRS or ignore.ignored(path, True):
                        continue
                    reason = excluded_dir_reason(path)
                    if reason is not None:
                        notices.append(
                            Notice(
                                display_path(path, base),
                                "excluded-dir",
                                f"{reason}; not scanned (name it on the command line to scan it)",
                                "note",
                            )
                        )
                        continue
                    subdirs.append(path)
                    continue
                if ignore.ignored(path, False):
                    continue
                if not entry.is_file(follow_symlinks=False):
                    if name_kind(path) is not None:  # a FIFO, socket or device named like a target
                        notices.append(
                            Notice(
                                display_path(path, base),
                                "special-file",
                                "not a regular file; not scanned",
                                "warning",
                            )
                        )
                    continue
            except OSError as exc:
                notices.append(
                    Notice(
                        display_path(path, base),
                        "unreadable",
                        f"cannot stat: {exc.strerror or exc}",
                        "error",
                    )
                )
                continue
            kind = name_kind(path)
            if kind is None and "." not in entry.name:
                kind = sniff_kind(path)
            if kind is None:
                skipped += 1
                continue
            if path in seen:
                continue
            seen.add(path)
            targets.append(Target(path, display_path(path, base), kind, False))
        stack.extend(reversed(subdirs))
    return targets, notices, skipped
