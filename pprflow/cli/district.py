"""`pprflow district`: district meetings inside PPR (CAL-5) and distributing cases (PATH-4)."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, parse_date, parse_email, today

app = typer.Typer(help="Distriktsmøder i PPR: planlæg møder og fordel sager (CAL-5, PATH-4).", no_args_is_help=True)

DistrictOption = Annotated[str, typer.Option("--district", help="PPR-distriktet, fx Nord.")]


@app.command("schedule")
def schedule_command(
    district: DistrictOption,
    start: Annotated[str, typer.Option("--from", metavar="DATO", help="Første mulige dato, ÅÅÅÅ-MM-DD.")],
    count: Annotated[int, typer.Option("--count", help="Antal møder (hver 2. uge).")] = 6,
    today_: TodayOption = None,
) -> None:
    """Planlæg distriktsmøder hver 2. uge på profilens ugedag; en lukkedag flyttes og markeres (CAL-5)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.ppr import schedule_district_meetings

    emit_json(run_step("pprflow.flows.ppr:schedule_district", schedule_district_meetings, ctx=STATE.ctx(),
                       district=district, start=parse_date(start, "--from date"), count=count, today=today(today_)))


@app.command("assign")
def assign_command(
    case: Annotated[int, typer.Argument(metavar="SAG", help="Sagens id.")],
    to: Annotated[str, typer.Option("--to", metavar="EMAIL", help="PPR-medarbejderen, der starter sagen.")],
    name: Annotated[str | None, typer.Option("--name", help="Medarbejderens navn (til mailen).")] = None,
    role: Annotated[str | None, typer.Option(
        "--role", help="ppr_psychologist, ppr_consultant, sup eller speech_therapist.")] = None,
    today_: TodayOption = None,
) -> None:
    """Distriktsmødet fordeler sagen: medarbejderen får besked og skal aftale opstartsmøde (PATH-4)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.ppr import assign_case

    emit_json(run_step("pprflow.flows.ppr:assign_district_case", assign_case, ctx=STATE.ctx(), case_id=case,
                       to_email=parse_email(to, "--to", rule_id="PATH-4"), today=today(today_), role=role, name=name))


@app.command("list")
def list_command(
    district: Annotated[str | None, typer.Option("--district", help="Kun dette distrikt.")] = None,
    start: Annotated[str | None, typer.Option("--from", metavar="DATO", help="Kun møder fra denne dato.")] = None,
) -> None:
    """Vis distriktsmøderne, dagen for sagslisten og sagerne på hvert møde, du må læse (kun sags-id'er)."""
    from pprflow.tasks.ppr import list_district_meetings

    # PRIV-3: only the cases the actor may read; the search is audited on each case shown (PRIV-1)
    emit_json(list_district_meetings(STATE.ctx(), district=district,
                                     from_date=parse_date(start, "--from date") if start else None))
