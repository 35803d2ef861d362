"""JUnit XML: one test suite per file with findings, one failing test case per finding.

CI systems that read JUnit (GitLab ``artifacts: reports: junit``, Jenkins, Azure
Pipelines) show each finding as a failed test named after its rule, with the path and
line. Notices at error or warning level (a file that could not be read or parsed) are
test cases with an ``<error>``. A clean scan is one passing test case, so the report is
never empty. Characters that XML 1.0 cannot carry are replaced.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import TYPE_CHECKING, TextIO

from mlsec_lint.reporters import ReportOptions

if TYPE_CHECKING:
    from mlsec_lint.api import Scan

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def build(scan: Scan) -> ET.Element:
    result = scan.result
    root = ET.Element("testsuites", name="mlsec-lint")
    total = failures = errors = 0
    for path, group in groupby(result.findings, key=lambda f: f.path):
        items = list(group)
        rel = _clean(scan.relpath(path) or path)
        suite = ET.SubElement(
            root, "testsuite", name=rel, tests=str(len(items)), failures=str(len(items))
        )
        suite.set("errors", "0")
        for f in items:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{f.rule_id} {f.rule_name}",
                classname=rel,
                file=rel,
                line=str(f.span.line),
            )
            failure = ET.SubElement(
                case, "failure", message=_clean(f.message), type=f.severity.label
            )
            failure.text = _clean(
                f"{rel}:{f.span.line}:{f.span.col}: {f.rule_id} ({f.severity.label}) "
                f"{f.title}\n{f.message}\n{f.source_line.strip()}"
            )
        total += len(items)
        failures += len(items)
    broken = [n for n in result.notices if n.level in ("error", "warning")]
    if broken:
        suite = ET.SubElement(
            root, "testsuite", name="mlsec-lint notices", tests=str(len(broken)), failures="0"
        )
        suite.set("errors", str(len(broken)))
        for n in broken:
            rel = _clean(scan.relpath(n.path) or n.path)
            case = ET.SubElement(
                suite, "testcase", name=f"mlsec-lint {n.code}", classname=rel, file=rel
            )
            if n.line:
                case.set("line", str(n.line))
            err = ET.SubElement(case, "error", message=_clean(n.message), type=n.code)
            err.text = _clean(f"{rel}{f':{n.line}' if n.line else ''}: {n.message}")
        total += len(broken)
        errors += len(broken)
    if total == 0:
        suite = ET.SubElement(root, "testsuite", name="mlsec-lint", tests="1", failures="0")
        suite.set("errors", "0")
        ET.SubElement(suite, "testcase", name="no findings", classname="mlsec-lint")
        total = 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    return root


def report(scan: Scan, out: TextIO, opts: ReportOptions) -> None:
    tree = build(scan)
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(tree, encoding="unicode"))
    out.write("\n")
