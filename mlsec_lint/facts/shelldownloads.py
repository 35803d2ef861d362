"""Downloads in shell commands -> URL, scheme, TLS and checksum data, and
``model-source`` facts.

``curl``, ``wget``, ``aria2c`` and Dockerfile ``ADD <url>`` with a checksum verification
later in the same stage or script (``sha256sum -c``, ``ADD --checksum``);
``huggingface-cli download`` / ``hf download``, ``git clone`` of hub repositories (with a
later ``git checkout``) and hub calls in ``python -c``.

Called by the walk in :mod:`mlsec_lint.facts.shellcmds`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from mlsec_lint.facts import Fact
from mlsec_lint.facts.pipinstall import expand
from mlsec_lint.facts.shellsession import Session, SpanOf, _base, _put, _Shell
from mlsec_lint.model import Span
from mlsec_lint.parsers.shell import Command, Word
from mlsec_lint.records import Struct, field
from mlsec_lint.records import replace as replace_fields
from mlsec_lint.tree import PDict, PList

_CHECKSUM_PROGRAMS = {
    "sha256sum",
    "sha512sum",
    "sha384sum",
    "sha224sum",
    "sha1sum",
    "md5sum",
    "b2sum",
    "shasum",
}
_MODEL_PATH_HINT = re.compile(r"(^|[/_.-])(models?|weights?|checkpoints?|ckpts?)([/_.-]|$)", re.I)
_ARCHIVE = re.compile(r"\.(tar\.gz|tgz|tar|zip|tar\.xz|tar\.zst|7z)$", re.I)
_PICKLE_FORMATS = {"pt", "pth", "bin", "ckpt", "pkl", "pickle", "joblib", "mar", "dill"}
_HF_HOSTS = {"huggingface.co", "hf.co", "www.huggingface.co"}


# ------------------------------------------------------------------ python -c

_HUB_CALLS = {
    "from_pretrained": ("pretrained_model_name_or_path", "model_name_or_path"),
    "snapshot_download": ("repo_id",),
    "hf_hub_download": ("repo_id",),
    "load_dataset": ("path",),
    "SentenceTransformer": ("model_name_or_path",),
    "pipeline": ("model",),
}


def _python_c(session: Session, words: Sequence[Word], span_of: SpanOf, data: PDict) -> None:
    """``python -c "…from_pretrained('org/name')…"``: hub references baked into an image.

    The code is parsed with ``ast`` (never run). Only literal repository ids count; the
    Python rules do not see these strings, so they become ``model-source`` facts with
    ``via: python-c``.
    """
    import ast

    argv = [w.text for w in words]
    if "-c" not in argv[1:-1]:
        return
    code_word = words[argv.index("-c", 1) + 1]
    try:
        tree = ast.parse(code_word.text)
    except (SyntaxError, ValueError, RecursionError):
        return
    exact = code_word.quoted and code_word.end - code_word.start == len(code_word.text) + 2
    starts = [0]
    for k, c in enumerate(code_word.text):
        if c == "\n":
            starts.append(k + 1)

    def span_at(node: ast.expr) -> Span:
        if not exact or node.lineno - 1 >= len(starts):
            return span_of(code_word)
        offset = starts[node.lineno - 1] + node.col_offset
        start = code_word.start + 1 + offset
        end = start + max(1, (node.end_col_offset or node.col_offset + 1) - node.col_offset)
        return span_of(replace_fields(code_word, start=start, end=end))

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in _HUB_CALLS:
            continue
        kwargs = {k.arg: k.value for k in node.keywords if k.arg}
        target = node.args[0] if node.args and name != "pipeline" else None
        for key in _HUB_CALLS[name]:
            target = target or kwargs.get(key)
        if not isinstance(target, ast.Constant) or not isinstance(target.value, str):
            continue
        repo = target.value
        rev_node = kwargs.get("revision")
        revision = None
        if isinstance(rev_node, ast.Constant) and isinstance(rev_node.value, str):
            revision = (rev_node.value, span_at(rev_node))
        src = model_source_data(
            repo,
            span_at(target),
            via="python-c",
            hub_id=repo,
            revision=revision,
            repo_type="dataset" if name == "load_dataset" else "model",
        )
        if rev_node is not None and revision is None:
            _put(src, "revision_pinned", True, span_at(rev_node))  # not a literal: unknown
        _put(data, "tool", "python", span_of(words[0]))
        session.facts.append(_model_fact(session, src))


# ------------------------------------------------------------------ downloads

_CURL_VALUE_SHORT = set("AbcCdDeEFHKmoPQrtTuUwxXyYz")
_CURL_VALUE_LONG = {
    "--output",
    "--output-dir",
    "--header",
    "--data",
    "--data-binary",
    "--data-raw",
    "--data-urlencode",
    "--data-ascii",
    "--user",
    "--request",
    "--user-agent",
    "--referer",
    "--cookie",
    "--cookie-jar",
    "--max-time",
    "--connect-timeout",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "--cacert",
    "--capath",
    "--cert",
    "--key",
    "--proxy",
    "--url",
    "--continue-at",
    "--range",
    "--write-out",
    "--form",
    "--form-string",
    "--config",
    "--limit-rate",
    "--max-filesize",
    "--proto",
    "--proto-redir",
    "--resolve",
    "--interface",
    "--dns-servers",
    "--oauth2-bearer",
    "--netrc-file",
    "--upload-file",
    "--time-cond",
    "--speed-time",
    "--speed-limit",
    "--local-port",
    "--max-redirs",
    "--keepalive-time",
    "--tls-max",
    "--ciphers",
    "--pinnedpubkey",
    "--aws-sigv4",
    "--variable",
    "--json",
    "--stderr",
    "--trace",
    "--trace-ascii",
    "--dump-header",
    "--connect-to",
    "--cert-type",
    "--key-type",
    "--pass",
    "--proxy-user",
    "--preproxy",
    "--socks5",
    "--unix-socket",
    "--expect100-timeout",
    "--happy-eyeballs-timeout-ms",
    "--retry-all-errors-delay",
}
_WGET_VALUE_SHORT = set("OoaPtTUeiwQlARDIXB")
_WGET_VALUE_LONG = {
    "--output-document",
    "--directory-prefix",
    "--tries",
    "--timeout",
    "--user-agent",
    "--header",
    "--user",
    "--password",
    "--http-user",
    "--http-password",
    "--output-file",
    "--append-output",
    "--input-file",
    "--wait",
    "--quota",
    "--level",
    "--accept",
    "--reject",
    "--domains",
    "--ca-certificate",
    "--ca-directory",
    "--certificate",
    "--private-key",
    "--post-data",
    "--post-file",
    "--method",
    "--body-data",
    "--referer",
    "--execute",
    "--load-cookies",
    "--save-cookies",
    "--limit-rate",
    "--progress",
    "--read-timeout",
    "--connect-timeout",
    "--dns-timeout",
    "--waitretry",
    "--bind-address",
    "--restrict-file-names",
    "--secure-protocol",
}
_ARIA_VALUE = {"-o", "--out", "-d", "--dir", "-x", "-s", "-k", "-j", "--header", "--checksum"}


class _Download(Struct):
    urls: list[Word] = field(default_factory=list)
    output: tuple[str, Word] | None = None
    output_dir: str | None = None
    remote_name: bool = False
    insecure: Word | None = None
    checksum: Word | None = None


def _parse_download(program: str, words: Sequence[Word]) -> _Download:
    d = _Download()
    if program == "curl":
        short_values, long_values = _CURL_VALUE_SHORT, _CURL_VALUE_LONG
    elif program == "wget":
        short_values, long_values = _WGET_VALUE_SHORT, _WGET_VALUE_LONG
    else:
        short_values, long_values = set("odxskj"), _ARIA_VALUE
    i = 1
    n = len(words)
    while i < n:
        w = words[i]
        t = w.text
        if t.startswith("--"):
            name, eq, value = t.partition("=")
            vword = w
            if not eq and name in long_values and i + 1 < n:
                i += 1
                vword = words[i]
                value = vword.text
            _download_option(program, d, name, value, w, vword)
        elif t.startswith("-") and len(t) > 1:
            j = 1
            while j < len(t):
                c = t[j]
                if c in short_values:
                    value = t[j + 1 :]
                    vword = w
                    if not value and i + 1 < n:
                        i += 1
                        vword = words[i]
                        value = vword.text
                    _download_option(program, d, "-" + c, value, w, vword)
                    break
                _download_option(program, d, "-" + c, "", w, w)
                j += 1
        elif "://" in t:
            d.urls.append(w)
        i += 1
    return d


def _download_option(
    program: str, d: _Download, name: str, value: str, w: Word, vword: Word
) -> None:
    if program == "curl":
        if name in ("-k", "--insecure"):
            d.insecure = w
        elif name in ("-o", "--output"):
            d.output = (value, vword)
        elif name in ("-O", "--remote-name", "--remote-name-all"):
            d.remote_name = True
        elif name == "--output-dir":
            d.output_dir = value
        elif name == "--url":
            d.urls.append(vword)
    elif program == "wget":
        if name == "--no-check-certificate" or (
            name in ("-e", "--execute")
            and value.replace(" ", "").lower()
            in ("check_certificate=off", "check-certificate=off", "check_certificate=0")
        ):
            d.insecure = w
        elif name in ("-O", "--output-document"):
            d.output = (value, vword)
        elif name in ("-P", "--directory-prefix"):
            d.output_dir = value
    elif name in ("-o", "--out"):  # aria2c
        d.output = (value, vword)
    elif name in ("-d", "--dir"):
        d.output_dir = value
    elif name == "--check-certificate" and value.lower() == "false":
        d.insecure = w
    elif name == "--checksum":
        d.checksum = vword


def _fetch(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    program = _base(words[0].text)
    first = span_of(words[0])
    d = _parse_download(program, words)
    _put(data, "tool", program, first)
    _put(data, "action", "download", first)
    _put(data, "insecure", d.insecure is not None, span_of(d.insecure) if d.insecure else first)
    if d.output is not None:
        _put(data, "output", d.output[0], span_of(d.output[1]))
    urls = PList(first)
    for w in d.urls:
        urls.push(expand(w.text, shell.variables), span_of(w))
    _put(data, "urls", urls, first)
    if d.urls:
        url0 = expand(d.urls[0].text, shell.variables)
        _put(data, "url", url0, span_of(d.urls[0]))
        _put(data, "scheme", _scheme(url0), span_of(d.urls[0]))
    for w in d.urls:
        url = expand(w.text, shell.variables)
        output = d.output[0] if d.output is not None else None
        if output in ("-", "/dev/stdout"):
            output = None
        elif output is None and (d.remote_name or program in ("wget", "aria2c")):
            output = _url_file(url)
        if output is not None and d.output_dir and not output.startswith("/"):
            output = posixpath.join(d.output_dir, output)
        if not _is_model_download(url, output):
            continue
        src = model_source_data(
            url,
            span_of(w),
            via=program,
            insecure=(d.insecure is not None, span_of(d.insecure) if d.insecure else None),
            output=output,
        )
        if d.checksum is not None:
            _put(src, "checksum", d.checksum.text, span_of(d.checksum))
        else:
            session.downloads.append(src)
        session.facts.append(_model_fact(session, src))


def add_download(
    session: Session, url: str, span: Span, dest: str, checksum: tuple[str, Span] | None
) -> None:
    """Dockerfile ``ADD <url> <dest>`` (with optional ``--checksum``)."""
    base = url.split("#", 1)[0]
    output = dest
    if dest.endswith("/") or dest in (".", ""):
        output = posixpath.join(dest, _url_file(base) or "")
    if _hf_git(url) is None and not _is_model_download(base, output):
        return
    src = model_source_data(url, span, via="dockerfile-add", output=output)
    if checksum is not None:
        _put(src, "checksum", checksum[0], checksum[1])
    else:
        session.downloads.append(src)
    session.facts.append(_model_fact(session, src))


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _url_file(url: str) -> str | None:
    try:
        p = urlsplit(url).path
    except ValueError:
        return None
    name = p.rstrip("/").rsplit("/", 1)[-1]
    return name or None


def _is_model_download(url: str, output: str | None) -> bool:
    from mlsec_lint.engine.classifiers import is_model_file_url

    if "://" not in url:
        return False
    if is_model_file_url(url) or _hf_resolve(url) is not None:
        return True
    if output and is_model_file_url("file://" + output):
        return True
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    for candidate in (path, output or ""):
        if _ARCHIVE.search(candidate) and _MODEL_PATH_HINT.search(candidate):
            return True
    return False


def _hf_parts(url: str) -> tuple[str, list[str]] | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if (parts.hostname or "").lower() not in _HF_HOSTS:
        return None
    segs = [s for s in parts.path.split("/") if s]
    repo_type = "model"
    if segs and segs[0] in ("datasets", "spaces"):
        repo_type = segs[0][:-1]
        segs = segs[1:]
    return repo_type, segs


def _hf_resolve(url: str) -> tuple[str, str, str] | None:
    """``https://huggingface.co/<org>/<name>/resolve/<rev>/<file>`` -> (repo, rev, type)."""
    found = _hf_parts(url)
    if found is None:
        return None
    repo_type, segs = found
    for marker in ("resolve", "raw", "blob"):
        if marker in segs:
            k = segs.index(marker)
            if 1 <= k <= 2 and k + 1 < len(segs):
                from urllib.parse import unquote

                return "/".join(segs[:k]), unquote(segs[k + 1]), repo_type
    return None


