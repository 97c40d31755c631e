"""`pprflow referral`: a school's or daycare's referral (henvendelse) into the support system (PATH-1 … PATH-7)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, today
from pprflow.models.errors import InvalidInput

app = typer.Typer(help="Henvendelser: modtag en henvendelse og opret sagen (PATH-1 … PATH-7).", no_args_is_help=True)


@app.command("submit")
def submit_command(
    file: Annotated[str, typer.Argument(metavar="FIL", help="Henvendelsen som JSON (se examples/referrals/), "
                                        "eller - for stdin.")],
    today_: TodayOption = None,
) -> None:
    """Modtag en henvendelse: kontrollér forudsætningerne, opret sagen og send henvendelse og kvittering."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.intake import parse_or_notify, submit_referral

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"referral: file not found: {file}") from None
    day = today(today_)
    referral = parse_or_notify(STATE.ctx(), text, today=day)  # ESC-2: a malformed referral still notifies
    result = run_step("pprflow.flows.intake:referral_intake", submit_referral, ctx=STATE.ctx(), referral=referral,
                      today=day)
    emit_json(result.model_dump(mode="json"))

