"""Shell commands run from Python -> the facts of the shell analysis, at the Python string.

ML code installs packages, downloads models and starts servers from Python::

    os.system("pip install torch")
    subprocess.run("curl -fsSL https://example.com/install.sh | sh", shell=True)
    subprocess.Popen(["vllm", "serve", model, "--host", "0.0.0.0"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "transformers"])
    get_ipython().system("pip install -q accelerate")      # a notebook exported to .py

The command these calls run goes through the same analysis as a shell script
(:mod:`mlsec_lint.facts.shellcmds` for installs, downloads and ``command`` facts,
:mod:`mlsec_lint.facts.launch` for server launches), and every fact points at the
characters of the Python string that hold the word (also inside f-strings, implicit
concatenations and ``+`` chains). How the call runs the command decides how it is read:

* a **shell command line**: ``os.system``, ``os.popen``, ``subprocess.getoutput`` /
  ``getstatusoutput``, ``asyncio.create_subprocess_shell``, IPython's
  ``get_ipython().system`` / ``getoutput``, the ``subprocess`` functions with
  ``shell=True`` (a list's first item is the command line), and the ``%pip`` /
  ``%conda`` / ``%system`` line magics and ``%%bash`` cell magics that notebook exports
  write as ``get_ipython().run_line_magic(…)`` / ``run_cell_magic(…)``;
* an **argv** (no shell): a list or tuple given to the ``subprocess`` functions,
  ``asyncio.create_subprocess_exec``, the ``os.exec*`` and ``os.spawn*`` families, and
  ``shlex.split("…")`` / ``"…".split()`` of a string;
* a string given to the ``subprocess`` functions without ``shell=True`` names only the
  program (Python runs no shell), so it is a one-word argv.

Values are what the Python extractor knows statically: literals, module and local
constants, f-strings, concatenations, ``%`` and ``str.format`` templates, ``" ".join``
of a list, lists and strings grown with ``+=`` / ``append`` / ``extend``. A part whose
value is not known becomes an opaque placeholder (``${__py_model}`` for ``{model}``,
``${__py1}`` for other expressions: an unset shell variable), never a guess, so a package
named by a variable is not a package name and a ``--host`` taken from a variable is not
a bind address. ``sys.executable`` is the Python interpreter. A call whose ``shell``
argument is not a literal is not analysed (the command could be read either way), and
an argv that spreads a list of unknown length (``[..., *extra]``) starts no server this
reading can judge (any flag may follow), though its installs and downloads are read.

The commands run with the environment the call passes: a literal ``env={...}`` is that
environment; ``os.environ`` (copied, or spread into a dict with more keys) is the
parent's; any other ``env=`` is unknown, so a server setting read from the
environment (``VLLM_API_KEY`` …) counts as possibly set; without ``env=`` the command
sees the environment of the Python process, which the file does not show: as for shell
scripts, nothing is assumed to be set in it.

The facts are those of a shell script (origin ``shell``), so rules treat a command run
from Python the way they treat one in a script or a notebook's ``!``/``%pip`` line: a
run-time ``pip install`` is not an install into an image (MLS-DEP-008 and MLS-DEP-009 do
not apply; MLS-DEP-001 reports unpinned frameworks). Every fact carries
``python_callee``, the function that runs the command.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.records import Struct
from mlsec_lint.tree import UNKNOWN, PDict, PList

MAX_TEXT = 16_000
"""Longer strings are treated as unknown (a command line is never this long)."""
MAX_ITEMS = 512
"""Longer argv lists are cut here (the rest is one placeholder)."""

# callee -> index of the argument that holds a shell command line
_SHELL_LINE = {
    "os.system": 0,
    "os.popen": 0,
    "subprocess.getoutput": 0,
    "subprocess.getstatusoutput": 0,
    "asyncio.create_subprocess_shell": 0,
    "get_ipython().system": 0,
    "get_ipython().getoutput": 0,
    "IPython.get_ipython().system": 0,
    "IPython.get_ipython().getoutput": 0,
}
_SHELL_KEYWORD = {
    "os.system": "command",
    "os.popen": "cmd",
    "subprocess.getoutput": "cmd",
    "subprocess.getstatusoutput": "cmd",
    "asyncio.create_subprocess_shell": "cmd",
}
_POPEN = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
    }
)
# callee -> (index of the program, index of the argv list, or -1: the arguments from
# the next one on are the argv; argv includes argv[0]: True for the os.exec*/spawn* forms)
_EXEC: dict[str, tuple[int, int, bool]] = {
    "os.execv": (0, 1, True),
    "os.execve": (0, 1, True),
    "os.execvp": (0, 1, True),
    "os.execvpe": (0, 1, True),
    "os.execl": (0, -1, True),
    "os.execlp": (0, -1, True),
    "os.spawnv": (1, 2, True),
    "os.spawnve": (1, 2, True),
    "os.spawnvp": (1, 2, True),
    "os.spawnvpe": (1, 2, True),
    "os.spawnl": (1, -1, True),
    "os.spawnlp": (1, -1, True),
    "asyncio.create_subprocess_exec": (0, -1, False),
}
_MAGICS = frozenset(
    {
        "get_ipython().run_line_magic",
        "get_ipython().run_cell_magic",
        "IPython.get_ipython().run_line_magic",
        "IPython.get_ipython().run_cell_magic",
    }
)
_SHELL_MAGICS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
_ENV_POSITION = {"os.execve": 2, "os.execvpe": 2, "os.spawnve": 3, "os.spawnvpe": 3}

RUNNERS = frozenset({*_SHELL_LINE, *_POPEN, *_EXEC, *_MAGICS})
"""Python functions whose arguments are commands (qualified names, as the Python
extractor resolves callees)."""

_INTERPRETERS = frozenset({"sys.executable", "sys._base_executable"})
_WHICH = frozenset({"shutil.which"})
_SPLITTERS = frozenset({"shlex.split"})
_HOLE = re.compile(r"\{…\}")
_PERCENT = re.compile(r"%%|%(\([^)]{0,64}\))?[#0 +-]{0,4}\d{0,3}(?:\.\d{1,3})?([diouxXeEfFgGcrsa])")
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}!:]{0,64})((?:![rsa])?(?::[^{}]{0,64})?)\}")
_BRACES = re.compile(r"[{}]")
_QUOTE_PREFIX = re.compile(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")")


class _Positions(Protocol):
    lines: list[str]

    def col(self, line: int, byte_col: int) -> int: ...

    def span(self, node: ast.AST) -> Span: ...


class Resolver(Protocol):
    """What the Python extractor knows about names (see :mod:`mlsec_lint.facts.python`)."""

    path: str
    pos: Any

    def literal(self, node: ast.expr | None, depth: int = 0) -> Any: ...

    def qualname(self, node: ast.expr) -> str | None: ...


# ------------------------------------------------------------------ texts


class Text(Struct):
    """A string whose value is known but for placeholders, and where each character is
    written: ``where[i]`` is the (line, column) of ``text[i]``."""

    text: str
    where: list[tuple[int, int]]
    dynamic: bool = False
    home: tuple[int, int] = (1, 1)
    """Where an empty string is written (its opening quote)."""

    def position(self, offset: int) -> tuple[int, int]:
        if not self.where:
            return self.home
        return self.where[min(max(offset, 0), len(self.where) - 1)]

    def span(self, start: int = 0, end: int | None = None) -> Span:
        end = len(self.text) if end is None else end
        line, col = self.position(start)
        eline, ecol = self.position(max(start, end - 1))
        if (eline, ecol) < (line, col):
            return Span(line, col, line, col + 1)
        return Span(line, col, eline, ecol + 1)

    def slice(self, start: int, end: int) -> Text:
        where = self.where[start:end]
        return Text(self.text[start:end], where, self.dynamic, self.position(start))

    def __add__(self, other: Text) -> Text:
        home = self.home if self.where or not other.where else other.where[0]
        return Text(
            self.text + other.text, self.where + other.where, self.dynamic or other.dynamic, home
        )


def _dotted(node: ast.AST) -> str | None:
    """``model`` / ``args.model`` as written, or None for other expressions."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    name = ".".join(reversed(parts))
    return name if len(name) <= 40 and name.isascii() else None


