"""The HTML report in a real browser: headless Chromium loads it without console errors
and paints the chart. Skipped where Chromium is not installed (.ci/run installs it)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from mlsec_lint.api import ScanOptions, scan
from mlsec_lint.model import Severity
from mlsec_lint.reporters import ReportOptions
from mlsec_lint.reporters.html import COLORS, render

from ..conftest import ROOT

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = prev[i]
            ul = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + left) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + up) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif ftype == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                line[i] = (line[i] + pred) & 0xFF
        rows.append(
            bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3)
        )
        prev = line
    return width, height, rows


def test_report_loads_cleanly_and_shows_the_chart(tmp_path: Path) -> None:
    result = scan(ScanOptions(paths=["."], base=str(ROOT / "examples")))
    report = tmp_path / "report.html"
    report.write_text(render(result, ReportOptions()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            CHROMIUM or "chromium",
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,1100",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.exists(), proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1100)
    # The chart's bars are painted in the severity colours, in the first screen of the report.
    wanted = {bytes.fromhex(COLORS[s].lstrip("#")) for s in (Severity.CRITICAL, Severity.HIGH)}
    painted = sum(1 for row in rows for i in range(0, len(row), 3) if row[i : i + 3] in wanted)
    assert painted > 2000, f"only {painted} chart pixels visible"
