"""Import ``jsonschema`` without its optional format checkers.

``jsonschema`` registers its ``format`` checkers at import time and imports every optional
backend it finds installed; ``rfc3987-syntax`` alone compiles a grammar for about a second.
mlsec-lint validates rules and configuration without format checks, so the first import
made here hides those backends: loading user rules or a configuration file does not pay for
them. Backends already imported, and imports made elsewhere later, are not affected.
"""

from __future__ import annotations

import sys
from typing import Any

# The optional modules jsonschema._format tries to import (jsonschema 4.x).
FORMAT_BACKENDS = (
    "fqdn",
    "idna",
    "isoduration",
    "jsonpointer",
    "rfc3339_validator",
    "rfc3986_validator",
    "rfc3987",
    "rfc3987_syntax",
    "uri_template",
    "webcolors",
)


def draft202012_validator(schema: dict[str, Any]) -> Any:
    """A ``jsonschema`` Draft 2020-12 validator for ``schema`` (no format checking)."""
    if "jsonschema" not in sys.modules:
        hidden = [name for name in FORMAT_BACKENDS if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
        try:
            import jsonschema
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]
    import jsonschema

    return jsonschema.Draft202012Validator(schema)


def best_match(errors: list[Any]) -> Any:
    import jsonschema

    return jsonschema.exceptions.best_match(errors)