def _at(text: str, span: Span, dynamic: bool = False) -> Text:
    """``text`` written at ``span`` as a whole (a name, a placeholder)."""
    n = len(text)
    last = (span.end_line, max(span.end_col - 1, 1))
    first = (span.line, span.col)
    if n <= 1:
        return Text(text, [first] * n, dynamic, first)
    return Text(text, [first] * (n - 1) + [last], dynamic, first)


class _Reader:
    """Resolves the string and list expressions of one call."""

    def __init__(self, res: Resolver) -> None:
        self.res = res
        self.pos: _Positions = res.pos
        self.holes = 0
        self.opaque = False
        """An argv holds a spread list of unknown length."""

    def hole(self, node: ast.AST) -> Text:
        """A placeholder for an expression whose value is not known, named after it when
        it is a name (``{model}`` -> ``${__py_model}``) so messages stay readable."""
        name = _dotted(node)
        if name is None:
            self.holes += 1
            name = str(self.holes)
        else:
            name = "_" + name.replace(".", "_")
        return _at(f"${{__py{name}}}", self.pos.span(node), True)

    # -------------------------------------------------------------- source text
    def segment(self, node: ast.AST) -> tuple[str, list[tuple[int, int]]] | None:
        """The source text of ``node`` and the (line, column) of each of its characters."""
        lines = self.pos.lines
        l1 = getattr(node, "lineno", None)
        l2 = getattr(node, "end_lineno", None)
        if l1 is None or l2 is None or l2 < l1 or l2 > len(lines):
            return None
        c1 = self.pos.col(l1, node.col_offset) - 1  # type: ignore[attr-defined]
        c2 = self.pos.col(l2, node.end_col_offset or 0) - 1  # type: ignore[attr-defined]
        chars: list[str] = []
        where: list[tuple[int, int]] = []
        for ln in range(l1, l2 + 1):
            line = lines[ln - 1]
            a = c1 if ln == l1 else 0
            b = c2 if ln == l2 else len(line)
            if len(chars) + b - a > 4 * MAX_TEXT:
                return None
            chars.append(line[a:b])
            where.extend((ln, k + 1) for k in range(a, b))
            if ln != l2:
                chars.append("\n")
                where.append((ln, len(line) + 1))
        return "".join(chars), where

    def constant(self, node: ast.Constant) -> Text:
        value = node.value
        assert isinstance(value, str)
        seg = self.segment(node)
        if seg is None:
            return _at(value, self.pos.span(node))
        src, where = seg
        m = _QUOTE_PREFIX.match(src)
        return self.aligned(value, src, where, m.end() if m else 0, len(src))

    def aligned(
        self, value: str, src: str, where: list[tuple[int, int]], start: int, end: int
    ) -> Text:
        from mlsec_lint.facts.launchargs import align

        last = len(where) - 1
        home = where[min(start, last)]
        offsets = align(value, src, start, max(start, end))
        return Text(value, [where[min(o, last)] for o in offsets[: len(value)]], home=home)

    # -------------------------------------------------------------- strings
    def text(self, node: ast.expr | None, depth: int = 0) -> Text | None:
        """The string ``node`` evaluates to, or None when nothing of it is known."""
        if node is None or depth > 20:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and len(node.value) <= MAX_TEXT:
                return self.constant(node)
            if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                return _at(str(node.value), self.pos.span(node))
            return None
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return self.percent(node, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.text(node.left, depth + 1)
            right = self.text(node.right, depth + 1)
            if left is None and right is None:
                return None
            out = (left or self.hole(node.left)) + (right or self.hole(node.right))
            return out if len(out.text) <= MAX_TEXT else None
        if isinstance(node, (ast.Name, ast.Attribute)):
            q = self.res.qualname(node)
            if q in _INTERPRETERS:
                return _at("python", self.pos.span(node))
            value = self.res.literal(node)
            if isinstance(value, str) and len(value) <= MAX_TEXT:
                return self.named(value, self.pos.span(node))
            return None
        if isinstance(node, ast.Call):
            if self.res.qualname(node.func) in _WHICH and node.args:
                return self.text(node.args[0], depth + 1)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
                return self.format(node, depth)
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "join"
                and len(node.args) == 1
                and not node.keywords
            ):
                sep = self.text(node.func.value, depth + 1)
                items = self.argv(node.args[0], depth + 1)
                if sep is None or sep.dynamic or items is None:
                    return None
                joined: Text | None = None
                for item in items:
                    joined = item if joined is None else joined + sep + item
                return joined
        return None

    def percent(self, node: ast.BinOp, depth: int) -> Text | None:
        """``"pip install %s" % pkg``: conversions become the values, when known."""
        template = self.text(node.left, depth + 1)
        if template is None or template.dynamic:
            return None
        right = node.right
        values = list(right.elts) if isinstance(right, ast.Tuple) else [right]
        if isinstance(right, ast.Dict) or any(isinstance(v, ast.Starred) for v in values):
            values = []
        out = Text("", [], home=template.position(0))
        at, k = 0, 0
        for m in _PERCENT.finditer(template.text):
            out = out + template.slice(at, m.start())
            at = m.end()
            if m.group() == "%%":
                out = out + template.slice(m.start(), m.start() + 1)
                continue
            value = values[k] if k < len(values) and not m.group(1) else None
            k += 1
            known = (
                self.text(value, depth + 1) if value is not None and m.group(2) in "sd" else None
            )
            out = out + (known or self.hole(value if value is not None else right))
        return out + template.slice(at, len(template.text))

    def format(self, node: ast.Call, depth: int) -> Text | None:
        """``"vllm serve {} --host {host}".format(model, host=h)``."""
        assert isinstance(node.func, ast.Attribute)
        template = self.text(node.func.value, depth + 1)
        if template is None or template.dynamic:
            return None
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(positional) != len(node.args) or len(keywords) != len(node.keywords):
            positional, keywords = [], {}  # *args / **kwargs: every field is unknown
        out = Text("", [], home=template.position(0))
        at, auto = 0, 0
        for m in _FIELD.finditer(template.text):
            if _BRACES.search(template.text, at, m.start()):
                return None  # a field this reading does not understand (nested {…})
            out = out + template.slice(at, m.start())
            at = m.end()
            if m.group() in ("{{", "}}"):
                out = out + template.slice(m.start(), m.start() + 1)
                continue
            name, spec = m.group(1), m.group(2)
            value: ast.expr | None = None
            if name == "":
                value = positional[auto] if auto < len(positional) else None
                auto += 1
            elif name.isdigit():
                index = int(name)
                value = positional[index] if index < len(positional) else None
            else:
                value = keywords.get(name)
            known = self.text(value, depth + 1) if value is not None and not spec else None
            out = out + (known or self.hole(value if value is not None else node))
        if _BRACES.search(template.text, at):
            return None
        return out + template.slice(at, len(template.text))

    def named(self, value: str, span: Span) -> Text:
        """A value read through a name: placeholders where the extractor had none."""
        if "{…}" not in value:
            return _at(value, span)
        parts = _HOLE.split(value)
        out = _at(parts[0], span)
        for part in parts[1:]:
            self.holes += 1
            out = out + _at(f"${{__py{self.holes}}}", span, True) + _at(part, span)
        return out

    def fstring(self, node: ast.JoinedStr, depth: int) -> Text | None:
        seg = self.segment(node)
        if seg is None:
            return None
        src, where = seg
        if not where:
            return None
        m = _QUOTE_PREFIX.match(src)
        start = m.end() if m else 0
        index = {w: i for i, w in enumerate(where)}
        out = Text("", [], home=where[min(start, len(where) - 1)])
        values = node.values
        for k, part in enumerate(values):
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                # the literal text lies between the neighbouring expressions
                end = len(src)
                if k + 1 < len(values):
                    nxt = values[k + 1]
                    inner = getattr(nxt, "value", nxt)
                    end = self._index(inner, index, len(src))
                out = out + self.aligned(part.value, src, where, start, end)
                continue
            if not isinstance(part, ast.FormattedValue):
                return None
            inner_text = None
            if part.conversion in (-1, ord("s")) and part.format_spec is None:
                inner_text = self.text(part.value, depth + 1)
            out = out + (inner_text or self.hole(part.value))
            end_line = getattr(part.value, "end_lineno", None)
            if end_line is not None:
                col = self.pos.col(end_line, part.value.end_col_offset or 0)
                start = index.get((end_line, col), start)
            if len(out.text) > MAX_TEXT:
                return None
        return out

    def _index(self, node: ast.AST, index: dict[tuple[int, int], int], default: int) -> int:
        line = getattr(node, "lineno", None)
        if line is None:
            return default
        return index.get((line, self.pos.col(line, node.col_offset)), default)  # type: ignore[attr-defined]

    # -------------------------------------------------------------- argv
    def argv(self, node: ast.expr | None, depth: int = 0) -> list[Text] | None:
        """The words of an argv expression, or None when it is not a list of words."""
        if node is None or depth > 20:
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            out: list[Text] = []
            for elt in node.elts[:MAX_ITEMS]:
                if isinstance(elt, ast.Starred):
                    out.extend(self.spread(elt, depth))
                else:
                    out.append(self.text(elt, depth + 1) or self.hole(elt))
            if len(node.elts) > MAX_ITEMS:
                out.append(self.hole(node))
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.argv(node.left, depth + 1)
            right = self.argv(node.right, depth + 1)
            if left is None and right is None:
                return None
            return (left or [self.hole(node.left)]) + (right or [self.hole(node.right)])
        if isinstance(node, ast.Call):
            func = node.func
            splitter = self.res.qualname(func) in _SPLITTERS or (
                isinstance(func, ast.Attribute) and func.attr == "split" and not node.args
            )
            if splitter and not node.keywords:
                target = node.args[0] if node.args else getattr(func, "value", None)
                whole = self.text(target, depth + 1) if target is not None else None
                return self.split(whole) if whole is not None else None
            return None
        if isinstance(node, (ast.Name, ast.Attribute)):
            value = self.res.literal(node)
            if not isinstance(value, PList):
                return None
            items: list[Text] = []
            for i, item in enumerate(value[:MAX_ITEMS]):
                span = value.item_span(i)
                if isinstance(item, str) and len(item) <= MAX_TEXT:
                    items.append(self.named(item, span))
                elif isinstance(item, (int, float)) and not isinstance(item, bool):
                    items.append(_at(str(item), span))
                else:
                    self.holes += 1
                    items.append(_at(f"${{__py{self.holes}}}", span, True))
            return items
        return None

    def spread(self, node: ast.Starred, depth: int = 0) -> list[Text]:
        """``*args`` in an argv: its words, or a placeholder when they are not known (then
        any word may follow, so server settings are not judged: :attr:`opaque`)."""
        inner = self.argv(node.value, depth + 1)
        if inner is not None:
            return inner
        self.opaque = True
        return [self.hole(node)]

    def split(self, whole: Text) -> list[Text]:
        """``shlex.split`` of a known string: its words, each at its characters."""
        from mlsec_lint.parsers.shell import Word, tokenize

        out = []
        for tok in tokenize(whole.text):
            if isinstance(tok, Word):
                word = self.aligned(tok.text, whole.text, whole.where, tok.start, tok.end)
                word.dynamic = tok.dynamic
                out.append(word)
        return out


