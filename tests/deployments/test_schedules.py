"""CAL-9: every schedule runs exactly once on each day it names, across both 2026 summer-time switches.

Prefect's own schedule objects compute the run times (no waiting): the deployments' cron schedules
in Europe/Copenhagen must give, day by day, exactly the wall-clock times the cron names — the same
times the cron gives in a zone without summer time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest

from pprflow.deployments.catalogue import (
    DST_UNSAFE_HOURS,
    SCHEDULED,
    cron_hours,
    delivery_crons,
    retention_crons,
    schedules_for,
    sweep_crons,
)

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# Summer time starts Sun 29 Mar 2026 (02:00 -> 03:00) and ends Sun 25 Oct 2026 (03:00 -> 02:00).
SWITCH_WEEKS = [(dt.date(2026, 3, 23), dt.date(2026, 4, 5)), (dt.date(2026, 10, 19), dt.date(2026, 11, 1))]


def run_times(cron: str, timezone: str, first: dt.date, last: dt.date) -> list[dt.datetime]:
    """The run times Prefect's server-side scheduler computes for a cron schedule, as local wall-clock times."""
    from prefect.server.schemas.schedules import CronSchedule

    tz = ZoneInfo(timezone)
    schedule = CronSchedule(cron=cron, timezone=timezone)
    times: list[dt.datetime] = []
    for day in days(first, last):  # a day at a time: get_dates checks at most 1000 candidates per call
        start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz) - dt.timedelta(seconds=1)
        times += [d.astimezone(tz).replace(tzinfo=None) for d in asyncio.run(schedule.get_dates(start=start, end=end))]
    return times


def per_day(times: list[dt.datetime]) -> dict[dt.date, list[dt.time]]:
    days: dict[dt.date, list[dt.time]] = defaultdict(list)
    for t in times:
        days[t.date()].append(t.time())
    return days


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.mark.parametrize(("first", "last"), SWITCH_WEEKS, ids=["march", "october"])
def test_cal9_sweep_runs_exactly_once_each_weekday_at_0630_across_the_switch(vejle, first, last) -> None:
    (schedule,) = schedules_for(next(p for p in SCHEDULED if p.name == "arbejdsdage-0630"), vejle)
    assert schedule.timezone == "Europe/Copenhagen"
    runs = per_day(run_times(schedule.cron or "", "Europe/Copenhagen", first, last))
    for day in days(first, last):
        expected = [dt.time(6, 30)] if day.weekday() < 5 else []
        assert runs.get(day, []) == expected, day


@pytest.mark.parametrize(("first", "last"), SWITCH_WEEKS, ids=["march", "october"])
def test_cal9_retention_runs_once_on_the_switch_sundays(vejle, first, last) -> None:
    (cron,) = retention_crons(vejle)
    runs = per_day(run_times(cron, "Europe/Copenhagen", first, last))
    sundays = [d for d in days(first, last) if d.weekday() == 6]
    assert dt.date(2026, 3, 29) in sundays or dt.date(2026, 10, 25) in sundays
    assert {d: runs[d] for d in sundays} == {d: [dt.time(5, 0)] for d in sundays}
    assert sorted(runs) == sundays


@pytest.mark.parametrize(("first", "last"), SWITCH_WEEKS, ids=["march", "october"])
def test_cal9_delivery_every_five_minutes_in_working_hours_neither_lost_nor_doubled(vejle, first, last) -> None:
    (cron,) = delivery_crons(vejle)
    runs = per_day(run_times(cron, "Europe/Copenhagen", first, last))
    slots = [dt.time(h, m) for h in range(7, 18) for m in range(0, 60, 5)]
    for day in days(first, last):
        assert runs.get(day, []) == (slots if day.weekday() < 5 else []), day


@pytest.mark.parametrize("profile_name", ["vejle", "randers"])
@pytest.mark.parametrize(("first", "last"), SWITCH_WEEKS, ids=["march", "october"])
def test_cal9_every_planned_schedule_keeps_its_wall_clock_times(profile_name, first, last) -> None:
    """Each day's local run times equal the cron's times in a zone without summer time: none lost, none doubled."""
    from pprflow.profiles import load_profile

    profile = load_profile(profile_name)
    for plan in SCHEDULED:
        for schedule in schedules_for(plan, profile):
            assert schedule.timezone == profile.timezone == "Europe/Copenhagen"
            if schedule.cron is None:  # the urgent lane's interval: see the test below
                assert schedule.interval is not None, plan.name
                continue
            local = run_times(schedule.cron or "", profile.timezone, first, last)
            wall_clock = run_times(schedule.cron or "", "UTC", first, last)
            assert local == wall_clock, plan.name
            assert not [t for t, n in Counter(local).items() if n > 1], plan.name


def test_cal9_no_schedule_in_the_hour_summer_time_skips_or_repeats(vejle, randers) -> None:
    for profile in (vejle, randers):
        for plan in SCHEDULED:
            for cron in plan.crons(profile):
                assert not cron_hours(cron) & DST_UNSAFE_HOURS, (plan.name, cron)


def test_cal9_a_0230_schedule_would_be_wrong_on_29_march(vejle) -> None:
    """Why the guard exists: Prefect moves a 02:30 run on the March switch day to 01:30."""
    runs = per_day(run_times("30 2 * * *", "Europe/Copenhagen", dt.date(2026, 3, 28), dt.date(2026, 3, 30)))
    assert runs[dt.date(2026, 3, 29)] != [dt.time(2, 30)]
    assert cron_hours("30 2 * * *") & DST_UNSAFE_HOURS


def test_sweep_and_delivery_crons_are_weekdays_in_working_hours(vejle) -> None:
    assert sweep_crons(vejle) == ["30 6 * * 1-5"]
    assert delivery_crons(vejle) == ["*/5 7-17 * * 1-5"]
    assert cron_hours("*/5 7-17 * * 1-5") == set(range(7, 18))


def test_esc1_the_urgent_lane_runs_every_minute_all_day_every_day_one_run_at_a_time(vejle) -> None:
    """ESC-1/LAW-1: the abuse notification is delivered at once, also on a Friday evening and at 02:30 on
    the summer-time switch: an interval of one minute, not a working-hours cron."""
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    from pprflow.deployments.catalogue import build_catalogue

    plan = next(p for p in SCHEDULED if p.name == "underretning-straks")
    (schedule,) = schedules_for(plan, vejle)
    assert schedule.interval == dt.timedelta(minutes=1) and schedule.cron is None
    assert plan.concurrency_limit == 1
    catalogue = build_catalogue(vejle, only=["udbakke-straks", "udbakke-afsendelse"])
    by_name = {d.name: d for d in catalogue.deployments}
    assert set(by_name) == {"underretning-straks", "hvert-5-minut-i-arbejdstiden"}
    for deployment in by_name.values():  # the second guard against overlapping delivery runs
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options is not None
        assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
