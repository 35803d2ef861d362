"""The ``fix:`` block of a rule: one operation from a small, generic set, as data.

A rule names an operation and its arguments; nothing in Python knows which rule fixes
what. The operations and the formats they edit:

``set-key`` (YAML)
    Set ``path`` (dotted, relative to the fact's anchor mapping, ``up`` levels higher) to
    ``value``, creating missing mappings (``securityContext``) on the way. With ``up``,
    ``parent-key`` names the key that must hold the list the anchor is in (``containers``
    for a container's pod spec), so the fix never lands in an unexpected structure.
``replace-value`` (any text format)
    Replace the text at the fix location (``at``, default: the finding) with ``value``,
    or substitute ``pattern`` with ``replacement`` in it (a properties value, a YAML
    scalar, a flag's value).
``remove-flag`` (YAML lists, command lines, any text)
    Remove the word at the fix location: a YAML list item, or a word and one separating
    space in a command string.
``set-kwarg`` / ``remove-kwarg`` (Python)
    Add or change the keyword argument ``name`` to the Python expression ``value``, or
    remove it, in the call the finding is about.
``rename-call`` (Python)
    Replace the called attribute with ``to`` (a name, or a mapping from the current name:
    ``{load: safe_load}``; ``yaml.load`` -> ``yaml.safe_load``) and
    drop the arguments ``drop-kwargs`` and the positional ones from ``drop-args-from``.
``suggest`` (none)
    Edits nothing; the description tells what to do (a change that needs a human).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlsec_lint.records import Struct

OPERATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # operation: (required arguments, optional arguments)
    "set-key": (("path", "value"), ("up", "parent-key")),
    "replace-value": ((), ("value", "pattern", "replacement")),
    "remove-flag": ((), ()),
    "set-kwarg": (("name", "value"), ()),
    "remove-kwarg": (("name",), ()),
    "rename-call": (("to",), ("drop-kwargs", "drop-args-from")),
    "suggest": ((), ()),
}
APPLICABILITY = ("safe", "unsafe")
_COMMON = {"operation", "applicability", "description", "at", "when"}


class FixSpec(Struct, frozen=True):
    operation: str
    applicability: str
    description: str
    at: tuple[str, ...] = ()
    when: Any = None
    """A compiled condition that must also hold for the fix to be offered."""
    args: tuple[tuple[str, Any], ...] = ()


def parse_fix(data: Any, cond: Any) -> FixSpec:
    """A FixSpec from a rule's ``fix:`` mapping; ``cond`` compiles conditions.
    Raises ValueError with the problem."""
    if not isinstance(data, Mapping):
        raise ValueError("fix: must be a mapping")
    op = data.get("operation")
    if op not in OPERATIONS:
        raise ValueError(f"fix: unknown operation {op!r} (known: {', '.join(OPERATIONS)})")
    applicability = data.get("applicability")
    if applicability not in APPLICABILITY:
        raise ValueError("fix: applicability must be 'safe' or 'unsafe'")
    description = str(data.get("description") or "").strip()
    if not description:
        raise ValueError("fix: a description is required")
    required, optional = OPERATIONS[op]
    args = {k: v for k, v in data.items() if k not in _COMMON}
    for name in required:
        if name not in args:
            raise ValueError(f"fix: operation {op} needs '{name}'")
    unknown = sorted(set(args) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"fix: operation {op} does not take {', '.join(unknown)}")
    if op == "replace-value" and ("value" in args) == ("pattern" in args):
        raise ValueError("fix: replace-value needs either 'value' or 'pattern'")
    at = data.get("at", ())
    when = data.get("when")
    return FixSpec(
        operation=op,
        applicability=applicability,
        description=description,
        at=(at,) if isinstance(at, str) else tuple(at),
        when=cond(when) if when is not None else None,
        args=tuple((k, _freeze(v)) for k, v in args.items()),
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
