"""`pprflow audit`: the audit log (logning, PRIV-1) of one case: who did what, when and why."""

from __future__ import annotations

from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit, emit_json

app = typer.Typer(help="Logning (PRIV-1): hvem har læst, oprettet, ændret, sendt eller slettet hvad, hvornår og "
                       "hvorfor.", no_args_is_help=True)


@app.command("show")
def show_command(
    case: Annotated[int, typer.Option("--case", metavar="SAG", help="Sagens id.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON-array på stdout.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Højst så mange rækker.")] = None,
) -> None:
    """Vis sagens log, ældste først. Kun for dem, der må læse sagen (PRIV-3); opslaget logges selv."""
    from pprflow.tasks.privacy import audit_trail

    rows = audit_trail(ctx=STATE.ctx(), case_id=case, limit=limit)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        emit(f"ingen logrækker for sag {case}")
        return
    for row in rows:
        what = f"{row['entity']}{'#' + row['entity_id'] if row['entity_id'] else ''}"
        emit(f"{row['at'][:19]}  {row['actor']:<32}  {row['action']:<8}  {what:<24}  {row['reason'] or ''}")
