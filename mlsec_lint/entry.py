"""The ``mlsec-lint`` executable.

A ``scan`` with plain arguments (what a pre-commit hook passes) is read by
:func:`mlsec_lint.scan_options.parse_plain` and run without importing the CLI library;
everything else (other commands, ``--help``, errors, unusual spellings) goes to the typer
interface in :mod:`mlsec_lint.cli`. Both read the same declaration of the options.

The process exits without the interpreter's teardown (freeing every object of a large
scan one by one) once its output is flushed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence

from mlsec_lint.errors import exit_code_for


def _guarded(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except (Exception, KeyboardInterrupt) as exc:
        return exit_code_for(exc)


def run(argv: Sequence[str]) -> int:
    """Run the command line ``argv`` (without the program name); the exit code."""
    args = list(argv)
    if args and args[0] == "scan":
        from mlsec_lint.scan_options import parse_plain, usage_problem

        values = parse_plain(args[1:], os.environ)
        if values is not None and usage_problem(values) is None:
            from mlsec_lint import scan_command

            return _guarded(lambda: scan_command.run(values))
    from mlsec_lint.cli import main as typer_main

    return typer_main(args)


def _flush(stream: object) -> bool:
    """Flush ``stream``; False when its output could not be written."""
    flush = getattr(stream, "flush", None)
    if flush is None:
        return True
    try:
        flush()
    except BrokenPipeError:  # the reader went away (``| head``): not our failure
        return True
    except (OSError, ValueError):
        return False
    return True


def main() -> None:
    """Console-script entry point."""
    import gc

    from mlsec_lint import GC_THRESHOLD

    # start-up (imports, rules) allocates many objects and leaves no cycles: the scan's
    # collection threshold applies from the first import
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    code = run(sys.argv[1:])
    if not _flush(sys.stdout):
        _flush(sys.stderr)
        with contextlib.suppress(OSError):
            os.write(2, b"mlsec-lint: error: cannot write the output\n")
        code = 2
    _flush(sys.stderr)
    # nothing is left to do but free memory: skip the teardown of a large heap
    os._exit(code)