# ------------------------------------------------------------------ growing commands

_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"})


def _concat(left: PList, right: PList) -> PList:
    out = PList(left.span)
    for lst in (left, right):
        for i, v in enumerate(lst):
            out.push(v, lst.item_span(i))
    return out


def grown(node: ast.AugAssign, res: Resolver) -> Any:
    """The value of ``cmd += [...]`` / ``cmd += " --flag"`` for a name that holds a known
    list or string (commands are often built this way), or None when not known."""
    if not isinstance(node.op, ast.Add) or not isinstance(node.target, ast.Name):
        return None
    literal = res.literal
    old = literal(node.target)
    if isinstance(old, PList) and isinstance(node.value, (ast.List, ast.Tuple)):
        if len(old) >= MAX_ITEMS:
            return None
        right = literal(node.value)
        return _concat(old, right) if isinstance(right, PList) else None
    if isinstance(old, str) and len(old) <= MAX_TEXT:
        right = literal(node.value)
        return old + (right if isinstance(right, str) else "{…}")
    return None


def mutated(node: ast.Call, res: Resolver) -> tuple[str, Any] | None:
    """``cmd.append(x)`` / ``cmd.extend([...])`` on a name that holds a known list: (the
    name, its new value: the longer list, or UNKNOWN after other changes); None otherwise.
    Without this a list would keep the items it was created with."""
    func = node.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in _MUTATORS
        and isinstance(func.value, ast.Name)
    ):
        return None
    literal = res.literal
    old = literal(func.value)
    if not isinstance(old, PList):
        return None
    name = func.value.id
    if node.keywords or len(old) >= MAX_ITEMS or any(isinstance(a, ast.Starred) for a in node.args):
        return name, UNKNOWN  # (a list that keeps growing is copied no further)
    if func.attr == "append" and len(node.args) == 1:
        one = PList(old.span)
        one.push(literal(node.args[0]), res.pos.span(node.args[0]))
        return name, _concat(old, one)
    if func.attr == "extend" and len(node.args) == 1:
        more = literal(node.args[0])
        if isinstance(node.args[0], (ast.List, ast.Tuple)) and isinstance(more, PList):
            return name, _concat(old, more)
    return name, UNKNOWN


