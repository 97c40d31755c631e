"""Adversary (adv2) on `pprflow case report-abuse CASE …`: a teacher who knows the case id and says what she saw
must not be refused for the fields the case already holds (ESC-2: "a report needs only who reports, the
institution, who the child is and what was observed" — with a case, the case says the institution and the
child), and a CPR number in what she saw is blanked, never a refusal (ESC-2 wins over PRIV-2's refusal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import Notification, OutboxMessage
from tests.cli.test_esc1_cli import ok, refused, run
from tests.factories import case_with_parents, directory
from tests.support.refusing_server import refusing_prefect_api


def _case(engine: Engine) -> int:
    directory(engine)
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        session.commit()
        return case.id or 0


def test_report_abuse_on_a_case_with_only_what_was_observed_is_sent_ESC_2(engine: Engine, sqlite_url: str) -> None:
    case_id = _case(engine)
    sent = ok(run(sqlite_url, "case", "report-abuse", str(case_id), "--observation",
                  "Blå mærker på armen; sagde 'det var far'. CPR 010203-1234 stod på sedlen.",
                  "--observed-time", "10:15", "--today", "2026-11-24"))
    assert sent["notification_sent"] is True and sent["case_id"] == case_id
    assert sent["confidential_from_parents"] is True
    with Session(engine) as session:
        [notification] = session.exec(select(Notification)).all()
        [message] = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
    assert notification.institution_name == "Skovbakkeskolen" and notification.child_birth_year == 2017
    assert "Blå mærker" in message.body_text and "010203-1234" not in message.body_text, "PRIV-2 blanks (ESC-2)"
    assert "kl. 10.15" in message.body_text


def test_report_abuse_on_an_unknown_case_says_it_was_not_sent_in_danish_ESC_2(
        engine: Engine, sqlite_url: str) -> None:
    directory(engine)
    line = refused(run(sqlite_url, "case", "report-abuse", "4711", "--today", "2026-11-24"))
    assert "underretningen er IKKE sendt" in line and "4711" in line and "(ESC-2)" in line, line


def test_a_prefect_server_that_refuses_the_run_never_stops_the_report_ESC_2(engine: Engine, sqlite_url: str) -> None:
    """With PREFECT_API_URL set, the report runs as a flow; a server that answers 401 (an API auth string that does
    not match, README's second lock) ended the command in a traceback and nothing was queued."""
    directory(engine)
    with refusing_prefect_api() as api:
        result = run(sqlite_url, "case", "report-abuse", "--reporter-name", "Sofie Lærer", "--reporter-role",
                     "teacher", "--institution", "Skovbakkeskolen", "--child-name", "Emil Jensen", "--observation",
                     "Blå mærker på armen.", "--today", "2026-11-24", PREFECT_API_URL=api)
    sent = ok(result)
    assert sent["notification_sent"] is True and "Traceback" not in result.stderr
    with Session(engine) as session:
        assert len(session.exec(select(Notification)).all()) == 1


def test_report_abuse_from_a_file_that_names_the_case_needs_only_what_was_observed_ESC_2(
        engine: Engine, sqlite_url: str, tmp_path: Any) -> None:
    import json

    case_id = _case(engine)
    path = tmp_path / "underretning.json"
    path.write_text(json.dumps({"case_id": case_id, "reporter": {"email": "laerer@skole.example"},
                                "observation": "Sagde at far slog.", "observed_on": "2026-11-24"}), encoding="utf-8")
    sent = ok(run(sqlite_url, "case", "report-abuse", "--file", str(path), "--today", "2026-11-24"))
    assert sent["notification_sent"] is True and sent["case_id"] == case_id
