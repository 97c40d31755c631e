"""`pprflow retention`: delete closed cases and old audit rows after the profile's periods (PRIV-1, PRIV-2)."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.cli.params import TodayOption, today

app = typer.Typer(help="Opbevaring og sletning (PRIV-1, PRIV-2).", no_args_is_help=True)


@app.command("purge")
def purge_command(
    today_: TodayOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Tæl kun; slet intet.")] = False,
) -> None:
    """Slet lukkede sager efter profilens frist med alt, der hører til, og logrækker efter deres frist."""
    from pprflow.cli.runner import run_step
    from pprflow.tasks.retention import purge_expired

    emit_json(run_step("pprflow.flows.retention:retention_purge", purge_expired, ctx=STATE.job_ctx("retention"),
                       today=today(today_), dry_run=dry_run))
