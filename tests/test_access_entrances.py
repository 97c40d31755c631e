"""PRIV-3 / PRIV-4 by construction: EVERY CLI command and EVERY flow, as a stranger, as a partner whose
consent was withdrawn, as nobody the directory knows, and as the right person.

The commands are found by walking the typer app and the flows as deployments/catalogue.py discovers
them; each must be classified below, so a new entrance fails this test until someone says what it is.
Stranger, withdrawn partner and unknown actor read and change nothing of the case (every table
compared), and every refusal is audited on the case. The exceptions are written down: reporting
suspected abuse is never blocked by access (ESC-1, LAW-1) and shows nothing of the case; lists are
filtered (the case does not appear); submitting a referral or a KV topic touches no existing case.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from pprflow.models.tables import AuditEvent, CaseParty, Consent, Deadline, Notification, OutboxMessage
from pprflow.models.types import utcnow
from tests import referral_data as rd
from tests.factories import TEST_STAFF, case_with_parents, directory
from tests.support.acting import as_user

COORDINATOR = "leder@skole.example"       # coordinator and the institution's leader: the right person
ADMIN = "admin@ppr.example"
STRANGER = "fremmed@andenkommune.example"  # a known, active staff member who is on no case
WITHDRAWN = "hs@sund.example"              # a partner whose consent was withdrawn (CONS-1)
UNKNOWN = "nobody@andenkommune.example"    # not in the staff directory at all
TODAY = "2026-12-01"
SECRET_BITS = ("Trives ikke i klassen", "mor@hjem.example", "far@hjem.example", "Barn A")
"""What the case holds that no stranger may see: the concern, the parents' addresses, the child."""

# --- what each entrance is ------------------------------------------------------------------------
# CASE: reads or changes the case; stranger/withdrawn/unknown refused (PRIV-3/PRIV-4) and audited.
# LIST: any known member runs it, filtered: the case does not appear for those who may not read it.
# JOB: a system job or an administrator; a person who is neither is refused (PRIV-4).
# ADMIN: administrators only (the directory, district meetings, KV for a new institution).
# OPEN: any known, active staff member (referral, KV topic) — touches no case it may not.
# REPORT: reporting suspected abuse (ESC-1, LAW-1): nothing blocks it, not even the directory — the duty is
#   personal and the reporter is named and audited; the answer shows nothing of the case.
# NO_CASE_DATA: reads no personal data at all (calendar, profile, schema, the main job, the demo).

