"""PRIV-1 … PRIV-3 through the real console script: a named user reads, only the case's staff and their
leaders read it, every read and search is in `pprflow audit show`, CPR numbers are refused (PRIV-2),
`pprflow case close` and `pprflow retention purge`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.tables import AuditEvent, OutboxMessage
from tests import referral_data as rd
from tests.factories import TEST_STAFF, directory
from tests.support.cli import pprflow_cli

SUBMITTER = "sofie@skovbakke.example"
OUTSIDER = "kollega@skovbakke.example"


class Cli:
    def __init__(self, url: str, home: Path) -> None:
        self.url, self.home = url, home

    def run(self, *args: str, actor: str | None = SUBMITTER, stdin: str | None = None
            ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API") and k != "PPRFLOW_USER"}
        env.update(PPRFLOW_PROFILE="vejle", PPRFLOW_HOME=str(self.home), PYTHONWARNINGS="ignore")
        who = ["--as", actor] if actor else []
        return pprflow_cli("--db", self.url, *who, *args, input=stdin, env=env)

    def ok(self, *args: str, actor: str | None = SUBMITTER, stdin: str | None = None) -> Any:
        result = self.run(*args, actor=actor, stdin=stdin)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def refused(self, *args: str, rule_id: str, actor: str | None = SUBMITTER) -> str:
        result = self.run(*args, actor=actor)
        assert result.returncode == 2, result.stdout
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.rstrip().endswith(f"({rule_id})"), result.stderr
        assert "Traceback" not in result.stderr
        return result.stderr


@pytest.fixture
def cli(engine: Engine, sqlite_url: str, tmp_path: Path) -> Cli:
    directory(engine, (*TEST_STAFF, (OUTSIDER, "teacher", "Kim Kollega")))  # PRIV-4: known staff
    return Cli(sqlite_url, tmp_path)


def test_reading_a_case_needs_a_named_user_who_is_on_it_and_every_look_is_audited_PRIV_1_PRIV_3(
        cli: Cli, engine: Engine) -> None:
    case_id = cli.ok("referral", "submit", "-", "--today", "2026-11-16", stdin=json.dumps(rd.data()))["case_id"]
    # the bare OS account and a system job are nobody the staff directory knows (PRIV-4)
    cli.refused("case", "show", str(case_id), actor=None, rule_id="PRIV-4")
    cli.refused("case", "show", str(case_id), actor="system:jens", rule_id="PRIV-4")
    denied = cli.refused("case", "show", str(case_id), actor=OUTSIDER, rule_id="PRIV-3")  # a known colleague
    assert f"{OUTSIDER} må ikke læse sag {case_id}" in denied
    cli.refused("case", "show", str(case_id), actor="fremmed@andenkommune.example", rule_id="PRIV-4")
    assert cli.ok("case", "show", str(case_id))["case_id"] == case_id
    cli.refused("outbox", "list", "--case", str(case_id), actor=OUTSIDER, rule_id="PRIV-3")
    listed = cli.ok("outbox", "list", "--json", "--case", str(case_id))
    with Session(engine) as session:
        message_id = session.exec(select(OutboxMessage.id).where(OutboxMessage.case_id == case_id)).first()
    assert listed and message_id
    cli.refused("outbox", "preview", str(message_id), actor=OUTSIDER, rule_id="PRIV-3")
    assert cli.run("outbox", "preview", str(message_id)).returncode == 0
    cli.ok("district", "list", "--district", "Nord")

    trail = cli.ok("audit", "show", "--case", str(case_id), "--json")
    seen = [(r["actor"], r["action"], r["entity"], r["reason"]) for r in trail]
    assert (SUBMITTER, "create", "case", "PATH-1") in seen
    assert (OUTSIDER, "refused", "case", "PRIV-3") in seen
    assert (SUBMITTER, "read", "case", "case show") in seen
    assert (SUBMITTER, "search", "outboxmessage", "outbox list") in seen
    assert (SUBMITTER, "read", "outboxmessage", "outbox preview") in seen
    search = next(r for r in trail if r["action"] == "search")
    assert search["detail"]["terms"] == {"status": None, "case": case_id}, "a search is logged with its terms"
    cli.refused("audit", "show", "--case", str(case_id), actor=OUTSIDER, rule_id="PRIV-3")
    assert "leder" not in cli.run("audit", "show", "--case", str(case_id)).stderr
    with Session(engine) as session:
        district = session.exec(select(AuditEvent).where(AuditEvent.reason == "district list")).one()
        looks = session.exec(select(AuditEvent).where(AuditEvent.entity == "audit")
                             .order_by(col(AuditEvent.id))).all()
    assert district.action == "search" and district.detail["terms"] == {"district": "Nord", "from": None}
    assert len(looks) == 2 and looks[0].actor == SUBMITTER, "audit show is itself audited"


def test_a_cpr_number_in_any_input_is_one_line_naming_PRIV_2(cli: Cli, tmp_path: Path) -> None:
    data = rd.data()
    data["parents"][0]["name"] = "Hanne Berg 120517-1234"
    result = cli.run("referral", "submit", "-", "--today", "2026-11-16", stdin=json.dumps(data))
    assert result.returncode == 2 and result.stderr.startswith("error: referral: parents.0.name: looks like a CPR")
    assert result.stderr.rstrip().endswith("(PRIV-2)") and "120517" not in result.stderr
    case_id = cli.ok("referral", "submit", "-", "--today", "2026-11-16", stdin=json.dumps(rd.data()))["case_id"]
    line = cli.refused("case", "escalate", str(case_id), "--sphere", "family", "--to", "3", "--reason",
                       "Barnet 0101171234 har brug for mere", rule_id="PRIV-2")
    assert "reason" in line
    cli.refused("case", "close", str(case_id), "--reason", "cpr 010117-1234", rule_id="PRIV-2")


def test_close_then_purge_from_the_command_line_PRIV_2(cli: Cli) -> None:
    case_id = cli.ok("referral", "submit", "-", "--today", "2026-11-16", stdin=json.dumps(rd.data()))["case_id"]
    assert cli.ok("case", "close", str(case_id), "--reason", "Forløbet er afsluttet")["status"] == "closed"
    # a job: a named person must be an administrator; the operator without --as runs it as system:retention
    cli.refused("retention", "purge", "--today", "2099-01-01", "--dry-run", rule_id="PRIV-4")
    dry = cli.ok("retention", "purge", "--today", "2099-01-01", "--dry-run", actor=None)
    assert dry["dry_run"] is True and dry["cases"] == 1
    done = cli.ok("retention", "purge", "--today", "2099-01-01", actor=None)
    assert done["cases"] == 1 and done["outbox_messages"] >= 2 and done["audit_rows"] > 0
    gone = cli.run("case", "show", str(case_id))
    assert gone.returncode == 2 and "does not exist" in gone.stderr
