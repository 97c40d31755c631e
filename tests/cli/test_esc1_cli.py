"""ESC-1/ESC-2 through the real console script: `case report-abuse` without a case, refusals that say
whether the notification was sent, `outbox cancel`/`case close` refused, addresses parsed at the door,
and `pprflow serve` refusing a real transport while a mailbox is a placeholder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import OutboxMessage
from tests import referral_data as rd
from tests.factories import directory
from tests.support.cli import pprflow_cli

PPRFLOW = Path(sys.executable).parent / "pprflow"


def run(url: str, *args: str, actor: str = "laerer@skole.example", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    environ.update({"PPRFLOW_PROFILE": "randers", "PYTHONWARNINGS": "ignore", **env})
    return pprflow_cli("--db", url, "--as", actor, *args, env=environ)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_report_abuse_without_a_case_then_nothing_cancels_it_ESC_2(engine: Engine, sqlite_url: str) -> None:
    directory(engine)  # PRIV-4: the people who act are in the staff directory
    sent = ok(run(sqlite_url, "case", "report-abuse", "--reporter-name", "Sofie Lærer", "--reporter-role", "teacher",
                  "--institution", "Skovbakkeskolen", "--child-name", "Emil Jensen", "--child-group", "3.B",
                  "--child-birth-year", "2016", "--observation", "Blå mærker på armen.", "--today", "2026-11-24"))
    assert sent["notification_sent"] is True and sent["sent_to"] == "underretning@randers.dk"
    with Session(engine) as session:
        [message] = session.exec(select(OutboxMessage)).all()
    line = refused(run(sqlite_url, "outbox", "cancel", str(message.id), actor="admin@ppr.example"))
    assert "kan ikke annulleres" in line and "underretningen er IKKE sendt endnu" in line and "(ESC-2)" in line
    with Session(engine) as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None and row.status == "pending"


def test_a_report_missing_what_was_observed_says_it_was_not_sent_ESC_2(engine: Engine, sqlite_url: str) -> None:
    line = refused(run(sqlite_url, "case", "report-abuse", "--reporter-name", "Sofie", "--reporter-role", "teacher",
                       "--institution", "Skovbakkeskolen", "--child-name", "Emil"))
    assert "underretningen er IKKE sendt" in line and "observation" in line


def test_a_defective_referral_with_suspected_abuse_says_the_notification_was_sent_ESC_2(
        engine: Engine, sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(rd.data(suspected_abuse=True, action_plan=None)), encoding="utf-8")
    line = refused(run(sqlite_url, "referral", "submit", str(path), "--today", "2026-11-24"))
    assert line.startswith("error: underretningen ER sendt til underretning@randers.dk"), line
    assert "henvendelsen er ikke modtaget" in line


def test_case_close_is_refused_while_the_notification_waits_ESC_2(engine: Engine, sqlite_url: str,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "referral.json"
    path.write_text(json.dumps(rd.data(suspected_abuse=True)), encoding="utf-8")
    directory(engine)
    case_id = ok(run(sqlite_url, "referral", "submit", str(path), "--today", "2026-11-24"))["case_id"]
    line = refused(run(sqlite_url, "case", "close", str(case_id), "--reason", "Afsluttet", actor="admin@ppr.example"))
    assert "kan ikke lukkes" in line and "underretningen" in line and line.rstrip().endswith("(ESC-2)")


@pytest.mark.parametrize("typed", ["Lene Leder <lene@skole.example>", "<lene@skole.example>", "lene @skole.example"])
def test_an_address_option_in_the_wrong_form_is_one_clear_line_ESC_1(engine: Engine, sqlite_url: str,
                                                                     typed: str) -> None:
    line = refused(run(sqlite_url, "case", "handover", "1", "--to", typed))
    assert line.startswith("error: --to: ") and "e-mailadresse" in line
    line = refused(run(sqlite_url, "outbox", "list", actor=typed))
    assert line.startswith("error: --as: ")


def test_serve_refuses_a_real_transport_while_a_mailbox_is_a_placeholder_ESC_2(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    environ.update({"PPRFLOW_HOME": str(tmp_path), "PPRFLOW_PROFILE": "vejle", "PPRFLOW_TRANSPORT": "smtp"})
    result = subprocess.run([str(PPRFLOW), "serve", "--port", "4299"], capture_output=True, text=True, env=environ,
                            timeout=60, check=False)
    line = refused(result)
    assert "mailboxes.notifications = modtagelsen@vejle.invalid" in line and "smtp" in line


def test_report_abuse_while_the_prefect_server_is_down_is_still_received_ESC_1(engine: Engine,
                                                                                sqlite_url: str) -> None:
    """ESC-1: an unreachable Prefect server (dashboard) must not stop `case report-abuse`: the flow run never
    started, so the same service function runs directly and the notification is queued."""
    directory(engine)
    sent = ok(run(sqlite_url, "case", "report-abuse", "--reporter-name", "Sofie Lærer", "--reporter-role", "teacher",
                  "--institution", "Skovbakkeskolen", "--child-name", "Emil Jensen", "--observation",
                  "Blå mærker på armen.", "--today", "2026-11-24", PREFECT_API_URL="http://127.0.0.1:9/api"))
    assert sent["notification_sent"] is True
    with Session(engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 1