CLI: dict[str, tuple[str, str, list[str]]] = {
    # command: (kind, right person, arguments)
    "case show": ("CASE", COORDINATOR, ["case", "show", "{case}"]),
    "case escalate": ("CASE", COORDINATOR, ["case", "escalate", "{case}", "--sphere", "institution", "--to", "3",
                                            "--today", TODAY]),
    "case deescalate": ("CASE", COORDINATOR, ["case", "deescalate", "{case}", "--sphere", "institution", "--to", "1",
                                              "--today", TODAY]),
    "case review": ("CASE", COORDINATOR, ["case", "review", "{case}", "--date", "2026-11-30", "--today", TODAY]),
    "case start-investigation": ("CASE", COORDINATOR, ["case", "start-investigation", "{case}", "--aware-on",
                                                       "2026-11-30", "--today", TODAY]),
    "case acknowledge": ("CASE", COORDINATOR, ["case", "acknowledge", "{case}", "--today", TODAY]),
    "case handover": ("CASE", COORDINATOR, ["case", "handover", "{case}", "--to", "laerer@skole.example",
                                            "--today", TODAY]),
    "case close": ("CASE", COORDINATOR, ["case", "close", "{case}", "--reason", "Forløbet er slut"]),
    "case transfer": ("CASE", COORDINATOR, ["case", "transfer", "{case}", "--to-institution", "Engvangskolen",
                                            "--today", TODAY]),
    "case add-partner": ("CASE", COORDINATOR, ["case", "add-partner", "{case}", "--name", "Ulla", "--email",
                                               "{actor_or_partner}", "--role", "ppr_psychologist"]),
    "consent give": ("CASE", COORDINATOR, ["consent", "give", "{case}", "--file", "{consent_file}", "--today", TODAY]),
    "consent withdraw": ("CASE", COORDINATOR, ["consent", "withdraw", "{case}"]),
    "meeting schedule": ("CASE", COORDINATOR, ["meeting", "schedule", "--case", "{case}", "--kind", "development",
                                               "--date", "2026-12-22", "--today", TODAY]),
    "meeting send-agenda": ("CASE", COORDINATOR, ["meeting", "send-agenda", "{meeting}", "--today", TODAY]),
    "meeting minutes": ("CASE", COORDINATOR, ["meeting", "minutes", "{meeting}", "--file", "{minutes_file}",
                                              "--today", "2026-12-17"]),
    "meeting cancel": ("CASE", COORDINATOR, ["meeting", "cancel", "{meeting}", "--reason", "Sygdom"]),
    "district assign": ("CASE", ADMIN, ["district", "assign", "{case}", "--to", "karin@ppr.example",
                                        "--today", TODAY]),
    "audit show": ("CASE", COORDINATOR, ["audit", "show", "--case", "{case}", "--json"]),
    "outbox preview": ("CASE", COORDINATOR, ["outbox", "preview", "{message}"]),
    "outbox cancel": ("CASE", COORDINATOR, ["outbox", "cancel", "{message}", "--reason", "Forkert modtager"]),
    "outbox retry": ("CASE", COORDINATOR, ["outbox", "retry", "{failed_message}"]),
    "outbox list": ("LIST", COORDINATOR, ["outbox", "list", "--json"]),
    "district list": ("LIST", COORDINATOR, ["district", "list"]),
    "kv list": ("LIST", COORDINATOR, ["kv", "list", "--institution", "Skovbakkeskolen"]),
    "sweep": ("JOB", "", ["sweep", "--today", TODAY]),
    "outbox send": ("JOB", "", ["outbox", "send"]),
    "retention purge": ("JOB", "", ["retention", "purge", "--today", TODAY, "--dry-run"]),
    "district schedule": ("ADMIN", ADMIN, ["district", "schedule", "--district", "Syd", "--from", "2026-12-03",
                                           "--count", "2", "--today", TODAY]),
    "kv schedule": ("ADMIN", COORDINATOR, ["kv", "schedule", "--institution", "Skovbakkeskolen", "--from",
                                           "2027-01-05", "--count", "1", "--leader", COORDINATOR]),
    "staff add": ("ADMIN", ADMIN, ["staff", "add", "ny@skole.example", "--name", "Ny Lærer", "--role", "teacher"]),
    "staff import": ("ADMIN", ADMIN, ["staff", "import", "{staff_file}"]),
    "staff list": ("ADMIN", ADMIN, ["staff", "list"]),
    "staff deactivate": ("ADMIN", ADMIN, ["staff", "deactivate", "laerer@skole.example"]),
    "staff set-password": ("ADMIN", ADMIN, ["staff", "set-password", "laerer@skole.example"]),
    "referral submit": ("OPEN", "sofie@skovbakke.example", ["referral", "submit", "{referral_file}",
                                                             "--today", TODAY]),
    "kv submit-topic": ("OPEN", COORDINATOR, ["kv", "submit-topic", "--institution", "Skovbakkeskolen",
                                              "--session", "{kv_date}", "--text", "Uro i overgangene",
                                              "--today", TODAY]),
    "case report-abuse": ("REPORT", COORDINATOR, ["case", "report-abuse", "{case}", "--today", TODAY]),
}
# `web` serves pages that do show case data: each of its routes is an entrance of its own, enumerated and
# held to the same policy by tests/web/test_routes.py.
NO_CASE_DATA = {"serve", "web", "demo", "db upgrade", "profile show", "profile check", "calendar agenda-deadline",
                "calendar kv-deadline", "calendar review-due", "calendar add-working-days", "calendar is-working-day",
                "calendar district-meetings", "calendar kv-sessions"}

