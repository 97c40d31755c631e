"""The coordinators' dashboard (overblik) is the Prefect UI: each sweep publishes Danish artifacts.

- one table per district (`frister-<distrikt>`): upcoming and overdue deadlines (frister) from the
  Deadline table: agenda deadlines (CAL-2), KV notices (CAL-3), reviews (CAL-6), acknowledgements
  (LAW-2) ...;
- one short markdown summary (`daglig-gennemgang`): what the sweep queued and what the outbox sent.

No child is named in an artifact: a row carries the case id, never a pseudonym, a name or an address
(PRIV-2). The rows are built by pure functions (`deadline_rows`, `summary_markdown`), testable
without Prefect; `publish_dashboard` is the task a sweep flow calls to publish them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from pprflow.models.rules_deadlines import DEADLINE_KINDS, kind_label
from pprflow.models.tables import Case, Deadline, Institution, Meeting, OutboxMessage

HORIZON_DAYS = 14
"""How far ahead the table looks (calendar days)."""

SUMMARY_KEY = "daglig-gennemgang"
NO_DISTRICT = "Uden distrikt"

RULE_LABELS: dict[str, str] = {
    "CAL-2": "Dagsorden til netværksmøde",
    "CAL-3": "KV: emner til PPR (varsel)",
    "CAL-4": "KV-session",
    "CAL-5": "Distriktsmøde",
    "CAL-6": "Revurdering af specialiseret indsats",
    "CAL-7": "Børnefaglig undersøgelse",
    "LAW-2": "Kvittering for underretning",
    "PATH-4": "Opstartsmøde",
    "MEET-2": "Opfølgning på handlinger",
    "ESC-1": "Underretning",
}
"""A deadline's Danish label by the rule it serves, when its kind has none of its own."""

KIND_LABELS: dict[str, str] = {kind: k.label for kind, k in DEADLINE_KINDS.items()}
"""The Danish label of each deadline kind the pathways pin: one list, models/rules_deadlines.py (CAL-10, issue 17)."""

EMPTY = "—"
"""An empty cell: the UI renders cells as markdown, where '-' becomes a bullet."""

_DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key: lowercase letters, digits and dashes only ("Vejle Øst" -> "vejle-oest")."""
    text = "-".join(parts).translate(_DANISH_LETTERS)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    key = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return key or "ukendt"


@dataclass(frozen=True)
class DeadlineItem:
    """What the dashboard may show of a deadline: no names, no addresses, no pseudonyms."""

    kind: str
    rule_id: str
    due_on: dt.date
    remind_on: dt.date
    done: bool
    district: str | None
    case_id: int | None = None
    meeting_id: int | None = None
    escalation_step: int = 0


def label_for(kind: str, rule_id: str) -> str:
    """The Danish label (issue 17: never the English kind name): the kind's, else the rule's."""
    return KIND_LABELS.get(kind) or RULE_LABELS.get(rule_id) or kind_label(kind, rule_id)


def danish_date(d: dt.date) -> str:
    """'tor. 10. dec. 2026' (Babel, Danish locale)."""
    from babel.dates import format_date

    return format_date(d, "EEE d. MMM y", locale="da")


def status_for(item: DeadlineItem, today: dt.date) -> str:
    """Overdue (overskredet) only while nobody has handled it; otherwise how far away it is."""
    days = (item.due_on - today).days
    if days < 0 and not item.done:
        return f"Overskredet ({-days} {'dag' if days == -1 else 'dage'})"
    if days == 0:
        return "I dag"
    if days < 0:
        return "Behandlet"
    return f"Om {days} {'dag' if days == 1 else 'dage'}"


def deadline_rows(items: Iterable[DeadlineItem], today: dt.date,
                  horizon_days: int = HORIZON_DAYS) -> dict[str, list[dict[str, str]]]:
    """Rows per district: overdue (open, due before today) and upcoming (due within the horizon).

    Sorted overdue first, then by due date. Pure: values in, values out.
    """
    until = today + dt.timedelta(days=horizon_days)
    chosen = [i for i in items if (i.due_on < today and not i.done) or today <= i.due_on <= until]
    chosen.sort(key=lambda i: (i.due_on >= today, i.due_on, i.case_id or 0, i.kind))
    tables: dict[str, list[dict[str, str]]] = {}
    for item in chosen:
        tables.setdefault(item.district or NO_DISTRICT, []).append({
            "Frist": danish_date(item.due_on),
            "Dato": item.due_on.isoformat(),
            "Hvad": label_for(item.kind, item.rule_id),
            "Sag": f"#{item.case_id}" if item.case_id is not None else EMPTY,
            "Møde": f"#{item.meeting_id}" if item.meeting_id is not None else EMPTY,
            "Status": status_for(item, today),
            "Påmindelse": reminder_cell(item, today),
            "Regel": item.rule_id,
        })
    return dict(sorted(tables.items()))


def reminder_cell(item: DeadlineItem, today: dt.date) -> str:
    """What has been sent: a handled deadline 'sendt'; an overdue one the escalation rung reached (issue 17)."""
    if item.done:
        return "sendt"
    if item.escalation_step:
        nxt = f", næste {item.remind_on.isoformat()}" if item.remind_on > today else ""
        return f"eskaleret trin {item.escalation_step}{nxt}"
    return f"planlagt {item.remind_on.isoformat()}"


def summary_markdown(*, today: dt.date, sweep: Mapping[str, Any] | None, outbox: Mapping[str, int],
                     tables: Mapping[str, list[dict[str, str]]], closed_day: bool = False,
                     key_prefix: str = "") -> str:
    """The short Danish summary: what the sweep queued, what the outbox sent, what is overdue."""
    lines = [f"## Daglig gennemgang {danish_date(today)}", ""]
    if closed_day:
        lines += ["Lukkedag (CAL-1): ingen påmindelser i dag. De sendes på arbejdsdage.", ""]
    if sweep is not None:
        handled = sweep.get("handled") or {}
        lines.append(f"- Påmindelser lagt i udbakken: **{sweep.get('queued', 0)}**")
        if handled:
            lines.append("- Frister behandlet i dag: " + ", ".join(f"{label_for(k, '')} {v}"
                                                                    for k, v in sorted(handled.items())))
        if sweep.get("unknown_kinds"):
            lines.append(f"- Fristtyper uden behandler: {', '.join(sweep['unknown_kinds'])}")
        stuck = sweep.get("stuck_deadlines") or []
        if stuck:  # the error type and rule only: the error text may name a person (PRIV-2)
            lines.append(f"- **Frister der sidder fast: {len(stuck)}** (forsøges igen ved næste gennemgang; "
                         "fejlen står i `pprflow sweep`):")
            lines += [f"  - {label_for(s['kind'], s['rule_id'])}, "
                      f"{'sag ' + str(s['case_id']) if s.get('case_id') else 'uden sag'}, frist-id {s['deadline_id']}"
                      for s in stuck]
    late = (sweep or {}).get("overdue_deadlines") or []
    if late:  # issue 17: overdue stays in the summary until the awaited thing happens
        counts: dict[str, int] = {}
        for o in late:
            label = label_for(o["kind"], o["rule_id"])
            counts[label] = counts.get(label, 0) + 1
        lines.append(f"- **Overskredne frister: {len(late)}** (" + ", ".join(
            f"{label} {n}" for label, n in sorted(counts.items())) + ")")
    lines.append(f"- Udbakken: sendt i dag **{outbox.get('sent_today', 0)}**, venter {outbox.get('pending', 0)}, "
                 f"fejlet {outbox.get('failed', 0)}")
    overdue = sum(1 for rows in tables.values() for r in rows if r["Status"].startswith("Overskredet"))
    upcoming = sum(1 for rows in tables.values() for r in rows if not r["Status"].startswith("Overskredet"))
    lines.append(f"- Frister: **{overdue}** overskredet, {upcoming} de næste {HORIZON_DAYS} dage")
    if tables:
        lines += ["", "Se tabellerne pr. distrikt: "
                  + ", ".join(f"`{key_prefix}{artifact_key('frister', d)}`" for d in tables)]
    lines += ["", "_Ingen børn nævnes her: sager vises kun med sagsnummer._"]
    return "\n".join(lines)


def load_deadline_items(session: Session, today: dt.date, horizon_days: int = HORIZON_DAYS) -> list[DeadlineItem]:
    """Open deadlines due up to the horizon, and handled ones still ahead, with their district."""
    until = today + dt.timedelta(days=horizon_days)
    query = (
        select(Deadline, Institution.district, Meeting.district)
        .outerjoin(Case, col(Case.id) == Deadline.case_id)
        .outerjoin(Meeting, col(Meeting.id) == Deadline.meeting_id)
        .outerjoin(Institution, or_(col(Institution.id) == Case.institution_id,
                                    col(Institution.id) == Meeting.institution_id))
        .where(Deadline.due_on <= until)
        .where(or_(col(Deadline.done_at).is_(None), Deadline.due_on >= today))
        .order_by(col(Deadline.due_on), col(Deadline.id))
    )
    items: dict[int, DeadlineItem] = {}
    for deadline, institution_district, meeting_district in session.exec(query).all():
        if deadline.id in items:  # both joins matched an institution: keep the first
            continue
        items[deadline.id or 0] = DeadlineItem(
            kind=deadline.kind, rule_id=deadline.rule_id, due_on=deadline.due_on, remind_on=deadline.remind_on,
            done=deadline.done_at is not None,
            district=deadline.district or institution_district or meeting_district,
            case_id=deadline.case_id, meeting_id=deadline.meeting_id, escalation_step=deadline.escalation_step,
        )
    return list(items.values())


def outbox_counts(session: Session, today: dt.date, tz: str = "Europe/Copenhagen") -> dict[str, int]:
    """Sent on `today` (local midnight to the next, issue 17: per day, not since then), pending and failed."""
    from zoneinfo import ZoneInfo

    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=ZoneInfo(tz))
    next_midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=ZoneInfo(tz))

    def count(*where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(OutboxMessage).where(*where)).one())

    return {
        "sent_today": count(OutboxMessage.status == "sent", col(OutboxMessage.sent_at) >= midnight,
                            col(OutboxMessage.sent_at) < next_midnight),
        "pending": count(OutboxMessage.status == "pending"),
        "failed": count(OutboxMessage.status == "failed"),
    }


@task(name="publicér overblik", cache_policy=NO_CACHE)
def publish_dashboard(today: dt.date, *, sweep: Mapping[str, Any] | None = None, engine: Engine | None = None,
                      timezone: str = "Europe/Copenhagen", closed_day: bool = False,
                      horizon_days: int = HORIZON_DAYS, key_prefix: str = "") -> list[str]:
    """Publish the deadline table per district and the summary; returns the artifact keys, each after
    `key_prefix` (the profile's `artifact_prefix`: the demo's keys never overwrite a municipality's)."""
    if engine is None:
        from pprflow.tasks.context import Ctx

        engine = Ctx.from_environment().engine
    with Session(engine) as session:
        tables = deadline_rows(load_deadline_items(session, today, horizon_days), today, horizon_days)
        counts = outbox_counts(session, today, timezone)
    keys = []
    for district, rows in tables.items():
        key = key_prefix + artifact_key("frister", district)
        create_table_artifact(table=rows, key=key,
                              description=f"Frister i distrikt {district} pr. {danish_date(today)}: "
                                          "overskredne og de kommende")
        keys.append(key)
    create_markdown_artifact(
        key=key_prefix + SUMMARY_KEY,
        markdown=summary_markdown(today=today, sweep=sweep, outbox=counts, tables=tables, closed_day=closed_day,
                                  key_prefix=key_prefix),
        description=f"Daglig gennemgang {danish_date(today)}",
    )
    keys.append(key_prefix + SUMMARY_KEY)
    return keys
