"""Scenario: the abuse exception (ESC-1) on a case with parents, through real flow runs on a real Prefect
test server and a real database.

Before the report, messages wait for the parents (an agenda sent early, minutes). A class teacher —
not a leader (LAW-1) — reports suspected abuse: the notification goes to the family centre's address
at once and everything waiting for the parents is cancelled. Then weeks of ordinary work follow:
daily sweeps, meetings, agendas, minutes, a coordinator handover, level 4 with its review reminders,
consent withdrawn and given again, the late acknowledgement (LAW-2). Everything is delivered to a
FileTransport and read back from the .eml files: not one message reaches a parent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.referral import ConsentIn
from pprflow.models.rules_levels import LevelChangeInput
from pprflow.models.rules_meetings import MeetingInput, MinutesInput, PartnerInput
from pprflow.models.tables import Case, OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks.outbox import deliver_due
from pprflow.tasks.transports.file import FileTransport
from tests.flows._env import flow_env, no_heartbeat
from tests.scenarios._support import COORDINATOR, HEALTH_VISITOR, LEADER, PARENTS, open_case, read_mail_dir
from tests.support.acting import as_user

# Issue 16: a meeting parents are invited to has an address and a leader they can call.
PLACE = {"address": "Skovbakkevej 1, 7100 Vejle", "leader_phone": "+45 75 00 00 00"}

pytestmark = pytest.mark.prefect

D = dt.date
NOTIFICATIONS = "underretning@randers.dk"


@pytest.fixture
def env(prefect_server: None, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, engine: Engine,
        tmp_path: Path) -> Iterator[Engine]:
    flow_env(monkeypatch, sqlite_url, tmp_path, profile="randers")
    with no_heartbeat():
        yield engine


def _all(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _consent(case_id: int, given_on: D) -> int:
    from pprflow.flows.consent import record_consent

    return int(record_consent(case_id=case_id, data=ConsentIn(
        given_by=["Mor Hansen"], date=given_on, information="Skolegang og trivsel",
        recipients=["Sundhedsplejen", "PPR"], purpose="Tværfaglige netværksmøder"),
        today=given_on, request_id=as_user(LEADER, record_consent))["consent_id"])


def test_after_suspected_abuse_nothing_reaches_the_parents_whoever_schedules_what_ESC_1_LAW_1_LAW_2(
        env: Engine, tmp_path: Path) -> None:
    from pprflow.flows.abuse import report_suspected_abuse
    from pprflow.flows.consent import withdraw_case_consent
    from pprflow.flows.handover import hand_over_case
    from pprflow.flows.levels import change_case_level, review_case
    from pprflow.flows.meetings import add_case_partner, meeting_minutes, plan_meeting, send_meeting_agenda
    from pprflow.flows.sweep import daily_sweep

    case_id = open_case(env, level=3)
    mail_dir = tmp_path / "mail"
    transport = FileTransport(mail_dir)

    # Before the report: consent, a partner on it, a development meeting with minutes, a network
    # meeting whose agenda the leader sent early — all of it waiting for the parents.
    consent_id = _consent(case_id, D(2026, 11, 2))
    add_case_partner(data=PartnerInput(case_id=case_id, name="Hanne Sundhedsplejerske", email=HEALTH_VISITOR,
                                       role="health_visitor", consent_id=consent_id),
                                           request_id=as_user(LEADER, add_case_partner))
    development = plan_meeting(data=MeetingInput(case_id=case_id, kind="development", date=D(2026, 11, 9),
                                                 **PLACE),
                               today=D(2026, 11, 2), request_id=as_user(LEADER, plan_meeting))
    network = plan_meeting(data=MeetingInput(case_id=case_id, kind="network", level=3, date=D(2026, 11, 26),
                                             **PLACE),
                           today=D(2026, 11, 2), request_id=as_user(LEADER, plan_meeting))
    send_meeting_agenda(meeting_id=network["meeting_id"], today=D(2026, 11, 3),
                        request_id=as_user(LEADER, send_meeting_agenda))
    meeting_minutes(meeting_id=development["meeting_id"], data=MinutesInput.model_validate({
        "actions": [{"text": "Fast voksen om morgenen.", "responsible": COORDINATOR}]}),
        today=D(2026, 11, 9), request_id=as_user(LEADER, meeting_minutes))
    waiting = [m for m in _all(env) if m.to in PARENTS]
    assert len(waiting) >= 4 and {m.status for m in waiting} == {"pending"}

    # LAW-1: the class teacher reports (the duty is personal). ESC-1: at once, and the parents are not told.
    reported = report_suspected_abuse(case_id=case_id, today=D(2026, 11, 10),
                                      request_id=as_user(COORDINATOR, report_suspected_abuse))
    assert reported["sent_to"] == NOTIFICATIONS and reported["cancelled_parent_messages"] == len(waiting)
    first_delivery = deliver_due(env, transport)
    delivered_now = read_mail_dir(mail_dir)
    notification = [m for m in delivered_now if m.to == NOTIFICATIONS]
    assert len(notification) == 1 and notification[0].template_key.startswith("abuse_notification|"), \
        "the family centre has the notification after the first delivery run"
    assert not any(m.to in PARENTS for m in delivered_now)
    assert first_delivery.cancelled == [], "the parents' messages were cancelled at the report, not at delivery"

    # Weeks of ordinary work; nobody has to remember that the parents must not be told.
    later = plan_meeting(data=MeetingInput(case_id=case_id, kind="network", level=3, date=D(2026, 12, 10),
                                           location="Skovbakkeskolen", **PLACE),
                         today=D(2026, 11, 11), request_id=as_user(LEADER, plan_meeting))
    send_meeting_agenda(meeting_id=later["meeting_id"], today=D(2026, 11, 12),
                        request_id=as_user(LEADER, send_meeting_agenda))
    day = D(2026, 11, 10)
    while day <= D(2026, 12, 31):
        daily_sweep(today=day)
        if day == D(2026, 11, 20):
            deliver_due(env, transport)
        if day == D(2026, 11, 26):
            meeting_minutes(meeting_id=network["meeting_id"], data=MinutesInput.model_validate({
                "summary": "Drøftet uden forældrene (ESC-1).",
                "follow_ups": [{"action_id": 1, "decision": "continue"}],
                "actions": [{"text": "Mor tilbydes samtale i Familie- og Rådgivningscentret.",
                             "responsible": "mor@hjem.example"},
                            {"text": "Sundhedsplejersken ser barnet.", "responsible": HEALTH_VISITOR}]}),
                today=day, request_id=as_user(LEADER, meeting_minutes))
        if day == D(2026, 11, 27):
            hand_over_case(case_id=case_id, to_email=LEADER, today=day, request_id=as_user(COORDINATOR, hand_over_case))
        if day == D(2026, 11, 30):
            four = change_case_level(data=LevelChangeInput(case_id=case_id, sphere="institution", to=4),
                                     direction="up", today=day, request_id=as_user(LEADER, change_case_level))
            # A level-4 network meeting the sweep handles on its own: reminder 7 Dec, agenda 10 Dec.
            plan_meeting(data=MeetingInput(case_id=case_id, kind="network", level=4, date=D(2026, 12, 17),
                                           **PLACE),
                         today=day, request_id=as_user(LEADER, plan_meeting))
        if day == D(2026, 12, 1):
            withdraw_case_consent(case_id=case_id, consent_id=consent_id,
                                  request_id=as_user(LEADER, withdraw_case_consent))
        if day == D(2026, 12, 2):
            new_consent = _consent(case_id, day)
            add_case_partner(data=PartnerInput(case_id=case_id, name="Hanne Sundhedsplejerske",
                                               email=HEALTH_VISITOR, role="health_visitor",
                                               consent_id=new_consent), request_id=as_user(LEADER, add_case_partner))
        if day == D(2026, 12, 10):
            meeting_minutes(meeting_id=later["meeting_id"], data=MinutesInput.model_validate({
                "follow_ups": [{"action_id": 2, "decision": "adjust", "text": "Fast voksen hele dagen."},
                               {"action_id": 3, "decision": "continue"},
                               {"action_id": 4, "decision": "continue"}]}), today=day,
                                   request_id=as_user(LEADER, meeting_minutes))
        day += dt.timedelta(days=1)
    # The half-yearly review of level 4 (CAL-6): reminder, then overdue, then the review.
    remind_on = D.fromisoformat(four["review_reminder_on"])
    due = D.fromisoformat(four["review_due"])
    daily_sweep(today=remind_on)
    daily_sweep(today=due + dt.timedelta(days=3))
    review_case(case_id=case_id, review_date=due + dt.timedelta(days=3), today=due + dt.timedelta(days=3),
                request_id=as_user(LEADER, review_case))
    final = deliver_due(env, transport)
    assert final.failed == []

    rows = _all(env)
    by_kind = {m.template for m in rows if m.status in ("pending", "sent")}
    assert {"abuse_notification", "acknowledgement_overdue", "agenda_deadline_reminder", "network_agenda",
            "minutes", "coordinator_handover", "consent_withdrawn", "review_reminder",
            "review_overdue"} <= by_kind, "the case went on: many kinds of message"
    assert [m.status for m in rows if m.to in PARENTS] == ["cancelled"] * len(waiting), \
        "ESC-1: the only rows ever addressed to a parent are the ones cancelled at the report"
    assert not any(set(m.cc) & PARENTS for m in rows)
    delivered = read_mail_dir(mail_dir)
    assert len(delivered) >= 15, Counter(m.template_key.split("|")[0] + "->" + m.to for m in delivered)
    assert not any(m.to in PARENTS or set(m.cc) & PARENTS for m in delivered), "ESC-1: no .eml to a parent"
    late = [m for m in rows if m.template == "acknowledgement_overdue"]
    # LAW-2: the notifier's leader hears first that the acknowledgement is late, then the coordinator (each
    # person once); issue 17: Randers' ladder top is a placeholder (.invalid), so its rung goes to the PPR mailbox.
    assert [m.to for m in late][0] == LEADER, "LAW-2: the notifier's leader hears the acknowledgement is late"
    assert len({m.to for m in late}) == len(late) <= 3 and not {m.to for m in late} & PARENTS
    agendas_after = [m for m in rows if m.template == "network_agenda" and m.status == "sent"]
    assert agendas_after and not any(m.to in PARENTS for m in agendas_after), "agendas went to partners only"
    with Session(env) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.confidential_from_parents and case.coordinator_email == LEADER
    assert all(m.sent_at is not None and m.sent_at <= utcnow() for m in rows if m.status == "sent")
