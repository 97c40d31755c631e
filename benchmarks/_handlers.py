"""A benchmark-only deadline kind whose handler does a real handler's work.

`bench_review_reminder` reads the case the way the pathway handlers do (tasks/casefile.py),
renders the CAL-6 `review_reminder` template and queues one message through the idempotent
outbox (`queue_message`). The sweep benchmark uses it only when `--kind bench` is asked for; by
default it drives the real LAW-2 `acknowledgement_overdue` handler (tasks/abuse.py).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from pprflow.models.tables import Deadline
from pprflow.tasks.casefile import base_context, case_context, get_case, person_name
from pprflow.tasks.deadlines import SweepContext, reminder
from pprflow.tasks.outbox import queue_message

BENCH_KIND = "bench_review_reminder"


@reminder(BENCH_KIND)
def bench_review_reminder(session: Session, deadline: Deadline, sweep: SweepContext) -> bool:
    """Render and queue one CAL-6 review reminder to the case's coordinator (benchmark only)."""
    case = get_case(session, deadline.case_id or 0)
    context: dict[str, Any] = {
        **base_context(sweep.profile, recipient_name=person_name(session, case.coordinator_email, case_id=case.id),
                       sender_name=sweep.profile.display_name),
        "case": case_context(session, case, sweep.profile),
        "effort_label": "Specialpædagogisk bistand",
        "started_on": deadline.due_on.replace(day=1),
        "last_review_on": None,
        "deadline": deadline.due_on,
        "link": None,
    }
    queue_message(session, kind="review_reminder", to=case.coordinator_email, context=context,
                  serves=f"{deadline.subject_key}:{BENCH_KIND}:{deadline.due_on.isoformat()}",
                  sender=sweep.profile.sender, case=case, actor=sweep.actor)
    return True
