"""The one exception type for errors the user can fix (exit code 2), and how an exception
that ends a command is reported (shared by the executable and the CLI)."""

from __future__ import annotations

import os
import sys


class MlsecLintError(Exception):
    """A usage, configuration or rule error, reported as one line and exit code 2."""


def exit_code_for(exc: BaseException) -> int:
    """Report an exception that ended a command on stderr, in one line; its exit code."""
    from mlsec_lint import escape

    if isinstance(exc, MlsecLintError):
        print(f"mlsec-lint: error: {escape.text(str(exc))}", file=sys.stderr)
        return 2
    if isinstance(exc, KeyboardInterrupt):
        print("mlsec-lint: interrupted", file=sys.stderr)
        return 2
    if isinstance(exc, BrokenPipeError):
        return 0
    print(
        f"mlsec-lint: internal error: {type(exc).__name__}: {escape.text(str(exc))}",
        file=sys.stderr,
    )
    if os.environ.get("MLSEC_LINT_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    return 2
