"""`pprflow kv`: consultative guidance (konsultativ vejledning): sessions (CAL-4), anonymous topics
with 5 days' notice (CAL-3, KV-1) and the participants (KV-2)."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, parse_date, parse_optional_email, parse_time, today
from pprflow.models.errors import InvalidInput

app = typer.Typer(help="Konsultativ vejledning (KV): planlæg møder og meld anonyme emner (CAL-3, CAL-4, KV-1).",
                  no_args_is_help=True)

InstitutionOption = Annotated[str, typer.Option("--institution", help="Institutionens navn.")]


@app.command("schedule")
def schedule_command(
    institution: InstitutionOption,
    start: Annotated[str, typer.Option("--from", metavar="DATO", help="Første KV-dato, ÅÅÅÅ-MM-DD.")],
    count: Annotated[int, typer.Option("--count", help="Antal KV-møder.")] = 6,
    leader: Annotated[str | None, typer.Option("--leader", metavar="EMAIL",
                                               help="Den pædagogiske leder (får påmindelsen før fristen).")] = None,
    leader_name: Annotated[str | None, typer.Option("--leader-name", help="Lederens navn.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="school eller daycare (kun for en ny institution).")]
    = None,
    district: Annotated[str | None, typer.Option("--district", help="PPR-distrikt (kun for en ny institution).")]
    = None,
    time: Annotated[str | None, typer.Option("--time", metavar="TT:MM", help="Starttidspunkt.")] = None,
) -> None:
    """Planlæg KV-møder efter profilens kadence: skole hver 2. uge, dagtilbud hver 6. uge (CAL-4)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.kv import schedule_kv_sessions

    if kind is not None and kind not in ("school", "daycare"):
        raise InvalidInput(f"--kind {kind!r} is not school or daycare", rule_id="CAL-4")
    emit_json(run_step("pprflow.flows.kv:schedule_kv", schedule_kv_sessions, ctx=STATE.ctx(), institution=institution,
                       start=parse_date(start, "--from date"), count=count,
                       leader_email=parse_optional_email(leader, "--leader"),
                       leader_name=leader_name, kind=kind, district=district,
                       time=parse_time(time) if time else None))


@app.command("submit-topic")
def submit_topic_command(
    institution: InstitutionOption,
    session: Annotated[str, typer.Option("--session", metavar="DATO", help="KV-mødets dato, ÅÅÅÅ-MM-DD.")],
    text: Annotated[str, typer.Option("--text", help="Emnet: pædagogik og didaktik, ikke et enkelt barn (KV-1).")],
    today_: TodayOption = None,
) -> None:
    """Meld et anonymt emne til KV senest 5 dage før mødet (CAL-3); intet om enkelte børn (KV-1)."""
    from pprflow.cli.runner import run_step
    from pprflow.models.rules_kv import parse_kv_topic
    from pprflow.tasks.kv import submit_kv_topic

    topic = parse_kv_topic({"institution": institution, "session_date": parse_date(session, "--session date"),
                            "text": text})
    emit_json(run_step("pprflow.flows.kv:kv_submit_topic", submit_kv_topic, ctx=STATE.ctx(), topic=topic,
                       today=today(today_)))


@app.command("list")
def list_command(
    institution: InstitutionOption,
    start: Annotated[str | None, typer.Option("--from", metavar="DATO", help="Kun møder fra denne dato.")] = None,
) -> None:
    """Vis institutionens KV-møder med frist, antal emner og deltagere (KV-2); aldrig emnernes tekst."""
    from pprflow.tasks.kv import list_kv_sessions

    emit_json(list_kv_sessions(STATE.ctx(), institution=institution,
                               from_date=parse_date(start, "--from date") if start else None))