# ------------------------------------------------------------------ calls


def call_facts(callee: str, node: ast.Call, res: Resolver, origin: str = "shell") -> list[Fact]:
    """The facts of the command one call runs (``callee`` is in :data:`RUNNERS`; with
    another origin, the build step of an image built in code, ``Image().run(command)``)."""
    reader = _Reader(res)
    try:
        if origin != "shell":  # a build step: each argument a shell command line
            lines = [reader.text(a) for a in _build_steps(node)]
            steps: list[tuple[str, Text | list[Text]]] = [("shell", t) for t in lines if t]
        else:
            found = _command(callee, node, reader)
            steps = [found] if found is not None else []
    except RecursionError:
        return []
    facts: list[Fact] = []
    for i, (kind, value) in enumerate(steps):
        owner = f"python/{callee}" + (f"/{i}" if i else "")
        facts.extend(_step_facts(callee, node, res, reader, origin, kind, value, owner))
    return facts


def _build_steps(node: ast.Call) -> list[ast.expr]:
    """The command arguments of a build step: ``run("…")``, ``run_commands("…", "…")``,
    ``run_commands(["…", "…"])``."""
    out: list[ast.expr] = []
    for a in node.args:
        if isinstance(a, (ast.List, ast.Tuple)):
            out.extend(a.elts)
        elif not isinstance(a, ast.Starred):
            out.append(a)
    command = _arg(node, len(node.args), "command")
    if command is not None and command not in out:
        out.append(command)
    return out[:MAX_ITEMS]


