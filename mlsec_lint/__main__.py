"""``python -m mlsec_lint``: the current directory (the scanned repository, in CI) is
first on ``sys.path``; it is dropped before anything else is imported, so a ``yaml.py``
or ``typer/`` planted there is never imported. (A package named ``mlsec_lint`` in that
directory would run instead of this one: in CI, use the ``mlsec-lint`` command.)"""

import os
import sys


def _drop_cwd() -> None:
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != cwd]


_drop_cwd()

from mlsec_lint.entry import main  # noqa: E402 - after the guard

main()
