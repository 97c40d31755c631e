"""Inside PPR: district meetings (distriktsmøder, CAL-5) and the start of a case (PATH-4) [001].

Pure: dates and settings in, dates out. No database, no Prefect, no mail.

"Sagen drøftes på distriktsmøde, som afholdes hver 2 uge. Der laves konkret aftaler om hvilken
PPR-medarbejder der starter sagen." → "PPR-medarbejder henvender sig til skole/dagtilbud og aftaler
opstartsmøde" [001].
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.referral import PPR_PATHWAYS

MAX_MEETINGS_PER_CALL = 52
"""Two years of fortnightly meetings: enough for any plan, small enough to catch a typo like 500."""

CASE_LIST_WORKING_DAYS_BEFORE = 1
"""The list of new cases goes to the district's PPR team 1 working day before the meeting."""


@dataclass(frozen=True)
class PlannedMeeting:
    """One district meeting of a plan (CAL-5)."""

    planned: dt.date
    """The date the cadence gives."""
    held_on: dt.date
    """The date it is stored and held on: the planned date, or the next working day if that is closed."""

    @property
    def moved(self) -> bool:
        return self.held_on != self.planned


def plan_district_meetings(calendar: WorkingCalendar, *, start: dt.date, count: int, weekday: str,
                           cadence_weeks: int) -> list[PlannedMeeting]:
    """CAL-5: `count` district meetings every `cadence_weeks` weeks on the profile's weekday, the
    first on or after `start`.

    A meeting that would fall on a closed day (holiday, profile closed day) is never silently held
    on it: it is stored MOVED to the next working day and flagged (`Meeting.flagged_closed_day`),
    and the command's output says so. Moving rather than refusing keeps the fortnightly rhythm that
    new cases depend on: a case never waits a month because Ascension Day fell on a Thursday.
    """
    if not 1 <= count <= MAX_MEETINGS_PER_CALL:
        raise InvalidInput(f"count must be 1 to {MAX_MEETINGS_PER_CALL}, got {count}", rule_id="CAL-5")
    sessions = calendar.district_meetings(start, count, weekday, cadence_weeks)
    return [PlannedMeeting(planned=s.date, held_on=s.effective) for s in sessions]


def case_list_day(calendar: WorkingCalendar, meeting_date: dt.date) -> dt.date:
    """The day the list of new cases goes to the district team: 1 working day before the meeting."""
    return calendar.add_working_days(meeting_date, -CASE_LIST_WORKING_DAYS_BEFORE)


def startup_meeting_due(calendar: WorkingCalendar, assigned_on: dt.date, lead_working_days: int) -> dt.date:
    """PATH-4: the PPR employee arranges the start-up meeting (opstartsmøde); if none is scheduled
    within the profile's lead time (working days after the assignment), they are reminded."""
    if lead_working_days < 1:
        raise InvalidInput(f"startup_meeting_lead_working_days must be at least 1, got {lead_working_days}",
                           rule_id="PATH-4")
    return calendar.add_working_days(assigned_on, lead_working_days)


def check_assignable(*, pathway: str, status: str, case_id: int) -> None:
    """PATH-4: the district meeting distributes PPR requests; only an open PPR case can be assigned."""
    if pathway not in PPR_PATHWAYS:
        raise RuleViolation(
            "PATH-4", f"case {case_id} is on the {pathway} pathway: only requests to PPR are distributed at "
                      "the district meeting")
    if status != "open":
        raise RuleViolation("PATH-4", f"case {case_id} is {status}: only an open case can be assigned")
