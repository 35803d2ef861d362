"""Rule documentation in ruff's shape, rendered from the rule YAML.

Used by ``mlsec-lint explain``, the generated ``docs/rules/*.md`` pages and SARIF help.
"""

from __future__ import annotations

from mlsec_lint.engine.rules import Rule

_REF_LABELS = (
    ("cwe", "CWE"),
    ("owasp-ml", "OWASP Machine Learning Security Top 10"),
    ("owasp-llm", "OWASP Top 10 for LLM Applications"),
    ("atlas", "MITRE ATLAS"),
    ("cve", "CVE"),
    ("cis", "CIS Kubernetes Benchmark"),
)

_LANG = {
    "dockerfile": "dockerfile",
    "python-call": "python",
    "python-assign": "python",
    "dependency": "text",
    "package-index": "text",
    "server": "properties",
}


def _ref_url(kind: str, value: str) -> str | None:
    v = str(value)
    if kind == "cwe" and v.upper().startswith("CWE-"):
        return f"https://cwe.mitre.org/data/definitions/{v[4:]}.html"
    if kind == "cve":
        return f"https://www.cve.org/CVERecord?id={v}"
    if kind == "atlas" and v.startswith("AML.T"):
        return "https://atlas.mitre.org/techniques/" + ".".join(v.split(".")[:2])
    if kind == "atlas" and v.startswith("AML.M"):
        return f"https://atlas.mitre.org/mitigations/{v}"
    if kind == "atlas" and v.startswith("AML.CS"):
        return f"https://atlas.mitre.org/studies/{v}"
    return None


def references_markdown(rule: Rule) -> list[str]:
    lines = []
    refs = rule.references
    for key, label in _REF_LABELS:
        values = refs.get(key) or []
        if values:
            rendered = []
            for v in values:
                url = _ref_url(key, v)
                rendered.append(f"[{v}]({url})" if url else str(v))
            lines.append(f"- {label}: {', '.join(rendered)}")
    for url in refs.get("urls") or []:
        lines.append(f"- <{url}>")
    return lines


def render_rule_markdown(rule: Rule) -> str:
    d = rule.docs
    lang = (
        "yaml"
        if rule.target in ("k8s-object", "container", "service-port", "image", "env")
        else _LANG.get(rule.target, "text")
    )
    lang = d.get("language", lang)
    out = [
        f"# {rule.id}: {rule.name}",
        "",
        f"**{rule.title}**",
        "",
        f"Category: `{rule.category}` · Severity: `{rule.severity.label}` · "
        f"Applies to: `{rule.target}` facts",
        "",
    ]
    if not rule.enabled:
        out += ["This rule is disabled by default; enable it with `--select " + rule.id + "`.", ""]
    sections = (("What it does", "what"), ("Why is this bad?", "why"))
    for title, key in sections:
        if d.get(key):
            out += [f"## {title}", "", d[key].strip(), ""]
    if d.get("example"):
        out += ["## Example", "", f"```{lang}", d["example"].rstrip(), "```", ""]
    if d.get("use_instead"):
        out += ["## Use instead", "", f"```{lang}", d["use_instead"].rstrip(), "```", ""]
    if rule.fix is not None:
        out += ["## Fix", "", *_fix_markdown(rule), ""]
    if d.get("notes"):
        out += ["## Notes", "", d["notes"].strip(), ""]
    refs = references_markdown(rule)
    if refs:
        out += ["## References", "", *refs, ""]
    return "\n".join(out).rstrip() + "\n"


def _fix_markdown(rule: Rule) -> list[str]:
    fix = rule.fix
    assert fix is not None
    if fix.operation == "suggest":
        return [f"No automatic fix; suggested: {fix.description}"]
    flag = "`--fix`" if fix.applicability == "safe" else "`--fix --unsafe-fixes` (unsafe fix)"
    return [
        f"Fixable with {flag}: {fix.description}",
        "",
        "See [fixes](../fixes.md) for what is safe and how fixes are applied.",
    ]


def render_rule_text(rule: Rule) -> str:
    """Plain-text help (SARIF ``help.text``)."""
    d = rule.docs
    parts = [d.get("what", "").strip(), d.get("why", "").strip()]
    if d.get("use_instead"):
        parts.append("Use instead:\n" + d["use_instead"].rstrip())
    return "\n\n".join(p for p in parts if p)


def write_rule_docs(rules: list[Rule], directory: str) -> list[str]:
    """Write ``<id>.md`` per rule and an index; returns the file names written."""
    import os

    os.makedirs(directory, exist_ok=True)
    written = []
    for rule in rules:
        name = f"{rule.id}.md"
        with open(os.path.join(directory, name), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(render_rule_markdown(rule))
        written.append(name)
    with open(os.path.join(directory, "README.md"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(render_index(rules))
    written.append("README.md")
    return written


def render_index(rules: list[Rule]) -> str:
    lines = [
        "# Rule reference",
        "",
        "Generated from `rules/` by `python -m mlsec_lint.docs docs/rules`; do not edit by hand.",
        "",
        "| id | name | category | severity | title |",
        "|---|---|---|---|---|",
    ]
    for r in rules:
        lines.append(
            f"| [{r.id}]({r.id}.md) | `{r.name}` | {r.category} | {r.severity.label} | {r.title} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - developer entry point
    import sys

    from mlsec_lint.engine.rules import builtin_rules

    target = sys.argv[1] if len(sys.argv) > 1 else "docs/rules"
    print("\n".join(write_rule_docs(list(builtin_rules()), target)))
