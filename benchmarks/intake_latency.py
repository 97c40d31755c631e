"""Intake latency: referral submitted -> case stored and messages queued, through the real intake flow
(`pprflow.flows.intake:referral_intake`) on a running local Prefect server, as a ratio to an empty flow run
on the same server (target <= 1.5).

The server is PREFECT_API_URL if set (e.g. `pprflow serve` or `prefect server start`), else one
started for the benchmark (`prefect_test_harness`). Each run submits a new referral (the example
`examples/referrals/ppr_individual.json` with a fresh child pseudonym, so the duplicate-run guard
does not short-circuit it) into a fresh database, and checks the case row and its queued messages.
Medians after `--warmup` runs of each. The plain service call (`pprflow.tasks.intake.submit_referral`, no
Prefect) is timed too, to show what the flow run itself costs.

    .venv/bin/python benchmarks/intake_latency.py --runs 20 --db sqlite postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import _common as common

TARGET_RATIO = 1.5
EXAMPLE = common.ROOT / "examples" / "referrals" / "ppr_individual.json"


def referral_factory() -> Callable[[], Any]:
    from pprflow.models.referral import Referral

    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    counter = iter(range(1, 10**9))

    def make() -> Any:
        fresh = dict(data)
        fresh["child"] = {**data["child"], "pseudonym": f"Elev B-{next(counter):06d}"}
        return Referral.model_validate(fresh)

    return make


def timed(call: Callable[[], Any], runs: int, warmup: int) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - t0
        if i >= warmup:
            times.append(elapsed)
            results.append(result)
    return times, results


def check_stored(url: str, results: list[Any]) -> int:
    """Every run stored its case and queued its messages; returns the messages queued per run."""
    from sqlmodel import Session, col, func, select

    from pprflow.db import get_engine
    from pprflow.models.tables import Case, OutboxMessage

    with Session(get_engine(common.sqlalchemy_url(url))) as session:
        for result in results:
            case = session.get(Case, result.case_id)
            queued = session.exec(select(func.count()).select_from(OutboxMessage)
                                  .where(col(OutboxMessage.case_id) == result.case_id)).one()
            if case is None or queued == 0 or not result.queued_message_ids:
                raise RuntimeError(f"intake run did not store case {result.case_id} or queue its messages")
    return len(results[0].queued_message_ids)


def measure(db: str, runs: int, warmup: int) -> dict[str, Any]:
    from prefect import flow

    from pprflow.flows.intake import referral_intake
    from pprflow.profiles import load_profile
    from pprflow.tasks.context import Ctx
    from pprflow.tasks.intake import submit_referral

    @flow(name="tom-flow")
    def empty_flow() -> None:
        return None

    make = referral_factory()
    actor = "sofie.mikkelsen@skovbakke.example"
    scratch = common.scratch_postgres() if db == "postgresql" else common.scratch_sqlite()
    with scratch as url:
        common.migrate(url)
        sa_url = common.sqlalchemy_url(url)
        from pprflow.db import get_engine

        ctx = Ctx(engine=get_engine(sa_url), profile=load_profile("vejle"), actor=actor)
        ctx.export_to_environment()  # the flow run rebuilds its Ctx from PPRFLOW_* (as `pprflow` does)
        empty, _ = timed(lambda: empty_flow(), runs, warmup)
        from pprflow.tasks.context import record_request  # the acting user is a request row (PRIV-4)

        def as_leader() -> str:
            return record_request(ctx.engine, actor, referral_intake.name)

        flow_times, flow_results = timed(lambda: referral_intake(referral=make(), request_id=as_leader()), runs, warmup)
        direct, direct_results = timed(lambda: submit_referral(ctx, make()), runs, warmup)
        messages = check_stored(url, flow_results + direct_results)
        get_engine(sa_url).dispose()
    row = {"db": db, "runs": runs, "empty_flow_s": common.median(empty), "intake_flow_s": common.median(flow_times),
           "submit_direct_s": common.median(direct), "messages_per_referral": messages}
    row["ratio"] = row["intake_flow_s"] / row["empty_flow_s"]
    row["flow_overhead_s"] = row["intake_flow_s"] - row["submit_direct_s"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    args = parser.parse_args(argv)

    common.isolate_prefect_home()
    dbs = list(args.db)
    if "postgresql" in dbs and not common.pg_available():
        print(f"# PostgreSQL not reachable at {common.PG_ADMIN_URL}: skipped", file=sys.stderr)
        dbs.remove("postgresql")
    saved = {k: os.environ.get(k) for k in ("PPRFLOW_DATABASE_URL", "PPRFLOW_PROFILE", "PPRFLOW_USER")}
    try:
        if os.environ.get("PREFECT_API_URL"):
            server = os.environ["PREFECT_API_URL"]
            rows = [measure(db, args.runs, args.warmup) for db in dbs]
        else:
            from prefect.testing.utilities import prefect_test_harness

            server = "prefect_test_harness"
            with prefect_test_harness(server_startup_timeout=180):
                rows = [measure(db, args.runs, args.warmup) for db in dbs]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    for row in rows:
        row["server"] = server
    targets = [common.target(f"{r['db']}: intake flow run / empty flow run <= {TARGET_RATIO}", r["ratio"],
                             r["ratio"] <= TARGET_RATIO) for r in rows]
    common.report("intake_latency", rows, ["db", "runs", "empty_flow_s", "intake_flow_s", "ratio", "submit_direct_s",
                                           "flow_overhead_s", "messages_per_referral", "server"], targets=targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
