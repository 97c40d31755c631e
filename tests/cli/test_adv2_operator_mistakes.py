"""Adversary (adv2): ordinary operator mistakes are one line and exit code 2, never a traceback (issue 13)."""

from __future__ import annotations

from tests.support.cli import pprflow_cli


def test_a_review_date_past_the_calendars_end_is_one_line_CAL_6() -> None:
    result = pprflow_cli("calendar", "review-due", "9999-12-31")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_name_with_a_nul_character_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found by tests/faults/test_bad_input.py: `referral submit '\\x00…'` ended in 'embedded null byte'."""
    result = pprflow_cli("--db", f"sqlite:///{tmp_path / 'p.db'}", "--as", "leder@skole.example",
                         "referral", "submit", "\x00\x1b[31m")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