def _step_facts(
    callee: str,
    node: ast.Call,
    res: Resolver,
    reader: _Reader,
    origin: str,
    kind: str,
    value: Text | list[Text],
    owner: str,  # no line: fingerprints survive code moving up or down
) -> list[Fact]:
    env = _env(callee, node, reader)
    if kind == "shell":
        assert isinstance(value, Text)
        facts = _shell_facts(value, res.path, owner, env, origin)
    else:
        assert isinstance(value, list)
        facts = _argv_facts(value, res.path, owner, env, servers=not reader.opaque)
    span = res.pos.span(node.func)
    cell = _exported_cell(res.pos.lines, node.lineno) if "get_ipython()" in callee else None
    for fact in facts:
        fact.data.put("python_callee", callee, span)
        if cell is not None and "notebook_cell" not in fact.data:
            fact.data.put("notebook_cell", cell, span)  # a notebook's line, exported to .py
        printed = fact.data.get("printed_variables")
        if isinstance(printed, PList):  # echo {hf_token}: the Python name was printed
            for i, name in enumerate(printed):
                if isinstance(name, str) and name.startswith("__py_"):
                    printed[i] = name[len("__py_") :]
    return facts


_EXPORTED_CELL = re.compile(r"#\s*In\[\s*(\d{1,6})?\s*\]:")


