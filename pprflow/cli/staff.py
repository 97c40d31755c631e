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
    password: Annotated[bool, typer.Option("--password", help="Sæt en adgangskode til webappen (spørges skjult; "
                                           "uden terminal: én linje på stdin).")] = False,
) -> None:
    """Tilføj eller opdatér en medarbejder (administratorer; den første administrator af driftsansvarlig)."""
    from pprflow.models.staff import parse_staff
    from pprflow.tasks.staff import add_staff

    values = {"email": email, "name": name, "role": role, "institution": institution,
              "institution_kind": institution_kind, "district": district, "phone": phone, "leader_email": leader}
    data = parse_staff({k: v for k, v in values.items() if v is not None})
    secret = _read_password() if password else None  # asked before anything is stored
    result = add_staff(STATE.ctx(), data)
    if secret is not None:
        from pprflow.web.accounts import set_password

        result |= set_password(STATE.engine(), actor=STATE.ctx().actor, email=email, password=secret)
    emit_json(result)


def _read_password() -> str:
    """A password from a hidden prompt (twice), or one line on stdin when there is no terminal (scripts)."""
    from pprflow.web.accounts import check_password_strength

    if sys.stdin.isatty():
        secret = str(typer.prompt("Adgangskode", hide_input=True, confirmation_prompt="Gentag adgangskoden"))
    else:
        secret = sys.stdin.readline().rstrip("\n")
    check_password_strength(secret)
    return secret


@app.command("set-password")
def set_password_command(email: Annotated[str, typer.Argument(metavar="EMAIL", help="Arbejdsmail.")]) -> None:
    """Sæt en medarbejders adgangskode til webappen (administratorer); gemmes kun som argon2-hash."""
    from pprflow.web.accounts import authorize_set_password, set_password

    authorize_set_password(STATE.engine(), actor=STATE.ctx().actor, email=email)  # PRIV-4, before asking
    secret = _read_password()
    emit_json(set_password(STATE.engine(), actor=STATE.ctx().actor, email=email, password=secret))


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
