"""Shell commands run at build or start time -> ``command`` facts and what they install
and download.

The same analysis serves Dockerfile ``RUN`` instructions (shell form, exec form and
heredocs) and shell scripts. Each simple command becomes a ``command`` fact; the
commands the supply chain depends on are understood with their arguments:

* ``pip`` / ``pip3`` / ``python -m pip`` / ``uv pip`` / ``pip-sync``: ``dependency``,
  ``package-index`` and a ``dependency-manifest`` for the packages named inline;
  ``-r`` / ``-c`` files are recorded so :mod:`mlsec_lint.resolve` can follow them;
* ``conda`` / ``mamba`` / ``micromamba install|create|update`` with conda match-spec
  semantics and channels, ``conda env create -f``, ``conda config --add channels``;
* ``uv sync``, ``poetry install``, ``pipenv install --deploy``, ``pdm sync``: installs
  from a lock file;
* ``apt-get`` / ``apt install``: packages and their versions;
* ``curl``, ``wget``, ``aria2c`` and Dockerfile ``ADD <url>``: URL, scheme, TLS
  verification switches, output file, and a checksum verification later in the same
  stage or script (``sha256sum -c``, ``ADD --checksum``);
* ``huggingface-cli download`` / ``hf download`` and ``git clone`` of hub repositories
  (with a later ``git checkout``): ``model-source`` facts with the revision;
* ``PIP_EXTRA_INDEX_URL``, ``PIP_TRUSTED_HOST``, ``UV_INDEX_STRATEGY`` … set for a
  command, exported, or set with ``pip config set``: ``package-index`` facts.

Nothing is executed; variables are expanded only from values written in the file.

This module is the walk over the commands; the installers are read in
:mod:`mlsec_lint.facts.shellinstalls`, downloads and model sources in
:mod:`mlsec_lint.facts.shelldownloads`, and the session state they share is
:mod:`mlsec_lint.facts.shellsession`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence

from mlsec_lint.facts import Fact, FileAnalysis
from mlsec_lint.facts.pipinstall import expand
from mlsec_lint.facts.shelldownloads import _CHECKSUM_PROGRAMS, _fetch, _git, _hf, _verify
from mlsec_lint.facts.shellinstalls import _apt, _assignment, _conda, _lock_install, _pip
from mlsec_lint.facts.shellsession import Session, SpanOf, _base, _put, _Shell
from mlsec_lint.model import Notice, Span
from mlsec_lint.parsers.shell import (
    SHELLS,
    Command,
    OffsetMap,
    Word,
    split_commands,
    strip_wrappers,
)
from mlsec_lint.records import replace as replace_fields
from mlsec_lint.tree import PDict, PList

_SHELL_C = re.compile(r"^-[a-zA-Z]*c[a-zA-Z]*$")
# a script that is the output of a download: "$(curl …)", `wget -O- …`, <(curl …)
_FETCHED_SCRIPT = re.compile(r"(\$\(|`|<\()\s*(curl|wget)\b")
_PIP_PROGRAM = re.compile(r"pip[0-9.]*|python[0-9.]*|uv|pip-sync")
_RUN_WRAPPERS = {"conda", "mamba", "micromamba", "poetry", "pipenv", "pdm", "pixi"}
_RUN_WRAPPER_VALUE = {"-n", "--name", "-p", "--prefix", "-e", "--environment", "--cwd"}


def run_script(session: Session, commands: Iterable[Command], span_of: SpanOf) -> None:
    """Analyse the simple commands of one shell (a ``RUN`` or a script), in order."""
    shell = _Shell(session.workdir, dict(session.variables))
    previous: Command | None = None
    for cmd in commands:
        _command(session, shell, cmd, span_of, previous)
        previous = cmd


def run_text(session: Session, text: str, span_of: SpanOf) -> None:
    run_script(session, split_commands(text), span_of)


def strip_run_wrappers(words: list[Word]) -> list[Word]:
    """``conda run -n env pip …``, ``poetry run pip …`` -> ``pip …``."""
    words = strip_wrappers(words)
    while len(words) >= 2 and _base(words[0].text) in _RUN_WRAPPERS and words[1].text == "run":
        i = 2
        while i < len(words) and words[i].text.startswith("-"):
            flag = words[i].text
            i += 2 if flag in _RUN_WRAPPER_VALUE else 1
        words = strip_wrappers(words[i:])
    return words


def _command(
    session: Session, shell: _Shell, cmd: Command, span_of: SpanOf, previous: Command | None
) -> None:
    # VAR=value before a command or alone on a line
    for w in cmd.assigns:
        name, _, value = w.text.partition("=")
        if not cmd.words:
            shell.variables[name] = expand(value, shell.variables)
        _assignment(session, name, value, w, span_of, shell.variables)
    words = strip_run_wrappers(list(cmd.words))
    if not words:
        return
    program = _base(words[0].text)
    if program in ("export", "declare", "typeset", "readonly", "local"):
        for w in words[1:]:
            if "=" in w.text and not w.text.startswith("-"):
                name, _, value = w.text.partition("=")
                shell.variables[name] = expand(value, shell.variables)
                _assignment(session, name, value, w, span_of, shell.variables)
        return
    if program == "env":
        for w in words[1:]:
            if "=" in w.text and not w.text.startswith("-"):
                name, _, value = w.text.partition("=")
                _assignment(session, name, value, w, span_of, shell.variables)
    if program == "cd" and len(words) >= 2:
        target = expand(words[1].text, shell.variables)
        if "$" not in target:
            shell.cwd = posixpath.normpath(posixpath.join(shell.cwd or "/", target))
        return
    if program in SHELLS and len(words) >= 3 and _SHELL_C.match(words[1].text):
        if _FETCHED_SCRIPT.search(words[2].text[:4096]):
            # sh -c "$(curl -fsSL https://…)": the downloaded text is the script
            session.facts.append(_command_fact(session, words, span_of))
        _nested(session, words[2], span_of)
        return
    if session.analysed >= MAX_COMMANDS:
        if not session.skipped:
            session.skipped_from = span_of(words[0]).line
        session.skipped += 1
        return
    session.analysed += 1
    fact = _command_fact(session, words, span_of)
    data = fact.data
    if previous is not None and previous.separator == "|" and previous.words:
        # curl … | sh: what feeds this command's standard input
        upstream = strip_run_wrappers(list(previous.words))
        if upstream:
            first = span_of(upstream[0])
            piped = PDict(first)
            _put(piped, "program", _base(upstream[0].text), first)
            argv = PList(first)
            for w in upstream:
                argv.push(w.text, span_of(w))
            _put(piped, "argv", argv, first)
            _put(data, "piped_from", piped, first)
    if program in ("echo", "printf") and cmd.separator != "|" and not cmd.stdout_redirected:
        _printed_variables(words, span_of, data)
    session.facts.append(fact)
    handler = _HANDLERS.get(program)
    if handler is None and _PIP_PROGRAM.fullmatch(program):
        handler = _pip
    if handler is not None:
        handler(session, shell, words, span_of, data, previous)


MAX_COMMANDS = 20_000
"""Commands analysed per script or Dockerfile stage; the rest are announced."""


def budget_notice(session: Session, path: str) -> Notice | None:
    """The notice for the commands of ``session`` past :data:`MAX_COMMANDS`, if any."""
    if not session.skipped:
        return None
    line = session.skipped_from
    return Notice(
        path,
        "partly-analysed",
        f"{session.skipped:,} commands past the first {MAX_COMMANDS:,} not analysed "
        f"(from line {line})",
        "warning",
        line,
    )


def _nested(session: Session, script: Word, span_of: SpanOf) -> None:
    """``sh -c "…"``: analyse the inner script; positions map into the quoted word when
    the word is a plain quoted string, otherwise every inner word points at the script."""
    inner = split_commands(script.text)
    exact = script.quoted and script.end - script.start == len(script.text) + 2
    base = script.start + 1

    def inner_span(w: Word) -> Span:
        if exact:
            return span_of(replace_fields(w, start=base + w.start, end=base + w.end))
        return span_of(script)

    shell_session = session
    shell = _Shell(session.workdir, dict(session.variables))
    previous: Command | None = None
    for cmd in inner:
        _command(shell_session, shell, cmd, inner_span, previous)
        previous = cmd


_VARIABLE_REF = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=?][^}$]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)
"""``$NAME``, ``${NAME}`` and ``${NAME:-default}`` (not ``${#NAME}``, ``${NAME:0:4}``,
``${NAME:+set}``, which print no more than a length, a prefix or a constant)."""


def _printed_variables(words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``echo``/``printf`` writing variables to the log (not piped, not to a file)."""
    first = span_of(words[0])
    printed = PList(first)
    for w in words[1:]:
        if w.text.startswith("-") or "$" not in w.text or ">" in w.text:
            continue
        for m in _VARIABLE_REF.finditer(w.text[:4096]):
            printed.push(m.group(1) or m.group(2), span_of(w))
    if printed:
        _put(data, "printed_variables", printed, first)


def _command_fact(session: Session, words: Sequence[Word], span_of: SpanOf) -> Fact:
    first = span_of(words[0])
    argv = PList(first)
    for w in words:
        argv.push(w.text, span_of(w))
    data = PDict(first)
    program = _base(words[0].text)
    data.put("program", program, first, first)
    data.put("argv", argv, first, first.merge(span_of(words[-1])))
    data.put_all({"origin": session.origin, "owner": session.owner, **session.extra}, first)
    data.put("context", PDict(first), first, first)
    return Fact("command", session.path, data, first, session.key(f"command/{program}"))


_HANDLERS: dict[
    str, Callable[[Session, _Shell, Sequence[Word], SpanOf, PDict, Command | None], None]
] = {
    "conda": _conda,
    "mamba": _conda,
    "micromamba": _conda,
    "apt-get": _apt,
    "apt": _apt,
    "curl": _fetch,
    "wget": _fetch,
    "aria2c": _fetch,
    "huggingface-cli": _hf,
    "hf": _hf,
    "git": _git,
    "poetry": _lock_install,
    "pipenv": _lock_install,
    "pdm": _lock_install,
    "[": _verify,
    "[[": _verify,
    "test": _verify,
    "gpg": _verify,
    "cosign": _verify,
    **dict.fromkeys(_CHECKSUM_PROGRAMS, _verify),
}


def extract_script(text: str, path: str) -> FileAnalysis:
    """A shell script: one shell, its commands in order."""
    fa = FileAnalysis(path, "shell")
    omap = OffsetMap.for_text(text)

    def span_of(w: Word) -> Span:
        line, col = omap.position(w.start)
        eline, ecol = omap.position(max(w.start, w.end - 1))
        return Span(line, col, eline, ecol + 1)

    session = Session(path, "shell", "script")
    run_text(session, text, span_of)
    fa.facts.extend(session.facts)
    notice = budget_notice(session, path)
    if notice is not None:
        fa.notices.append(notice)
    return fa


def from_argv(
    items: Sequence[tuple[str, Span]],
    path: str,
    origin: str,
    owner: str = "argv",
    inner: Sequence[Callable[[int, int], Span] | None] | None = None,
    expanded: bool = True,
) -> list[Fact]:
    """Facts of one argv given as (word, span) pairs: a container ``command``/``args``, a
    compose ``command``, an exec-form ``CMD``. ``sh -c "…"`` scripts are analysed too;
    with ``inner`` (for each item, the span of a character range of its text) their words
    point at themselves, otherwise at the script's item. ``expanded``: whether ``$VAR``
    in the argv itself is replaced before the program runs (not for an argv Python hands
    to ``exec``: ``echo $HF_TOKEN`` there prints the name, no value)."""
    words = [Word(text, i, i + 1, dynamic="$" in text) for i, (text, _span) in enumerate(items)]

    def span_of(w: Word) -> Span:
        return items[min(max(w.start, 0), len(items) - 1)][1]

    session = Session(path, origin, owner)
    stripped = strip_wrappers(words)
    offset = len(words) - len(stripped)
    if (
        inner is not None
        and len(stripped) >= 3
        and _base(stripped[0].text) in SHELLS
        and _SHELL_C.match(stripped[1].text)
        and inner[offset + 2] is not None
    ):
        mapper = inner[offset + 2]
        assert mapper is not None
        script = items[offset + 2][0]
        run_script(session, split_commands(script), lambda w: mapper(w.start, w.end))
        return session.facts
    run_script(session, [Command(words=words)], span_of)
    if not expanded:
        for fact in session.facts:
            if fact.kind == "command":
                fact.data.pop("printed_variables", None)
    return session.facts
