"""Dockerfiles -> ``dockerfile``, ``image``, ``env``, ``dependency`` and ``package-index`` facts."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from mlsec_lint import knowledge
from mlsec_lint.facts import Fact, FileAnalysis, launch
from mlsec_lint.facts.common import env_fact, image_fact
from mlsec_lint.facts.dependencies import from_install_command
from mlsec_lint.model import Span
from mlsec_lint.parsers import dockerfile as dparser
from mlsec_lint.parsers.shell import Command, OffsetMap, Word, split_commands, tokenize
from mlsec_lint.tree import PDict

_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ROOT_USERS = {"root", "0", "0:0", "root:root", "root:0", "0:root"}


def exec_words(inst: dparser.Instruction) -> list[Word]:
    """Words of an exec-form instruction with offsets into ``inst.args``."""
    import json

    out = []
    for m in _JSON_STRING.finditer(inst.rest):
        text = json.loads(m.group(0))
        start = inst.rest_offset + m.start()
        out.append(Word(text, start, inst.rest_offset + m.end(), quoted=True))
    return out


def shell_commands(inst: dparser.Instruction) -> Iterator[tuple[Command, OffsetMap, int]]:
    """Simple commands of a RUN (shell form, exec form or heredoc bodies).

    Yields (command, offset map, base offset) so word offsets map to source positions.
    """
    if inst.exec_form is not None:
        words = exec_words(inst)
        if (
            len(words) >= 3
            and words[0].text.rsplit("/", 1)[-1] in ("sh", "bash", "ash", "dash")
            and words[1].text in ("-c", "-lc", "-ec", "-euc", "-exc")
        ):
            script = words[2]
            inner = OffsetMap()
            inner.add(0, *inst.args_map.position(script.start + 1))
            for cmd in split_commands(script.text):
                yield cmd, inner, 0
            return
        yield Command(words=words), inst.args_map, 0
        return
    if inst.heredocs and inst.rest.lstrip().startswith("<<"):
        for doc in inst.heredocs:
            omap = OffsetMap.for_text(doc.body, doc.line, 1)
            for cmd in split_commands(doc.body):
                yield cmd, omap, 0
        return
    for cmd in split_commands(inst.args[inst.rest_offset :]):
        yield cmd, inst.args_map, inst.rest_offset


def _span(omap: OffsetMap, base: int, word: Word) -> Span:
    line, col = omap.position(base + word.start)
    eline, ecol = omap.position(base + max(word.start, word.end - 1))
    return Span(line, col, eline, ecol + 1)


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
        variables = dict(df.global_args)
        user: tuple[str, Span] | None = None
        for inst in stage.instructions:
            if inst.keyword in ("ENV", "ARG"):
                for name, value, span, vspan in _env_pairs(inst):
                    if inst.keyword == "ARG" and not value:
                        continue
                    variables[name] = value
                    fa.facts.append(
                        env_fact(
                            name,
                            value,
                            span,
                            vspan,
                            path,
                            origin="dockerfile-" + inst.keyword.lower(),
                            owner_key=f"stage/{stage.name or stage.index}",
                        )
                    )
            elif inst.keyword == "USER":
                user = (inst.rest.strip(), inst.span)
            elif inst.keyword == "RUN":
                for cmd, omap, base in shell_commands(inst):
                    span_of = functools.partial(_span, omap, base)
                    fa.facts.extend(
                        from_install_command(
                            cmd.words, span_of, path, origin="dockerfile", variables=variables
                        )
                    )
        stage_users[stage.index] = user
    fa.facts.extend(launch.from_dockerfile(df, path))  # server launched by ENTRYPOINT/CMD
    fa.facts.append(_dockerfile_fact(df, stage_users, path))
    return fa


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
        fin.put("root", user.strip().lower() in _ROOT_USERS, span)
        fin.put("dynamic_user", "$" in user, span)
    data.put("final", fin, anchor)
    return Fact("dockerfile", path, data, anchor, "dockerfile")
