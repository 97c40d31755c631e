"""`pprflow staff`: the staff directory (PRIV-4) — who may act, with which role, where."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit_json
from pprflow.models.errors import InvalidInput

app = typer.Typer(help="Medarbejderkartoteket (PRIV-4): hvem der må handle, med hvilken rolle og hvor.",
                  no_args_is_help=True)


@app.command("add")
def add_command(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="Arbejdsmail.")],
    name: Annotated[str, typer.Option("--name", help="Navn.")],
    role: Annotated[str, typer.Option("--role", help="Rolle, fx teacher, school_leader, ppr_psychologist, "
                                      "administrator.")],
    institution: Annotated[str | None, typer.Option("--institution", help="Institutionens navn.")] = None,
    institution_kind: Annotated[str | None, typer.Option(
        "--institution-kind", help="school eller daycare, når institutionen er ny.")] = None,
    district: Annotated[str | None, typer.Option("--district", help="PPR-distrikt.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Telefon (valgfri).")] = None,
    leader: Annotated[str | None, typer.Option("--leader", metavar="EMAIL", help="Nærmeste leder.")] = None,
) -> None:
    """Tilføj eller opdatér en medarbejder (administratorer; den første administrator af driftsansvarlig)."""
    from pprflow.models.staff import parse_staff
    from pprflow.tasks.staff import add_staff

    values = {"email": email, "name": name, "role": role, "institution": institution,
              "institution_kind": institution_kind, "district": district, "phone": phone, "leader_email": leader}
    data = parse_staff({k: v for k, v in values.items() if v is not None})
    emit_json(add_staff(STATE.ctx(), data))


@app.command("import")
def import_command(
    file: Annotated[str, typer.Argument(metavar="FIL", help="CSV fra HR (name,email,role,institution,district,"
                                        "phone,active — eller navn,e-mail,rolle,…), eller - for stdin.")],
) -> None:
    """Importér medarbejdere fra en CSV-fil; en dårlig række meldes, de andre importeres."""
    from pprflow.tasks.staff import import_staff

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"staff import: file not found: {file}") from None
    result = import_staff(STATE.ctx(), text)
    emit_json(result)
    if result["errors"]:
        for line in result["errors"]:
            sys.stderr.write(f"error: {line}\n")
        raise typer.Exit(2)


@app.command("list")
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Også deaktiverede.")] = False,
) -> None:
    """Vis kartoteket (administratorer)."""
    from pprflow.tasks.staff import list_staff

    emit_json(list_staff(STATE.ctx(), include_inactive=all_))


@app.command("deactivate")
def deactivate_command(email: Annotated[str, typer.Argument(metavar="EMAIL", help="Arbejdsmail.")]) -> None:
    """Deaktivér en medarbejder: vedkommende kan ikke længere handle (PRIV-4); historikken bevares."""
    from pprflow.tasks.staff import deactivate_staff

    emit_json(deactivate_staff(STATE.ctx(), email=email))