def _exported_cell(lines: list[str], line: int) -> int:
    """The cell of a notebook exported with ``jupyter nbconvert --to script`` (its
    ``# In[3]:`` markers) that holds ``line``; 0 when there is no marker."""
    for i in range(min(line, len(lines)) - 1, max(line - 5000, 0) - 1, -1):
        text = lines[i]
        if text.startswith("#"):
            m = _EXPORTED_CELL.match(text)
            if m:
                return int(m.group(1) or 0)
    return 0


def _arg(node: ast.Call, index: int, keyword: str | None = None) -> ast.expr | None:
    if keyword is not None:
        for kw in node.keywords:
            if kw.arg == keyword:
                return kw.value
    if index < len(node.args) and not any(
        isinstance(a, ast.Starred) for a in node.args[: index + 1]
    ):
        return node.args[index]
    return None


def _command(callee: str, node: ast.Call, reader: _Reader) -> tuple[str, Text | list[Text]] | None:
    if callee in _SHELL_LINE:
        key = _SHELL_KEYWORD.get(callee)
        line = reader.text(_arg(node, _SHELL_LINE[callee], key))
        return ("shell", line) if line is not None else None
    if callee in _MAGICS:
        return _magic(callee, node, reader)
    if callee in _POPEN:
        target = _arg(node, 0, "args")
        if target is None:
            return None
        shell = _shell_flag(node, reader)
        if shell is None:
            return None
        words = reader.argv(target)
        if shell:
            if words is not None:
                return ("shell", words[0]) if words and not words[0].dynamic else None
            line = reader.text(target)
            return ("shell", line) if line is not None else None
        if words is not None:
            return ("argv", words)
        program = reader.text(target)
        return ("argv", [program]) if program is not None else None
    spec = _EXEC.get(callee)
    if spec is not None:
        prog_at, argv_at, has_argv0 = spec
        if argv_at < 0:  # execl(path, arg0, …) / create_subprocess_exec(program, *args)
            items: list[Text] = []
            for a in node.args:
                if isinstance(a, ast.Starred):
                    items.extend(reader.spread(a))
                else:
                    items.append(reader.text(a) or reader.hole(a))
            if len(items) <= prog_at or items[prog_at].dynamic:
                return None
            program, rest = items[prog_at], items[prog_at + 1 :]
        else:
            found = reader.text(_arg(node, prog_at))
            if found is None:
                return None
            program = found
            listed = reader.argv(_arg(node, argv_at))
            if listed is None:
                reader.opaque = True
                return ("argv", [program, reader.hole(node)])
            rest = listed
        if has_argv0:
            rest = rest[1:]
        return ("argv", [program, *rest])
    return None


