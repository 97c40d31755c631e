"""`pprflow meeting`: network, development and start-up meetings (CAL-2, LVL-3/4, MEET-1…5)."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, build, parse_date, parse_optional_email, parse_time, read_json, today

app = typer.Typer(help="Møder: netværks-, udviklings- og opstartsmøder, dagsorden og referat.", no_args_is_help=True)


@app.command("schedule")
def schedule_command(
    case: Annotated[int, typer.Option("--case", help="Sagens id.")],
    kind: Annotated[str, typer.Option("--kind", help="network (netværksmøde), development (udviklingsmøde) "
                                      "eller startup (opstartsmøde).")],
    date: Annotated[str, typer.Option("--date", metavar="DATO", help="Mødedato ÅÅÅÅ-MM-DD.")],
    level: Annotated[int | None, typer.Option("--level", help="Niveauet mødet holdes på (LVL-3).")] = None,
    time: Annotated[str, typer.Option("--time", metavar="TT:MM", help="Starttidspunkt (Europe/Copenhagen).")]
    = "09:00",
    leader: Annotated[str | None, typer.Option("--leader", metavar="EMAIL",
                                               help="Mødeleder; standard: pædagogisk leder (MEET-4).")] = None,
    end: Annotated[str | None, typer.Option("--end", metavar="TT:MM",
                                            help="Sluttidspunkt; standard: 90 minutter efter start.")] = None,
    leader_phone: Annotated[str | None, typer.Option("--leader-phone", metavar="TELEFON",
                                                     help="Mødelederens telefon; standard: medarbejderlisten.")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Sted; standard: institutionen.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Stedets adresse; standard: profilens [places].")]
    = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Mødets formål.")] = None,
    urgent_reason: Annotated[str | None, typer.Option(
        "--urgent-reason", metavar="BEGRUNDELSE",
        help="Hastemøde inden for 5 arbejdsdage (CAL-2): hvorfor mødet ikke kan vente. Dagsordenen sendes straks, "
             "og referatet nævner det korte varsel.")] = None,
    today_: TodayOption = None,
) -> None:
    """Planlæg et møde: dagsordensfrist 5 arbejdsdage før (CAL-2) og påmindelse til mødelederen."""
    from pprflow.cli.runner import run_step
    from pprflow.models.rules_meetings import MeetingInput
    from pprflow.tasks.meetings import schedule_meeting

    data = build(MeetingInput, "meeting", case_id=case, kind=kind, level=level, date=parse_date(date, "--date"),
                 starts_at=parse_time(time), ends_at=parse_time(end) if end else None,
                 leader_email=parse_optional_email(leader, "--leader"), leader_phone=leader_phone,
                 location=location, address=address, purpose=purpose, urgent_reason=urgent_reason)
    emit_json(run_step("pprflow.flows.meetings:plan_meeting", schedule_meeting, ctx=STATE.ctx(), data=data,
                       today=today(today_)))


@app.command("send-agenda")
def send_agenda_command(
    meeting: Annotated[int, typer.Argument(metavar="MØDE", help="Mødets id.")],
    today_: TodayOption = None,
) -> None:
    """Send dagsordenen med kalenderinvitation nu, før fristen (CAL-2); aldrig to gange."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.meetings import send_agenda

    emit_json(run_step("pprflow.flows.meetings:send_meeting_agenda", send_agenda, ctx=STATE.ctx(), meeting_id=meeting,
                       today=today(today_)))


@app.command("minutes")
def minutes_command(
    meeting: Annotated[int, typer.Argument(metavar="MØDE", help="Mødets id.")],
    file: Annotated[str, typer.Option("--file", metavar="FIL", help="Referatet som JSON (eller - for stdin).")],
    today_: TodayOption = None,
) -> None:
    """Registrér referatet (lyseblåt skema): handlinger med én ansvarlig, opfølgning (MEET-2)."""
    from pprflow.cli.runner import run_step
    from pprflow.models.rules_meetings import MinutesInput
    from pprflow.tasks.meetings import record_minutes

    data = read_json(file, MinutesInput, "minutes")
    emit_json(run_step("pprflow.flows.meetings:meeting_minutes", record_minutes, ctx=STATE.ctx(), meeting_id=meeting,
                       data=data, today=today(today_)))


@app.command("cancel")
def cancel_command(
    meeting: Annotated[int, typer.Argument(metavar="MØDE", help="Mødets id.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Hvorfor.")] = None,
) -> None:
    """Aflys et møde; dets frister lukkes."""
    from pprflow.tasks.meetings import cancel_meeting

    emit_json(cancel_meeting(ctx=STATE.ctx(), meeting_id=meeting, reason=reason))
