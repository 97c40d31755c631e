"""`pprflow referral|district|kv|sweep` through the real console script: JSON on stdout, one-line
errors naming the rule on stderr with exit 2, nothing stored on a refusal (PATH-1 … PATH-5, CAL-3, CAL-5)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from pprflow.models.tables import Case, OutboxMessage
from tests import referral_data as rd
from tests.support.cli import pprflow_cli


@pytest.fixture
def cli(engine, sqlite_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `pprflow --db <this test's database> ...`; no Prefect server (the direct path)."""
    from tests.factories import directory

    directory(engine)  # PRIV-4: the people acting are known staff
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PPRFLOW_PROFILE="vejle", PPRFLOW_HOME=str(tmp_path), PYTHONWARNINGS="ignore")

    def run(*args: str, stdin: str | None = None, actor: str = "admin@ppr.example") -> subprocess.CompletedProcess[str]:
        return pprflow_cli("--db", sqlite_url, "--as", actor, *args, input=stdin, env=env)

    return run


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(result: subprocess.CompletedProcess[str], rule_id: str) -> str:
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    line = result.stderr
    assert line.count("\n") == 1 and line.startswith("error: ") and line.rstrip().endswith(f"({rule_id})"), line
    return line


def count(engine, table) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_concern_to_assignment_through_the_cli_PATH_1_PATH_4_CAL_5(cli, engine) -> None:
    schedule = ok(cli("district", "schedule", "--district", "Nord", "--from", "2026-11-23", "--count", "2",
                      "--today", "2026-11-23"))
    assert [m["date"] for m in schedule["meetings"]] == ["2026-11-26", "2026-12-10"]
    submitted = ok(cli("referral", "submit", str(rd.EXAMPLES / "ppr_individual.json"), "--today", "2026-11-23",
                       actor="sofie.mikkelsen@skovbakke.example"))
    assert submitted["status"] == "open" and isinstance(submitted["case_id"], int)
    assert submitted["district_meeting"] == "2026-11-26"
    from_stdin = ok(cli("referral", "submit", "-", "--today", "2026-11-23",
                        stdin=json.dumps(rd.data("ppr_learning_environment"))))
    assert from_stdin["case_id"] != submitted["case_id"]
    report = ok(cli("sweep", "--today", "2026-11-25"))
    assert report["handled"] == {"district_case_list": 1} and report["queued"] == 1
    assert ok(cli("sweep", "--today", "2026-11-25"))["queued"] == 0
    assigned = ok(cli("district", "assign", str(submitted["case_id"]), "--to", "karin@ppr.example",
                      "--name", "Karin Ørum", "--today", "2026-11-26"))
    assert assigned["startup_meeting_due"] == "2026-12-10"
    listed = ok(cli("district", "list", "--district", "Nord"))
    assert listed[0]["assigned"] == {str(submitted["case_id"]): "karin@ppr.example"}
    assert ok(cli("sweep", "--today", "2026-12-10"))["handled"]["startup_meeting_reminder"] == 1


@pytest.mark.parametrize(("name", "rule_id"), [
    ("ppr_without_action_plan.json", "PATH-1"),
    ("ppv_from_teacher.json", "PATH-2"),
    ("individual_without_consent.json", "PATH-4"),
    ("intervention_team_without_local_lead.json", "PATH-5"),
], ids=["PATH_1", "PATH_2", "PATH_4", "PATH_5"])
def test_a_refused_referral_is_one_line_exit_2_and_stores_nothing(cli, engine, name: str, rule_id: str) -> None:
    refused(cli("referral", "submit", str(rd.EXAMPLES / "refused" / name), "--today", "2026-11-23"), rule_id)
    assert count(engine, Case) == 0 and count(engine, OutboxMessage) == 0


def test_a_malformed_referral_is_one_line_naming_the_field(cli) -> None:
    data = rd.data()
    data["action_plan"]["goal"] = ""
    line = refused(cli("referral", "submit", "-", stdin=json.dumps(data)), "PLAN-1")
    assert "referral: action_plan.goal: must not be empty" in line
    typo = cli("referral", "submit", "-", stdin=json.dumps({**rd.data(), "suspected_abuse ": True}))
    assert typo.returncode == 2 and typo.stderr.startswith("error: referral: suspected_abuse : unknown field")
    missing = cli("referral", "submit", "/nonexistent/referral.json")
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_kv_through_the_cli_CAL_3_CAL_4_KV_1(cli) -> None:
    scheduled = ok(cli("kv", "schedule", "--institution", "Skovbakkeskolen", "--from", "2026-12-01", "--count", "2",
                       "--leader", "lp@skovbakke.example", "--kind", "school", "--district", "Nord",
                       "--time", "14:00"))
    assert [s["date"] for s in scheduled["sessions"]] == ["2026-12-01", "2026-12-15"]
    assert ok(cli("kv", "submit-topic", "--institution", "Skovbakkeskolen", "--session", "2026-12-01",
                  "--text", "Uro i overgangene", "--today", "2026-11-25"))["topics"] == 1
    line = refused(cli("kv", "submit-topic", "--institution", "Skovbakkeskolen", "--session", "2026-12-01",
                       "--text", "For sent", "--today", "2026-11-27"), "CAL-3")
    assert "2026-12-15" in line
    listed = ok(cli("kv", "list", "--institution", "Skovbakkeskolen"))
    assert [s["topics"] for s in listed["sessions"]] == [1, 0]
    assert "Uro" not in json.dumps(listed), "KV-1: the list shows counts, not topic text"
    assert ok(cli("sweep", "--today", "2026-11-27"))["handled"] == {"kv_notice_reminder": 1, "kv_topic_list": 1}