FLOWS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # flow: (kind, right person, parameters)
    "pprflow.flows.abuse:report_suspected_abuse": ("REPORT", COORDINATOR, {"case_id": "{case}"}),
    "pprflow.flows.abuse:report_notification": ("REPORT", COORDINATOR, {"data": "{report}"}),
    "pprflow.flows.abuse:acknowledge_notification": ("CASE", COORDINATOR, {"case_id": "{case}"}),
    "pprflow.flows.consent:record_consent": ("CASE", COORDINATOR, {"case_id": "{case}", "data": "{consent}"}),
    "pprflow.flows.consent:withdraw_case_consent": ("CASE", COORDINATOR, {"case_id": "{case}"}),
    "pprflow.flows.handover:hand_over_case": ("CASE", COORDINATOR, {"case_id": "{case}",
                                                                   "to_email": "laerer@skole.example"}),
    "pprflow.flows.handover:transfer_case_flow": ("CASE", COORDINATOR, {"case_id": "{case}",
                                                                       "to_institution": "Engvangskolen"}),
    "pprflow.flows.intake:referral_intake": ("OPEN", "sofie@skovbakke.example", {"referral": "{referral}"}),
    # issue 18: the web referral with a file, stored behind the login; only its submitter runs it
    "pprflow.flows.intake:referral_intake_stored": ("CASE", "sofie@skovbakke.example",
                                                    {"upload_id": "{web_referral}"}),
    "pprflow.flows.kv:schedule_kv": ("ADMIN", COORDINATOR, {"institution": "Skovbakkeskolen",
                                                            "start": dt.date(2027, 1, 5), "count": 1,
                                                            "leader_email": COORDINATOR}),
    "pprflow.flows.kv:kv_submit_topic": ("OPEN", COORDINATOR, {"topic": "{topic}"}),
    "pprflow.flows.kv:kv_cycle": ("JOB", "", {}),
    "pprflow.flows.levels:change_case_level": ("CASE", COORDINATOR, {"data": "{level}", "direction": "up"}),
    "pprflow.flows.levels:investigation_deadline": ("CASE", COORDINATOR, {"case_id": "{case}",
                                                                          "aware_on": dt.date(2026, 11, 30)}),
    "pprflow.flows.levels:review_case": ("CASE", COORDINATOR, {"case_id": "{case}",
                                                               "review_date": dt.date(2026, 11, 30)}),
    "pprflow.flows.meetings:add_case_partner": ("CASE", COORDINATOR, {"data": "{partner}"}),
    "pprflow.flows.meetings:meeting_minutes": ("CASE", COORDINATOR, {"meeting_id": "{meeting}",
                                                                     "data": "{minutes}"}),
    "pprflow.flows.meetings:plan_meeting": ("CASE", COORDINATOR, {"data": "{meeting_input}"}),
    "pprflow.flows.meetings:send_meeting_agenda": ("CASE", COORDINATOR, {"meeting_id": "{meeting}"}),
    "pprflow.flows.ppr:assign_district_case": ("CASE", ADMIN, {"case_id": "{case}", "to_email": "karin@ppr.example"}),
    "pprflow.flows.ppr:schedule_district": ("ADMIN", ADMIN, {"district": "Syd", "start": dt.date(2026, 12, 3),
                                                             "count": 2}),
    "pprflow.flows.ppr:prepare_district_meetings": ("JOB", "", {}),
    "pprflow.flows.delivery:deliver_outbox": ("JOB", "", {}),
    "pprflow.flows.delivery:deliver_urgent_outbox": ("JOB", "", {"watch_seconds": 0}),
    "pprflow.flows.retention:retention_purge": ("JOB", "", {"dry_run": True}),
    "pprflow.flows.sweep:daily_sweep": ("JOB", "", {}),
    "pprflow.deployments.scheduled:morning_sweep": ("JOB", "", {}),
}
TODAY_FLOW = dt.date(2026, 12, 1)
FLOW_TODAY_OVERRIDES = {"pprflow.flows.meetings:meeting_minutes": dt.date(2026, 12, 17)}


def cli_commands() -> set[str]:
    import typer.main

    from pprflow.cli import app

    def walk(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*prefix, name))
        else:
            yield " ".join(prefix)

    return set(walk(typer.main.get_command(app)))


def all_flows() -> dict[str, Any]:
    from pprflow.deployments.catalogue import discover_flows

    found, broken = discover_flows()
    assert not broken, broken
    return found


def test_every_cli_command_and_every_flow_is_classified_PRIV_4() -> None:
    """A new command or flow fails here until it is classified (and so run below as everyone)."""
    assert cli_commands() == set(CLI) | NO_CASE_DATA
    assert set(all_flows()) == set(FLOWS)


