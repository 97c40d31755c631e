"""Issue 20: every step that writes to pprflow's database retries when the database went away (a dropped
connection, a restart, a failover), the abuse report first (ESC-1); a refused rule is never retried
(flows/resilience.py). The steps that do not retry are listed here with the reason."""

from __future__ import annotations

import importlib
import pkgutil

from prefect import Task

import pprflow.flows
from pprflow.flows.resilience import database_went_away

NO_RETRY = {
    "pprflow.flows.intake:check_preconditions": "pure rule check, no database",
    "pprflow.flows.delivery:deliver_due_messages": "the outbox keeps the message pending; the next run sends it",
    "pprflow.flows.delivery:deliver_urgent_messages": "the urgent lane retries itself (URGENT_RETRY)",
    "pprflow.flows.retention:delete_form_flow_runs": "writes to Prefect, not to pprflow; retries on its own",
    "pprflow.flows.dashboard:publish_dashboard": "reads only; writes Prefect artifacts",
    "pprflow.flows.delivery:alert_operators": "never stops delivery: a failure is logged and the next delivery run "
                                              "queues the alert (once an hour, issue 20)",
}


def _tasks() -> dict[str, Task]:  # type: ignore[type-arg]
    found = {}
    for module in pkgutil.iter_modules(pprflow.flows.__path__):
        name = f"pprflow.flows.{module.name}"
        for attr, value in vars(importlib.import_module(name)).items():
            if isinstance(value, Task):
                found[f"{name}:{attr}"] = value
    return found


def test_esc1_the_abuse_report_retries_on_a_database_outage() -> None:
    from pprflow.flows.abuse import acknowledge, report, report_abuse

    for step in (report, report_abuse, acknowledge):
        assert step.retries >= 2 and step.retry_condition_fn is database_went_away


def test_every_writing_step_retries_on_a_database_outage() -> None:
    tasks = _tasks()
    missing = {ref for ref, step in tasks.items() if step.retry_condition_fn is not database_went_away}
    assert missing - set(NO_RETRY) == set(), "a writing step without RETRY_ON_DATABASE_OUTAGE"
    assert set(NO_RETRY) <= set(tasks), "an exemption for a step that no longer exists"
