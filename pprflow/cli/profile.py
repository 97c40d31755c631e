"""`pprflow profile`: show the municipality profile in force."""

from __future__ import annotations

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit, emit_json

app = typer.Typer(help="Kommuneprofil: postkasser, lukkedage, kadencer og frister.", no_args_is_help=True)


@app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON.")) -> None:
    """Vis den aktive kommuneprofil (vælg med --profile eller PPRFLOW_PROFILE)."""
    profile = STATE.profile()
    data = profile.model_dump(mode="json")
    if as_json:
        emit_json(data)
        return
    emit(f"{profile.display_name} ({profile.name})")
    emit(f"  afsender:         {profile.sender}")
    for key, value in data["mailboxes"].items():
        emit(f"  postkasse {key}: {value}")
    emit(f"  lukkedage:        {', '.join(profile.closed_days) or '-'} (ud over helligdage)")
    kv = profile.kv
    emit(f"  KV-kadence:       skole hver {kv.cadence_weeks['school']}. uge, "
         f"dagtilbud hver {kv.cadence_weeks['daycare']}. uge; varsel {kv.notice_days} dage")
    dm = profile.district_meeting
    emit(f"  distriktsmøde:    {dm.weekday} kl. {dm.time:%H:%M}, hver {dm.cadence_weeks}. uge")
    emit(f"  dagsordenfrist:   {profile.meetings.agenda_working_days} arbejdsdage før mødet")
    emit(f"  opfølgning:       hver {profile.review.months}. måned (niveau 4)")
    emit(f"  sletning:         lukkede sager efter {profile.retention.closed_case_years} år")
    emit(f"  niveaumodel:      {profile.levels.model} ({profile.max_level} niveauer)")


@app.command("check")
def check() -> None:
    """Tjek kommuneprofilen: en linje pr. advarsel (pladsholder-adresser, eskaleringsstigens top)."""
    profile = STATE.profile()  # a profile that does not load is a one-line error with exit 2
    lines = profile.ladder_warnings()  # issue 17
    placeholders = {k: v for k, v in profile.placeholder_mailboxes().items() if k != "escalation.top"}
    if placeholders:
        lines.append("pladsholder-postkasser (.invalid), som en rigtig mailtransport ikke starter med (ESC-2): "
                     + ", ".join(f"{k} = {v}" for k, v in sorted(placeholders.items())))
    for line in lines:
        emit(f"ADVARSEL: {line}")
    if not lines:
        emit(f"{profile.display_name}: profilen er i orden")
