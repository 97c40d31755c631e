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
    from pprflow.models.referral import parse_referral
    from pprflow.tasks.intake import submit_referral

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"referral: file not found: {file}") from None
    day = today(today_)
    try:
        referral = parse_referral(text)
    except InvalidInput as exc:
        _notify_anyway(text, exc, day)  # ESC-2: a malformed referral still carries its notification
        raise
    result = run_step("pprflow.flows.intake:referral_intake", submit_referral, ctx=STATE.ctx(), referral=referral,
                      today=day)
    emit_json(result.model_dump(mode="json"))


def _notify_anyway(text: str, refusal: InvalidInput, day: object) -> None:
    """ESC-2: a referral with ``"suspected_abuse": true`` that is refused while it is parsed (a CPR number, a
    malformed consent …) still sends its notification first; the refusal then says so in one Danish line.
    Returns quietly when the referral does not report suspected abuse."""
    import datetime as dt
    import json

    from pprflow.models.abuse import ReportRefused, refusal_after_notification
    from pprflow.tasks.intake import notify_first

    try:
        raw = json.loads(text)
    except ValueError:
        return
    if not isinstance(raw, dict) or raw.get("suspected_abuse") is not True:
        return
    assert isinstance(day, dt.date)
    try:
        notification = notify_first(STATE.ctx(), raw, today=day)
    except ReportRefused as exc:
        raise InvalidInput(f"{exc.message}; henvendelsen: {refusal.one_line()}", rule_id="ESC-2") from None
    raise refusal_after_notification(refusal, notification_id=notification.id, sent_to=notification.sent_to)


