"""Line-level fixes for any text format: replace a value, remove a flag."""

from __future__ import annotations

import re

from mlsec_lint.fix.edits import Edit, Lines, Unfixable
from mlsec_lint.model import FixPlan

_QUOTES = ("'", '"')
_WORD_END = re.compile(r"[\s,\]\"']")


def replace_value(lines: Lines, plan: FixPlan) -> list[Edit]:
    start, end = lines.span(plan.span)
    if end <= start or lines.position(start)[0] != lines.position(max(start, end - 1))[0]:
        raise Unfixable("the value does not sit on one line")
    text = lines.text[start:end]
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]:
        start, end, text = start + 1, end - 1, text[1:-1]
    if plan.arg("value") is not None:
        new = str(plan.arg("value"))
    else:
        pattern = str(plan.arg("pattern"))
        try:
            new = re.sub(pattern, str(plan.arg("replacement", "")), text, count=1)
        except (re.error, IndexError) as exc:
            raise Unfixable(f"the rule's fix pattern is invalid ({exc})") from None
    if new == text:
        return []
    return [Edit(start, end, new)]


def remove_word(lines: Lines, plan: FixPlan) -> list[Edit]:
    """Remove the flag at the fix location from a command line: the whole word
    (``--flag`` or ``--flag=value``) and one separating space."""
    start, end = lines.span(plan.span)
    text = lines.text
    line_no = lines.position(start)[0]
    line_start = lines.starts[line_no - 1]
    if end - start >= 2 and text[start] in _QUOTES and text[end - 1] == text[start]:
        start, end = start + 1, end - 1  # a quoted word: its quotes go with it below
    # widen to the whole word
    while start > line_start and not text[start - 1].isspace() and text[start - 1] not in "\"'[,":
        start -= 1
    m = _WORD_END.search(text, end)
    end = m.start() if m else len(text)
    word = text[start:end]
    if not word.startswith("-"):
        raise Unfixable(f"'{word}' is not a flag")
    # a quoted word in a JSON or flow list: remove the item with its comma
    if start > 0 and text[start - 1] in _QUOTES and text[end : end + 1] == text[start - 1]:
        q_start, q_end = start - 1, end + 1
        after = re.match(r"(?<!\s)\s*,\s*", text[q_end:])
        if after:
            return [Edit(q_start, q_end + after.end(), "")]
        before = re.search(r",\s*$", text[line_start:q_start])
        if before:
            return [Edit(line_start + before.start(), q_end, "")]
        raise Unfixable("the flag is the only item of its list; remove it by hand")
    if end < len(text) and text[end] == " ":
        return [Edit(start, end + 1, "")]
    if start > line_start and text[start - 1] == " ":
        return [Edit(start - 1, end, "")]
    raise Unfixable("the flag is not separated by spaces; remove it by hand")
