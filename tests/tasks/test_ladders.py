"""Issue 17: one escalation ladder for every deadline kind a person must meet (CAL-6 review, LAW-2
acknowledgement, PATH-4 start-up meeting, KV-1/CAL-3 topics; CAL-10 working days).

After the last rung the deadline's handler stops running: the sweep runs on 30 consecutive days and the
handler is called only on the days a rung (or the notice at the deadline) is due — no daily work, no growing
count, no more mail — while the deadline stays open and overdue until the thing it waits for happens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.rules_deadlines import LADDER_END, escalation_day
from pprflow.models.tables import AuditEvent, Deadline, OutboxMessage
from pprflow.tasks import deadlines as deadlines_module
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import load_handlers, run_sweep
from pprflow.tasks.escalation import ladder
from tests import referral_data as rd
from tests.factories import as_admin, case_with_parents

D = dt.date


def _review(ctx: Ctx) -> int:
    from tests.tasks.test_escalation import _level_4_case

    _level_4_case(ctx, ctx.engine)
    return 0


def _acknowledgement(ctx: Ctx) -> int:
    from pprflow.tasks.abuse import report_abuse

    with Session(ctx.engine) as session:
        case = case_with_parents(session, level=2, coordinator="laerer@skole.example")
        session.commit()
        case_id = case.id or 0
    report_abuse(ctx=ctx, case_id=case_id, today=D(2026, 11, 24))
    return 0


def _startup(ctx: Ctx) -> int:
    from pprflow.tasks.intake import submit_referral
    from pprflow.tasks.ppr import assign_case

    case = submit_referral(ctx, rd.referral(), today=D(2026, 11, 23))
    assign_case(as_admin(ctx), case_id=case.case_id, to_email="karin@ppr.example", today=D(2026, 11, 26))
    return 0


def _kv(ctx: Ctx) -> int:
    from pprflow.tasks.kv import schedule_kv_sessions

    schedule_kv_sessions(as_admin(ctx), institution="Børnehuset Solsikken", start=D(2026, 12, 1), count=1,
                         leader_email="mette@solsikken.example", leader_name="Mette Hansen", kind="daycare",
                         district="Nord", time=dt.time(13, 0))
    return 0


SETUPS: dict[str, tuple[Callable[[Ctx], int], str]] = {
    "review_overdue": (_review, "randers"),
    "acknowledgement_overdue": (_acknowledgement, "randers"),
    "startup_meeting_reminder": (_startup, "vejle"),
    "kv_topic_list": (_kv, "vejle"),
}


@pytest.mark.parametrize("kind", sorted(SETUPS))
def test_after_the_last_rung_the_sweep_leaves_the_deadline_alone_on_30_days_CAL_6_LAW_2_KV_1_CAL_10(
        kind: str, engine: Engine, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    setup, profile_name = SETUPS[kind]
    ctx: Ctx = request.getfixturevalue("rctx" if profile_name == "randers" else "ctx")
    setup(ctx)
    with Session(engine) as session:
        deadline = session.exec(select(Deadline).where(Deadline.kind == kind)).one()
    calendar = WorkingCalendar.for_profile(ctx.profile)
    steps = ladder(ctx.profile, kind)
    rung_days = [escalation_day(calendar, deadline.due_on, s.after_working_days) for s in steps]

    calls: list[dt.date] = []
    original = load_handlers()[kind]

    def counting(session: Session, row: Deadline, sweep: Any) -> bool:
        calls.append(sweep.today)
        return original(session, row, sweep)

    monkeypatch.setitem(deadlines_module.HANDLERS, kind, counting)
    mail_per_day: dict[dt.date, int] = {}
    start = deadline.remind_on
    days = [start + dt.timedelta(days=i) for i in range(30)]
    assert days[-1] > rung_days[-1] or kind == "kv_topic_list"
    for day in days:
        report = run_sweep(engine, ctx.profile, today=day)
        assert not report.stuck, report.stuck
        with Session(engine) as session:
            mail_per_day[day] = session.exec(select(func.count()).select_from(OutboxMessage)).one()

    # the handler ran on the deadline's day and on the rung days only, never every day
    ends = [] if kind != "kv_topic_list" else [D(2026, 12, 1)]  # KV: closed on the session's day
    assert len(calls) <= len(steps) + 1 + len(ends), calls
    assert all(calendar.is_working_day(d) for d in calls), "CAL-10: only on working days"
    assert set(calls) <= {start, *rung_days, *ends}, (calls, rung_days)
    last = max(calls)
    assert all(mail_per_day[d] == mail_per_day[last] for d in days if d >= last), "no more mail after it"
    with Session(engine) as session:
        stored = session.get(Deadline, deadline.id)
        assert stored is not None
        rungs = session.exec(select(AuditEvent).where(AuditEvent.entity == "deadline",
                                                      AuditEvent.entity_id == deadline.id)).all()
    if kind == "kv_topic_list":
        # KV-1: no topic came; the ladder climbs until the session's day, then nothing is awaited any more
        assert stored.done_at is not None and len(rungs) == len(steps)
        return
    assert stored.done_at is None, "overdue stays overdue until the thing it waits for happens"
    assert stored.escalation_step == len(steps) and stored.remind_on == LADDER_END
    assert len(rungs) == len(steps), "each rung recorded once"
    assert [o["kind"] for o in report.overdue if o["deadline_id"] == deadline.id] == [kind], "still visible"


def test_a_notification_in_flight_at_the_upgrade_keeps_its_rungs_LAW_2(rctx: Ctx, engine: Engine) -> None:
    """LAW-2: before issue 17 a notification pinned one deadline per rung; the leader's row closed after its
    mail. Rows like that still in a database climb the ladder from their own rung: the coordinator and the top
    are each told once, and the last row stays overdue until the acknowledgement."""
    from pprflow.models.abuse import ACKNOWLEDGEMENT_KINDS
    from pprflow.models.types import utcnow
    from pprflow.tasks.abuse import report_abuse

    with Session(engine) as session:
        case = case_with_parents(session, level=2, coordinator="leder@skole.example")  # the school's leader
        case.coordinator_email = "laerer@skole.example"  # a teacher coordinates
        session.add(case)
        session.commit()
        case_id = case.id or 0
    report_abuse(ctx=rctx, case_id=case_id, today=D(2026, 11, 24))
    calendar = WorkingCalendar.for_profile(rctx.profile)
    with Session(engine) as session:  # as tasks/abuse.py pinned them before issue 17
        (row,) = session.exec(select(Deadline).where(Deadline.rule_id == "LAW-2")).all()
        row.done_at = utcnow()  # the leader was told and the row closed
        session.add(row)
        for step, kind in enumerate(ACKNOWLEDGEMENT_KINDS[1:], start=2):
            session.add(Deadline(kind=kind, rule_id="LAW-2", subject_key=row.subject_key, due_on=row.due_on,
                                 remind_on=calendar.add_working_days(row.due_on, step), case_id=case_id))
        session.commit()
        due = row.due_on
    for day in calendar.working_days(due, due + dt.timedelta(days=30)):
        report = run_sweep(engine, rctx.profile, today=day)
        assert not report.stuck, report.stuck
    with Session(engine) as session:
        told = session.exec(select(OutboxMessage.to).where(OutboxMessage.template == "acknowledgement_overdue")).all()
        rows = session.exec(select(Deadline).where(Deadline.rule_id == "LAW-2", col(Deadline.done_at).is_(None))).all()
    # the coordinator, then Randers' placeholder top -> the PPR mailbox; each once, never a parent
    assert told == ["laerer@skole.example", "ppr@randers.invalid"]
    assert [r.kind for r in rows] == ["acknowledgement_overdue_escalation"] and rows[0].remind_on == LADDER_END
