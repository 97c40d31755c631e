"""Issue 20: the operators' alert e-mail through pprflow's own outbox, on the real Prefect server.

A pprflow job fails (a plain Failed state: the operator's mistake); the next delivery run reads Prefect's failed
runs, queues one Danish mail to the profile's `[mailboxes] operations` and sends it. A second delivery within the
hour queues nothing more (the incident window); a refusal (`Afvist`) never alerts; the mail names the job and the
run, never a parameter or an error text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.flows import flow_env as env_fixtures

pytestmark = pytest.mark.prefect
flow_env = env_fixtures.flow_env

OPERATIONS = "drift@vejle.dk"


def _profile_with_operations(tmp_path: Path) -> Path:
    import pprflow.profiles

    text = (Path(pprflow.profiles.__file__).parent / "vejle.toml").read_text(encoding="utf-8")
    path = tmp_path / "vejle-drift.toml"
    path.write_text(text.replace("[mailboxes]\n", f'[mailboxes]\noperations = "{OPERATIONS}"\n', 1),
                    encoding="utf-8")
    return path


def _alerts(engine) -> list:  # type: ignore[no-untyped-def]
    from pprflow.models.tables import OutboxMessage

    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.template == "operations_alert")).all())


def test_a_failed_job_is_mailed_to_operations_once_per_hour_and_a_refusal_never(
        flow_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pprflow.flows.delivery import deliver_outbox
    from pprflow.flows.ppr import prepare_district_meetings, schedule_district
    from pprflow.models.types import utcnow
    from pprflow.tasks.alerts import ALERT_WINDOW, failed_runs, queue_operations_alerts
    from pprflow.tasks.context import Ctx

    profile = _profile_with_operations(tmp_path)
    refused = schedule_district(district="Nord", start=dt.date(2026, 11, 23), count=1, return_state=True)
    assert refused.name == "Afvist"
    monkeypatch.setenv("PPRFLOW_PROFILE", "findes-ikke")  # the operator's mistake: plain Failed runs
    failed = [prepare_district_meetings(return_state=True) for _ in range(2)]
    assert all(s.is_failed() and s.name == "Failed" for s in failed)
    monkeypatch.setenv("PPRFLOW_PROFILE", str(profile))

    first = deliver_outbox(return_state=True)
    assert first.is_completed(), first.message
    (alert,) = [a for a in _alerts(flow_env) if "distriktsmoeder-forbered" in a.subject]
    assert alert.to == OPERATIONS and alert.status == "sent" and alert.lane == "routine"
    assert "fejlede" in alert.subject and "Der sendes ikke flere alarmer om dette job den næste time" in alert.body_text
    assert "findes-ikke" not in alert.body_text and "Traceback" not in alert.body_text, "no error text in the mail"
    assert not [a for a in _alerts(flow_env) if "distriktsmoeder-planlaeg" in a.subject], "a refusal never alerts"

    monkeypatch.setenv("PPRFLOW_PROFILE", "findes-ikke")
    later = prepare_district_meetings(return_state=True)  # the same incident goes on
    monkeypatch.setenv("PPRFLOW_PROFILE", str(profile))
    deliver_outbox(return_state=True)
    assert len([a for a in _alerts(flow_env) if "distriktsmoeder-forbered" in a.subject]) == 1, "once per hour"

    # an hour on: the next alert, about the runs that failed after the last one only
    ctx = Ctx.for_run(None, job="system:outbox")
    an_hour_on = utcnow() + ALERT_WINDOW + dt.timedelta(minutes=1)
    runs = failed_runs(["distriktsmoeder-forbered"], since=utcnow() - dt.timedelta(hours=1))
    queued = queue_operations_alerts(ctx, runs, now=an_hour_on)
    assert len(queued) == 1
    (_, second) = sorted((a for a in _alerts(flow_env) if "distriktsmoeder-forbered" in a.subject),
                         key=lambda a: a.id)
    assert str(later.state_details.flow_run_id) in second.idempotency_key
    assert "fejlede 1 gang" in second.body_text
    assert queue_operations_alerts(ctx, runs, now=an_hour_on) == [], "nothing doubled"