def _hf_git(url: str) -> tuple[str, str | None, str] | None:
    """A hub repository as a git URL (``https://huggingface.co/org/name[.git][#ref]``)."""
    base, _, ref = url.partition("#")
    found = _hf_parts(base)
    if found is None:
        return None
    repo_type, segs = found
    if len(segs) not in (1, 2) or any(s in ("resolve", "blob", "raw", "tree") for s in segs):
        return None
    repo = "/".join(segs)
    return repo.removesuffix(".git"), ref or None, repo_type


def model_source_data(
    uri: str,
    span: Span,
    *,
    via: str,
    hub_id: str | None = None,
    revision: tuple[str, Span] | None = None,
    repo_type: str | None = None,
    insecure: tuple[bool, Span | None] = (False, None),
    output: str | None = None,
) -> PDict:
    """The fields of a ``model-source`` fact (docs/facts.md)."""
    data = PDict(span)
    _put(data, "uri", uri, span)
    _put(data, "scheme", _scheme(uri) or ("hub" if hub_id else ""), span)
    _put(data, "via", via, span)
    resolved = _hf_resolve(uri) if "://" in uri else None
    git = _hf_git(uri) if "://" in uri and resolved is None else None
    if hub_id is None and resolved is not None:
        hub_id, rev, repo_type = resolved
        revision = (rev, span)
    elif hub_id is None and git is not None:
        hub_id, rev_opt, repo_type = git
        if rev_opt:
            revision = (rev_opt, span)
    if hub_id is not None:
        _put(data, "hub_id", hub_id, span)
        _put(data, "repo_type", repo_type or "model", span)
        if revision is not None:
            _put(data, "revision", revision[0], revision[1])
        pinned = revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision[0]) is not None
        _put(data, "revision_pinned", pinned, revision[1] if revision else span)
    fmt = _format(output or uri)
    if fmt:
        _put(data, "format", fmt, span)
    _put(data, "insecure", insecure[0], insecure[1] or span)
    if output:
        _put(data, "output", output, span)
    if "@sha256:" in uri:
        _put(data, "digest", uri.split("@", 1)[1], span)
    _put(data, "context", PDict(span), span)
    return data


