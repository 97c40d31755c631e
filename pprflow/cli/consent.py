"""`pprflow consent`: give (LAW-3) and withdraw (CONS-1, LAW-3 stk. 4) the parents' consent."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, read_json, today

app = typer.Typer(help="Samtykke: registrér eller træk tilbage.", no_args_is_help=True)

CaseArg = Annotated[int, typer.Argument(metavar="SAG", help="Sagens id.")]


@app.command("give")
def give_command(
    case: CaseArg,
    file: Annotated[str, typer.Option("--file", metavar="FIL", help="Samtykket som JSON: given_by, date, "
                                      "information, recipients, purpose (eller - for stdin).")],
    today_: TodayOption = None,
) -> None:
    """Registrér forældrenes skriftlige samtykke (LAW-3): hvem, hvornår, hvad, til hvem, hvorfor."""
    from pprflow.cli.runner import run_step
    from pprflow.models.referral import ConsentIn
    from pprflow.tasks.consent import give_consent

    data = read_json(file, ConsentIn, "consent")
    emit_json(run_step("pprflow.flows.consent:record_consent", give_consent, ctx=STATE.ctx(), case_id=case, data=data,
                       today=today(today_)))


@app.command("withdraw")
def withdraw_command(
    case: CaseArg,
    consent: Annotated[int | None, typer.Option("--consent", metavar="ID",
                                                help="Kun dette samtykke; standard: alle sagens samtykker.")] = None,
) -> None:
    """Træk samtykket tilbage: ventende mails til partnerne annulleres, tovholderen orienteres (CONS-1)."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.consent import withdraw_consent

    emit_json(run_step("pprflow.flows.consent:withdraw_case_consent", withdraw_consent, ctx=STATE.ctx(), case_id=case,
                       consent_id=consent))
