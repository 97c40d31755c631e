"""The daily sweep (daglig gennemgang) at national scale, against the naive one-task-per-case flow.

For each database (SQLite, PostgreSQL) and each size N of open cases, a fresh database is
migrated, bulk-loaded (benchmarks/_synthetic.py) with exactly `--due` reminders due, and
`pprflow.tasks.deadlines.run_sweep` runs in a fresh subprocess (so the loader's memory does not count):
its seconds (median of `--repeats`, the due rows re-opened between runs), peak RSS, the due query
alone and its plan (is `ix_deadline_open_remind` used?).

Then the pattern a Prefect user writes first, one `@task` per case inside a flow, runs on
`--naive-cases` cases against a Prefect server (PREFECT_API_URL if set, else
`prefect_test_harness`), and its per-case cost is compared with the sweep.

    .venv/bin/python benchmarks/sweep_at_scale.py                        # 10k, 100k, 1M on both
    .venv/bin/python benchmarks/sweep_at_scale.py --sizes 1000 --db sqlite --naive-cases 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

import _common as common
import _synthetic as synthetic

TARGET_PG_1M_SECONDS = 5.0
TARGET_GROWTH = 2.0
TARGET_RSS_MB = 300.0
DUE_INDEX = "ix_deadline_open_remind"


# --- the sweep, in a fresh process ---------------------------------------------------------------


def _due_query_sql(engine: Any, today: dt.date, limit: int) -> str:
    """The statement tasks.deadlines sends to find what is due, with literal values."""
    from sqlmodel import col, select

    from pprflow.models.tables import Deadline
    from pprflow.tasks import deadlines

    if hasattr(deadlines, "due_deadline_ids"):  # ids from the index alone, then rows by id
        query: Any = select(Deadline.id).where(Deadline.done_at == None, Deadline.remind_on <= today)  # noqa: E711
    else:  # the first version: ORDER BY id LIMIT n, paged by id
        query = (select(Deadline)
                 .where(Deadline.done_at == None, Deadline.remind_on <= today, col(Deadline.id) > 0)  # noqa: E711
                 .order_by(col(Deadline.id)).limit(limit))
    return str(query.compile(engine, compile_kwargs={"literal_binds": True}))


def _plan(engine: Any, sql: str) -> str:
    from sqlalchemy import text

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
            return " / ".join(str(r[-1]) for r in rows)
        rows = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)).all()
        return " / ".join(str(r[0]).strip() for r in rows)


def _reopen(engine: Any, ids: list[int], outbox_after: int) -> None:
    """Put the due reminders back as they were before the sweep (between repeats).

    The audit log is append-only (PRIV-1; a trigger refuses DELETE), so its rows stay.
    """
    from sqlalchemy import bindparam, text

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outboxmessage WHERE id > :n"), {"n": outbox_after})
        conn.execute(text("UPDATE deadline SET done_at = NULL WHERE id IN :ids")
                     .bindparams(bindparam("ids", expanding=True)), {"ids": ids})


def _high_water(engine: Any) -> int:
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM outboxmessage")).scalar_one())


def child(url: str, kind: str, repeats: int, batch_size: int | None) -> dict[str, Any]:
    """Run in a fresh process: time run_sweep, the due query alone, and report peak RSS."""
    started = time.perf_counter()
    import _handlers  # noqa: F401  (registers the benchmark-only kind)
    from sqlmodel import Session

    from pprflow.db import get_engine
    from pprflow.profiles import load_profile
    from pprflow.tasks.deadlines import due_deadlines, load_handlers, run_sweep

    load_handlers()
    import_seconds = time.perf_counter() - started
    engine = get_engine(common.sqlalchemy_url(url))
    profile = load_profile("vejle")
    today = synthetic.TODAY
    kwargs = {"batch_size": batch_size} if batch_size else {}
    with Session(engine) as session:
        due_ids = [d.id for d in due_deadlines(session, today) if d.id is not None]
    outbox_after = _high_water(engine)
    rss = {"imports": common.peak_rss_mb()}
    runs: list[float] = []
    reports: list[dict[str, Any]] = []
    for i in range(repeats):
        if i:
            _reopen(engine, due_ids, outbox_after)
        t0 = time.perf_counter()
        result = run_sweep(engine, profile, today=today, **kwargs)
        runs.append(time.perf_counter() - t0)
        reports.append(result.as_dict())
        rss[f"after_run_{i + 1}"] = common.peak_rss_mb()
    _reopen(engine, due_ids, outbox_after)
    query_runs = []
    for _ in range(5):
        with Session(engine) as session:
            t0 = time.perf_counter()
            found = len(due_deadlines(session, today, limit=500))
            query_runs.append(time.perf_counter() - t0)
    sql = _due_query_sql(engine, today, 500)
    plan = _plan(engine, sql)
    engine.dispose()
    return {
        "sweep_s": common.median(runs), "sweep_min_s": min(runs), "runs_s": runs,
        "query_ms": 1000 * common.median(query_runs), "query_found": found,
        "handled": sum(reports[-1]["handled"].values()), "queued": reports[-1]["queued"],
        "unknown_kinds": reports[-1]["unknown_kinds"], "import_s": import_seconds,
        "rss_mb": common.peak_rss_mb(), "rss_stages_mb": rss, "plan": plan, "index_used": DUE_INDEX in plan,
    }


def run_child(url: str, kind: str, repeats: int, batch_size: int | None) -> dict[str, Any]:
    command = [common.python(), __file__, "--child", url, "--kind", kind, "--repeats", str(repeats)]
    if batch_size:
        command += ["--batch-size", str(batch_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise RuntimeError(f"sweep subprocess failed ({done.returncode}) on {url}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the naive pattern ---------------------------------------------------------------------------


def naive_sweep_seconds(url: str, cases: int) -> dict[str, Any]:
    """One Prefect task per open case, called in a loop inside a flow: what a Prefect user writes first."""
    common.isolate_prefect_home()
    import _handlers  # noqa: F401
    from prefect import flow, task
    from sqlmodel import Session, select

    from pprflow.db import get_engine
    from pprflow.models.tables import Case, Deadline
    from pprflow.models.types import utcnow
    from pprflow.profiles import load_profile
    from pprflow.tasks.deadlines import SweepContext, load_handlers

    engine = get_engine(common.sqlalchemy_url(url))
    profile = load_profile("vejle")
    handlers = load_handlers()

    @task(name="check one case")
    def check_case(case_id: int, today: dt.date) -> int:
        context = SweepContext(profile=profile, today=today, actor="system:naive")
        with Session(engine, expire_on_commit=False) as session:
            rows = session.exec(select(Deadline).where(
                Deadline.case_id == case_id, Deadline.done_at == None, Deadline.remind_on <= today  # noqa: E711
            )).all()
            for deadline in rows:
                handler = handlers.get(deadline.kind)
                if handler is not None and handler(session, deadline, context):
                    deadline.done_at = utcnow()
                    session.add(deadline)
            session.commit()
        return len(rows)

    @flow(name="naive-daily-sweep")
    def naive_sweep(today: dt.date) -> int:
        with Session(engine) as session:
            ids = session.exec(select(Case.id).where(Case.status == "open").order_by(Case.id)).all()
        return sum(check_case(case_id, today) for case_id in ids if case_id is not None)

    def timed() -> tuple[float, int]:
        t0 = time.perf_counter()
        handled = naive_sweep(synthetic.TODAY)
        return time.perf_counter() - t0, handled

    if os.environ.get("PREFECT_API_URL"):
        seconds, handled = timed()
        server = os.environ["PREFECT_API_URL"]
    else:
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=180):
            seconds, handled = timed()
        server = "prefect_test_harness"
    engine.dispose()
    return {"naive_s": seconds, "naive_cases": cases, "naive_handled": handled,
            "naive_per_case_ms": 1000 * seconds / cases, "server": server}


# --- the run -------------------------------------------------------------------------------------


def _staff_email_index(url: str) -> None:
    """What-if (not in the migrations): index the lower(email) lookups of tasks/casefile.py."""
    from sqlalchemy import create_engine, text

    engine = create_engine(common.sqlalchemy_url(url))
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX bench_whatif_staff_email_lower ON staffmember (lower(email))"))
        conn.execute(text("ANALYZE staffmember" if engine.dialect.name == "postgresql" else "ANALYZE"))
    engine.dispose()


def measure(db: str, cases: int, args: argparse.Namespace, *, naive: bool = False) -> dict[str, Any]:
    shape = synthetic.Shape.for_cases(cases, args.due)
    scratch = common.scratch_postgres(keep=args.keep) if db == "postgresql" else common.scratch_sqlite(keep=args.keep)
    with scratch as url:
        common.migrate(url)
        loaded = synthetic.load(url, shape, kind=args.kind)
        if args.what_if_staff_email_index:
            _staff_email_index(url)
        print(f"# {db} N={cases:,}: loaded {sum(loaded['rows'].values()):,} rows in {loaded['load_seconds']:.1f} s",
              file=sys.stderr, flush=True)
        label = db + (" +lower(email) index" if args.what_if_staff_email_index else "")
        row = {"db": label, "cases": cases, "deadlines": loaded["rows"]["deadline"], "due": shape.due,
               "load_s": loaded["load_seconds"]}
        row |= run_child(url, args.kind, args.repeats, args.batch_size)
        if naive:
            row |= naive_sweep_seconds(url, cases)
        if args.keep:
            row["kept"] = url
    print(f"# {db} N={cases:,}: sweep {row['sweep_s']:.3f} s, rss {row['rss_mb']:.0f} MB, "
          f"index used: {row['index_used']}", file=sys.stderr, flush=True)
    return row


def targets(rows: list[dict[str, Any]], naive: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = []
    pg_1m = [r for r in rows if r["db"].startswith("postgresql") and r["cases"] >= 1_000_000]
    if pg_1m:
        t = pg_1m[0]["sweep_s"]
        found.append(common.target(f"PostgreSQL N={pg_1m[0]['cases']:,} sweep <= {TARGET_PG_1M_SECONDS} s", t,
                                   t <= TARGET_PG_1M_SECONDS))
    for db in sorted({r["db"] for r in rows}):
        by_n = {r["cases"]: r["sweep_s"] for r in rows if r["db"] == db}
        sizes = sorted(by_n)
        if len(sizes) >= 2:
            big = sizes[-1]
            small = next((n for n in sizes if n * 10 == big), sizes[-2])
            growth = by_n[big] / by_n[small]
            found.append(common.target(f"{db} t({big:,})/t({small:,}) <= {TARGET_GROWTH} at {rows[0]['due']} due",
                                       growth, growth <= TARGET_GROWTH))
    rss = max(r["rss_mb"] for r in rows)
    found.append(common.target(f"peak RSS of the sweep process <= {TARGET_RSS_MB:.0f} MB", rss, rss <= TARGET_RSS_MB))
    if naive:
        found.append(common.target(
            f"naive one-task-per-case / sweep at N={naive['naive_cases']:,} (info)",
            naive["naive_s"] / naive["sweep_s"], None))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="open cases N, one database each")
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--due", type=int, default=200, help="reminders due, the same at every N")
    parser.add_argument("--repeats", type=int, default=3, help="sweeps per database (median reported)")
    parser.add_argument("--naive-cases", type=int, default=1000, help="cases for the naive flow (0: skip)")
    parser.add_argument("--kind", choices=[synthetic.REAL_KIND, synthetic.BENCH_KIND], default=synthetic.REAL_KIND,
                        help="deadline kind of the due reminders: the real LAW-2 handler or the benchmark one")
    parser.add_argument("--batch-size", type=int, default=None, help="run_sweep batch_size (default: its own)")
    parser.add_argument("--what-if-staff-email-index", action="store_true",
                        help="add an index on lower(staffmember.email) after loading (not in the migrations)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases (prints where)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.kind, args.repeats, args.batch_size)))
        return 0

    dbs = list(args.db)
    if "postgresql" in dbs and not common.pg_available():
        print(f"# PostgreSQL not reachable at {common.PG_ADMIN_URL}: skipped", file=sys.stderr)
        dbs.remove("postgresql")
    rows = [measure(db, n, args) for db in dbs for n in args.sizes]
    naive = None
    if args.naive_cases:
        naive = measure("sqlite", args.naive_cases, args, naive=True)
        # Both did the same reminders on the 1k database; what the naive flow pays on top is per case.
        overhead = max(0.0, naive["naive_s"] - naive["sweep_s"]) / naive["naive_cases"]
        naive["naive_overhead_per_case_ms"] = 1000 * overhead
        for row in rows:
            row["naive_est_s"] = overhead * row["cases"] + row["sweep_s"]
            row["naive_x"] = row["naive_est_s"] / row["sweep_s"]
        naive["naive_est_s"] = naive["naive_s"]
        naive["naive_x"] = naive["naive_s"] / naive["sweep_s"]
        rows.append(naive | {"db": "sqlite (naive run)"})
    columns = ["db", "cases", "deadlines", "due", "load_s", "sweep_s", "query_ms", "handled", "rss_mb",
               "index_used", "naive_est_s", "naive_x"]
    scale_rows = [r for r in rows if "naive" not in r["db"]]
    extra = {"naive": {k: v for k, v in (naive or {}).items() if k.startswith("naive") or k == "server"},
             "plans": {f"{r['db']} N={r['cases']}": r["plan"] for r in rows}}
    common.report("sweep_at_scale", rows, columns, targets=targets(scale_rows or rows, naive), extra=extra)
    if naive:
        print(f"naive pattern: {naive['naive_per_case_ms']:.1f} ms per case on {naive['server']}, "
              f"{naive['naive_overhead_per_case_ms']:.1f} ms of it on top of the same reminders' work "
              f"-> {naive['naive_overhead_per_case_ms'] / 1000 * 1_000_000 / 3600:.1f} h for 1M cases "
              "(naive_est_s = that per case x N + our sweep)")
    for key, plan in extra["plans"].items():
        print(f"plan {key}: {plan}")
    broken = [r for r in rows if r["handled"] != r["due"] or r.get("unknown_kinds")]
    if broken:  # the sweep did not do the work: that is a bug, not a missed target
        print(f"sweep handled the wrong number of reminders: {broken}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
