from __future__ import annotations

import io

import pytest

from mlsec_lint import progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_shown_only_after_a_second_throttled_and_erased() -> None:
    now = [0.0]
    stream = Tty()
    bar = progress.Progress(stream, clock=lambda: now[0])
    bar("analysing", 1, 100)
    assert stream.getvalue() == ""  # fast scans never show anything
    now[0] = 1.5
    bar("analysing", 40, 100)
    assert "40/100 files  analysing" in stream.getvalue()
    before = stream.getvalue()
    now[0] = 1.52
    bar("analysing", 41, 100)
    assert stream.getvalue() == before  # at most ten redraws a second
    now[0] = 2.0
    bar("evaluating", 0, 0)
    assert stream.getvalue().endswith("evaluating …")
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[2K")


@pytest.mark.parametrize(
    ("env", "tty", "machine", "expected"),
    [
        ({}, True, False, True),
        ({}, False, False, False),
        ({}, True, True, False),
        ({"CI": "true"}, True, False, False),
        ({"GITHUB_ACTIONS": "true"}, True, False, False),
        ({"TERM": "dumb"}, True, False, False),
    ],
)
def test_when_it_is_wanted(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool, machine: bool, expected: bool
) -> None:
    for name in (*progress.CI_VARIABLES, "TERM"):
        monkeypatch.delenv(name, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    stream = Tty() if tty else io.StringIO()
    assert progress.wanted(stream, machine) is expected