# --- the world: one case, a meeting, messages, a district meeting, a KV session ------------------

@dataclasses.dataclass
class World:
    template: Path
    ids: dict[str, Any]


def _build_world(engine: Engine, tmp: Path) -> dict[str, Any]:
    from pprflow.models.rules_meetings import MeetingInput
    from pprflow.profiles import load_profile
    from pprflow.tasks.context import Ctx
    from pprflow.tasks.kv import schedule_kv_sessions
    from pprflow.tasks.meetings import schedule_meeting
    from pprflow.tasks.ppr import schedule_district_meetings

    directory(engine, (*TEST_STAFF, (STRANGER, "teacher", "Frede Fremmed"), (WITHDRAWN, "health_visitor", "Hanne")))
    with Session(engine) as session:
        case = case_with_parents(session, level=2)
        consent = Consent(case_id=case.id, given_by=["Mor Hansen"], given_on=dt.date(2026, 11, 2),
                          information="Trivsel", recipients=["Sundhedsplejen"], purpose="Netværksmøde",
                          withdrawn_at=utcnow())
        session.add(consent)
        session.flush()
        session.add(CaseParty(case_id=case.id or 0, name="Hanne", email=WITHDRAWN, role="health_visitor",
                              consent_id=consent.id))
        session.add(Notification(case_id=case.id or 0, reported_by_email="laerer@skole.example",
                                 sent_to="underretning@vejle.example", acknowledgement_due=dt.date(2026, 12, 9)))
        session.commit()
        case_id = case.id or 0
    profile = load_profile("vejle")
    leader = Ctx(engine=engine, profile=profile, actor=COORDINATOR)
    admin = dataclasses.replace(leader, actor=ADMIN)
    meeting_id = schedule_meeting(ctx=leader, data=MeetingInput(case_id=case_id, kind="development",
                                                                date=dt.date(2026, 12, 17), **PLACE),
                                  today=dt.date(2026, 12, 1))["meeting_id"]
    district = schedule_district_meetings(admin, district="Nord", start=dt.date(2026, 12, 3), count=1,
                                          today=dt.date(2026, 12, 1))["meetings"][0]["id"]
    kv = schedule_kv_sessions(admin, institution="Skovbakkeskolen", start=dt.date(2026, 12, 15), count=1,
                              leader_email=COORDINATOR)["sessions"][0]["date"]
    with Session(engine) as session:
        session.add(Deadline(kind="district_assignment", rule_id="PATH-4", subject_key=f"case:{case_id}",
                             case_id=case_id, meeting_id=district, due_on=dt.date(2026, 12, 3),
                             remind_on=dt.date(2026, 12, 3)))
        common = {"sender": "ppr@vejle.example", "subject": "Sag", "body_text": "Trives ikke i klassen",
                  "body_html": "<p>Trives ikke i klassen</p>", "send_after": utcnow(), "template": "receipt"}
        rows = [OutboxMessage(idempotency_key=f"t|case:{case_id}|a|mor@hjem.example", case_id=case_id,
                              to="mor@hjem.example", **common),
                OutboxMessage(idempotency_key=f"t|case:{case_id}|b|far@hjem.example", case_id=case_id,
                              to="far@hjem.example", status="failed", **common),
                OutboxMessage(idempotency_key=f"district_case_list|case:-|meeting:{district}|ppr-nord@vejle.example",
                              to="ppr-nord@vejle.example", **{**common, "template": "district_case_list"})]
        for row in rows:
            session.add(row)
        session.commit()
        ids = [r.id for r in rows]
    files = {
        "consent_file": tmp / "consent.json", "minutes_file": tmp / "minutes.json", "staff_file": tmp / "staff.csv",
        "referral_file": tmp / "referral.json",
    }
    files["consent_file"].write_text(json.dumps({**rd.CONSENT, "given_by": ["Mor Hansen"],
                                                 "date": "2026-11-20"}), encoding="utf-8")
    files["minutes_file"].write_text(json.dumps({"summary": "Godt møde", "actions": [
        {"text": "Ro i overgange", "responsible": COORDINATOR}]}), encoding="utf-8")
    files["staff_file"].write_text("name,email,role\nNy Lærer,ny2@skole.example,teacher\n", encoding="utf-8")
    files["referral_file"].write_text(json.dumps(rd.data()), encoding="utf-8")
    from pprflow.models.referral import parse_referral
    from pprflow.tasks.transports.base import Attachment
    from pprflow.tasks.web_intake import store_web_referral

    web_referral = store_web_referral(engine, submitted_by="sofie@skovbakke.example", referral=parse_referral(
        rd.data()), attachment=Attachment("handleplan.pdf", "application/pdf", b"%PDF-1.7\n% handleplan\n"))
    return {"case": case_id, "web_referral": web_referral,
            "meeting": meeting_id, "message": ids[0], "failed_message": ids[1], "caseless": ids[2],
            "kv_date": kv, **{k: str(v) for k, v in files.items()}}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from pprflow.db import get_engine, upgrade

    tmp = tmp_path_factory.mktemp("world")
    url = f"sqlite:///{tmp / 'world.db'}"
    upgrade(url)
    engine = get_engine(url)
    ids = _build_world(engine, tmp)
    engine.dispose()
    return World(template=tmp / "world.db", ids=ids)


