"""`pprflow outbox`: the messages waiting, sent, failed or cancelled; deliver what is due."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from pprflow.cli.context import STATE
from pprflow.cli.output import emit, emit_json
from pprflow.models.errors import InvalidInput, NotFound

if TYPE_CHECKING:  # sqlmodel is imported inside the commands: `pprflow calendar` must not pay for it
    from sqlmodel import Session

app = typer.Typer(help="Udbakken: se, send, gensend eller annullér mails.", no_args_is_help=True)

STATUSES = ("pending", "held", "sent", "failed", "cancelled")  # held: waits for review (ESC-3)


def _message(session: Session, message_id: int):  # type: ignore[no-untyped-def]
    from pprflow.models.tables import OutboxMessage

    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"outbox message {message_id} does not exist (see: pprflow outbox list)")
    return message


@app.command("list")
def list_messages(
    as_json: bool = typer.Option(False, "--json", help="JSON-array på stdout."),
    status: str | None = typer.Option(None, help="Kun mails med denne status: pending, sent, failed, cancelled."),
    case: int | None = typer.Option(None, help="Kun mails for denne sag."),
) -> None:
    """Vis mails i udbakken (modtager, emne, skabelon, sag, status, afsendes efter)."""
    from sqlmodel import Session, col, select

    from pprflow.models.tables import OutboxMessage
    from pprflow.tasks import audit
    from pprflow.tasks.casefile import get_case
    from pprflow.tasks.outbox import message_public
    from pprflow.tasks.privacy import authorize_case_read

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    actor = STATE.reading_user()  # PRIV-1: recipients and subjects are personal data
    query = select(OutboxMessage).order_by(col(OutboxMessage.send_after), col(OutboxMessage.id))
    if status:
        query = query.where(OutboxMessage.status == status)
    if case is not None:
        query = query.where(OutboxMessage.case_id == case)
    with Session(STATE.engine()) as session:
        if case is not None:
            authorize_case_read(session, actor=actor, case=get_case(session, case), what="outbox list")  # PRIV-3
        rows = [message_public(m) for m in session.exec(query).all()]
        audit.record(session, actor=actor, action="search", entity="outboxmessage", case_id=case,
                     reason="outbox list", detail={"terms": {"status": status, "case": case}, "found": len(rows)})
        session.commit()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        emit("udbakken er tom")
        return
    for row in rows:
        emit(f"{row['id']:>5}  {row['status']:<9}  {row['send_after'][:16]}  {row['template']:<24}  "
             f"sag {row['case_id'] or '-':<5}  {row['to'][0]}  {row['subject']}")


@app.command("preview")
def preview(message_id: int = typer.Argument(..., help="Mailens id."),
            html: bool = typer.Option(False, "--html", help="Vis HTML-udgaven i stedet for teksten.")) -> None:
    """Vis en mail, som modtageren vil se den."""
    from sqlmodel import Session

    from pprflow.tasks import audit
    from pprflow.tasks.casefile import get_case
    from pprflow.tasks.privacy import authorize_case_read

    actor = STATE.reading_user()
    with Session(STATE.engine()) as session:
        message = _message(session, message_id)
        if message.case_id is not None:  # PRIV-3: a case's message is read like the case
            authorize_case_read(session, actor=actor, case=get_case(session, message.case_id),
                                what=f"outbox preview {message_id}")
        audit.record(session, actor=actor, action="read", entity="outboxmessage",
                     entity_id=message_id, case_id=message.case_id, reason="outbox preview")
        session.commit()
        emit(f"Fra: {message.sender}")
        emit(f"Til: {message.to}")
        if message.cc:
            emit(f"Cc: {', '.join(message.cc)}")
        emit(f"Emne: {message.subject}")
        emit(f"Status: {message.status}")
        emit("")
        emit(message.body_html if html else message.body_text)


@app.command("send")
def send(limit: int | None = typer.Option(None, min=1, help="Højst så mange mails i denne kørsel.")) -> None:
    """Send de mails, der er forfaldne, med den konfigurerede transport (standard: filer i PPRFLOW_HOME/mail)."""
    from pprflow.cli.runner import run_step
    from pprflow.models.profile import check_mailboxes_for_transport
    from pprflow.tasks.delivery import deliver

    check_mailboxes_for_transport(STATE.profile(), STATE.settings.transport)  # ESC-2
    report = run_step("pprflow.flows.delivery:deliver_outbox", deliver, ctx=STATE.ctx(), limit=limit)
    emit_json(report)


@app.command("retry")
def retry(message_id: int = typer.Argument(..., help="Mailens id.")) -> None:
    """Læg en fejlet mail tilbage i køen, så den sendes ved næste afsendelse."""
    from sqlmodel import Session

    from pprflow.tasks.outbox import retry_message

    with Session(STATE.engine()) as session:
        message = _message(session, message_id)
        if message.status == "sent":
            raise InvalidInput(f"message {message_id} was already sent at {message.sent_at:%Y-%m-%d %H:%M}; "
                               "it is not sent twice")
        if message.status == "cancelled" and message.cancelled_reason in {"ESC-1", "CONS-1"}:
            raise InvalidInput(f"message {message_id} was cancelled by rule {message.cancelled_reason} "
                               "and may not be sent")
        retry_message(session, message, actor=STATE.acting_user())
        session.commit()
    emit(f"message {message_id} is pending again")


@app.command("cancel")
def cancel(message_id: int = typer.Argument(..., help="Mailens id."),
           reason: str = typer.Option("cancelled by hand", help="Hvorfor (skrives i loggen).")) -> None:
    """Annullér en mail, der endnu ikke er sendt."""
    from sqlmodel import Session

    from pprflow.models.errors import RuleViolation
    from pprflow.tasks.outbox import cancel_message

    with Session(STATE.engine()) as session:
        message = _message(session, message_id)
        try:
            cancelled = cancel_message(session, message, reason=reason, actor=STATE.acting_user())
        except RuleViolation:
            session.commit()  # ESC-2: the refused attempt stays in the audit log
            raise
        if not cancelled:
            raise InvalidInput(f"message {message_id} is {message.status}, only pending messages can be cancelled")
        session.commit()
    emit(f"message {message_id} cancelled")
