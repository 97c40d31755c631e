"""Issue 17: a missed deadline climbs its escalation ladder, one rung per sweep day that has come.

One mechanism for every kind a person must meet (models/rules_deadlines.py LADDER_KINDS: the half-year
review CAL-6, the LAW-2 acknowledgement, the PATH-4 start-up meeting, the KV-1/CAL-3 topics). The kind's
handler sends its own reminder before and its notice at the deadline, then calls `climb`.

The ladder is profile data (`[escalation] ladders.<kind>`, else the default in DEFAULT_LADDERS): who —
leader, coordinator, the PPR / family-centre leader `top` — and how many working days after the deadline.
Each rung is climbed once and recorded (`Deadline.escalation_step` plus an audit event); an address already
told on an earlier rung is not told again.

ESC-1 by construction: every rung's recipient passes the one parent check, tasks/outbox.py
`is_protected_parent`; a parent of the child is passed over (recorded) and the ladder goes on.
A `top` that is still a placeholder (.invalid) is replaced by the coordinator, else the PPR mailbox
(recorded), so the last rung never goes nowhere.

After the last rung the deadline's reminder day becomes LADDER_END: it stays open and overdue (dashboard,
"I dag", the sweep's result) until the thing it waits for closes it, but the sweep does no more work on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session

from pprflow.models.address import address_key, is_placeholder
from pprflow.models.calendar import WorkingCalendar
from pprflow.models.profile import EscalationRole, EscalationStep, Profile
from pprflow.models.rules_deadlines import LADDER_END, escalation_day, reminder_day
from pprflow.models.tables import Deadline
from pprflow.tasks import audit
from pprflow.tasks.deadlines import SweepContext

Notify = Callable[[str, int, EscalationStep], None]
"""Queue the kind's overdue mail to an address for a rung (1-based step number)."""


def ladder(profile: Profile, kind: str) -> list[EscalationStep]:
    """The kind's rungs: the profile's `[escalation] ladders.<kind>`, else the kind's default."""
    return profile.escalation.ladder(kind)


def top_placeholder(profile: Profile) -> str | None:
    """Issue 17: the ladder's top when it is still a placeholder (.invalid), else None (`profile check` warns)."""
    top = profile.escalation.top
    return top if top is not None and is_placeholder(top) else None


def climb(session: Session, deadline: Deadline, sweep: SweepContext, *,
          recipients: Mapping[EscalationRole, str | None], notify: Notify,
          until: dt.date | None = None, kind: str | None = None) -> list[str]:
    """Climb every rung whose day has come (normally one per sweep day; a missed sweep catches up),
    each once, recorded; then point the deadline's reminder day at the next rung, or after the last at
    `until` (the day the thing awaited stops mattering, e.g. a KV session: the handler closes it then) or
    LADDER_END. `kind` names the ladder when the row's own kind is an older name for it (LAW-2's rows pinned
    before issue 17). Returns the addresses told. The caller's handler returns False: the deadline is not done by
    a mail."""
    from pprflow.tasks.outbox import is_protected_parent

    profile = sweep.profile
    steps = ladder(profile, kind or deadline.kind)
    calendar = WorkingCalendar.for_profile(profile)
    told: list[str] = []
    earlier = {address_key(_rung_address(profile, recipients, s.to)[0])
               for s in steps[:deadline.escalation_step]} - {""}
    while deadline.escalation_step < len(steps):
        step = steps[deadline.escalation_step]
        if escalation_day(calendar, deadline.due_on, step.after_working_days) > sweep.today:
            break
        number = deadline.escalation_step + 1
        to, instead_of = _rung_address(profile, recipients, step.to, told_before=earlier)
        why_not: str | None = None
        if not to:
            why_not = "nobody at this rung"
        elif is_protected_parent(session, deadline.case_id, to):
            why_not = "a parent of the child (ESC-1): passed over"
        elif address_key(to) in earlier:
            why_not = "already told on an earlier rung"
        if why_not is None and to:
            notify(to, number, step)
            told.append(to)
            earlier.add(address_key(to))
        deadline.escalation_step = number
        detail: dict[str, Any] = {"escalation_step": number, "of": len(steps), "to_role": step.to,
                                  "told": why_not is None, "why_not": why_not}
        if why_not is None:
            detail["to"] = to
        if instead_of is not None:
            detail["top_placeholder"] = instead_of  # issue 17: the top is a placeholder; told instead: `to`
        audit.record(session, actor=sweep.actor, action="change", entity="deadline", entity_id=deadline.id,
                     case_id=deadline.case_id, reason=deadline.rule_id, detail=detail)
    if deadline.escalation_step < len(steps):
        nxt = steps[deadline.escalation_step]
        deadline.remind_on = reminder_day(calendar, deadline.kind,
                                          escalation_day(calendar, deadline.due_on, nxt.after_working_days))
    else:  # issue 17: still overdue and visible, no more sweeping (until the day it stops mattering)
        deadline.remind_on = max(until, sweep.today + dt.timedelta(days=1)) if until is not None else LADDER_END
    session.add(deadline)
    return told


def finish(session: Session, deadline: Deadline) -> None:
    """A kind without rungs (or nothing left to climb): park the open deadline like after the last rung."""
    deadline.remind_on = LADDER_END
    session.add(deadline)


def _rung_address(profile: Profile, recipients: Mapping[EscalationRole, str | None], role: EscalationRole, *,
                  told_before: set[str] | None = None) -> tuple[str | None, str | None]:
    """(address, the placeholder top it replaces or None). A `top` under .invalid goes to the coordinator,
    else (the coordinator told already, or none) the PPR mailbox: recorded, never nowhere (issue 17)."""
    to = recipients.get(role)
    if role != "top" or not to or not is_placeholder(to):
        return to, None
    told = told_before or set()
    coordinator = recipients.get("coordinator")
    if coordinator and not is_placeholder(coordinator) and address_key(coordinator) not in told:
        return coordinator, to
    return profile.mailboxes.ppr, to
