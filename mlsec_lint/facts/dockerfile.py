"""Dockerfiles -> ``dockerfile``, ``image``, ``env``, ``command``, ``dependency``,
``package-index``, ``dependency-manifest`` and ``model-source`` facts.

Stages are walked in order; each keeps the state a build has at that point: variables
(``ENV``, and ``ARG`` with Docker's scoping), ``WORKDIR`` and the files copied from the
build context. ``RUN`` shells are analysed by :mod:`mlsec_lint.facts.shellcmds`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from mlsec_lint import knowledge
from mlsec_lint.facts import (
    Fact,
    FileAnalysis,
    hardening,
    launch,
    shellcmds,
    shelldownloads,
    shellinstalls,
    shellsession,
)
from mlsec_lint.facts.common import env_fact, image_fact
from mlsec_lint.model import Span
from mlsec_lint.parsers import dockerfile as dparser
from mlsec_lint.parsers.dockerfile import exec_words
from mlsec_lint.parsers.shell import SHELLS, Command, OffsetMap, Word, split_commands, tokenize
from mlsec_lint.tree import PDict

_NONROOT_TAG = re.compile(r"(^|[-_.])nonroot($|[-_.])")
"""Image tags that select a non-root variant (distroless ``:nonroot``, ``:debug-nonroot``)."""


def run_shells(inst: dparser.Instruction) -> Iterator[tuple[list[Command], OffsetMap, int]]:
    """The shells a ``RUN`` starts, as (simple commands, offset map, base offset).

    Shell form: the argument text (heredoc markers blanked out). Exec form: the argv, or
    the script of ``["sh", "-c", "…"]``. Heredoc bodies are shell scripts when nothing
    else reads them (``RUN <<EOF``, ``RUN bash <<EOF``) and have no non-shell shebang;
    ``RUN python3 <<EOF`` or ``RUN cat <<EOF > f`` feed them to another program.
    """
    if inst.exec_form is not None:
        words = exec_words(inst)
        if (
            len(words) >= 3
            and words[0].text.rsplit("/", 1)[-1] in SHELLS
            and re.fullmatch(r"-[a-zA-Z]*c[a-zA-Z]*", words[1].text)
        ):
            script = words[2]
            inner = OffsetMap()
            inner.add(0, *inst.args_map.position(script.start + 1))
            yield split_commands(script.text), inner, 0
            return
        yield [Command(words=words)], inst.args_map, 0
        return
    rest = inst.args[inst.rest_offset :]
    if inst.heredocs:
        rest = _HEREDOC_MARK.sub(lambda m: " " * len(m.group(0)), rest)
    commands = split_commands(rest)
    yield commands, inst.args_map, inst.rest_offset
    if inst.heredocs and _feeds_shell(commands):
        for doc in inst.heredocs:
            first = doc.body.split("\n", 1)[0]
            if first.startswith("#!") and not any(sh in first for sh in SHELLS):
                continue
            yield split_commands(doc.body), OffsetMap.for_text(doc.body, doc.line, 1), 0


_HEREDOC_MARK = re.compile(r"<<-?(['\"]?)[A-Za-z_][A-Za-z0-9_.-]*\1")


def _feeds_shell(commands: list[Command]) -> bool:
    """True when the heredoc bodies of a RUN are run as shell scripts."""
    if not commands:
        return True
    words = shellcmds.strip_run_wrappers(list(commands[0].words))
    if len(commands) != 1 or not words:
        return False
    if words[0].text.rsplit("/", 1)[-1] not in SHELLS:
        return False
    return all(w.text.startswith("-") and "c" not in w.text for w in words[1:])


def shell_commands(inst: dparser.Instruction) -> Iterator[tuple[Command, OffsetMap, int]]:
    """Simple commands of a RUN (shell form, exec form or heredoc bodies).

    Yields (command, offset map, base offset) so word offsets map to source positions.
    """
    for commands, omap, base in run_shells(inst):
        for cmd in commands:
            yield cmd, omap, base


def _span(omap: OffsetMap, base: int, word: Word) -> Span:
    return omap.span(base + word.start, base + word.end)


def _env_pairs(inst: dparser.Instruction) -> Iterator[tuple[str, str, Span, Span]]:
    rest = inst.rest
    toks = [t for t in tokenize(rest) if isinstance(t, Word)]
    if toks and "=" not in toks[0].text and inst.keyword == "ENV":
        # legacy "ENV KEY value with spaces"
        key = toks[0]
        value = rest[key.end :].strip()
        vstart = rest.find(value, key.end) if value else key.end
        yield (
            key.text,
            value,
            inst.span_of(inst.rest_offset + key.start, inst.rest_offset + key.end),
            inst.span_of(inst.rest_offset + vstart, inst.rest_offset + vstart + max(1, len(value))),
        )
        return
    for tok in toks:
        name, eq, value = tok.text.partition("=")
        span = inst.span_of(inst.rest_offset + tok.start, inst.rest_offset + tok.end)
        if not eq:
            if inst.keyword == "ARG":
                yield name, "", span, span
            continue
        vstart = tok.start + len(name) + 1
        vspan = inst.span_of(inst.rest_offset + vstart, inst.rest_offset + max(vstart + 1, tok.end))
        yield name, value, span, vspan


def extract(text: str, path: str) -> FileAnalysis:
    df = dparser.parse(text, path)
    fa = FileAnalysis(path, "dockerfile", notices=list(df.notices))
    if not df.stages:
        return fa
    final = df.stages[-1]
    stage_users: dict[int, tuple[str, Span] | None] = {}
    sessions: dict[int, shellsession.Session] = {}
    for stage in df.stages:
        is_final = stage.index == final.index
        if stage.parent_stage is None and stage.base.lower() != "scratch":
            fa.facts.append(
                image_fact(
                    stage.base,
                    stage.base_span,
                    path,
                    origin="dockerfile",
                    key=f"stage/{stage.name or stage.index}/from",
                    final_stage=is_final,
                    stage=stage.name or str(stage.index),
                )
            )
        session = _stage_session(df, stage, sessions, path, is_final)
        sessions[stage.index] = session
        user: tuple[str, Span] | None = None
        for inst in stage.instructions:
            if inst.keyword in ("ENV", "ARG"):
                fa.facts.extend(_variables(df, inst, session))
            elif inst.keyword == "USER":
                # build arguments with a default are resolved; one without stays $NAME
                written = inst.rest.strip()
                user = (
                    dparser.substitute(written, session.variables, keep_undefined=True),
                    inst.span,
                )
            elif inst.keyword == "WORKDIR":
                _workdir(inst, session)
            elif inst.keyword in ("COPY", "ADD"):
                fa.facts.extend(_copy_from_image(df, inst, session))
                _copy(inst, session)
            elif inst.keyword == "RUN":
                _run(inst, session)
        fa.facts.extend(session.facts)
        session.facts = []
        notice = shellcmds.budget_notice(session, path)
        if notice is not None:
            fa.notices.append(notice)
        stage_users[stage.index] = user
    fa.facts.extend(launch.from_dockerfile(df, path))  # server launched by ENTRYPOINT/CMD
    fa.facts.append(_dockerfile_fact(df, stage_users, path))
    return fa


def _stage_session(
    df: dparser.Dockerfile,
    stage: dparser.Stage,
    sessions: dict[int, shellsession.Session],
    path: str,
    is_final: bool,
) -> shellsession.Session:
    """A stage starts with the ENV, WORKDIR and files of the stage it is built from.

    Build arguments are not inherited: a global ``ARG`` is visible in a stage only when
    the stage re-declares it (``ARG NAME``), as Docker does.
    """
    name = stage.name or str(stage.index)
    session = shellsession.Session(path, "dockerfile", f"stage/{name}")
    session.extra = {"stage": name, "final_stage": is_final}
    parent = sessions.get(stage.parent_stage) if stage.parent_stage is not None else None
    if parent is not None:
        session.env = dict(parent.env)
        session.variables = dict(parent.env)
        session.workdir = parent.workdir
        session.copies = list(parent.copies)
    return session


def _variables(
    df: dparser.Dockerfile, inst: dparser.Instruction, session: shellsession.Session
) -> list[Fact]:
    facts: list[Fact] = []
    for name, value, span, vspan in _env_pairs(inst):
        if inst.keyword == "ARG" and not value:
            if df.global_args.get(name):
                session.variables[name] = df.global_args[name]
            else:
                # a build argument without a default: its value comes from --build-arg
                facts.append(
                    env_fact(
                        name,
                        None,
                        span,
                        None,
                        session.path,
                        origin="dockerfile-arg",
                        owner_key=session.owner,
                    )
                )
            continue
        value_x = dparser.substitute(value, session.variables, keep_undefined=True)
        session.variables[name] = value_x
        if inst.keyword == "ENV":
            session.env[name] = value_x
        facts.append(
            env_fact(
                name,
                value,
                span,
                vspan,
                session.path,
                origin="dockerfile-" + inst.keyword.lower(),
                owner_key=session.owner,
            )
        )
        facts.extend(
            shellinstalls.index_env_facts(name, value_x, vspan, session.path, "dockerfile")
        )
    return facts


def _copy_from_image(
    df: dparser.Dockerfile, inst: dparser.Instruction, session: shellsession.Session
) -> list[Fact]:
    """``COPY --from=<image>`` pulls an image that is not a build stage (``uv:latest``)."""
    ref = inst.flags.get("from")
    if not ref:
        return []
    ref = dparser.substitute(ref, {**df.global_args, **session.variables}, keep_undefined=True)
    earlier = {s.name.lower() for s in df.stages if s.name and s.index <= inst.stage}
    if ref.lower() in earlier or ref.isdigit() or ref.lower() == "scratch":
        return []
    span = inst.flag_spans["from"]
    return [
        image_fact(
            ref,
            span,
            session.path,
            origin="dockerfile",
            key=f"{session.owner}/copy-from/{ref}",
            final_stage=False,
            stage=str(session.extra.get("stage", "")),
            copy_from=True,
        )
    ]


def _workdir(inst: dparser.Instruction, session: shellsession.Session) -> None:
    target = dparser.substitute(inst.rest.strip(), session.variables, keep_undefined=True)
    if target and "$" not in target:
        session.workdir = posixpath.normpath(posixpath.join(session.workdir or "/", target))


def _copy(inst: dparser.Instruction, session: shellsession.Session) -> None:
    """Record build-context copies (for following ``-r`` files) and ``ADD <url>``."""
    if "from" in inst.flags:
        return
    if inst.exec_form is not None:
        items, offset = exec_words(inst), 0  # offsets in ``inst.args``
    else:
        items = [t for t in tokenize(inst.rest) if isinstance(t, Word)]
        offset = inst.rest_offset
    if len(items) < 2 or inst.heredocs:
        return
    sources = [dparser.substitute(w.text, session.variables) for w in items[:-1]]
    dest_raw = dparser.substitute(items[-1].text, session.variables)
    dest = posixpath.normpath(posixpath.join(session.workdir or "/", dest_raw))
    if inst.keyword == "ADD":
        checksum = None
        if "checksum" in inst.flags:
            checksum = (inst.flags["checksum"], inst.flag_spans["checksum"])
        for w, src in zip(items[:-1], sources, strict=True):
            if "://" in src or src.startswith("git@"):
                span = inst.span_of(offset + w.start, offset + w.end)
                shelldownloads.add_download(session, src, span, dest_raw, checksum)
    local = [s for s in sources if "://" not in s and not s.startswith("git@")]
    if not local:
        return
    base = posixpath.basename(dest.rstrip("/"))
    dest_dir = (
        dest_raw.endswith("/")
        or dest_raw in (".", "./")
        or len(local) > 1
        or any(s in (".", "./") or s.endswith("/") for s in local)
        or "." not in base
    )
    session.copies.append(shellsession.Copy(local, dest, dest_dir))


def _run(inst: dparser.Instruction, session: shellsession.Session) -> None:
    for commands, omap, base in run_shells(inst):
        shellcmds.run_script(session, commands, _SpanMemo(omap, base))


class _SpanMemo:
    """The span of a word of one shell, computed once (a word is looked up by the
    command fact and again by the installer that reads it)."""

    __slots__ = ("_base", "_omap", "_spans")

    def __init__(self, omap: OffsetMap, base: int) -> None:
        self._omap = omap
        self._base = base
        self._spans: dict[tuple[int, int], Span] = {}

    def __call__(self, word: Word) -> Span:
        key = (word.start, word.end)
        span = self._spans.get(key)
        if span is None:
            span = self._spans[key] = _span(self._omap, self._base, word)
        return span


def _effective_user(
    df: dparser.Dockerfile, stage: dparser.Stage, users: dict[int, tuple[str, Span] | None]
) -> tuple[str, Span, str] | None:
    seen = set()
    cur: dparser.Stage | None = stage
    while cur is not None and cur.index not in seen:
        seen.add(cur.index)
        own = users.get(cur.index)
        if own is not None:
            return own[0], own[1], "instruction" if cur is stage else "inherited"
        if cur.parent_stage is None:
            fam = knowledge.image_family(cur.base)
            if fam and fam.user:
                return fam.user, cur.base_span, "image-default"
            if _NONROOT_TAG.search(knowledge.parse_image(cur.base).tag or ""):
                return "nonroot", cur.base_span, "image-default"
            return None
        cur = df.stages[cur.parent_stage]
    return None


def _dockerfile_fact(
    df: dparser.Dockerfile, users: dict[int, tuple[str, Span] | None], path: str
) -> Fact:
    final = df.stages[-1]
    anchor = final.from_instruction.span
    anchor = Span(
        anchor.line,
        anchor.col,
        anchor.line,
        anchor.end_col if anchor.end_line == anchor.line else anchor.col + 4,
    )
    data = PDict(anchor)
    data.put("stages", len(df.stages), anchor)
    fin = PDict(anchor)
    fin.put("base", final.base, final.base_span, final.base_span)
    if final.name:
        fin.put("name", final.name, anchor)
    eff = _effective_user(df, final, users)
    if eff is not None:
        user, span, how = eff
        fin.put("user", user, span, span)
        fin.put("user_source", how, span)
        fin.put("root", "$" not in user and hardening.is_root_user(user), span)
        fin.put("dynamic_user", "$" in user, span)
    if final.parent_stage is None and final.base.strip().lower() == "scratch":
        fin.put("scratch", True, final.base_span)
    data.put("final", fin, anchor)
    return Fact("dockerfile", path, data, anchor, "dockerfile")
