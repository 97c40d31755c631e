"""Every deadline kind pprflow pins, as data, and the one function every reminder day passes through.

CAL-10: every day on which a person is reminded or asked to act falls on a working day of the
profile's calendar (CAL-1). `reminder_day` is the single place that guarantees it: `pin_deadline`
(tasks/deadlines.py) routes every stored reminder day through it, so no pathway can store a
Saturday, whatever arithmetic it did first. A deadline counted in calendar days (CAL-3, CAL-6, CAL-7)
keeps its legal date and is shown with `act_by`, the working day to act on before it.

Issue 17: each kind also carries its Danish label (dashboard, daily summary) and what closes it.

Pure: dates and settings in, dates out. No database, no Prefect, no mail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pprflow.models.calendar import WorkingCalendar

__all__ = ["DEADLINE_KINDS", "DEFAULT_LADDERS", "ESCALATING_KINDS", "LADDER_END", "LADDER_KINDS", "DeadlineKind",
           "Side", "act_by", "deadline_kind", "escalation_day",
           "kind_label", "reminder_day"]

Side = Literal["before", "after"]
"""Where a reminder day lies relative to what it serves (CAL-10):

* ``before`` — a reminder ahead of an act-by day (or the act-by day itself): a closed day moves
  *earlier*, so the person still has the time the rule promises;
* ``after`` — a notice once something has happened or passed (the topic list after the notice
  deadline, an overdue notice): a closed day moves *later*, never before the thing it reports.
