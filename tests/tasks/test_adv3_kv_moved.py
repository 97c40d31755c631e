"""Adversary 3 (CAL-3, KV-1; mail lost): a KV session moved to a new date (tasks/planning.py, issue 18) has its
CAL-3 deadlines pinned again from the new date, but the leader's notice reminder, the topic list and the ladder's
rungs were keyed on the meeting alone (`meeting:<id>`): the outbox returned the message already sent for the old
date, so nobody was reminded for the new one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pprflow.models.tables import Meeting, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from tests.factories import as_admin

D = dt.date
LEADER = "mette@solsikken.example"


def _to_leader(engine: Engine, template: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(OutboxMessage).where(OutboxMessage.template == template,
                                                            OutboxMessage.to == LEADER)).all())


def test_a_moved_kv_session_reminds_the_leader_again_for_its_new_date_CAL_3(ctx: Ctx, engine: Engine) -> None:
    from pprflow.tasks.kv import schedule_kv_sessions
    from pprflow.tasks.planning import move_planned_meeting

    admin = as_admin(ctx)
    schedule_kv_sessions(admin, institution="Børnehuset Solsikken", start=D(2026, 12, 1), count=1,
                         leader_email=LEADER, leader_name="Mette Hansen", kind="daycare", district="Nord",
                         time=dt.time(13, 0))
    day = D(2026, 11, 16)
    while day <= D(2026, 11, 27):
        run_sweep(engine, ctx.profile, today=day)
        day += dt.timedelta(days=1)
    assert _to_leader(engine, "kv_notice_reminder") == 1
    rungs_before = _to_leader(engine, "deadline_escalation")
    assert rungs_before == 1, "no topic by the notice deadline: the leader is the first rung"
    with Session(engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.kind == "kv")).one()
    move_planned_meeting(ctx=admin, meeting_id=meeting.id or 0, new_date=D(2027, 1, 12), reason="Sygdom",
                         today=D(2026, 11, 27))
    day = D(2026, 11, 28)
    while day <= D(2027, 1, 11):
        run_sweep(engine, ctx.profile, today=day)
        day += dt.timedelta(days=1)
    assert _to_leader(engine, "kv_notice_reminder") == 2, "reminded again for the new date"
    assert _to_leader(engine, "deadline_escalation") == 2, "the ladder's first rung again for the new date"


def test_a_moved_kv_session_still_takes_topics_for_its_new_date_CAL_3_KV_1(ctx: Ctx, engine: Engine) -> None:
    """Moving closed the old CAL-3 deadlines, which `_list_sent` read as "the topic list has gone": every topic for
    the new date was refused, and the new date's topic list never went to the PPR team."""
    from pprflow.models.rules_kv import KVTopicIn
    from pprflow.tasks.kv import schedule_kv_sessions, submit_kv_topic
    from pprflow.tasks.planning import move_planned_meeting

    admin = as_admin(ctx)
    schedule_kv_sessions(admin, institution="Børnehuset Solsikken", start=D(2026, 12, 1), count=1,
                         leader_email=LEADER, leader_name="Mette Hansen", kind="daycare", district="Nord",
                         time=dt.time(13, 0))
    with Session(engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.kind == "kv")).one()
    move_planned_meeting(ctx=admin, meeting_id=meeting.id or 0, new_date=D(2027, 1, 12), reason="Sygdom",
                         today=D(2026, 11, 20))
    submit_kv_topic(Ctx(engine=engine, profile=ctx.profile, actor=LEADER),
                    KVTopicIn(institution="Børnehuset Solsikken", session_date=D(2027, 1, 12),
                              text="Overgange i garderoben"), today=D(2026, 12, 2))
    day = D(2026, 12, 2)
    while day <= D(2027, 1, 11):
        run_sweep(engine, ctx.profile, today=day)
        day += dt.timedelta(days=1)
    with Session(engine) as session:
        lists = session.exec(select(OutboxMessage).where(OutboxMessage.template == "kv_topic_list")).all()
    assert len(lists) == 1 and "Overgange i garderoben" in lists[0].body_text
