"""CAL-10: every reminder day and every act-by day falls on a working day of the profile's calendar.

Exhaustive, not sampled: every deadline kind, every day of 2026–2028, both shipped profiles. The rule
functions that compute a reminder day (CAL-2, CAL-3, CAL-5, CAL-6, CAL-7, LAW-2, PATH-4) must already
give a working day; `reminder_day` (the one function `pin_deadline` routes every stored day through)
must turn *any* day into one, on the right side of what it serves.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.rules_deadlines import DEADLINE_KINDS, act_by, kind_label, reminder_day
from pprflow.models.rules_kv import notice_reminder_day, topic_list_day
from pprflow.models.rules_levels import review_dates
from pprflow.models.rules_meetings import agenda_dates
from pprflow.models.rules_ppr import case_list_day, startup_meeting_due
from pprflow.profiles import load_profile
from pprflow.tasks.deadlines import load_handlers, pin_deadline

PROFILES = ("vejle", "randers")
FIRST, LAST = dt.date(2026, 1, 1), dt.date(2028, 12, 31)
EVERY_DAY = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def _calendar(name: str) -> WorkingCalendar:
    return WorkingCalendar.for_profile(load_profile(name))


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("kind", [*sorted(DEADLINE_KINDS), "a_kind_nobody_registered"])
def test_every_reminder_day_of_every_kind_is_a_working_day_2026_2028_CAL_10(name: str, kind: str) -> None:
    calendar = _calendar(name)
    known = DEADLINE_KINDS.get(kind)
    after = known is not None and known.side == "after"
    for day in EVERY_DAY:
        remind = reminder_day(calendar, kind, day)
        assert calendar.is_working_day(remind), f"{kind} on {day} -> {remind}, a closed day ({name})"
        if calendar.is_working_day(day):
            assert remind == day, "a working day is kept"
        elif after:  # a notice after what it serves: never earlier than it, the first working day after
            assert remind > day and not any(calendar.is_working_day(day + dt.timedelta(days=i))
                                            for i in range(1, (remind - day).days))
        else:  # a reminder ahead: never later (nobody loses notice), the last working day before
            assert remind < day and not any(calendar.is_working_day(day - dt.timedelta(days=i))
                                            for i in range(1, (day - remind).days))


@pytest.mark.parametrize("name", PROFILES)
def test_every_rule_computes_working_reminder_and_act_by_days_2026_2028_CAL_10(name: str) -> None:
    """The rule functions themselves land on working days, for a trigger on every day of 2026–2028:
    KV notice and topic list (CAL-3), agenda and its reminder (CAL-2), district case list (CAL-5),
    half-year review reminder, overdue notice and act-by day (CAL-6), investigation act-by (CAL-7),
    the acknowledgement ladder (LAW-2), the start-up meeting reminder (PATH-4)."""
    profile = load_profile(name)
    calendar = _calendar(name)
    closed_seen = 0
    for day in EVERY_DAY:
        closed_seen += calendar.is_closed_day(day)
        notice = calendar.kv_notice_deadline(day, profile.kv.notice_days)
        dates = review_dates(calendar, start=day, months=profile.review.months,
                             reminder_days=profile.review.reminder_days)
        agenda = agenda_dates(calendar, meeting_date=day, today=dt.date(2025, 12, 1),
                              working_days=profile.meetings.agenda_working_days,
                              reminder_working_days=profile.meetings.agenda_reminder_working_days)
        ack_due = calendar.acknowledgement_due(day, profile.notification.acknowledgement_working_days)
        days = {
            "kv notice (CAL-3)": notice,
            "kv notice reminder (CAL-3)": notice_reminder_day(calendar, notice, profile.kv.reminder_days_before_notice),
            "kv topic list (CAL-3)": topic_list_day(calendar, notice),
            "agenda deadline (CAL-2)": agenda.deadline,
            "agenda reminder (CAL-2)": agenda.remind_leader_on,
            "district case list (CAL-5)": case_list_day(calendar, day),
            "review reminder (CAL-6)": dates.remind_on,
            "review overdue (CAL-6)": dates.overdue_on,
            "review act-by (CAL-6)": act_by(calendar, dates.due),
            "investigation act-by (CAL-7)": act_by(calendar, day),
            "acknowledgement due (LAW-2)": ack_due,
            **{f"acknowledgement ladder step {s} (LAW-2)": calendar.add_working_days(ack_due, s) for s in (1, 2, 3)},
            "start-up meeting (PATH-4)": startup_meeting_due(
                calendar, day, profile.meetings.startup_meeting_lead_working_days),
        }
        for what, when in days.items():
            assert calendar.is_working_day(when), f"{what} for {day}: {when} is a closed day ({name})"
        assert topic_list_day(calendar, notice) > notice, "the list follows the notice deadline (CAL-3)"
        assert act_by(calendar, dates.due) <= dates.due
        assert dates.remind_on < dates.overdue_on
    assert closed_seen > 3 * 104, "the run covered weekends and holidays (a test that cannot fail is a defect)"


def test_every_kind_a_pathway_handles_is_listed_with_a_danish_label_CAL_10() -> None:
    """A handler registered for a kind not in DEADLINE_KINDS would fall back to the default side and an
    English-free but vague label; the two lists must agree."""
    handled = set(load_handlers())
    assert handled <= set(DEADLINE_KINDS), f"kinds without an entry: {sorted(handled - set(DEADLINE_KINDS))}"
    for kind in DEADLINE_KINDS:
        assert "_" not in kind_label(kind) and kind_label(kind)[0].isupper()


@pytest.mark.parametrize(("kind", "stored"), [
    ("kv_topic_list", dt.date(2026, 12, 7)),  # issue 17: 'planlagt 2026-12-05' was a Saturday → Monday
    ("review_reminder", dt.date(2026, 12, 4)),  # a reminder ahead moves back to Friday
    ("acknowledgement_overdue", dt.date(2026, 12, 7)),
])
def test_pin_deadline_never_stores_a_closed_reminder_day_CAL_10(engine, vejle, kind: str,  # type: ignore[no-untyped-def]
                                                                stored: dt.date) -> None:
    saturday = dt.date(2026, 12, 5)
    with Session(engine) as session:
        row = pin_deadline(session, calendar=WorkingCalendar.for_profile(vejle), kind=kind,
                           rule_id=DEADLINE_KINDS[kind].rule_id, subject_key="case:1", due_on=saturday,
                           remind_on=saturday)
        session.commit()
        assert row.remind_on == stored
