"""Per-run budgets: a bounded report, and notices that say what was cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsec_lint import budget
from mlsec_lint.api import ScanOptions, scan


def test_findings_past_the_budget_are_announced_most_severe_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "MAX_FINDINGS_PER_FILE", 5)
    monkeypatch.setattr(budget, "MAX_FINDINGS", 8)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "requirements.txt").write_text("torch\n" * 20, encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "requirements.txt").write_text("torch\nray\nmlflow\nvllm\n")
    result = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path))).result
    by_file: dict[str, int] = {}
    for f in result.findings:
        by_file[f.path] = by_file.get(f.path, 0) + 1
    assert len(result.findings) <= 8 and max(by_file.values()) <= 5
    assert by_file["a/requirements.txt"] == 5
    cut = {n.path: n.message for n in result.notices if n.code == "findings-budget"}
    assert cut["a/requirements.txt"].startswith("15 more findings not reported")
    # the run's budget: one notice for every file it cut, naming them
    assert "in 1 file not reported: the run reports at most 8" in cut["b/requirements.txt"]


def test_the_runs_budget_is_one_notice_not_one_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "MAX_FINDINGS_PER_FILE", 3)
    monkeypatch.setattr(budget, "MAX_FINDINGS", 3)
    for i in range(6):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "requirements.txt").write_text("torch\nray\n")
    result = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path))).result
    cut = [n for n in result.notices if n.code == "findings-budget"]
    assert len(result.findings) == 3 and len(cut) == 1
    assert cut[0].message.startswith("9 more findings in 5 files not reported")
    assert "and 2 more)" in cut[0].message


def test_reported_findings_keep_their_fingerprints_when_the_budget_cuts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without a baseline, fingerprints are computed only for what is reported
    (tmp_path / "requirements.txt").write_text("torch\nray\nmlflow\nvllm\n")
    (tmp_path / "Dockerfile").write_text("FROM python\nRUN pip install torch\n")
    whole = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path))).result
    monkeypatch.setattr(budget, "MAX_FINDINGS_PER_FILE", 2)
    monkeypatch.setattr(budget, "MAX_FINDINGS", 3)
    cut = scan(ScanOptions(paths=[str(tmp_path)], base=str(tmp_path))).result
    assert len(whole.findings) > len(cut.findings) == 3
    expected = {(f.rule_id, f.path, f.span): f.fingerprint for f in whole.findings}
    assert all(f.fingerprint for f in whole.findings)
    for f in cut.findings:
        assert f.fingerprint == expected[(f.rule_id, f.path, f.span)]


def test_messages_are_bounded() -> None:
    from mlsec_lint.model import Finding, Severity, Span

    f = Finding("X-1", "x", "t", "tls", Severity.LOW, "p", Span.point(1), "m" * 10_000, "")
    kept, notices = budget.apply([f])
    assert len(kept[0].message) == budget.MAX_MESSAGE_CHARS and notices == []


def test_a_long_message_is_masked_before_it_is_cut() -> None:
    from mlsec_lint.model import Finding, Severity, Span

    token = "hf_" + "Q" * 34
    message = "x" * (budget.MAX_MESSAGE_CHARS - 10) + " " + token
    f = Finding("X-1", "x", "t", "tls", Severity.LOW, "p", Span.point(1), message, "")
    budget.apply([f])
    assert len(f.message) == budget.MAX_MESSAGE_CHARS
    assert "Q" * 5 not in f.message
