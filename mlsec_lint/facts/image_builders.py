"""Container images built in Python code (BentoML, Modal) -> dependency and command facts.

BentoML 1.3+ and Modal declare an image in the service file::

    image = bentoml.images.Image(python_version="3.11").python_packages("torch", "vllm>=0.6")
    image = modal.Image.debian_slim().pip_install("vllm").run_commands("pip install x")

The builders and their methods are data (``data/image_builders.yaml``): strings given to a
*packages* method (``python_packages``, ``pip_install`` …) are dependencies installed into
an image, reported at the string, whether the call is chained or made through a variable.

A *requirements* method (BentoML ``requirements_file("requirements.txt")``, Modal
``pip_install_from_requirements``) installs the named file into the image the same
way: the build reads it relative to the directory it runs in, the project root,
which is also where the service file usually is. The call becomes a ``command`` fact
(with the builder's origin) with ``requirement_files``, as an install command in a
Dockerfile is, and the cross-file pass marks the scanned requirements file it names as
installed (``installed_by``). Python files are analysed after that pass, so
:func:`requirements_installs` finds these calls beforehand, in the few Python files that
mention them and a builder.

The path is matched against the requirements files of the scan only (relative to the
service file's directory, then to the scan root), so nothing outside the scanned tree is
read; an absolute path, a URL or a value that is not a literal is not followed.

A *commands* method (BentoML ``Image().run("pip install …")``, Modal ``run_commands``)
runs shell commands while the image is built: they go through the shell analysis
(:mod:`mlsec_lint.facts.pyshell`) with the builder's origin, as a Dockerfile ``RUN`` step
does.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.records import Struct
from mlsec_lint.tree import PDict, PList

_MAX_CALLEE = 400
_MAX_READ = 4 * 1024 * 1024
ROLES = ("packages", "requirements", "commands")


class Builder(Struct, frozen=True):
    name: str
    origin: str
    program: str
    methods: dict[str, str]
    """method name -> role (``packages``, ``requirements``, ``commands``)"""
    pattern: re.Pattern[str]


@functools.lru_cache(maxsize=1)
def builders() -> tuple[Builder, ...]:
    out = []
    for entry in knowledge.table("image_builders")["builders"]:
        methods = {str(m): role for role in ROLES for m in entry.get(role, [])}
        pattern = re.compile(rf"{entry['image']}(?:\.[A-Za-z_]\w*\(\))*\.(?P<method>\w+)")
        out.append(Builder(entry["name"], entry["origin"], entry["program"], methods, pattern))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def prefixes() -> tuple[str, ...]:
    """Callee prefixes of every builder (a cheap first test for each call)."""
    return tuple(f"{b.program}." for b in builders())


def classify(callee: str) -> tuple[Builder, str] | None:
    """The builder and the role of ``callee`` when it is a builder method of an image."""
    if len(callee) > _MAX_CALLEE or not callee.startswith(prefixes()):
        return None
    for builder in builders():
        m = builder.pattern.fullmatch(callee)
        if m is not None and m.group("method") in builder.methods:
            return builder, builder.methods[m.group("method")]
    return None


def requirements_facts(builder: Builder, args: PList, span: Span, path: str) -> list[Fact]:
    """A ``command`` fact for one *requirements* call (a literal path)."""
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
    data.put("program", builder.program, span)
    data.put("origin", builder.origin, span)
    data.put("requirement_files", files, span)
    data.put("context", PDict(span), span)
    return [Fact("command", path, data, span, f"{builder.origin}/requirements")]


def requirements_installs(
    targets: Sequence[Any],
    analyze: Callable[[Any], tuple[Any, Any, Any, str]],
    facts: Iterable[Fact],
) -> list[Fact]:
    """The ``requirements_file`` commands of the Python files among ``targets`` (discovery
    targets; ``analyze`` reads and analyses one), for the cross-file pass, each naming the
    scanned requirements file it installs: the path relative to the service file's
    directory, else to a directory above it (the project root ``bentoml build`` runs in).
    Only needed when the scan holds a requirements file; only files that mention a
    builder's module and one of its *requirements* or *commands* methods are analysed. The
    ``pip install -r`` commands of build steps count the same way."""
    manifests = {
        f.path
        for f in facts
        if f.kind == "dependency-manifest" and f.data.get("format") == "requirements"
    }
    if not targets or not manifests:
        return []
    out: list[Fact] = []
    origins = {b.origin for b in builders()}
    for target in targets:
        try:
            with open(target.abspath, "rb") as fh:
                head = fh.read(_MAX_READ)
        except OSError:
            continue  # reported when the file is read for its own analysis
        if not any(
            program in head and any(m in head for m in mentions)
            for program, mentions in _mentions()
        ):
            continue
        _src, _notices, fa, _kind = analyze(target)
        for fact in fa.facts if fa is not None else []:
            if fact.kind != "command" or fact.data.get("origin") not in origins:
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


@functools.lru_cache(maxsize=1)
def _mentions() -> tuple[tuple[bytes, tuple[bytes, ...]], ...]:
    return tuple(
        (
            b.program.encode(),
            tuple(f"{m}(".encode() for m, role in b.methods.items() if role != "packages"),
        )
        for b in builders()
    )


def package_facts(builder: Builder, args: PList, span: Span, path: str) -> list[Fact]:
    """Dependency facts for one *packages* call: literal strings, and lists of them."""
    from mlsec_lint.facts.dependencies import image_packages

    items: list[tuple[Any, Span]] = []
    for i, item in enumerate(args):
        if isinstance(item, PList):  # pip_install(["torch", "vllm"])
            items.extend((x, item.item_span(j)) for j, x in enumerate(item))
        else:
            items.append((item, args.item_span(i)))
    return image_packages(items, path, builder.origin, f"{path}:{span.line} ({builder.name})")
