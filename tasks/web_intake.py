"""A web referral with an attached file through the intake flow (issue 18; issue 20's "flows take ids").

A file is no flow parameter (Prefect would store it with the run). So the web app first stores the referral and
its file in pprflow's database, behind the login (`store_web_referral`), and the flow `referral_intake_stored`
(flows/intake.py) takes only the row's id; `submit_stored_referral` opens the case through the same
`submit_referral` as every other referral. The row is deleted once the case is opened (the case and the outbox
keep their own copies: no second copy of the child's data, PRIV-2, and nothing for retention to chase) and when
the referral is refused: nothing is kept of a refused referral (PATH-1 … PATH-7 refuse before anything is written).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.errors import AccessDenied, NotFound
from pprflow.models.referral import Referral
from pprflow.models.tables import WebReferral
from pprflow.tasks import audit
from pprflow.tasks.context import Ctx
from pprflow.tasks.intake import IntakeResult, submit_referral
from pprflow.tasks.transports.base import Attachment


def store_web_referral(engine: Engine, *, submitted_by: str, referral: Referral, attachment: Attachment) -> int:
    """Keep the referral and its one attached file for the flow; returns the id the flow takes."""
    with Session(engine) as session:
        row = WebReferral(submitted_by=submitted_by, referral=referral.model_dump(mode="json"),
                          filename=attachment.filename, content_type=attachment.content_type,
                          content=attachment.content)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def submit_stored_referral(ctx: Ctx, upload_id: int, *, today: dt.date | None = None) -> IntakeResult:
    """The stored web referral `upload_id` becomes a case with its file on the request mail (`submit_referral`).
    Only its submitter may submit it (PRIV-4); run twice, it opens one case (the intake key)."""
    with Session(ctx.engine) as session:
        row = session.get(WebReferral, upload_id)
        if row is None:
            raise NotFound(f"web referral {upload_id} does not exist")
        if row.submitted_by != ctx.actor:  # PRIV-4: only its submitter; the refusal is audited (PRIV-1)
            audit.record(session, actor=ctx.actor or "(ingen)", action="refused", entity="webreferral",
                         entity_id=upload_id, reason="PRIV-4", detail={"what": "web referral submit"})
            session.commit()
            raise AccessDenied(f"web referral {upload_id} was submitted by someone else", rule_id="PRIV-4")
        referral = Referral.model_validate(row.referral)
        attachments = [Attachment(row.filename, row.content_type, row.content)]
    try:
        return submit_referral(ctx, referral, today=today, attachments=attachments)
    finally:  # opened (the intake key makes a retry open no second case) or refused: the row goes
        discard_web_referral(ctx.engine, upload_id)


def discard_web_referral(engine: Engine, upload_id: int) -> None:
    """The stored web referral goes, whatever became of its flow run (PRIV-2): the web app calls this after the run
    too, so a run that never reached `submit_stored_referral` (Prefect's server did not answer, the run was refused
    before it) leaves no copy of the child's data behind; nothing else ever deletes a `webreferral` row."""
    with Session(engine) as session:
        row = session.get(WebReferral, upload_id)
        if row is not None:
            session.delete(row)
            session.commit()