def _shell_flag(node: ast.Call, reader: _Reader) -> bool | None:
    """``shell=`` of a subprocess call: True, False, or None when not known."""
    for kw in node.keywords:
        if kw.arg == "shell":
            value = reader.res.literal(kw.value)
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, str)):
                return bool(value)
            return None
        if kw.arg is None:
            spread = reader.res.literal(kw.value)
            if not isinstance(spread, PDict):
                return None
            if "shell" in spread:
                value = spread["shell"]
                return bool(value) if isinstance(value, (bool, int, str)) else None
    if len(node.args) > 8:  # Popen(args, bufsize, executable, stdin, stdout, stderr,
        value = reader.res.literal(node.args[8])  # preexec_fn, close_fds, shell, …)
        return bool(value) if isinstance(value, (bool, int)) else None
    return False


def _magic(callee: str, node: ast.Call, reader: _Reader) -> tuple[str, Text] | None:
    """``get_ipython().run_line_magic("pip", "install x")`` and ``run_cell_magic("bash",
    "", "…")``: what ``jupyter nbconvert`` writes for ``%pip`` and ``%%bash``."""
    if len(node.args) < 2:
        return None
    name = reader.res.literal(node.args[0])
    if not isinstance(name, str):
        return None
    if callee.endswith("run_line_magic"):
        line = reader.text(node.args[1])
        if line is None:
            return None
        if name in ("system", "sx"):
            return "shell", line
        if name in _SHELL_MAGICS:
            return "shell", _at(name + " ", reader.pos.span(node.args[0])) + line
        return None
    from mlsec_lint.parsers.notebook import is_shell_cell

    line = reader.res.literal(node.args[1]) if len(node.args) > 1 else None
    shell_cell = is_shell_cell(name, line if isinstance(line, str) else "")
    if len(node.args) < 3 or not shell_cell:
        return None
    body = reader.text(node.args[2])
    return ("shell", body) if body is not None else None


# ------------------------------------------------------------------ environment


def _env(callee: str, node: ast.Call, reader: _Reader) -> dict[str, Any] | None:
    """The environment of the command: a literal mapping, {} when the call passes none
    (the parent's, not shown), None when it passes one that is not known."""
    target = _arg(node, _ENV_POSITION.get(callee, 1 << 20), "env")
    if target is None or _parent_env(target, reader):
        return {}
    if isinstance(target, ast.Dict) and any(k is None for k in target.keys):
        return _spread_env(target, reader)
    value = reader.res.literal(target)
    if not isinstance(value, PDict):
        return None
    return {"value": value}


