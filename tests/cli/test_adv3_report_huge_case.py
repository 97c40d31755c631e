"""Adversary 3 (ESC-2): a full report (who reports, institution, child, what was observed) whose case number is
wrong — here larger than any database stores — is still sent: "an unknown case id is noted and the notification
goes anyway". complete_from_case (adv2) looked the number up and crashed (OverflowError), so nothing was sent."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from tests.cli.test_esc1_cli import run
from tests.factories import directory

REPORT = {"reporter": {"name": "Sofie Lærer", "email": "laerer@skole.example", "role": "teacher"},
          "institution": "Skovbakkeskolen", "child": {"name": "Emil Jensen", "group": "3.B", "birth_year": 2016},
          "observation": "Blå mærker på armen.", "observed_on": "2026-11-24"}


def test_a_full_report_with_a_case_number_too_large_is_sent_ESC_2(engine: Engine, sqlite_url: str,
                                                                   tmp_path: Path) -> None:
    directory(engine)
    path = tmp_path / "report.json"
    path.write_text(json.dumps({**REPORT, "case_id": 99999999999999999999}), encoding="utf-8")
    result = run(sqlite_url, "case", "report-abuse", "--file", str(path), "--today", "2026-11-24")
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    with Session(engine) as session:
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
    assert len(sent) == 1, (result.returncode, result.stdout, result.stderr)


def test_report_abuse_on_a_case_number_too_large_says_in_danish_it_was_not_sent_ESC_2(
        engine: Engine, sqlite_url: str) -> None:
    directory(engine)
    result = run(sqlite_url, "case", "report-abuse", "99999999999999999999", "--today", "2026-11-24")
    assert result.returncode == 2 and "underretningen er IKKE sendt" in result.stderr, result.stderr
