"""Consultative guidance (konsultativ vejledning, KV) [001, 004]: CAL-3, CAL-4, KV-1, KV-2.

Pure: dates, settings and text in; dates, decisions or a `RuleViolation` out. Also the input model
of a KV topic (the same for the CLI options, the flow parameter and the tests).

[001]: "Pædagogisk leder har ansvar for at formidle til PPR-team, hvad man ønsker drøftet på KV.
Mindst 5 dages varsel" (CAL-3) · "KV afholdes hver 6. uge på DAG / hver 2. uge på skoler" (CAL-4) ·
"Fagproff. kan få sparring på pædagogik og didaktik – ikke på enkelte børn … anonymt … PPR har
ikke notatpligt" (KV-1) · "Pædagogisk leder har ansvar for at samle relevante mødedeltagere …
Altid med deltagelse af psykolog/konsulent/SUP … Logopæd deltager på DAG og med interval på
skole" (KV-2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, ValidationError

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.input import StrictInput
from pprflow.models.referral import validation_error_line
from pprflow.models.rules_intake import contains_cpr_number

MAX_SESSIONS_PER_CALL = 52

KV_KIND_LABEL = "Konsultativ vejledning (KV)"


class KVTopicIn(StrictInput):
    """A topic for a KV session (KV-emne). KV-1: anonymous — there is no child field at all, and an
    unknown field (such as ``child``) is refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    institution: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="Institutionens navn.")
    session_date: dt.date = Field(description="Dato for KV-mødet, ÅÅÅÅ-MM-DD.")
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] = Field(
        description="Emnet: pædagogik og didaktik, ikke et enkelt barn — skriv ingen navne (KV-1).")


def parse_kv_topic(data: dict[str, Any]) -> KVTopicIn:
    """A validated topic; a child field or any unknown field is refused naming KV-1."""
    extra = sorted(set(data) - set(KVTopicIn.model_fields))
    if extra:
        raise RuleViolation(
            "KV-1", f"KV topics are anonymous and carry no child identity: remove {', '.join(extra)}")
    try:
        topic = KVTopicIn.model_validate(data)
    except ValidationError as exc:
        raise validation_error_line(exc, what="kv topic") from None
    check_topic_text(topic.text)  # before a flow run stores the text as a parameter (PRIV-2)
    return topic


def check_topic_text(text: str) -> None:
    """KV-1: KV is about pedagogy and didactics, not individual children; no CPR number (PRIV-2)."""
    if contains_cpr_number(text):
        raise RuleViolation("KV-1", "KV topics are anonymous and hold no CPR number (PRIV-2): remove the CPR number "
                                    "and anything that identifies a child")


def check_topic_in_time(*, today: dt.date, session_date: dt.date, notice_deadline: dt.date,
                        list_sent: bool, next_session: dt.date | None) -> None:
    """CAL-3: PPR gets the topics with at least 5 days' notice: a topic after the session's notice
    deadline (or after the topic list went out) is refused, pointing to the next session."""
    if today > notice_deadline or list_sent:
        hint = (f"; submit it for the next session on {next_session.isoformat()}" if next_session
                else "; ask the pedagogical leader to schedule the next session")
        raise RuleViolation(
            "CAL-3", f"too late for KV on {session_date.isoformat()}: topics must reach PPR by "
                     f"{notice_deadline.isoformat()} (at least 5 days' notice){hint}")


KV_HORIZON_WEEKS = 12
"""The weekly KV cycle keeps every institution's sessions planned at least this far ahead (CAL-4)."""


def next_session_dates(*, anchor: dt.date, last: dt.date, cadence_weeks: int, until: dt.date) -> list[dt.date]:
    """CAL-4: the cadence's planned dates after `last` up to `until`, counted from `anchor` (the
    first session held on its planned day), so a session moved off a closed day never shifts the
    rhythm of the ones after it."""
    if cadence_weeks < 1:
        raise InvalidInput(f"cadence_weeks must be at least 1, got {cadence_weeks}", rule_id="CAL-4")
    step = 7 * cadence_weeks
    k = max((last - anchor).days // step + 1, 1)
    dates = []
    d = anchor + dt.timedelta(days=k * step)
    while d <= until:
        dates.append(d)
        d += dt.timedelta(days=step)
    return dates


def notice_reminder_day(calendar: WorkingCalendar, notice_deadline: dt.date, days_before: int) -> dt.date:
    """CAL-3: the pedagogical leader is reminded `days_before` days before the notice deadline,
    moved earlier to a working day (nobody is asked to act on a closed day)."""
    if days_before < 0:
        raise InvalidInput(f"reminder_days_before_notice must be 0 or more, got {days_before}", rule_id="CAL-3")
    return calendar.previous_working_day(notice_deadline - dt.timedelta(days=days_before))


def topic_list_day(calendar: WorkingCalendar, notice_deadline: dt.date) -> dt.date:
    """CAL-3/CAL-10: topics are accepted through the whole deadline day, so the list goes to PPR the
    next working day after it — complete, and never on a closed day (a deadline on a Friday sends the
    list on Monday, not Saturday). Sending it on the deadline day itself would lose every topic
    submitted later that day."""
    return calendar.add_working_days(notice_deadline, 1)


@dataclass(frozen=True)
class Participant:
    """A role that takes part in a KV session (KV-2)."""

    role: str
    label: str


SPEECH_THERAPIST_AT_SCHOOL = "the first KV session of each calendar month"
"""KV-2: "Logopæd deltager … med interval på skole" [001]. The seed leaves the interval open; pprflow
reads it as monthly: the school's first session in a calendar month (with the 2-week cadence, every
other session). Pure: decided from the date and the cadence alone."""


def speech_therapist_takes_part(kind: str, session_date: dt.date, cadence_weeks: int) -> bool:
    """KV-2: always at a daycare; at a school, at the first session of each calendar month."""
    if kind == "daycare":
        return True
    # With sessions every `cadence_weeks` weeks, exactly one falls in days 1..7*cadence of a month
    # when the cadence is 4 weeks or less; with a longer cadence every session qualifies.
    return session_date.day <= 7 * cadence_weeks


def kv_participants(kind: str, session_date: dt.date, cadence_weeks: int) -> list[Participant]:
    """KV-2: who takes part in a KV session. The pedagogical leader gathers the institution's
    participants; a PPR psychologist, consultant or SUP always takes part; a speech therapist
    (logopæd) at a daycare always, at a school at intervals."""
    people = [
        Participant("pedagogical_leader", "Pædagogisk leder"),
        Participant("ppr_psychologist|ppr_consultant|sup", "Psykolog, konsulent eller SUP"),
    ]
    if speech_therapist_takes_part(kind, session_date, cadence_weeks):
        people.append(Participant("speech_therapist", "Logopæd"))
    return people


def participants_context(participants: list[Participant], *, leader_name: str | None) -> list[dict[str, str]]:
    """KV-2 participants as the `participants` list of the kv_topic_list template (name, role)."""
    result = []
    for p in participants:
        if p.role == "pedagogical_leader":
            result.append({"name": leader_name or p.label, "role": "Pædagogisk leder – samler deltagerne fra huset"})
        elif p.role == "speech_therapist":
            result.append({"name": p.label, "role": "PPR"})
        else:
            result.append({"name": p.label, "role": "PPR – deltager altid"})
    return result
