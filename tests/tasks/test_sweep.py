"""The daily sweep over a realistic mix of deadlines: running it twice queues nothing new."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, select

from pprflow.models.rules_kv import KVTopicIn
from pprflow.models.tables import OutboxMessage
from pprflow.tasks.intake import submit_referral
from pprflow.tasks.kv import schedule_kv_sessions, submit_kv_topic
from pprflow.tasks.ppr import assign_case, schedule_district_meetings
from pprflow.tasks.sweep import sweep
from tests import referral_data as rd
from tests.factories import as_admin

D = dt.date


def total(engine) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(OutboxMessage)).one())


def test_every_day_for_two_months_a_second_sweep_queues_nothing_new(ctx) -> None:
    start = D(2026, 11, 23)
    schedule_district_meetings(as_admin(ctx), district="Nord", start=start, count=5, today=start)
    schedule_kv_sessions(as_admin(ctx), institution="Børnehuset Solsikken", start=D(2026, 12, 1), count=2,
                         leader_email="mette@solsikken.example", kind="daycare", district="Nord")
    individual = submit_referral(ctx, rd.referral(), today=start)
    submit_referral(ctx, rd.referral("ppr_learning_environment"), today=start)
    submit_referral(ctx, rd.referral("ppv", suspected_abuse=True), today=start)
    submit_kv_topic(ctx, KVTopicIn(institution="Børnehuset Solsikken", session_date=D(2026, 12, 1),
                                   text="Overgange"), today=start)
    kinds: dict[str, int] = {}
    day = start
    while day <= D(2027, 1, 22):
        if day == D(2026, 11, 26):
            assign_case(ctx, case_id=individual.case_id, to_email="karin@ppr.example", today=day)
        start_total = total(ctx.engine)
        first = sweep(as_admin(ctx), today=day)
        before = total(ctx.engine)
        assert before - start_total == first["queued"], ("every queued message is counted once", day)
        second = sweep(as_admin(ctx), today=day)
        assert second["queued"] == 0 and total(ctx.engine) == before, day
        for kind, n in first["handled"].items():
            kinds[kind] = kinds.get(kind, 0) + n
        day += dt.timedelta(days=1)
    assert {"district_case_list", "district_assignment", "startup_meeting_reminder", "kv_notice_reminder",
            "kv_topic_list", "acknowledgement_overdue"} <= set(kinds)
    with Session(ctx.engine) as session:  # not the UNIQUE keys: one reminder per deadline and recipient
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.template.in_(  # type: ignore[attr-defined]
            ["startup_meeting_reminder", "kv_notice_reminder"]))).all()
        per_deadline = Counter((m.template, m.case_id, m.to.strip().lower(), m.subject) for m in rows)
        assert per_deadline and max(per_deadline.values()) == 1, per_deadline