def _parent_env(node: ast.expr, reader: _Reader) -> bool:
    """``os.environ``, ``os.environ.copy()``, ``dict(os.environ)``: the parent's own."""
    if isinstance(node, ast.Call):
        q = reader.res.qualname(node.func)
        if q == "dict" and len(node.args) == 1 and not node.keywords:
            return _parent_env(node.args[0], reader)
        return q == "os.environ.copy" and not node.args
    return isinstance(node, ast.Attribute) and reader.res.qualname(node) == "os.environ"


def _spread_env(node: ast.Dict, reader: _Reader) -> dict[str, Any] | None:
    """``{**os.environ, "CUDA_VISIBLE_DEVICES": "0"}``: the parent's environment (not
    shown, as without ``env=``) and the keys written here; None when another mapping is
    spread into it."""
    out = PDict(reader.pos.span(node))
    for key, value in zip(node.keys, node.values, strict=False):
        if key is None:
            if not _parent_env(value, reader):
                return None
            continue
        name = reader.res.literal(key)
        if not isinstance(name, str):
            return None
        out.put(name, reader.res.literal(value), reader.pos.span(key), reader.pos.span(value))
    return {"value": out}


def _env_vars(env: dict[str, Any] | None) -> Any:
    from mlsec_lint.facts.launchargs import EnvVar

    out: dict[str, EnvVar] = {}
    if not env:
        return out
    value: PDict = env["value"]
    for name, v in value.items():
        if not isinstance(name, str):
            continue
        kspan = value.kspan.get(name, value.span)
        vspan = value.vspan.get(name, kspan)
        text = v if isinstance(v, str) else UNKNOWN if v is UNKNOWN else str(v)
        out[name] = EnvVar(name, text, vspan, kspan)
    return out


def _unknown_env(launches: Iterator[Any], span: Span | None) -> Iterator[Any]:
    """With an environment that is not known, what a server reads from it is unknown."""
    from mlsec_lint.facts.launchargs import EnvVar

    for launch in launches:
        if span is not None:
            for var in launch.spec.env:
                launch.env.setdefault(var, EnvVar(var, UNKNOWN, span, span))
        yield launch


# ------------------------------------------------------------------ analysis


def _site(path: str, owner: str, anchor: Span) -> Any:
    from mlsec_lint.facts.launch import Site

    return Site(path, "shell", owner, PDict(anchor))


def _shell_facts(
    line: Text, path: str, owner: str, env: dict[str, Any] | None, origin: str = "shell"
) -> list[Fact]:
    from mlsec_lint.facts import launch, launchargs, launchcommands, shellcmds, shellsession

    session = shellsession.Session(path, origin, owner)
    shellcmds.run_text(session, line.text, lambda w: line.span(w.start, w.end))
    facts = session.facts
    if origin != "shell":
        return facts  # an image build step starts no server
    doc = launchargs.Doc(line.text, line.position)
    unknown = line.span(0, 1) if env is None else None
    launches = _unknown_env(launchcommands.run_script(doc, _env_vars(env)), unknown)
    facts.extend(launch.launch_facts(launches, _site(path, owner, line.span())))
    return facts


def _argv_facts(
    words: list[Text], path: str, owner: str, env: dict[str, Any] | None, servers: bool = True
) -> list[Fact]:
    from mlsec_lint.facts import launch, launchargs, launchcommands, shellcmds

    if not words:
        return []
    items = [(w.text, w.span()) for w in words]
    inner: list[Callable[[int, int], Span] | None] = [w.span for w in words]
    facts = shellcmds.from_argv(items, path, "shell", owner, inner, expanded=False)
    if not servers:
        return facts
    args = [
        launchargs.Arg(
            w.text, launchargs.Doc(w.text, w.position), 0, len(w.text), dynamic=w.dynamic
        )
        for w in words
    ]
    unknown = words[0].span() if env is None else None
    launches = _unknown_env(launchcommands.run_argv(args, _env_vars(env), "none"), unknown)
    facts.extend(launch.launch_facts(launches, _site(path, owner, words[0].span())))
    return facts
