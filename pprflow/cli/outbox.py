"""`pprflow outbox`: the messages waiting, sent, failed or cancelled; deliver what is due."""

from __future__ import annotations

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit, emit_json

app = typer.Typer(help="Udbakken: se, send, gensend eller annullér mails.", no_args_is_help=True)


@app.command("list")
def list_messages(
    as_json: bool = typer.Option(False, "--json", help="JSON-array på stdout."),
    status: str | None = typer.Option(None, help="Kun mails med denne status: pending, sent, failed, cancelled."),
    case: int | None = typer.Option(None, help="Kun mails for denne sag."),
) -> None:
    """Vis de mails i udbakken, du må læse (modtager, emne, skabelon, sag, status, afsendes efter)."""
    from pprflow.tasks.outbox_view import list_messages as list_service

    rows = list_service(STATE.ctx(), status=status, case_id=case)  # PRIV-3: filtered; PRIV-1: audited
    if as_json:
        emit_json(rows)
        return
    if not rows:
        emit("ingen mails, du må se")
        return
    for row in rows:
        emit(f"{row['id']:>5}  {row['status']:<9}  {row['send_after'][:16]}  {row['template']:<24}  "
             f"sag {row['case_id'] or '-':<5}  {row['to'][0]}  {row['subject']}")


@app.command("preview")
def preview(message_id: int = typer.Argument(..., help="Mailens id."),
            html: bool = typer.Option(False, "--html", help="Vis HTML-udgaven i stedet for teksten.")) -> None:
    """Vis en mail, som modtageren vil se den (kun hvis du må læse dens sag)."""
    from pprflow.tasks.outbox_view import preview_message

    message = preview_message(STATE.ctx(), message_id=message_id)
    emit(f"Fra: {message['sender']}")
    emit(f"Til: {message['to']}")
    if message["cc"]:
        emit(f"Cc: {', '.join(message['cc'])}")
    emit(f"Emne: {message['subject']}")
    emit(f"Status: {message['status']}")
    emit("")
    emit(message["body_html"] if html else message["body_text"])


@app.command("send")
def send(limit: int | None = typer.Option(None, min=1, help="Højst så mange mails i denne kørsel.")) -> None:
    """Send de mails, der er forfaldne, med den konfigurerede transport (standard: filer i PPRFLOW_HOME/mail)."""
    from pprflow.cli.runner import run_step
    from pprflow.models.profile import check_mailboxes_for_transport
    from pprflow.tasks.delivery import deliver

    check_mailboxes_for_transport(STATE.profile(), STATE.settings.transport)  # ESC-2
    report = run_step("pprflow.flows.delivery:deliver_outbox", deliver, ctx=STATE.job_ctx("outbox"), limit=limit)
    emit_json(report)


@app.command("retry")
def retry(message_id: int = typer.Argument(..., help="Mailens id.")) -> None:
    """Læg en fejlet mail tilbage i køen, så den sendes ved næste afsendelse."""
    from pprflow.tasks.outbox_view import retry as retry_service

    retry_service(STATE.ctx(), message_id=message_id)
    emit(f"besked {message_id} står i kø igen og sendes ved næste afsendelse")


@app.command("cancel")
def cancel(message_id: int = typer.Argument(..., help="Mailens id."),
           reason: str = typer.Option("cancelled by hand", help="Hvorfor (skrives i loggen).")) -> None:
    """Annullér en mail, der endnu ikke er sendt."""
    from pprflow.tasks.outbox_view import cancel as cancel_service

    cancel_service(STATE.ctx(), message_id=message_id, reason=reason)
    emit(f"besked {message_id} er annulleret")