def _format(path: str) -> str | None:
    name = path.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1].lower()
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[1]
    if ext in _PICKLE_FORMATS:
        return "pickle"
    if ext in (
        "safetensors",
        "onnx",
        "gguf",
        "ggml",
        "keras",
        "h5",
        "pb",
        "tflite",
        "engine",
        "plan",
        "npy",
        "npz",
        "model",
    ):
        return ext
    return None


def _model_fact(session: Session, data: PDict) -> Fact:
    return Fact("model-source", session.path, data, data.span, session.key("model-source"))


# ------------------------------------------------------------------ checksums


def _verify(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    """``sha256sum -c``, ``shasum -a 256 --check``, ``[ "$(sha256sum f …)" = … ]``."""
    program = _base(words[0].text)
    argv = [w.text for w in words]
    first = span_of(words[0])
    if program in _CHECKSUM_PROGRAMS:
        checking = any(
            t == "--check" or (re.fullmatch(r"-[a-zA-Z0-9]*c[a-zA-Z0-9]*", t) is not None)
            for t in argv[1:]
            if t.startswith("-") and not t.startswith("-a")
        )
        if not checking:
            return
    elif program in ("[", "[[", "test"):
        if not any(re.search(r"\b(sha\d*sum|shasum|md5sum|b2sum)\b", t) for t in argv[1:]):
            return
    elif not (
        (program == "gpg" and "--verify" in argv)
        or (program == "cosign" and len(argv) > 1 and argv[1].startswith("verify-blob"))
    ):
        return
    _put(data, "tool", "checksum", first)
    _put(data, "action", "verify", first)
    mentioned = " ".join(argv)
    if previous is not None and previous.separator == "|":
        mentioned += " " + " ".join(previous.argv)

    def named(d: PDict) -> bool:
        base = posixpath.basename(str(d.get("output") or ""))
        return bool(base) and base in mentioned

    targets = [d for d in session.downloads if named(d)] or list(session.downloads)
    for d in targets:
        _put(d, "checksum", " ".join(argv), first)
    session.downloads = [d for d in session.downloads if d not in targets]


# ------------------------------------------------------------------ hub downloads, git

_HF_VALUE = {
    "--repo-type",
    "--revision",
    "--cache-dir",
    "--local-dir",
    "--local-dir-use-symlinks",
    "--token",
    "--max-workers",
    "--format",
    "--etag-timeout",
}
_HF_MULTI = {"--include", "--exclude"}


def _hf(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    """``huggingface-cli download <repo> [files] [--revision R] [--repo-type T]``."""
    argv = [w.text for w in words]
    if len(argv) < 2 or argv[1] != "download":
        return
    first = span_of(words[0])
    _put(data, "tool", "huggingface-cli", first)
    _put(data, "action", "download", first)
    repo: Word | None = None
    revision: tuple[str, Word] | None = None
    repo_type = "model"
    i = 2
    while i < len(words):
        t = words[i].text
        if t.startswith("--"):
            name, eq, value = t.partition("=")
            if name in _HF_MULTI:
                if not eq:
                    while i + 1 < len(words) and not words[i + 1].text.startswith("-"):
                        i += 1
                i += 1
                continue
            vword = words[i]
            if not eq and name in _HF_VALUE and i + 1 < len(words):
                i += 1
                vword = words[i]
                value = vword.text
            if name == "--revision":
                revision = (value, vword)
            elif name == "--repo-type":
                repo_type = value
            i += 1
            continue
        if repo is None:
            repo = words[i]
        i += 1
    if repo is None:
        return
    repo_id = expand(repo.text, shell.variables)
    rev = None
    if revision is not None:
        rev = (expand(revision[0], shell.variables), span_of(revision[1]))
        _put(data, "revision", rev[0], rev[1])
    _put(data, "repo_id", repo_id, span_of(repo))
    if "$" in repo_id:
        return
    src = model_source_data(
        repo_id,
        span_of(repo),
        via="huggingface-cli",
        hub_id=repo_id,
        revision=rev,
        repo_type=repo_type,
    )
    if rev is not None and "$" in rev[0]:
        _put(src, "revision_pinned", True, rev[1])  # decided at build time
    session.facts.append(_model_fact(session, src))


_GIT_CLONE_VALUE = {
    "-b",
    "--branch",
    "--depth",
    "-o",
    "--origin",
    "-c",
    "--config",
    "--filter",
    "--reference",
    "-j",
    "--jobs",
    "--separate-git-dir",
    "--shallow-since",
    "--shallow-exclude",
    "--template",
    "-u",
    "--upload-pack",
    "--revision",
}


def _git(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    previous: Command | None,
) -> None:
    argv = [w.text for w in words]
    first = span_of(words[0])
    i = 1
    cwd = shell.cwd
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "-C" and i + 1 < len(argv):
            cwd = posixpath.normpath(posixpath.join(cwd or "/", argv[i + 1]))
            i += 2
            continue
        i += 2 if argv[i] == "-c" else 1
    if i >= len(argv):
        return
    sub = argv[i]
    if sub == "lfs" and i + 1 < len(argv) and argv[i + 1] == "clone":
        i += 1
        sub = "clone"
    _put(data, "tool", "git", first)
    _put(data, "action", sub, first)
    if sub == "clone":
        _git_clone(session, shell, words[i + 1 :], span_of, data, cwd)
    elif sub in ("checkout", "switch", "reset") or (sub == "fetch" and len(argv) > i + 2):
        refs = [w for w in words[i + 1 :] if not w.text.startswith("-")]
        if sub == "fetch":
            refs = refs[1:]  # git fetch <remote> <ref>
        if not refs or not session.clones:
            return
        ref = refs[0]
        target = next(
            (d for directory, d in reversed(session.clones) if directory == cwd),
            session.clones[-1][1],
        )
        _put(target, "revision", ref.text, span_of(ref))
        _put(
            target,
            "revision_pinned",
            re.fullmatch(r"[0-9a-f]{40}", ref.text) is not None,
            span_of(ref),
        )


def _git_clone(
    session: Session,
    shell: _Shell,
    words: Sequence[Word],
    span_of: SpanOf,
    data: PDict,
    cwd: str,
) -> None:
    positional: list[Word] = []
    branch: Word | None = None
    i = 0
    while i < len(words):
        t = words[i].text
        if t.startswith("-"):
            name, eq, _ = t.partition("=")
            if name in ("-b", "--branch", "--revision"):
                if eq:
                    branch = words[i]
                elif i + 1 < len(words):
                    branch = words[i + 1]
            if not eq and name in _GIT_CLONE_VALUE:
                i += 1
            i += 1
            continue
        positional.append(words[i])
        i += 1
    if not positional:
        return
    url_word = positional[0]
    url = expand(url_word.text, shell.variables)
    _put(data, "url", url, span_of(url_word))
    if branch is not None:
        ref_text = branch.text.split("=", 1)[1] if branch.text.startswith("-") else branch.text
        _put(data, "ref", ref_text, span_of(branch))
    hub = _hf_git(url)
    directory = positional[1].text if len(positional) > 1 else _url_file(url.split("#")[0]) or ""
    directory = posixpath.normpath(posixpath.join(cwd or "/", directory.removesuffix(".git")))
    if hub is None:
        return
    rev = None
    if branch is not None:
        ref_text = branch.text.split("=", 1)[1] if branch.text.startswith("-") else branch.text
        rev = (ref_text, span_of(branch))
    src = model_source_data(
        url, span_of(url_word), via="git-clone", hub_id=hub[0], revision=rev, repo_type=hub[2]
    )
    session.clones.append((directory, src))
    session.facts.append(_model_fact(session, src))