@pytest.fixture
def fresh(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Engine]:
    """A copy of the world for one entrance (three actors run against it in turn)."""
    from pprflow.db import get_engine

    path = tmp_path / "pprflow.db"
    shutil.copy(world.template, path)
    monkeypatch.setenv("PPRFLOW_PROFILE", "vejle")
    monkeypatch.setenv("PPRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("PPRFLOW_TRANSPORT", "file")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PPRFLOW_USER", raising=False)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("PPRFLOW_DATABASE_URL", url)
    return url, get_engine(url)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit log and the run requests (who asked, issue 20): what "changes
    nothing" compares."""
    import pprflow.models.tables  # noqa: F401

    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t.name}" ORDER BY 1'))]
                for t in SQLModel.metadata.sorted_tables if t.name not in ("auditevent", "runrequest")}


def refusals(engine: Engine, actor: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.actor == actor,
                                                          AuditEvent.action == "refused")).all())


def run_cli(url: str, actor: str | None, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from pprflow.cli import main

    who = ["--as", actor] if actor else []
    try:
        main(["--db", url, *who, *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def fill(args: list[str], ids: dict[str, Any], actor: str) -> list[str]:
    values = {**{k: str(v) for k, v in ids.items()}, "actor_or_partner": actor}
    return [a.format(**values) if "{" in a else a for a in args]


OUTSIDERS = (STRANGER, WITHDRAWN, UNKNOWN)
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}  # MEET-1/MEET-4 (issue 16)


@pytest.mark.parametrize("command", sorted(CLI))
def test_every_cli_command_refuses_strangers_and_serves_the_right_person_PRIV_3_PRIV_4(
        command: str, world: World, fresh: tuple[str, Engine], capsys: pytest.CaptureFixture[str]) -> None:
    url, engine = fresh
    kind, right, args = CLI[command]
    before = snapshot(engine)
    for outsider in OUTSIDERS:
        code, out, err = run_cli(url, outsider, fill(args, world.ids, outsider), capsys)
        if kind in ("CASE", "JOB", "ADMIN") or (kind in ("OPEN", "LIST") and outsider == UNKNOWN):
            assert code == 2, (command, outsider, out, err)
            assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
            assert err.rstrip().endswith(("(PRIV-3)", "(PRIV-4)")), (command, outsider, err)
            assert snapshot(engine) == before, f"{command} as {outsider} changed something"
            audited = refusals(engine, outsider)
            assert audited, f"{command} as {outsider}: the refusal is not audited"
            if kind == "CASE":
                assert audited[-1].case_id == world.ids["case"], "audited on the case it touched"
        elif kind == "LIST":
            assert code == 0, (command, outsider, err)
            assert not any(bit in out for bit in SECRET_BITS), (command, outsider, out)
            assert f'"case_id": {world.ids["case"]}' not in out and f"[{world.ids['case']}]" not in out
            assert snapshot(engine) == before
        else:  # OPEN: any known member; shows nothing of the case, changes nothing they may not
            assert code == 0, (command, outsider, err)
            assert not any(bit in out for bit in SECRET_BITS), (command, outsider, out)
            before = snapshot(engine)  # the report or the new referral is theirs to make
    code, out, err = run_cli(url, right or None, fill(args, world.ids, "ulla@ppr.example"), capsys)
    # the right person passes access; a municipal rule may still say no (e.g. no consent left to withdraw)
    assert code == 0 or not err.rstrip().endswith(("(PRIV-3)", "(PRIV-4)")), (command, right, err)
    if kind == "LIST" and command != "kv list":
        assert str(world.ids["case"]) in out, f"{command}: the right person sees the case"


def test_a_message_of_no_case_is_read_only_by_those_who_may_read_every_case_it_shows_PRIV_3(
        world: World, fresh: tuple[str, Engine], capsys: pytest.CaptureFixture[str]) -> None:
    url, engine = fresh
    args = ["outbox", "preview", str(world.ids["caseless"])]
    for outsider in OUTSIDERS:
        code, _, err = run_cli(url, outsider, args, capsys)
        assert code == 2 and err.rstrip().endswith(("(PRIV-3)", "(PRIV-4)")), err
    assert refusals(engine, STRANGER)[-1].case_id == world.ids["case"], "audited on the cases it shows"
    assert run_cli(url, COORDINATOR, args, capsys)[0] == 0
    assert run_cli(url, ADMIN, args, capsys)[0] == 0


def test_case_close_and_outbox_cancel_as_the_bare_os_account_are_refused_PRIV_4(
        world: World, fresh: tuple[str, Engine], capsys: pytest.CaptureFixture[str]) -> None:
    url, engine = fresh
    before = snapshot(engine)
    for args in (["case", "close", str(world.ids["case"]), "--reason", "Slut"],
                 ["outbox", "cancel", str(world.ids["message"])], ["case", "show", str(world.ids["case"])],
                 ["case", "close", str(world.ids["case"]), "--reason", "Slut"]):
        code, _, err = run_cli(url, None, args, capsys)
        assert code == 2 and err.rstrip().endswith("(PRIV-4)"), err
        code, _, err = run_cli(url, "system:sweep", args, capsys)
        assert code == 2 and err.rstrip().endswith("(PRIV-4)"), err
    assert snapshot(engine) == before


def test_no_command_gives_oneself_access_PRIV_4(
        world: World, fresh: tuple[str, Engine], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = fresh
    case = str(world.ids["case"])
    for attempt in (["case", "add-partner", case, "--name", "Frede", "--email", STRANGER, "--role",
                     "ppr_psychologist"], ["case", "handover", case, "--to", STRANGER, "--today", TODAY],
                    ["district", "assign", case, "--to", STRANGER, "--today", TODAY],
                    ["staff", "add", STRANGER, "--name", "Frede", "--role", "administrator"]):
        assert run_cli(url, STRANGER, attempt, capsys)[0] == 2, attempt
        code, _, err = run_cli(url, STRANGER, ["case", "show", case], capsys)
        assert code == 2 and err.rstrip().endswith("(PRIV-3)"), "still no access"


# --- the flows ------------------------------------------------------------------------------------

def _flow_params(name: str, flow: Any, params: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    from pprflow.models.abuse import parse_report
    from pprflow.models.referral import ConsentIn, parse_referral
    from pprflow.models.rules_kv import KVTopicIn
    from pprflow.models.rules_levels import LevelChangeInput
    from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput

    objects = {
        "{case}": ids["case"], "{meeting}": ids["meeting"], "{web_referral}": ids["web_referral"],
        "{consent}": ConsentIn.model_validate({**rd.CONSENT, "given_by": ["Mor Hansen"], "date": "2026-11-20"}),
        "{referral}": parse_referral(rd.data()),
        "{topic}": KVTopicIn(institution="Skovbakkeskolen", session_date=dt.date.fromisoformat(ids["kv_date"]),
                             text="Uro i overgangene"),
        "{level}": LevelChangeInput(case_id=ids["case"], sphere="institution", to=3),
        "{partner}": PartnerInput(case_id=ids["case"], name="Ulla", email="ulla@ppr.example", role="ppr_psychologist"),
        "{minutes}": MinutesInput.model_validate({"summary": "Godt møde", "actions": [
            {"text": "Ro i overgange", "responsible": COORDINATOR}]}),
        "{meeting_input}": MeetingInput(case_id=ids["case"], kind="development", date=dt.date(2026, 12, 22),
                                        **PLACE),
        "{report}": parse_report({"reporter": {"name": "Lars Lærer", "email": "lars@skole.example",
                                               "role": "teacher"},
                                  "institution": "Skovbakkeskolen",
                                  "child": {"name": "Barn X", "group": "3.B", "birth_year": 2016},
                                  "observation": "Blå mærker.", "observed_on": "2026-12-01"}),
    }
    result = {k: objects.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    if "today" in flow.parameters.properties:
        result["today"] = FLOW_TODAY_OVERRIDES.get(name, TODAY_FLOW)
    return result


@pytest.fixture
def plain_flows(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Each flow's own code without a Prefect server: its tasks and subflows run as plain functions, and
    artifacts and the Prefect-side purge are no-ops (what the flow asks the policy is unchanged)."""
    import importlib

    from prefect import Flow, Task

    flows = all_flows()
    for ref in flows:
        module = importlib.import_module(ref.split(":")[0])
        for attr, value in list(vars(module).items()):
            own_flow = isinstance(value, Flow) and getattr(value.fn, "__module__", None) == module.__name__
            if isinstance(value, Task | Flow) and not own_flow:
                monkeypatch.setattr(module, attr, value.fn)
        for attr in ("create_markdown_artifact", "create_table_artifact"):
            if hasattr(module, attr):
                monkeypatch.setattr(module, attr, lambda *a, **k: None)
        if hasattr(module, "delete_form_flow_runs"):
            monkeypatch.setattr(module, "delete_form_flow_runs", lambda **k: 0)
    import pprflow.flows.dashboard as dashboard

    monkeypatch.setattr(dashboard, "create_markdown_artifact", lambda *a, **k: None)
    monkeypatch.setattr(dashboard, "create_table_artifact", lambda *a, **k: None)
    return flows


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_flow_refuses_strangers_and_serves_the_right_person_PRIV_3_PRIV_4(
        name: str, world: World, fresh: tuple[str, Engine], plain_flows: dict[str, Any]) -> None:
    from pprflow.models.errors import AccessDenied, PprflowError

    _, engine = fresh
    kind, right, params = FLOWS[name]
    flow = plain_flows[name]
    before = snapshot(engine)
    requested = "request_id" in flow.parameters.properties  # issue 20: else always its named system job
    for outsider in OUTSIDERS if requested else ():
        call = _flow_params(name, flow, params, world.ids)
        if kind in ("CASE", "JOB", "ADMIN") or (kind == "OPEN" and outsider == UNKNOWN):
            with pytest.raises(AccessDenied) as caught:
                flow.fn(**call, request_id=as_user(outsider, flow))
            assert caught.value.rule_id in ("PRIV-3", "PRIV-4"), (name, outsider)
            assert snapshot(engine) == before, f"{name} as {outsider} changed something"
            assert refusals(engine, outsider), f"{name} as {outsider}: not audited"
        else:
            result = flow.fn(**call, request_id=as_user(outsider, flow))
            assert not any(bit in json.dumps(result, default=str) for bit in SECRET_BITS), (name, result)
            before = snapshot(engine)
    call = _flow_params(name, flow, params, world.ids)
    try:  # a job without a person runs as its system actor
        flow.fn(**call, **({"request_id": as_user(right or None, flow)} if requested else {}))
    except AccessDenied as exc:  # pragma: no cover - the failure message
        pytest.fail(f"{name}: the right person ({right or 'system job'}) was refused: {exc.one_line()}")
    except PprflowError as exc:  # a municipal rule may still say no; access did not
        assert exc.rule_id not in ("PRIV-3", "PRIV-4"), exc.one_line()


def test_a_human_step_flow_without_an_acting_user_does_nothing_PRIV_4(
        world: World, fresh: tuple[str, Engine], plain_flows: dict[str, Any]) -> None:
    """Without a request (a run started from Prefect's form) a person's step is refused, whatever PPRFLOW_USER
    says (issue 20)."""
    from pprflow.models.errors import AccessDenied

    _, engine = fresh
    before = snapshot(engine)
    with pytest.raises(AccessDenied):
        plain_flows["pprflow.flows.handover:hand_over_case"].fn(case_id=world.ids["case"], to_email=STRANGER,
                                                               today=TODAY_FLOW)
    assert snapshot(engine) == before
