from __future__ import annotations

from mlsec_lint.parsers.shell import OffsetMap, env_prefix, split_commands, strip_wrappers, tokenize


def test_split_lists_pipes_and_redirections() -> None:
    cmds = split_commands('a x && b \'y z\' | c 2>&1 > out; FOO=1 d "q\\"" # comment\ne')
    assert [c.argv for c in cmds] == [["a", "x"], ["b", "y z"], ["c"], ["d", 'q"'], ["e"]]
    assert [w.text for w in cmds[3].assigns] == ["FOO=1"]


def test_word_offsets_point_into_the_source() -> None:
    src = "pip install  'torch==2.6.0'"
    word = split_commands(src)[0].words[2]
    assert src[word.start : word.end] == "'torch==2.6.0'" and word.text == "torch==2.6.0"


def test_dynamic_words_and_substitutions() -> None:
    words = [w for w in tokenize('echo "$HOME" $(date) `id` plain') if not isinstance(w, str)]
    assert [w.dynamic for w in words] == [False, True, True, True, False]


def test_wrappers_and_env_prefix() -> None:
    cmd = split_commands("exec env A=1 sudo -u ray nohup ray start --head")[0]
    assert [w.text for w in strip_wrappers(cmd.words)][:2] == ["ray", "start"]
    assert "A" in env_prefix(cmd) or env_prefix(split_commands("env A=1 x")[0])["A"].text == "A=1"


def test_unterminated_quotes_do_not_raise() -> None:
    assert split_commands("echo 'unterminated")[0].argv == ["echo", "unterminated"]


def test_offset_map_for_text() -> None:
    m = OffsetMap.for_text("ab\ncd", line=10, col=3)
    assert m.position(0) == (10, 3)
    assert m.position(4) == (11, 2)


def test_stdout_redirection_is_recorded() -> None:
    cases = {
        "echo $X > f": True,
        "echo $X >>f": True,
        "echo $X 1>f": True,
        "echo $X &>log": True,
        "echo $X 2>/dev/null": False,
        "echo $X >&2": False,
        "echo $X": False,
    }
    for src, redirected in cases.items():
        (cmd,) = split_commands(src)
        assert cmd.stdout_redirected is redirected, src


def test_words_mix_runs_of_plain_text_with_quotes_and_escapes() -> None:
    """Plain characters are read in runs; quotes, escapes, substitutions and the ``&`` of
    a redirection still end or extend the word where they are."""
    toks = tokenize("abc'd e'f\\ g$(h i)j cmd 2>&1 x>&y a&b ab&&cd tail")
    words = [(t.text, t.start, t.end) for t in toks if not isinstance(t, str)]
    assert words == [
        ("abcd ef g$(h i)j", 0, 19),
        ("cmd", 20, 23),
        ("2>&1", 24, 28),
        ("x>&y", 29, 33),
        ("a", 34, 35),
        ("b", 36, 37),
        ("ab", 38, 40),
        ("cd", 42, 44),
        ("tail", 45, 49),
    ]
    assert [t for t in toks if isinstance(t, str)] == ["&", "&&"]


def test_offset_map_span_agrees_with_positions() -> None:
    """``span`` is the two positions of a range's first and last characters."""
    import random

    from mlsec_lint.model import Span

    rnd = random.Random(7)
    for _ in range(300):
        m = OffsetMap()
        offset = rnd.randint(0, 3)
        for line in range(1, rnd.randint(1, 5) + 1):
            m.add(offset, line * 2, rnd.randint(1, 9))
            offset += rnd.randint(0, 6)
        for _ in range(20):
            start = rnd.randint(0, offset + 3)
            end = start + rnd.randint(-1, 8)
            line, col = m.position(start)
            eline, ecol = m.position(max(start, end - 1))
            assert m.span(start, end) == Span(line, col, eline, ecol + 1), (start, end)
    assert OffsetMap().span(0, 3) == Span(1, 1, 1, 2)
