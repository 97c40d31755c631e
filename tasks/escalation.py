"""Issue 17: a missed deadline climbs its escalation ladder, one rung per sweep day that has come.

The ladder is profile data (`[escalation]`: who — leader, coordinator, the PPR / family-centre leader
`top` — and how many working days after the deadline). Each rung is climbed once and recorded
(`Deadline.escalation_step` plus an audit event); an address already told on an earlier rung is not told
again. The deadline stays open: it is done only when the thing it waits for happens (the review is
recorded, ...), so it stays overdue on the dashboard and in the sweep's result until then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlmodel import Session

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.profile import EscalationRole, EscalationStep, Profile
from pprflow.models.rules_deadlines import escalation_day, reminder_day
from pprflow.models.tables import Deadline
from pprflow.tasks import audit
from pprflow.tasks.deadlines import SweepContext

Notify = Callable[[str, int, EscalationStep], None]
"""Queue the kind's overdue mail to an address for a rung (1-based step number)."""


def ladder(profile: Profile, kind: str) -> list[EscalationStep]:
    return list(profile.escalation.ladders.get(kind, []))


def climb(session: Session, deadline: Deadline, sweep: SweepContext, *,
          recipients: Mapping[EscalationRole, str | None], notify: Notify) -> list[str]:
    """Climb every rung whose day has come (normally one per sweep day; a missed sweep catches up),
    each once, recorded; then point the deadline's reminder day at the next rung. Returns the addresses
    told. The caller's handler returns False: the deadline is not done by a mail."""
    steps = ladder(sweep.profile, deadline.kind)
    calendar = WorkingCalendar.for_profile(sweep.profile)
    told: list[str] = []
    earlier = {_key(recipients.get(s.to)) for s in steps[:deadline.escalation_step]}
    while deadline.escalation_step < len(steps):
        step = steps[deadline.escalation_step]
        if escalation_day(calendar, deadline.due_on, step.after_working_days) > sweep.today:
            break
        number = deadline.escalation_step + 1
        to = recipients.get(step.to)
        sent = bool(to) and _key(to) not in earlier
        if to and sent:
            notify(to, number, step)
            told.append(to)
            earlier.add(_key(to))
        deadline.escalation_step = number
        audit.record(session, actor=sweep.actor, action="change", entity="deadline", entity_id=deadline.id,
                     case_id=deadline.case_id, reason=deadline.rule_id,
                     detail={"escalation_step": number, "of": len(steps), "to_role": step.to,
                             "told": sent, "why_not": None if sent else ("nobody at this rung" if not to
                                                                         else "already told on an earlier rung")})
    if deadline.escalation_step < len(steps):
        nxt = steps[deadline.escalation_step]
        deadline.remind_on = reminder_day(calendar, deadline.kind,
                                          escalation_day(calendar, deadline.due_on, nxt.after_working_days))
    session.add(deadline)
    return told


def _key(address: str | None) -> str:
    return (address or "").strip().lower()
