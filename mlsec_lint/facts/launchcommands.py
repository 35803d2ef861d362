"""Command lines -> the model server they start.

Strips wrappers (``exec``, ``env``, ``VAR=… cmd``, runners such as ``uv run``),
identifies the server from the program, ``python -m`` module or script (tables in
:mod:`mlsec_lint.facts.servertables`), and follows ``sh -c "…"`` strings and shell
scripts command by command, with the environment they set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlsec_lint.facts.launchargs import (
    Arg,
    Doc,
    Env,
    _assign,
    _expand_arg,
    _is_assignment,
    args_of_words,
)
from mlsec_lint.facts.servertables import ServerSpec, tables
from mlsec_lint.parsers.shell import SHELLS, Command, Word, split_commands, strip_wrappers
from mlsec_lint.records import Struct

# --------------------------------------------------------------------------- commands


class Launch(Struct):
    spec: ServerSpec
    program: Arg
    program_name: str
    argv: list[Arg]
    args: list[Arg]
    env: Env


_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?$")
_PY_OPTS_WITH_VALUE = {"-X", "-W", "-Q"}


def _base(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _strip(words: list[Arg], env: Env) -> list[Arg]:
    """Drop wrappers (``exec``, ``env A=1``, ``uv run`` …); their assignments go to ``env``."""
    runners = tables().runners
    for _ in range(8):
        if not words:
            return words
        head = words[:24]  # wrappers never take more words than this
        skip = len(head) - len(strip_wrappers([Word(a.text, 0, 0) for a in head]))
        for a in words[:skip]:
            if _is_assignment(a.text):
                _assign(env, a)
        words = words[skip:]
        if not words:
            return words
        base = _base(words[0].text)
        runner = runners.get(base)
        if runner is None:
            return words
        sub, with_value = runner
        i = 1
        if sub is not None:
            if len(words) < 2 or words[1].text != sub:
                return words
            i = 2
        while i < len(words) and words[i].text.startswith("-"):
            if words[i].text == "--":
                i += 1
                break
            i += 2 if words[i].text in with_value else 1
        words = words[i:]
    return words


def _identify(words: list[Arg]) -> tuple[ServerSpec, int, str] | None:
    """(server, index of its first argument, program name) for a start command."""
    t = tables()
    if not words:
        return None
    prog = _base(words[0].text)
    i = 1
    program: str | None = None
    server: str | None = None
    if _PYTHON.match(prog):
        while i < len(words):
            text = words[i].text
            if text == "-m" and i + 1 < len(words):
                module = words[i + 1].text
                i += 2
                hit = t.modules.get(module)
                if hit is None:
                    return None
                server, program = hit
                break
            if text.startswith("-m") and len(text) > 2:
                hit = t.modules.get(text[2:])
                i += 1
                if hit is None:
                    return None
                server, program = hit
                break
            if text == "-c":
                return None
            if text in _PY_OPTS_WITH_VALUE:
                i += 2
                continue
            if text.startswith("-"):
                i += 1
                continue
            script = _base(text)
            i += 1
            if script in t.scripts:
                server = t.scripts[script]
                program = None
                break
            return None
        if server is None:
            return None
        if program is None:
            return t.servers[server], i, _base(words[i - 1].text)
        prog = program
    hit2 = t.programs.get(prog)
    if hit2 is None:
        return None
    server, subs = hit2
    if subs is not None:
        if i >= len(words) or words[i].text not in subs:
            return None
        i += 1
    spec = t.servers[server]
    if spec.not_with and any(w.text.partition("=")[0] in spec.not_with for w in words[i:]):
        return None
    return spec, i, prog


def _parse_stripped(words: list[Arg], env: Env, style: str) -> Launch | None:
    """A server start command, or None when ``words`` start something else; ``words``
    have their wrappers stripped, and their assignments are in ``env`` (a copy)."""
    words = [_expand_arg(w, env, style) for w in words]
    found = _identify(words)
    if found is None:
        return None
    spec, index, prog = found
    return Launch(spec, words[0], prog, words, words[index:], env)


def _script_of(words: list[Arg]) -> Arg | None:
    if len(words) < 3 or _base(words[0].text) not in SHELLS:
        return None
    i = 1
    while i < len(words) and words[i].text.startswith("-"):
        flag = words[i].text
        if flag.startswith("--"):
            i += 1
            continue
        if "c" in flag[1:]:
            return words[i + 1] if i + 1 < len(words) else None
        i += 1
    return None


def run_script(doc: Doc, env: Env, depth: int = 0, outer: str = "none") -> Iterator[Launch]:
    """Launches in a shell script, following ``export``/assignments in order.

    ``outer`` is the expansion that happened before the shell saw the script (Kubernetes
    replaces ``$(VAR)`` in a container's command); it is applied word by word so
    positions stay exact.
    """
    env = dict(env)
    style = "shell" if outer in ("none", "shell") else f"{outer}+shell"
    for cmd in split_commands(doc.text):
        yield from _run_command(cmd, doc, env, depth, style)


def _run_command(
    cmd: Command, doc: Doc, env: Env, depth: int, style: str = "shell"
) -> Iterator[Launch]:
    assigns = [_dyn(a) for a in args_of_words(cmd.assigns, doc)]
    words = [_dyn(a) for a in args_of_words(cmd.words, doc)]
    if not words:
        for a in assigns:
            _assign(env, a, style=style)
        return
    if words[0].text in ("export", "declare", "typeset", "readonly", "local"):
        for a in words[1:]:
            if _is_assignment(a.text):
                _assign(env, a, style=style)
        return
    prefix = dict(env)
    for a in assigns:
        _assign(prefix, a, style=style)
    yield from run_argv(words, prefix, style, depth)


def _dyn(arg: Arg) -> Arg:
    if not arg.dynamic and "$" in arg.text:
        arg.dynamic = True
    return arg


def run_argv(words: list[Arg], env: Env, style: str, depth: int = 0) -> Iterator[Launch]:
    """Launches started by one argv: a server command or a shell running a script."""
    if not words:
        return
    stripped_env = dict(env)
    probe = _strip(list(words), stripped_env)
    script = _script_of(probe)
    if script is not None and depth < 4:
        yield from run_script(script.inner(), env, depth + 1, outer=style)
        return
    launch = _parse_stripped(probe, stripped_env, style)
    if launch is not None:
        yield launch
