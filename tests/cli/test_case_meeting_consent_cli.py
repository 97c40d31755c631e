"""`pprflow meeting|case|consent …` through the real console script: JSON on stdout, one-line errors
naming the rule on stderr with exit 2 (CAL-2, LVL-1, LVL-4, LVL-5, MEET-2, PATH-8, ESC-1, CONS-1, ROLE-1)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.factories import case_with_parents, deliver_queued, directory
from tests.support.cli import pprflow_cli


class Cli:
    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, *args: str, actor: str = "leder@skole.example") -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env.update({"PPRFLOW_PROFILE": "randers", "PYTHONWARNINGS": "ignore"})
        return pprflow_cli("--db", self.url, "--as", actor, *args, env=env)

    def ok(self, *args: str, actor: str = "leder@skole.example") -> Any:
        result = self.run(*args, actor=actor)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def refused(self, *args: str, rule_id: str) -> str:
        result = self.run(*args)
        assert result.returncode == 2, result.stdout
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.rstrip().endswith(f"({rule_id})"), result.stderr
        return result.stderr


@pytest.fixture
def cli(engine: Engine, sqlite_url: str) -> Cli:
    directory(engine)  # PRIV-4: the people acting are known staff
    return Cli(sqlite_url)


@pytest.fixture
def case_id(engine: Engine) -> int:
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        session.commit()
        return case.id or 0


def test_meeting_commands_CAL_2_LVL_4_MEET_2(cli: Cli, case_id: int, tmp_path: Path) -> None:
    cli.refused("case", "escalate", str(case_id), "--sphere", "institution", "--to", "4", "--today", "2026-11-20",
                rule_id="LVL-1")
    up = cli.ok("case", "escalate", str(case_id), "--sphere", "institution", "--to", "3", "--today", "2026-11-20")
    assert up["levels"] == {"institution": 3, "family": 1} and any("gult" in p for p in up["paperwork"])
    # Issue 16: a meeting parents cannot find is refused at the input, not discovered in the agenda.
    cli.refused("meeting", "schedule", "--case", str(case_id), "--kind", "network", "--level", "3",
                "--date", "2026-12-10", "--today", "2026-11-23", rule_id="MEET-1")
    address = ("--location", "Skovbakkeskolen, mødelokale 2", "--address", "Skovbakkevej 1, 7100 Vejle",
               "--leader-phone", "+45 75 00 00 00")
    cli.refused("meeting", "schedule", "--case", str(case_id), "--kind", "network", "--level", "3", *address,
                "--date", "2026-11-25", "--today", "2026-11-23", rule_id="CAL-2")
    planned = cli.ok("meeting", "schedule", "--case", str(case_id), "--kind", "network", "--level", "3", *address,
                     "--date", "2026-12-10", "--time", "14:30", "--end", "16:00", "--today", "2026-11-23")
    assert planned["agenda_deadline"] == "2026-12-03"
    cli.refused("meeting", "schedule", "--case", str(case_id), "--kind", "network", "--level", "3", *address,
                "--date", "2027-01-14", "--today", "2026-11-23", rule_id="LVL-4")
    sent = cli.ok("meeting", "send-agenda", str(planned["meeting_id"]), "--today", "2026-11-24")
    assert len(sent["messages"]) == 2
    minutes = tmp_path / "minutes.json"
    minutes.write_text(json.dumps({"actions": [{"text": "Fast voksen", "responsible": ["a@x.example",
                                                                                      "b@x.example"]}]}))
    cli.refused("meeting", "minutes", str(planned["meeting_id"]), "--file", str(minutes), "--today", "2026-12-10",
                rule_id="MEET-2")
    minutes.write_text(json.dumps({"summary": "Godt møde", "actions": [
        {"text": "Fast voksen", "responsible": "laerer@skole.example"}]}))
    recorded = cli.ok("meeting", "minutes", str(planned["meeting_id"]), "--file", str(minutes),
                      "--today", "2026-12-10")
    assert len(recorded["actions"]) == 1


def test_consent_partner_abuse_handover_and_show_PATH_8_CONS_1_ESC_1_ROLE_1(cli: Cli, case_id: int,
                                                                           tmp_path: Path, engine: Engine) -> None:
    cli.refused("case", "add-partner", str(case_id), "--name", "Hanne", "--email", "hs@sund.example",
                "--role", "health_visitor", rule_id="PATH-8")
    consent_file = tmp_path / "consent.json"
    consent_file.write_text(json.dumps({"given_by": ["Mor Hansen"], "date": "2026-11-20"}))
    result = cli.run("consent", "give", str(case_id), "--file", str(consent_file))
    assert result.returncode == 2 and "information" in result.stderr, "LAW-3: every part is required"
    consent_file.write_text(json.dumps({"given_by": ["Mor Hansen"], "date": "2026-11-20", "information": "Trivsel",
                                        "recipients": ["Sundhedsplejen"], "purpose": "Netværksmøder"}))
    consent = cli.ok("consent", "give", str(case_id), "--file", str(consent_file), "--today", "2026-11-24")
    partner = cli.ok("case", "add-partner", str(case_id), "--name", "Hanne", "--email", "hs@sund.example",
                     "--role", "health_visitor", "--consent", str(consent["consent_id"]))
    assert partner["consent_id"] == consent["consent_id"]
    withdrawn = cli.ok("consent", "withdraw", str(case_id))
    assert withdrawn["withdrawn"] == [consent["consent_id"]]
    reported = cli.ok("case", "report-abuse", str(case_id), "--today", "2026-11-24", actor="laerer@skole.example")
    assert reported["sent_to"] == "underretning@randers.dk"
    cli.refused("case", "handover", str(case_id), "--to", "a@skole.example,b@skole.example", rule_id="ROLE-1")
    handed = cli.ok("case", "handover", str(case_id), "--to", "laerer@skole.example", "--today", "2026-11-25")
    assert handed["coordinator"] == "laerer@skole.example" and handed["parents_informed"] is False
    shown = cli.ok("case", "show", str(case_id))
    assert shown["confidential_from_parents"] is True and shown["coordinator"] == "laerer@skole.example"
    assert shown["parties"]["parents"] == 2
    messages = json.loads(cli.run("outbox", "list", "--json").stdout)
    assert not any(m["to"][0].endswith("@hjem.example") for m in messages), "ESC-1"
    refusal = cli.refused("case", "acknowledge", str(case_id), "--today", "2026-11-26", rule_id="LAW-2")
    assert "IKKE sendt" in refusal, "LAW-2: what was not sent cannot be acknowledged"
    deliver_queued(engine)
    acknowledged = cli.ok("case", "acknowledge", str(case_id), "--today", "2026-11-26")
    assert acknowledged["acknowledged"] == [reported["notification_id"]]


def test_level_5_and_review_commands_LVL_5_CAL_6(cli: Cli, case_id: int) -> None:
    cli.ok("case", "escalate", str(case_id), "--sphere", "family", "--to", "4", "--reason", "Akut",
           "--today", "2026-08-31")
    cli.refused("case", "escalate", str(case_id), "--sphere", "family", "--to", "5", "--today", "2026-09-01",
                rule_id="LVL-5")
    five = cli.ok("case", "escalate", str(case_id), "--sphere", "family", "--to", "5", "--today", "2026-09-01",
                  "--outposted-social-worker", "birgitte@ppr.example")
    assert five["notifications_address"] == "underretning@randers.dk"
    cli.refused("case", "review", str(case_id), "--date", "2026-10-01", "--today", "2026-10-01", rule_id="CAL-6")
    cli.ok("case", "deescalate", str(case_id), "--sphere", "family", "--to", "4", "--today", "2026-10-01")
    review = cli.ok("case", "review", str(case_id), "--date", "2026-10-01", "--today", "2026-10-02")
    assert review["next_review_due"] == "2027-04-01"
    cli.ok("case", "start-investigation", str(case_id), "--aware-on", "2026-10-01", "--today", "2026-10-02")