"""


@dataclass(frozen=True)
class DeadlineKind:
    """One kind of pinned deadline (frist): its rule, its Danish label, its side, what closes it."""

    kind: str
    rule_id: str
    label: str
    side: Side
    awaits: str
    calendar_days: bool = False
    """The due date is counted in calendar days or months (CAL-3, CAL-6, CAL-7): shown with `act_by`."""


DEADLINE_KINDS: dict[str, DeadlineKind] = {k.kind: k for k in (
    DeadlineKind("agenda_deadline_reminder", "CAL-2", "Dagsorden: påmindelse til mødeleder", "before",
                 "dagsordenen er sendt"),
    DeadlineKind("network_agenda", "CAL-2", "Dagsorden sendes", "before", "dagsordenen er sendt"),
    DeadlineKind("kv_notice_reminder", "CAL-3", "KV: emner senest (varsel)", "before", "emnet er meldt",
                 calendar_days=True),
    # issue 17: still open after the list went out only when no topic came (KV-1 ladder): "emner" says what is missed
    DeadlineKind("kv_topic_list", "CAL-3", "KV: emner til PPR", "after", "der er meldt emner"),
    DeadlineKind("district_case_list", "CAL-5", "Distriktsmøde: sagsliste", "before", "sagslisten er sendt"),
    DeadlineKind("district_assignment", "PATH-4", "Distriktsmøde: fordeling", "after",
                 "sagen er fordelt til en PPR-medarbejder"),
    DeadlineKind("startup_meeting_reminder", "PATH-4", "Opstartsmøde aftales", "after", "opstartsmødet er aftalt"),
    DeadlineKind("review_reminder", "CAL-6", "Halvårsvurdering: påmindelse", "before", "vurderingen er registreret",
                 calendar_days=True),
    DeadlineKind("review_overdue", "CAL-6", "Halvårsvurdering", "after", "vurderingen er registreret",
                 calendar_days=True),
    DeadlineKind("acknowledgement_overdue", "LAW-2", "Kvittering for underretning", "after",
                 "kvitteringen er modtaget"),
    # pinned before issue 17 (one row per rung); a database may still hold them, so they keep their labels
    DeadlineKind("acknowledgement_overdue_coordinator", "LAW-2", "Kvittering for underretning: tovholder", "after",
                 "kvitteringen er modtaget"),
    DeadlineKind("acknowledgement_overdue_escalation", "LAW-2", "Kvittering for underretning: eskalering", "after",
                 "kvitteringen er modtaget"),
    DeadlineKind("investigation_due", "CAL-7", "Børnefaglig undersøgelse", "after", "fristen er nået",
                 calendar_days=True),
)}
"""Every kind a pathway pins (tasks/*.py registers one handler per kind; a test checks both lists agree)."""

_DEFAULT_SIDE: Side = "before"


def deadline_kind(kind: str) -> DeadlineKind | None:
    return DEADLINE_KINDS.get(kind)


def kind_label(kind: str, rule_id: str | None = None) -> str:
    """The Danish label of a deadline kind; an unknown kind shows its rule id, never English words."""
    known = DEADLINE_KINDS.get(kind)
    if known is not None:
        return known.label
    return f"Frist ({rule_id})" if rule_id else "Frist"


def reminder_day(calendar: WorkingCalendar, kind: str, day: dt.date) -> dt.date:
    """CAL-10: the working day on which a reminder or notice of `kind` computed for `day` is sent.

    A working day is kept. A closed day (weekend, holiday, profile closed day, CAL-1) moves earlier
    for a reminder ahead of what it serves and later for a notice after it (see `Side`). An unknown
    kind is treated as a reminder ahead (earlier: nobody loses notice). The result is always a
    working day of `calendar`.
    """
    known = DEADLINE_KINDS.get(kind)
    side = known.side if known is not None else _DEFAULT_SIDE
    if side == "after":
        return calendar.next_working_day(day)
    return calendar.previous_working_day(day)


def act_by(calendar: WorkingCalendar, due: dt.date) -> dt.date:
    """CAL-10: the working day to act on for a deadline `due` counted in calendar days (CAL-3, CAL-6,
    CAL-7): the due day itself when it is a working day, else the working day before it."""
    return calendar.previous_working_day(due)


LADDER_KINDS: dict[str, str] = {
    "review_overdue": "CAL-6",
    "acknowledgement_overdue": "LAW-2",
    "startup_meeting_reminder": "PATH-4",
    "kv_topic_list": "KV-1",
}
"""Issue 17: the deadline kinds a person must meet whose miss climbs an escalation ladder (profile
`[escalation] ladders.<kind>`), with the rule each enforces. One mechanism for all (tasks/escalation.py
`climb`): the kind's own reminder before, its notice at the deadline, then each rung once.

CAL-2's agenda is not here: at its deadline the sweep sends the agenda itself (tasks/meetings.py), so
nothing waits for a person after it."""

ESCALATING_KINDS: frozenset[str] = frozenset(LADDER_KINDS)

DEFAULT_LADDERS: dict[str, tuple[tuple[int, str], ...]] = {
    # CAL-6 + issue 17: the profiles' ladder (leader, coordinator, the PPR / family-centre leader)
    "review_overdue": ((1, "leader"), (4, "coordinator"), (9, "top")),
    # LAW-2: the timings tasks/abuse.py had in code: the notifier's leader the first working day after the
    # acknowledgement deadline, the coordinator the second, the escalation address the third
    "acknowledgement_overdue": ((1, "leader"), (2, "coordinator"), (3, "top")),
    # PATH-4: the PPR employee is reminded at the deadline (the lead time); then the institution's leader,
    # the case's coordinator, the PPR leader
    "startup_meeting_reminder": ((5, "leader"), (10, "coordinator"), (15, "top")),
    # KV-1/CAL-3: no topic by the notice deadline: the pedagogical leader, then the district's PPR team
    # (the session is a few working days away; after it the ladder ends)
    "kv_topic_list": ((1, "leader"), (2, "coordinator")),
}
"""The ladder a kind climbs when the profile gives none: (working days after the deadline, rung)."""

def escalation_day(calendar: WorkingCalendar, due: dt.date, after_working_days: int) -> dt.date:
    """Issue 17/CAL-10: the day a ladder step is due: `after_working_days` working days after the deadline
    (1 = the first working day after it), always a working day."""
    if after_working_days < 1:
        raise ValueError(f"after_working_days must be at least 1, got {after_working_days}")
    return calendar.add_working_days(due, after_working_days)


LADDER_END = dt.date(9999, 12, 31)
"""Issue 17: the reminder day of a deadline that has climbed its last rung. It stays open and overdue (its
`due_on` is unchanged: dashboard, "I dag", the sweep's result) but the sweep never picks it up again: no
work and no growing count until the thing it waits for closes it."""
