"""`pprflow calendar`: working days and deadlines (CAL-1 ... CAL-9). Fast: never imports Prefect.

Every command prints one ISO date or `yes`/`no`; list commands print one line per date, a closed
day as `2026-12-24 closed -> 2026-12-28` (CAL-5). The numbers come from the active profile.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit
from pprflow.cli.params import parse_date
from pprflow.models.calendar import WorkingCalendar, review_due

app = typer.Typer(help="Kalender: arbejdsdage og frister (CAL-1 … CAL-9).", no_args_is_help=True)

# A negative N ("-3") must reach the argument instead of being read as an unknown option.
_NEGATIVE_NUMBERS_OK = {"ignore_unknown_options": True}

DateArg = Annotated[str, typer.Argument(metavar="DATO", help="Dato som ÅÅÅÅ-MM-DD, fx 2026-04-09.")]


class KVKindChoice(StrEnum):
    school = "school"
    daycare = "daycare"


def _calendar() -> WorkingCalendar:
    return WorkingCalendar.for_profile(STATE.profile())


@app.command("agenda-deadline")
def agenda_deadline_command(date: DateArg) -> None:
    """Seneste dag for udsendelse af dagsorden til et netværksmøde: 5 arbejdsdage før mødet (CAL-2)."""
    profile = STATE.profile()
    calendar = WorkingCalendar.for_profile(profile)
    emit(calendar.agenda_deadline(parse_date(date), profile.meetings.agenda_working_days).isoformat())


@app.command("kv-deadline")
def kv_deadline_command(date: DateArg) -> None:
    """Seneste dag for at melde emnet til KV til PPR: mindst 5 dages varsel, aldrig på en lukkedag (CAL-3)."""
    profile = STATE.profile()
    calendar = WorkingCalendar.for_profile(profile)
    emit(calendar.kv_notice_deadline(parse_date(date), profile.kv.notice_days).isoformat())


@app.command("review-due")
def review_due_command(date: DateArg) -> None:
    """Hvornår den specialiserede indsats senest skal revurderes: et halvt år efter start (CAL-6)."""
    profile = STATE.profile()
    emit(review_due(parse_date(date), profile.review.months).isoformat())


@app.command("add-working-days", context_settings=_NEGATIVE_NUMBERS_OK)
def add_working_days_command(
    date: DateArg,
    n: Annotated[int, typer.Argument(metavar="N", help="Antal arbejdsdage; negativt tæller bagud, fx -3.")],
) -> None:
    """Læg N arbejdsdage til en dato (N kan være negativ); selve datoen tæller ikke med (CAL-1)."""
    emit(_calendar().add_working_days(parse_date(date), n).isoformat())


@app.command("is-working-day")
def is_working_day_command(date: DateArg) -> None:
    """Er datoen en arbejdsdag? Svarer yes eller no (weekend, helligdag og kommunens lukkedage) (CAL-1)."""
    emit("yes" if _calendar().is_working_day(parse_date(date)) else "no")


@app.command("district-meetings")
def district_meetings_command(
    start: Annotated[str, typer.Option("--from", metavar="DATO", help="Første mulige dato, ÅÅÅÅ-MM-DD.")],
    count: Annotated[int, typer.Option("--count", min=1, help="Antal møder.")] = 6,
) -> None:
    """Planlæg distriktsmøder efter profilens ugedag og kadence; lukkedage markeres med forslag (CAL-5)."""
    profile = STATE.profile()
    settings = profile.district_meeting
    meetings = WorkingCalendar.for_profile(profile).district_meetings(
        parse_date(start, "--from date"), count, settings.weekday, settings.cadence_weeks
    )
    for meeting in meetings:
        emit(str(meeting))


@app.command("kv-sessions")
def kv_sessions_command(
    kind: Annotated[KVKindChoice, typer.Option("--kind", help="school (hver 2. uge) eller daycare (hver 6. uge).")],
    start: Annotated[str, typer.Option("--from", metavar="DATO", help="Første KV-dato, ÅÅÅÅ-MM-DD.")],
    count: Annotated[int, typer.Option("--count", min=1, help="Antal KV-møder.")] = 6,
) -> None:
    """Planlæg KV-møder for skole eller dagtilbud efter profilens kadence; lukkedage markeres (CAL-4)."""
    profile = STATE.profile()
    sessions = WorkingCalendar.for_profile(profile).kv_sessions(
        kind.value, parse_date(start, "--from date"), count, profile.kv.cadence_weeks[kind.value]
    )
    for session in sessions:
        emit(str(session))
