"""The KV cycle: sessions (CAL-4), the leader's reminder and late topics (CAL-3), anonymity (KV-1),
participants (KV-2)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from pprflow.models.errors import InvalidInput, NotFound, RuleViolation
from pprflow.models.rules_kv import KVTopicIn
from pprflow.models.tables import AuditEvent, KVTopic, Meeting, OutboxMessage
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.kv import kv_cycle, list_kv_sessions, schedule_kv_sessions, submit_kv_topic
from tests.factories import as_admin

D = dt.date
DAYCARE = "Børnehuset Solsikken"
SCHOOL = "Skovbakkeskolen"
LEADER = "mette@solsikken.example"


def messages(engine, template: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.template == template)
                                 .order_by(OutboxMessage.id)).all())


def daycare(ctx, start: dt.date = D(2026, 12, 1), count: int = 2) -> dict:  # type: ignore[no-untyped-def]
    return schedule_kv_sessions(as_admin(ctx), institution=DAYCARE, start=start, count=count, leader_email=LEADER,
                                leader_name="Mette Hansen", kind="daycare", district="Nord", time=dt.time(13, 0))


def topic(text: str, session_date: dt.date = D(2026, 12, 1), institution: str = DAYCARE) -> KVTopicIn:
    return KVTopicIn(institution=institution, session_date=session_date, text=text)


def test_daycare_every_six_weeks_school_every_two_CAL_4(ctx) -> None:
    day = daycare(ctx, count=3)
    assert day["cadence_weeks"] == 6
    assert [s["date"] for s in day["sessions"]] == ["2026-12-01", "2027-01-12", "2027-02-23"]
    school = schedule_kv_sessions(as_admin(ctx), institution=SCHOOL, start=D(2026, 12, 1), count=3,
                                  leader_email="lp@skovbakke.example", kind="school", district="Nord")
    assert [s["date"] for s in school["sessions"]] == ["2026-12-01", "2026-12-15", "2026-12-29"]


def test_a_session_on_a_closed_day_is_moved_and_flagged_CAL_4(ctx) -> None:
    result = schedule_kv_sessions(as_admin(ctx), institution=SCHOOL, start=D(2026, 12, 24), count=1,
                                  leader_email="lp@skovbakke.example", kind="school", district="Nord")
    (session_row,) = result["sessions"]
    assert session_row["planned_date"] == "2026-12-24" and session_row["date"] == "2026-12-28"
    assert session_row["moved_from_closed_day"]


def test_scheduling_needs_a_leader_to_remind_and_a_known_institution_CAL_3(ctx) -> None:
    with pytest.raises(NotFound):
        schedule_kv_sessions(as_admin(ctx), institution="Ukendt Skole", start=D(2026, 12, 1), count=1)
    with pytest.raises(InvalidInput) as caught:
        # a school new to pprflow, with no leader in the staff directory (Skovbakkeskolen's leader is there)
        schedule_kv_sessions(as_admin(ctx), institution="Engvangskolen", start=D(2026, 12, 1), count=1,
                             kind="school", district="Nord")
    assert caught.value.rule_id == "CAL-3"
    daycare(ctx)
    # the leader is known now
    again = schedule_kv_sessions(as_admin(ctx), institution=DAYCARE, start=D(2026, 12, 1), count=2)
    assert not any(s["created"] for s in again["sessions"]) and again["leader"] == LEADER


def test_the_pedagogical_leader_is_reminded_before_the_notice_deadline_CAL_3(ctx) -> None:
    daycare(ctx, count=1)
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 23)).queued == 0
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 24))
    (reminder,) = messages(ctx.engine, "kv_notice_reminder")
    assert reminder.to == LEADER
    assert "senest torsdag den 26. november" in reminder.subject
    assert "torsdag den 26. november 2026" in reminder.body_text
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 24)).queued == 0


def test_topics_until_the_deadline_then_refused_naming_CAL_3(ctx) -> None:
    daycare(ctx)
    first = submit_kv_topic(ctx, topic("Overgange fra leg til samling"), today=D(2026, 11, 26))
    assert first["topics"] == 1 and first["notice_deadline"] == "2026-11-26"
    with pytest.raises(RuleViolation) as caught:
        submit_kv_topic(ctx, topic("Konflikter på legepladsen"), today=D(2026, 11, 27))
    assert caught.value.rule_id == "CAL-3" and "2027-01-12" in caught.value.message
    with Session(ctx.engine) as session:
        assert len(session.exec(select(KVTopic)).all()) == 1


def test_the_same_topic_twice_is_stored_once(ctx) -> None:
    daycare(ctx)
    submit_kv_topic(ctx, topic("Overgange"), today=D(2026, 11, 20))
    assert submit_kv_topic(ctx, topic("Overgange"), today=D(2026, 11, 20))["topics"] == 1


def test_a_topic_stores_no_child_identity_KV_1(ctx) -> None:
    daycare(ctx)
    assert set(KVTopic.model_fields) == {"id", "meeting_id", "text", "submitted_by_email", "submitted_at"}
    from pprflow.models.errors import InvalidInput
    from pprflow.models.rules_kv import parse_kv_topic

    # the input model refuses a CPR number at the boundary (PRIV-2, one check for every input model) ...
    with pytest.raises(InvalidInput) as refused:
        parse_kv_topic({"institution": DAYCARE, "session_date": D(2026, 12, 1), "text": "Pigen 120520-1234 er urolig"})
    assert refused.value.rule_id == "PRIV-2"
    # ... and the service still refuses a child identity in a topic that bypassed the model (KV-1)
    bypass = KVTopicIn.model_construct(institution=DAYCARE, session_date=D(2026, 12, 1),
                                       text="Pigen 120520-1234 er urolig")
    with pytest.raises(RuleViolation) as caught:
        submit_kv_topic(ctx, bypass, today=D(2026, 11, 20))
    assert caught.value.rule_id == "KV-1"


def test_the_topic_list_goes_to_the_ppr_team_with_the_participants_KV_2(engine, vejle) -> None:
    from pprflow.tasks.context import Ctx

    ctx = Ctx(engine=engine, profile=vejle.model_copy(update={"district_teams": {"Nord": "ppr-nord@vejle.example"}}),
              actor=LEADER)
    daycare(ctx)
    submit_kv_topic(ctx, topic("Overgange fra leg til samling"), today=D(2026, 11, 20))
    submit_kv_topic(ctx, topic("Konflikter om legetøj udendørs"), today=D(2026, 11, 25))
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 26)).handled.get("kv_topic_list") is None
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 27))
    (topic_list,) = messages(ctx.engine, "kv_topic_list")
    assert topic_list.to == "ppr-nord@vejle.example"
    body = topic_list.body_text
    assert "1. Overgange fra leg til samling" in body and "2. Konflikter om legetøj udendørs" in body
    assert "Psykolog, konsulent eller SUP" in body and "Logopæd" in body, "KV-2: always at daycare"
    assert "Mette Hansen" in body
    with Session(ctx.engine) as session:
        recorded = session.exec(select(AuditEvent).where(AuditEvent.reason == "KV-2")).one()
        assert "speech_therapist" in recorded.detail["participants"]
    with pytest.raises(RuleViolation):  # the list has gone: too late (CAL-3)
        submit_kv_topic(ctx, topic("Sent emne"), today=D(2026, 11, 26))
    assert run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 27)).queued == 0


def test_speech_therapist_at_a_school_only_at_intervals_KV_2(ctx) -> None:
    result = schedule_kv_sessions(as_admin(ctx), institution=SCHOOL, start=D(2026, 12, 1), count=4,
                                  leader_email="lp@skovbakke.example", kind="school", district="Nord")
    with_speech = ["Logopæd" in s["participants"] for s in result["sessions"]]
    assert with_speech == [True, False, False, True]  # 1 Dec, 15 Dec, 29 Dec, 12 Jan
    listed = list_kv_sessions(ctx, institution=SCHOOL)
    assert [("Logopæd" in s["participants"]) for s in listed["sessions"]] == with_speech


def test_the_weekly_kv_cycle_keeps_sessions_planned_ahead_CAL_4(ctx) -> None:
    schedule_kv_sessions(as_admin(ctx), institution=SCHOOL, start=D(2026, 12, 1), count=1,
                         leader_email="lp@skovbakke.example", kind="school", district="Nord", time=dt.time(14, 0))
    first = kv_cycle(as_admin(ctx), today=D(2026, 11, 30), horizon_weeks=6)
    # the 6-week horizon ends 11 Jan: 15 and 29 Dec, the rhythm kept from 1 Dec
    assert first["added"] == {SCHOOL: ["2026-12-15", "2026-12-29"]}
    assert kv_cycle(as_admin(ctx), today=D(2026, 11, 30), horizon_weeks=6)["added"] == {}
    with Session(ctx.engine) as session:
        sessions = session.exec(select(Meeting).where(Meeting.kind == "kv").order_by(Meeting.date)).all()
        assert {m.leader_email for m in sessions} == {"lp@skovbakke.example"}
        assert all(m.starts_at is not None for m in sessions)
