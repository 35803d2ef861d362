"""BentoML image definitions in Python -> ``dependency`` facts.

BentoML 1.3+ declares a Bento's image in the service file::

    image = bentoml.images.Image(python_version="3.11").python_packages("torch", "vllm>=0.6")

``bentoml build`` pip-installs these into the Bento's image, so every string given to
``python_packages`` is a dependency installed into an image, reported at the string,
whether the call is chained or made through a variable.

``requirements_file("requirements.txt")`` installs the named file into the image the same
way: ``bentoml build`` reads it relative to the directory it runs in, the project root,
which is also where the service file usually is. The call becomes a ``command`` fact
(``origin: bentoml-image``) with ``requirement_files``, as an install command in a
Dockerfile is, and the cross-file pass marks the scanned requirements file it names as
installed (``installed_by``). Python files are analysed after that pass, so
:func:`requirements_installs` finds these calls beforehand, in the few Python files that
mention them and BentoML.

The path is matched against the requirements files of the scan only (relative to the
service file's directory, then to the scan root), so nothing outside the scanned tree is
read; an absolute path, a URL or a value that is not a literal is not followed.

``Image().run("pip install …")`` runs a shell command while the image is built: it goes
through the shell analysis (:mod:`mlsec_lint.facts.pyshell`) with origin
``bentoml-image``, as a Dockerfile ``RUN`` step does.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.tree import PDict, PList

_MAX_CALLEE = 400
_PYTHON_PACKAGES = re.compile(
    r"bentoml\.(?:images\.)?(?:Python)?Image\(\)(?:\.[A-Za-z_]\w*\(\))*\.python_packages"
)
_REQUIREMENTS_FILE = re.compile(
    r"bentoml\.(?:images\.)?(?:Python)?Image\(\)(?:\.[A-Za-z_]\w*\(\))*\.requirements_file"
)
_RUN = re.compile(r"bentoml\.(?:images\.)?(?:Python)?Image\(\)(?:\.[A-Za-z_]\w*\(\))*\.run")
_MENTIONS = (b"requirements_file", b".run(")
_MAX_READ = 4 * 1024 * 1024


def is_python_packages(callee: str) -> bool:
    """Whether ``callee`` is ``python_packages`` called on a BentoML image."""
    if len(callee) > _MAX_CALLEE or not callee.startswith("bentoml."):
        return False
    return _PYTHON_PACKAGES.fullmatch(callee) is not None


def is_requirements_file(callee: str) -> bool:
    """Whether ``callee`` is ``requirements_file`` called on a BentoML image."""
    if len(callee) > _MAX_CALLEE or not callee.startswith("bentoml."):
        return False
    return _REQUIREMENTS_FILE.fullmatch(callee) is not None


def is_run(callee: str) -> bool:
    """Whether ``callee`` is ``run`` called on a BentoML image (a build-time command)."""
    if len(callee) > _MAX_CALLEE or not callee.startswith("bentoml."):
        return False
    return _RUN.fullmatch(callee) is not None


def requirements_facts(args: PList, span: Span, path: str) -> list[Fact]:
    """A ``command`` fact for one ``requirements_file("…")`` call (a literal path)."""
    if not args or not isinstance(args[0], str):
        return []
    name = args[0].strip()
    fspan = args.item_span(0)
    ref = PDict(fspan)
    ref.put("path", name, fspan, fspan)
    candidates = PList(fspan)
    norm = posixpath.normpath(name) if name else ""
    # relative to the service file's directory or the scan root, matched only against the
    # requirements files of the scan (nothing else is read)
    if norm and "$" not in norm and not norm.startswith("/") and "://" not in name:
        candidates.push(norm, fspan)
    ref.put("candidates", candidates, fspan)
    files = PList(fspan)
    files.push(ref, fspan)
    data = PDict(span)
    data.put("program", "bentoml", span)
    data.put("origin", "bentoml-image", span)
    data.put("requirement_files", files, span)
    data.put("context", PDict(span), span)
    return [Fact("command", path, data, span, "bentoml-image/requirements")]


def requirements_installs(
    targets: Sequence[Any],
    analyze: Callable[[Any], tuple[Any, Any, Any, str]],
    facts: Iterable[Fact],
) -> list[Fact]:
    """The ``requirements_file`` commands of the Python files among ``targets`` (discovery
    targets; ``analyze`` reads and analyses one), for the cross-file pass, each naming the
    scanned requirements file it installs: the path relative to the service file's
    directory, else to a directory above it (the project root ``bentoml build`` runs in).
    Only needed when the scan holds a requirements file; only files that mention BentoML and
    ``requirements_file`` or ``.run(`` are analysed. The ``pip install -r`` commands of
    ``Image().run(...)`` build steps count the same way."""
    manifests = {
        f.path
        for f in facts
        if f.kind == "dependency-manifest" and f.data.get("format") == "requirements"
    }
    if not targets or not manifests:
        return []
    out: list[Fact] = []
    for target in targets:
        try:
            with open(target.abspath, "rb") as fh:
                head = fh.read(_MAX_READ)
        except OSError:
            continue  # reported when the file is read for its own analysis
        if b"bentoml" not in head or not any(m in head for m in _MENTIONS):
            continue
        _src, _notices, fa, _kind = analyze(target)
        for fact in fa.facts if fa is not None else []:
            if fact.kind != "command" or fact.data.get("origin") != "bentoml-image":
                continue
            for ref in fact.data.get("requirement_files") or []:
                if not isinstance(ref, PDict):
                    continue
                found = _installed_file(fact.path, list(ref.get("candidates") or []), manifests)
                exact = PList(ref.span)
                if found is not None:  # the file itself: never a file of the same name
                    exact.push(found, ref.span)
                ref.put("candidates", exact, ref.span)
            out.append(fact)
    return out


def _installed_file(service: str, names: list[Any], manifests: set[str]) -> str | None:
    for name in names:
        directory = posixpath.dirname(service)
        for _ in range(32):
            p = posixpath.normpath(posixpath.join(directory, str(name)))
            if p in manifests:
                return p
            up = posixpath.dirname(directory)
            if up == directory or not directory or directory in (".", ".."):
                break
            directory = up
    return None


def image_facts(args: PList, span: Span, path: str) -> list[Fact]:
    """Dependency facts for one ``python_packages(...)`` call (literal strings only)."""
    from mlsec_lint.facts.dependencies import image_packages

    items = ((item, args.item_span(i)) for i, item in enumerate(args))
    return image_packages(items, path, "bentoml-image", f"{path}:{span.line} (BentoML image)")
