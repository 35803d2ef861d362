"""Errors: one line on stderr and the exit code for an exception that ends a command."""

from __future__ import annotations

import pytest

from mlsec_lint.errors import MlsecLintError, exit_code_for


def test_errors_map_to_one_line_and_exit_code_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code_for(MlsecLintError("bad")) == 2
    assert exit_code_for(BrokenPipeError()) == 0
    assert exit_code_for(RuntimeError("boom")) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["mlsec-lint: error: bad", "mlsec-lint: internal error: RuntimeError: boom"]
