"""The base of every record type: msgspec's ``Struct`` (see pyproject.toml for why), and
msgspec's JSON decoder for the data bundles (about twice as fast as ``json``'s).

Import ``Struct``, ``field`` and ``replace`` from here, not from msgspec: msgspec reads
``typing_extensions`` at import when it is installed, to resolve annotations for its
decoders, and that import (with ``inspect``, which it pulls in) is about a third of
msgspec's start-up. Records are never decoded, so msgspec is loaded with its
standard-library fallback (``typing``) instead; if a msgspec release no longer offers one,
it is imported the ordinary way.
"""

from __future__ import annotations

import sys


def _import_msgspec() -> None:
    if "msgspec" in sys.modules or "typing_extensions" in sys.modules:
        return  # already loaded: nothing to save
    sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # ImportError
    try:
        import msgspec  # noqa: F401
    except ImportError:
        for name in [n for n in sys.modules if n == "msgspec" or n.startswith("msgspec.")]:
            del sys.modules[name]
    finally:
        del sys.modules["typing_extensions"]


_import_msgspec()

from msgspec import Struct, field  # noqa: E402
from msgspec.json import decode as decode_json  # noqa: E402
from msgspec.structs import replace  # noqa: E402

__all__ = ["Struct", "decode_json", "field", "replace"]
