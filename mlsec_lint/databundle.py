"""JSON bundles of the YAML data the tool ships: the built-in rules and knowledge tables.

Importing a YAML library and parsing ~100 small files costs tens of milliseconds at every
start, which a pre-commit hook pays on every commit. Each data directory therefore holds
a ``_bundle.json`` with the parsed files and a checksum of their bytes. A bundle is used
only when the checksum matches the files on disk, so an edited rule or table is never
served stale; otherwise the YAML is read (and ``python -m mlsec_lint.bundles``
rewrites the bundles; a test checks they are current).

The checksum guards against stale data, not against tampering (whoever can edit these
files can edit the program), so a CRC is enough and avoids loading OpenSSL at start.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlsec_lint.errors import MlsecLintError
from mlsec_lint.records import decode_json

BUNDLE_NAME = "_bundle.json"


def yaml_files(directory: Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files under ``directory``, sorted, hidden ones excluded."""
    return [directory / name for name, _ in _walk(str(directory), "")]


def _walk(root: str, prefix: str) -> list[tuple[str, str]]:
    """(relative POSIX name, path) of the YAML files under ``root``: a directory's files in
    name order, then its subdirectories in name order. ``os.scandir`` rather than
    ``os.walk`` and ``pathlib``: this runs at every start, over ~160 files."""
    files: list[tuple[str, str]] = []
    dirs: list[tuple[str, str]] = []
    with os.scandir(root) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                dirs.append((name, entry.path))
            elif name.endswith((".yaml", ".yml")):
                files.append((prefix + name, entry.path))
    files.sort()
    for name, path in sorted(dirs):
        files += _walk(path, f"{prefix}{name}/")
    return files


def read_all(directory: Path) -> list[tuple[str, bytes]]:
    """(relative POSIX name, bytes) of every YAML file of ``directory``."""
    out = []
    try:
        listed = _walk(str(directory), "")
    except OSError as exc:
        raise MlsecLintError(f"cannot read {directory}: {exc}") from None
    for name, path in listed:
        try:
            with open(path, "rb", buffering=0) as fh:  # one read: no buffer needed
                out.append((name, fh.readall()))
        except OSError as exc:
            raise MlsecLintError(f"cannot read {path}: {exc}") from None
    return out


def checksum(files: list[tuple[str, bytes]]) -> str:
    crc = 0
    for name, content in files:
        head = f"{name}\0{len(content)}\0".encode()
        crc = zlib.crc32(content, zlib.crc32(head, crc))
    return f"crc32:{len(files)}:{crc:08x}"


def _parse_yaml(directory: Path, files: list[tuple[str, bytes]]) -> list[tuple[str, Any]]:
    import yaml

    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = []
    for name, content in files:
        try:
            data = yaml.load(content, Loader=loader)
            # the data a bundle would give: JSON types only (mapping keys become strings)
            out.append((name, json.loads(json.dumps(data))))
        except yaml.YAMLError as exc:
            raise MlsecLintError(f"cannot read {directory / name}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise MlsecLintError(f"{directory / name}: not JSON-compatible data: {exc}") from None
    return out


def load(directory: Path) -> list[tuple[str, Any]]:
    """The parsed YAML files of ``directory``, through its bundle when that is current."""
    return load_with_derived(directory)[0]


def load_with_derived(directory: Path) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """:func:`load`, and what :func:`write` derived from the files when it bundled them
    (empty when the YAML is read: the caller derives what it needs itself)."""
    files = read_all(directory)
    try:
        with open(os.path.join(directory, BUNDLE_NAME), "rb") as fh:
            bundle = decode_json(fh.read())  # ValueError when malformed
        if bundle.get("checksum") == checksum(files):
            derived = bundle.get("derived") or {}
            return [(str(name), data) for name, data in bundle["files"]], dict(derived)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # missing, unreadable or malformed: read the YAML instead
    return _parse_yaml(directory, files), {}


def is_current(directory: Path) -> bool:
    try:
        with open(directory / BUNDLE_NAME, encoding="utf-8") as fh:
            return bool(json.load(fh).get("checksum") == checksum(read_all(directory)))
    except (OSError, ValueError, AttributeError):
        return False


def write(directory: Path, derive: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Path:
    """Rewrite the bundle of ``directory``; returns its path. ``derive``: what to
    compute once from the parsed files and bundle with them (``derived``)."""
    files = read_all(directory)
    parsed = _parse_yaml(directory, files)
    data: dict[str, Any] = {"checksum": checksum(files), "files": parsed}
    if derive is not None:  # from the data as the bundle gives it (keys sorted)
        data["derived"] = derive(json.loads(json.dumps(parsed, sort_keys=True)))
    path = directory / BUNDLE_NAME
    path.write_text(
        json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    return path


def directories() -> list[Path]:
    """The data directories that carry a bundle: built-in rules and knowledge tables."""
    from mlsec_lint.datadirs import DATA_DIR, builtin_rules_dir

    return [builtin_rules_dir(), DATA_DIR]
