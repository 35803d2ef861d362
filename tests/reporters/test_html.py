from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.model import Suppression
from mlsec_lint.reporters import ReportOptions
from mlsec_lint.reporters.html import render

from ..conftest import ROOT

HOSTILE_NAME = 'x"><img src=x onerror=alert(1)>&amp;.py'
HOSTILE_LINE = "</pre><script>alert('pwned')</script>"


def _render(base: Path) -> tuple[str, object]:
    result = scan(ScanOptions(paths=["."], base=str(base)))
    return render(result, ReportOptions()), result


def _tree(html: str) -> ET.Element:
    return ET.fromstring(html.split("\n", 1)[1])  # after the doctype line


def test_report_is_well_formed_and_contains_every_finding() -> None:
    html, result = _render(ROOT / "examples")
    root = _tree(html)
    text = "".join(root.itertext())
    assert len(result.result.findings) >= 10  # type: ignore[attr-defined]
    for f in result.result.findings:  # type: ignore[attr-defined]
        assert f.message in text and f.rule_id in text and f.path in text
    articles = root.findall(".//{http://www.w3.org/1999/xhtml}article")
    assert len(articles) == len(result.result.findings)  # type: ignore[attr-defined]
    svg = root.find(".//{http://www.w3.org/2000/svg}svg")
    assert svg is not None and len(svg.findall("{http://www.w3.org/2000/svg}rect")) >= 3


def test_report_is_self_contained() -> None:
    html, _ = _render(ROOT / "examples")
    lowered = html.lower()
    for forbidden in ("<script", "<link", "<img", "@import", "url(", "<iframe", "src="):
        assert forbidden not in lowered
    assert "content-security-policy" in lowered and "default-src 'none'" in lowered
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert all(h.startswith(("#", "https://", "http://")) for h in hrefs)


def test_hostile_names_and_lines_are_escaped(tmp_path: Path) -> None:
    (tmp_path / HOSTILE_NAME).write_text(
        f"import torch\n# {HOSTILE_LINE}\nm = torch.load('m.pt')\n", encoding="utf-8"
    )
    html, result = _render(tmp_path)
    assert result.result.findings  # type: ignore[attr-defined]
    root = _tree(html)  # still well-formed
    assert "<script" not in html and "<img" not in html
    text = "".join(root.itertext())
    assert HOSTILE_NAME in text and HOSTILE_LINE in text
    for element in root.iter():
        assert not element.tag.endswith(("script", "img"))
        assert not any(k.startswith("on") for k in element.attrib)


def test_suppressed_findings_are_marked(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch\nnumpy\n", encoding="utf-8")
    result = scan(ScanOptions(paths=["."], base=str(tmp_path)))
    moved = result.result.findings.pop()
    moved.suppression = Suppression("inline", "accepted until the next release", 2)
    result.result.suppressed.append(moved)
    html = render(result, ReportOptions())
    assert "accepted until the next release" in html and 'class="finding suppressed"' in html
    assert "1 suppressed" in html


def test_clean_scan_and_determinism(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.6.0\n", encoding="utf-8")
    first, _ = _render(tmp_path)
    second, _ = _render(tmp_path)
    assert first == second and "No findings." in first
    _tree(first)
