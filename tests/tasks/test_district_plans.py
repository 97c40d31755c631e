"""Issue 17, plans never run out (CAL-5, PATH-4): the daily sweep keeps district meetings planned ahead on the
profile's cadence; a case whose district has no meeting ahead, or that waited N meetings unassigned, is an
alert to its coordinator, once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from pprflow.models.tables import AuditEvent, Case, Meeting, OutboxMessage
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.intake import submit_referral
from pprflow.tasks.ppr import schedule_district_meetings
from pprflow.tasks.sweep import sweep
from tests import referral_data as rd
from tests.factories import as_admin

D = dt.date
MONDAY = D(2026, 11, 23)


def _job(ctx: Ctx) -> Ctx:
    return Ctx(engine=ctx.engine, profile=ctx.profile, actor="system:sweep")


def _district_dates(ctx: Ctx) -> list[tuple[str, bool]]:
    with Session(ctx.engine) as session:
        return [(m.date.isoformat(), m.flagged_closed_day) for m in session.exec(
            select(Meeting).where(Meeting.kind == "district", Meeting.district == "Nord")
            .order_by(col(Meeting.date))).all()]


def _alerts(ctx: Ctx) -> list[OutboxMessage]:
    with Session(ctx.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.template == "district_waiting")
                                 .order_by(col(OutboxMessage.id))).all())


def test_the_daily_sweep_keeps_district_meetings_planned_ahead_on_the_cadence_CAL_5(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=2, today=MONDAY)
    assert _district_dates(ctx) == [("2026-11-26", False), ("2026-12-10", False)]
    report = sweep(_job(ctx), today=D(2026, 12, 14))  # 8 weeks ahead (Vejle: plan_ahead_weeks) = 2027-02-08
    assert report["district_meetings_planned"] == {"Nord": ["2026-12-28", "2027-01-07", "2027-01-21", "2027-02-04"]}
    assert _district_dates(ctx)[2:] == [("2026-12-28", True),  # 24 Dec is Vejle's closed day: moved, flagged
                                        ("2027-01-07", False), ("2027-01-21", False), ("2027-02-04", False)]
    assert sweep(_job(ctx), today=D(2026, 12, 15))["district_meetings_planned"] == {}, "idempotent"


def test_an_administrators_single_date_change_is_kept_CAL_5(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=4, today=MONDAY)
    with Session(ctx.engine) as session:  # the administrator moved 7 Jan to Wednesday 6 Jan
        moved = session.exec(select(Meeting).where(Meeting.date == D(2027, 1, 7))).one()
        moved.date = D(2027, 1, 6)
        session.add(moved)
        session.commit()
    sweep(_job(ctx), today=D(2026, 12, 14))
    dates = [d for d, _ in _district_dates(ctx)]
    assert "2027-01-06" in dates and "2027-01-07" not in dates, "the moved date is not planned again"
    assert dates[-1] == "2027-02-04", "the rhythm continues after it"


def test_a_case_whose_district_has_no_meeting_ahead_alerts_its_coordinator_once_PATH_4(ctx) -> None:
    case = submit_referral(ctx, rd.referral(), today=MONDAY)  # no district meeting was ever planned
    with Session(ctx.engine) as session:
        row = session.get(Case, case.case_id)
        assert row is not None
        coordinator = row.coordinator_email or ""
    first = sweep(_job(ctx), today=D(2026, 11, 24))
    assert [(m.to, m.case_id) for m in _alerts(ctx)] == [(coordinator, case.case_id)]
    assert "ikke planlagt noget distriktsmøde" in _alerts(ctx)[0].body_text
    assert [o["case_id"] for o in first["overdue_deadlines"]] == [case.case_id], "overdue until a meeting exists"
    for day in (D(2026, 11, 25), D(2026, 11, 26), D(2026, 11, 27)):
        sweep(_job(ctx), today=day)
    assert len(_alerts(ctx)) == 1, "once"
    with Session(ctx.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.entity == "alert")).all()
    assert [e.detail["reason"] for e in events] == ["no_meeting"]


def test_a_case_that_waited_two_meetings_unassigned_alerts_its_coordinator_once_PATH_4(ctx) -> None:
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=4, today=MONDAY)
    case = submit_referral(ctx, rd.referral(), today=MONDAY)
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 11, 27))  # 26 Nov passed unassigned: waited 1
    assert _alerts(ctx) == []
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 11))  # 10 Dec passed unassigned: waited 2 (Vejle: 2)
    alerts = _alerts(ctx)
    assert [a.case_id for a in alerts] == [case.case_id] and "2 distriktsmøder" in alerts[0].body_text
    run_sweep(ctx.engine, ctx.profile, today=D(2026, 12, 29))  # a third meeting passes: still one alert
    assert len(_alerts(ctx)) == 1


@pytest.mark.postgres
def test_two_overlapping_sweeps_plan_each_district_meeting_once_CAL_5(pg_engine, vejle,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """CAL-5/doubles: the automation re-runs a late sweep while the first still runs (deployments/automations.py);
    both read the district's meetings before either stored the new ones, so each stored them: two meetings per
    date, two case lists to the team. The two runs are made to overlap at that point (a barrier; with the fix the
    second run waits for the first instead, and the barrier simply times out)."""
    import threading

    import pprflow.tasks.ppr as ppr
    from pprflow.tasks.ppr import keep_district_meetings_ahead
    from tests.factories import directory

    directory(pg_engine)
    ctx = Ctx(engine=pg_engine, profile=vejle, actor="leder@skole.example")
    schedule_district_meetings(as_admin(ctx), district="Nord", start=MONDAY, count=2, today=MONDAY)
    barrier = threading.Barrier(2, timeout=3)
    real_plan = ppr.plan_district_meetings

    def plan_after_both_have_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(ppr, "plan_district_meetings", plan_after_both_have_read)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            keep_district_meetings_ahead(pg_engine, vejle, today=D(2026, 12, 14), actor="system:sweep")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    dates = [d for d, _ in _district_dates(ctx)]
    assert len(dates) == len(set(dates)) == 6, dates
