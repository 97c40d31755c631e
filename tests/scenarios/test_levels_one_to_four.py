"""Scenario: a child's case from level 1 to level 4 (Randers' five levels [003]) through real flow runs
on a real Prefect test server and a real database, with two network meetings and a six-month review.

LVL-1 (one level at a time) → LVL-2 (green form) → LVL-3 (network meeting, yellow form, agenda per
CAL-2 with calendar invites to parents and partners, minutes on the light-blue form with actions and
their follow-up, MEET-2) → LVL-4 (parental consent before the second level-3 meeting) → level 4
(dark-blue form; review at least every half year, CAL-6: reminder, then overdue notice).
Everything queued is finally delivered to a FileTransport and read back as .eml files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.errors import RuleViolation
from pprflow.models.referral import ConsentIn
from pprflow.models.rules_levels import LevelChangeInput
from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput
from pprflow.models.tables import Deadline, OutboxMessage
from pprflow.tasks.outbox import deliver_due
from pprflow.tasks.transports.file import FileTransport
from tests.flows._env import flow_env, no_heartbeat
from tests.scenarios._support import (
    COORDINATOR,
    HEALTH_VISITOR,
    LEADER,
    PARENTS,
    PSYCHOLOGIST,
    open_case,
    read_mail_dir,
)
from tests.support.acting import as_user

# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}

pytestmark = pytest.mark.prefect

D = dt.date


@pytest.fixture
def env(prefect_server: None, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, engine: Engine,
        tmp_path: Path) -> Iterator[Engine]:
    flow_env(monkeypatch, sqlite_url, tmp_path, profile="randers")
    with no_heartbeat():
        yield engine


def _queued(engine: Engine, template: str) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.template == template)
                                 .order_by(col(OutboxMessage.id))).all())


def _sweep(day: D) -> dict[str, Any]:
    from pprflow.flows.sweep import daily_sweep

    return daily_sweep(today=day)


def test_case_from_level_1_to_4_with_two_network_meetings_and_a_half_yearly_review_LVL_1_CAL_2_CAL_6_LVL_4(
        env: Engine, tmp_path: Path) -> None:
    from pprflow.flows.consent import record_consent
    from pprflow.flows.levels import change_case_level, review_case
    from pprflow.flows.meetings import add_case_partner, meeting_minutes, plan_meeting

    case_id = open_case(env, level=1)
    leader = "leder@skole.example"

    # LVL-1: level 1 → 2 (green form); straight on to 4 is refused without a reason.
    two = change_case_level(data=LevelChangeInput(case_id=case_id, sphere="institution", to=2), direction="up",
                            today=D(2026, 9, 1), request_id=as_user(leader, change_case_level))
    assert any("grønt skema" in p for p in two["paperwork"])
    with pytest.raises(RuleViolation, match="skips a level"):
        change_case_level(data=LevelChangeInput(case_id=case_id, sphere="institution", to=4), direction="up",
                          today=D(2026, 9, 1), request_id=as_user(leader, change_case_level))
    three = change_case_level(data=LevelChangeInput(case_id=case_id, sphere="institution", to=3), direction="up",
                              today=D(2026, 9, 15), request_id=as_user(leader, change_case_level))
    assert any("gult skema" in p for p in three["paperwork"]) and any("lyseblåt" in p for p in three["paperwork"])

    # Network meeting 1 (level 3), Thu 8 Oct: agenda due Thu 1 Oct (CAL-2), leader reminded Mon 28 Sep.
    first = plan_meeting(data=MeetingInput(
        case_id=case_id, kind="network", level=3, date=D(2026, 10, 8), starts_at=dt.time(14, 0),
        location="Skovbakkeskolen, mødelokale 2", **PLACE,
        participants=[{"name": "Ahmed Psykolog", "email": PSYCHOLOGIST, "role": "ppr_psychologist"}]),
        today=D(2026, 9, 16), request_id=as_user(leader, plan_meeting))
    assert (first["agenda_deadline"], first["leader_reminded_on"]) == ("2026-10-01", "2026-09-28")
    assert first["leader_email"] == LEADER, "MEET-4: the leader by default"
    _sweep(D(2026, 9, 25))
    assert _queued(env, "agenda_deadline_reminder") == []
    _sweep(D(2026, 9, 28))
    assert [m.to for m in _queued(env, "agenda_deadline_reminder")] == [LEADER]
    _sweep(D(2026, 9, 30))
    assert _queued(env, "network_agenda") == [], "not before the deadline"
    _sweep(D(2026, 10, 1))
    _sweep(D(2026, 10, 1))  # a duplicate scheduler run queues nothing new
    agendas = _queued(env, "network_agenda")
    assert {m.to for m in agendas} == PARENTS | {COORDINATOR, PSYCHOLOGIST}, "parents and partners (MEET-1)"
    assert len(agendas) == 4
    assert "Netværkskort" in agendas[0].body_text and "Ahmed Psykolog" in agendas[0].body_text  # MEET-5

    # Minutes on the light-blue form: concrete actions, one responsible each (MEET-2).
    minutes_1 = meeting_minutes(meeting_id=first["meeting_id"], data=MinutesInput.model_validate({
        "summary": "Barnet trækker sig i frikvartererne; forældrene oplever uro om morgenen.",
        "actions": [
            {"text": "Fast voksen tager imod ved skoledagens start.", "responsible": COORDINATOR},
            {"text": "PPR observerer i klassen og giver sparring til teamet.", "responsible": PSYCHOLOGIST},
            {"text": "Ugeplan gennemgås derhjemme søndag aften.", "responsible": "mor@hjem.example"},
        ],
        "next_meeting_date": "2026-11-05"}), today=D(2026, 10, 8), request_id=as_user(leader, meeting_minutes))
    assert len(minutes_1["actions"]) == 3
    assert {m.to for m in _queued(env, "minutes")} == PARENTS | {COORDINATOR, PSYCHOLOGIST}

    # LVL-4: the second meeting at level 3 needs the parents' consent.
    second_meeting = MeetingInput(case_id=case_id, kind="network", level=3, date=D(2026, 11, 5),
                                  starts_at=dt.time(14, 0), location="Skovbakkeskolen, mødelokale 2", **PLACE)
    with pytest.raises(RuleViolation) as refused:
        plan_meeting(data=second_meeting, today=D(2026, 10, 9), request_id=as_user(leader, plan_meeting))
    assert refused.value.rule_id == "LVL-4"
    consent = record_consent(case_id=case_id, data=ConsentIn(
        given_by=["Mor Hansen", "Far Hansen"], date=D(2026, 10, 8), information="Skolegang, trivsel og helbred",
        recipients=["PPR", "Sundhedsplejen"], purpose="Tværfaglige netværksmøder om barnets trivsel"),
        today=D(2026, 10, 9), request_id=as_user(leader, record_consent))
    add_case_partner(data=PartnerInput(case_id=case_id, name="Hanne Sundhedsplejerske", email=HEALTH_VISITOR,
                                       role="health_visitor", consent_id=consent["consent_id"]),
                                           request_id=as_user(leader, add_case_partner))
    second = plan_meeting(data=second_meeting, today=D(2026, 10, 9), request_id=as_user(leader, plan_meeting))
    assert second["stored_kind"] == "network_followup", "MEET-3: the follow-up form"
    assert second["agenda_deadline"] == "2026-10-29"
    _sweep(D(2026, 10, 26))
    assert len(_queued(env, "agenda_deadline_reminder")) == 2
    _sweep(D(2026, 10, 29))
    second_agendas = [m for m in _queued(env, "network_agenda") if f"meeting:{second['meeting_id']}:" in
                      m.idempotency_key]
    assert {m.to for m in second_agendas} == PARENTS | {COORDINATOR, PSYCHOLOGIST, HEALTH_VISITOR}
    to_visitor = next(m for m in second_agendas if m.to == HEALTH_VISITOR)
    assert to_visitor.consent_id == consent["consent_id"], "shared on the consent (CONS-1)"
    assert "Fast voksen tager imod ved skoledagens start." in to_visitor.body_text, "open actions to follow up"

    # Minutes 2: each open action followed up (continue / adjust / change) plus a new action.
    a1, a2, a3 = minutes_1["actions"]
    with pytest.raises(RuleViolation, match="need a follow-up"):
        meeting_minutes(meeting_id=second["meeting_id"], data=MinutesInput.model_validate(
            {"follow_ups": [{"action_id": a1, "decision": "continue"}]}), today=D(2026, 11, 5),
            request_id=as_user(leader, meeting_minutes))
    minutes_2 = meeting_minutes(meeting_id=second["meeting_id"], data=MinutesInput.model_validate({
        "summary": "Morgenerne er roligere; frikvartererne er fortsat svære.",
        "follow_ups": [
            {"action_id": a1, "decision": "continue"},
            {"action_id": a2, "decision": "adjust", "text": "PPR observerer også i frikvarteret."},
            {"action_id": a3, "decision": "change"},
        ],
        "actions": [{"text": "Sundhedsplejersken taler med barnet om søvn.", "responsible": HEALTH_VISITOR}]}),
        today=D(2026, 11, 5), request_id=as_user(leader, meeting_minutes))
    assert minutes_2["followed_up"] == {str(a1): "continue", str(a2): "adjust", str(a3): "change"}
    assert len(minutes_2["actions"]) == 3
    second_minutes = [m for m in _queued(env, "minutes") if f"meeting:{second['meeting_id']}:" in m.idempotency_key]
    assert {m.to for m in second_minutes} == PARENTS | {COORDINATOR, PSYCHOLOGIST, HEALTH_VISITOR}
    assert "Justeres" in second_minutes[0].body_text or "justeres" in second_minutes[0].body_text.lower()

    # Level 4: the dark-blue form and the half-yearly review (CAL-6): 6 Nov 2026 → due 6 May 2027.
    four = change_case_level(data=LevelChangeInput(case_id=case_id, sphere="institution", to=4), direction="up",
                             today=D(2026, 11, 6), request_id=as_user(leader, change_case_level))
    assert any("mørkeblåt" in p for p in four["paperwork"])
    assert (four["review_due"], four["review_reminder_on"]) == ("2027-05-06", "2027-04-22")
    _sweep(D(2027, 4, 21))
    assert _queued(env, "review_reminder") == []
    _sweep(D(2027, 4, 22))
    assert {m.to for m in _queued(env, "review_reminder")} == {COORDINATOR, LEADER}, "coordinator and leader"
    _sweep(D(2027, 5, 6))
    assert _queued(env, "review_overdue") == []
    _sweep(D(2027, 5, 7))
    _sweep(D(2027, 5, 8))
    assert [m.to for m in _queued(env, "review_overdue")] == [LEADER], "overdue: the leader, once"
    reviewed = review_case(case_id=case_id, review_date=D(2027, 5, 10), today=D(2027, 5, 10),
                           request_id=as_user(leader, review_case))
    assert reviewed["next_review_due"] == "2027-11-10"
    with Session(env) as session:
        open_kinds = {d.kind for d in session.exec(select(Deadline).where(Deadline.done_at == None)).all()}  # noqa: E711
    assert open_kinds == {"review_reminder", "review_overdue"}

    # Deliver everything to files and read it back: every agenda carries its invite.
    mail_dir = tmp_path / "mail"
    report = deliver_due(env, FileTransport(mail_dir))
    assert report.failed == [] and report.cancelled == []
    delivered = read_mail_dir(mail_dir)
    # 2 agenda reminders + 4 + 5 agendas + 4 + 5 minutes + 2 review reminders + 1 overdue notice
    assert len(delivered) == len(report.sent) == 23
    agenda_mails = [m for m in delivered if m.template_key.startswith("network_agenda|")]
    assert len(agenda_mails) == 9 and all(m.has_invite for m in agenda_mails)
    assert {m.to for m in agenda_mails} >= PARENTS | {HEALTH_VISITOR}
    assert deliver_due(env, FileTransport(mail_dir)).sent == [], "nothing is sent twice"
