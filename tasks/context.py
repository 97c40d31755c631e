"""What every service function needs: the database, the municipality profile and who is acting.

Who acts in a flow run (issue 20, PRIV-4) is never a Prefect form field:

- a person's step: the web app (behind its login) or the CLI writes a `RunRequest` row with the
  authenticated actor (`record_request`) and starts the flow with its id; the flow reads the actor
  from that row (`Ctx.for_run`). The first flow run that uses the id claims it, so it cannot be
  replayed from Prefect's UI by another run;
- a scheduled job acts as a named system job (`system:morgengennemgang`, `system:outbox` ...): the
  access policy (models/access.py) lets a system job run jobs and read no case;
- a run started from Prefect's UI with no request is refused: `AccessDenied`, which the flows end in the
  state `Afvist` with the Danish reason (flows/observe.py).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from pprflow.models.profile import Profile

REQUEST_TTL = dt.timedelta(hours=1)
"""A request no run has claimed within the hour is stale (a run is started seconds after its request)."""

NOT_REQUESTED = ("Kørslen er ikke bestilt gennem pprflow: et skridt i en sag startes af en logget ind medarbejder i "
                 "webappen eller med pprflow på kommandolinjen, ikke fra Prefects formular")
STALE_REQUEST = ("Bestillingen findes ikke, er brugt af en anden kørsel eller er over en time gammel: start skridtet "
                 "igen i webappen eller med pprflow")


def record_request(engine: Engine, actor: str, flow_name: str) -> str:
    """Write what `actor` (authenticated by the web app or the CLI) asked `flow_name` to do; return its id."""
    from pprflow.db import session_scope
    from pprflow.models.tables import RunRequest

    request_id = uuid.uuid4().hex
    with session_scope(engine) as session:
        session.add(RunRequest(id=request_id, flow_name=flow_name, actor=actor))
    return request_id


def _current_run() -> tuple[str | None, str | None]:
    """(flow run id, flow name) of the flow run this code runs in, or (None, None) outside one."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None, None
    return str(context.flow_run.id), context.flow.name if context.flow is not None else None


def claim_request(engine: Engine, request_id: str, *, now: dt.datetime | None = None) -> str:
    """The actor of `request_id`, claimed by the current flow run (PRIV-4); `AccessDenied` if it is not ours."""
    from sqlalchemy import or_, update
    from sqlmodel import col

    from pprflow.db import session_scope
    from pprflow.models.errors import AccessDenied
    from pprflow.models.tables import RunRequest
    from pprflow.models.types import utcnow

    run_id, flow_name = _current_run()
    now = now or utcnow()
    with session_scope(engine) as session:
        request = session.get(RunRequest, request_id)
        if request is None or (flow_name is not None and request.flow_name != flow_name):
            raise AccessDenied(STALE_REQUEST, rule_id="PRIV-4")
        if run_id is not None and request.flow_run_id != run_id:
            claimed = session.execute(
                update(RunRequest).where(col(RunRequest.id) == request_id,
                                         or_(col(RunRequest.flow_run_id).is_(None),
                                             col(RunRequest.flow_run_id) == run_id),
                                         col(RunRequest.created_at) >= now - REQUEST_TTL)
                .values(flow_run_id=run_id))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise AccessDenied(STALE_REQUEST, rule_id="PRIV-4")
        return request.actor


@dataclass(frozen=True)
class Ctx:
    """Engine + profile + actor. Built by the CLI from its options, by a flow from the environment."""

    engine: Engine
    profile: Profile
    actor: str
    profile_ref: str | None = None  # the name or file path the profile was loaded from

    @classmethod
    def from_environment(cls, *, actor: str | None = None, profile: str | None = None,
                         database_url: str | None = None) -> Ctx:
        """PPRFLOW_DATABASE_URL / PPRFLOW_PROFILE / PPRFLOW_USER, as a flow run sees them."""
        from pprflow.config import Settings
        from pprflow.db import get_engine
        from pprflow.profiles import load_profile

        settings = Settings()
        ref = profile or settings.profile
        return cls(
            engine=get_engine(database_url or settings.resolved_database_url()),
            profile=load_profile(ref),
            actor=actor or settings.user or "system:pprflow",
            profile_ref=ref,
        )

    @classmethod
    def for_run(cls, request_id: str | None, *, job: str | None = None) -> Ctx:
        """The context of a flow run (issue 20, PRIV-4): the actor of its request, else the named system `job`.

        A person's step (`job=None`) without a request was started from Prefect's UI: refused (`AccessDenied`,
        the state `Afvist`). The environment's PPRFLOW_USER is never the actor of a flow run."""
        from pprflow.models.errors import AccessDenied

        ctx = cls.from_environment(actor=job or "system:pprflow")
        if request_id:
            return cls(engine=ctx.engine, profile=ctx.profile, actor=claim_request(ctx.engine, request_id),
                       profile_ref=ctx.profile_ref)
        if job is None:
            raise AccessDenied(NOT_REQUESTED, rule_id="PRIV-4")
        return ctx

    def export_to_environment(self) -> None:
        """Let an in-process flow run see the same database and profile as the CLI that started it."""
        os.environ["PPRFLOW_DATABASE_URL"] = self.engine.url.render_as_string(hide_password=False)
        os.environ["PPRFLOW_PROFILE"] = self.profile_ref or self.profile.name  # a file path survives
        os.environ["PPRFLOW_USER"] = self.actor
