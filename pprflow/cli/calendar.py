"""`pprflow calendar`: working days and deadlines (CAL-1 ... CAL-9). Fast: never imports Prefect."""

from __future__ import annotations

import typer

app = typer.Typer(help="Kalender: arbejdsdage og frister (CAL-1 … CAL-9).", no_args_is_help=True)
