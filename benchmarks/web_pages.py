"""Server time of the web app's list pages at scale: "Vores sager" (a leader, first page and the next) and
"I dag" (an administrator of one district), on N open cases, SQLite and PostgreSQL (issue 18).

The pages are requested in-process through the real app (FastAPI's TestClient: routing, the guard, the access
policy, the audit rows, the template), so the figure is the server's time per request without the network.

Data: on PostgreSQL generated inside the server (INSERT … SELECT generate_series: 1M cases in about a minute),
relative to today so "I dag" has overdue, today's and this week's deadlines (10 % of the cases wait for a PPR
employee; every case has a handled deadline and a sent message as history). On SQLite the bulk loader of
benchmarks/_synthetic.py. 1M cases only with PPRFLOW_BENCH_WEB_1M=1 (or --sizes 1000000).

    .venv/bin/python benchmarks/web_pages.py --sizes 10000 100000 --db sqlite postgresql --repeats 20
    PPRFLOW_BENCH_WEB_1M=1 .venv/bin/python benchmarks/web_pages.py --db postgresql --repeats 40
    .venv/bin/python benchmarks/web_pages.py --sizes 1000 --db sqlite --repeats 3      # smoke
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from typing import Any

import _common as common
import _synthetic as synthetic

TARGET_P95_MS = 150.0
PASSWORD = "benchmark-adgangskode"
ADMIN = "admin@ppr.bench.example"
LEADER = "leder1@inst1.bench.example"  # institution 1 is in "Distrikt 2"


DISTRICTS = 20
PG_DATA = [
    """INSERT INTO institution (id, name, kind, district)
       SELECT i, 'Institution ' || lpad(i::text, 5, '0'), CASE WHEN mod(i, 2) = 1 THEN 'school' ELSE 'daycare' END,
              'Distrikt ' || (mod(i, %(districts)s) + 1)
       FROM generate_series(1, %(institutions)s) AS i""",
    """INSERT INTO staffmember (id, name, email, role, institution_id, leader_email, active)
       SELECT 2 * i - 1, 'Leder ' || i, 'leder' || i || '@inst' || i || '.bench.example',
              CASE WHEN mod(i, 2) = 1 THEN 'school_leader' ELSE 'daycare_leader' END, i, NULL, true
       FROM generate_series(1, %(institutions)s) AS i
       UNION ALL
       SELECT 2 * i, 'Tovholder ' || i, 'tovholder' || i || '@inst' || i || '.bench.example', 'teacher', i,
              'leder' || i || '@inst' || i || '.bench.example', true
       FROM generate_series(1, %(institutions)s) AS i""",
    """INSERT INTO child (id, pseudonym, birth_year)
       SELECT c, 'B-' || lpad(c::text, 7, '0'), 2008 + mod(c, 18) FROM generate_series(1, %(cases)s) AS c""",
    """INSERT INTO "case" (id, pathway, status, institution_id, child_id, concern, submitted_by_email,
                          coordinator_email, assigned_ppr_email, level_institution, level_family,
                          confidential_from_parents, created_at, last_activity_at)
       SELECT c, (ARRAY['ppr_learning_environment', 'ppr_individual', 'ppv', 'intervention_team',
                        'social_adviser', 'early_years_consultant'])[mod(c, 6) + 1], 'open',
              mod(c, %(institutions)s) + 1, c,
              '', 'tovholder' || (mod(c, %(institutions)s) + 1) || '@inst' || (mod(c, %(institutions)s) + 1)
                  || '.bench.example',
              'tovholder' || (mod(c, %(institutions)s) + 1) || '@inst' || (mod(c, %(institutions)s) + 1)
                  || '.bench.example',
              CASE WHEN mod(c, 10) = 0 THEN NULL ELSE 'ppr' || mod(c, 50) || '@ppr.bench.example' END,
              1 + mod(c, 3), 1, false, %(created)s, %(created)s
       FROM generate_series(1, %(cases)s) AS c""",
    # history: a handled deadline per case; open: one per case from 20 days overdue to 179 days ahead
    """INSERT INTO deadline (id, kind, rule_id, subject_key, case_id, due_on, remind_on, done_at, created_at,
                            stuck_attempts, escalation_step)
       SELECT 2 * c - 1, 'agenda_deadline_reminder', 'CAL-2', 'case:' || c, c, %(today)s::date - 30 - mod(c, 300),
              %(today)s::date - 37 - mod(c, 300), %(created)s, %(created)s, 0, 0
       FROM generate_series(1, %(cases)s) AS c
       UNION ALL
       SELECT 2 * c, 'review_reminder', 'CAL-6', 'case:' || c, c,
              %(today)s::date + mod(c::bigint * 7919, 200)::int - 20,
              %(today)s::date + mod(c::bigint * 7919, 200)::int - 34, NULL, %(created)s, 0, 0
       FROM generate_series(1, %(cases)s) AS c""",
    """INSERT INTO outboxmessage (id, idempotency_key, template, rule_id, case_id, sender, "to", cc, to_is_parent,
                                 subject, body_text, body_html, send_after, status, attempts, sent_at, created_at)
       SELECT c, 'ppr_request|case:' || c || '|intake|ppr@bench.example', 'ppr_request', 'PATH-1', c,
              'ppr@bench.example', 'ppr@bench.example', '[]', false, 'Henvendelse til PPR, sag ' || c,
              'Henvendelse (kort syntetisk tekst).', '<p>Henvendelse (kort syntetisk tekst).</p>', %(created)s,
              CASE WHEN mod(c, 5000) = 0 THEN 'failed' ELSE 'sent' END, 1, %(created)s, %(created)s
       FROM generate_series(1, %(cases)s) AS c""",
]


def _load_postgres(url: str, size: int) -> float:
    """N open cases generated by the server itself (seconds taken)."""
    import datetime as dt

    import psycopg

    from pprflow.models.calendar import local_today

    today = local_today()
    params = {"cases": size, "institutions": max(10, min(5000, size // 250)), "districts": DISTRICTS,
              "today": today, "created": dt.datetime.combine(today - dt.timedelta(days=200), dt.time(8))}
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for statement in PG_DATA:
            conn.execute(statement, params)  # type: ignore[arg-type]
        for table in ("institution", "staffmember", "child", "case", "deadline", "outboxmessage"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # type: ignore[arg-type]
                         f'GREATEST((SELECT max(id) FROM "{table}"), 1))')
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _prepare(url: str) -> None:
    from sqlmodel import Session

    from pprflow.db import get_engine
    from pprflow.models.tables import StaffMember
    from pprflow.web.accounts import set_password

    engine = get_engine(url)
    with Session(engine) as session:
        session.add(StaffMember(name="Admin", email=ADMIN, role="administrator", district="Distrikt 2"))
        session.commit()
    for email in (ADMIN, LEADER):
        set_password(engine, actor=ADMIN, email=email, password=PASSWORD)


def _client(url: str, email: str) -> Any:
    from fastapi.testclient import TestClient

    from pprflow.db import get_engine
    from pprflow.profiles import load_profile
    from pprflow.tasks.context import Ctx
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    ctx = Ctx(engine=get_engine(url), profile=load_profile("vejle"), actor="system:web")
    client = TestClient(create_app(WebSettings(secret_key="b" * 48), ctx=ctx), base_url="http://127.0.0.1")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def _time(client: Any, path: str, repeats: int) -> tuple[list[float], int]:
    times, rows = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:500]
        rows = response.text.count("<tr") - response.text.count("<thead")
    return times, rows


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _second_page(url: str) -> int:
    """The `foer` of "Vores sager"'s second page: the leader's institution's 50th newest open case."""
    from sqlmodel import Session, col, select

    from pprflow.db import get_engine
    from pprflow.models.tables import Case
    from pprflow.web.app import OUR_CASES_SHOWN

    with Session(get_engine(url)) as session:
        ids = session.exec(select(Case.id).where(Case.institution_id == 1).order_by(col(Case.id).desc())
                           .limit(OUR_CASES_SHOWN)).all()
    return int(ids[-1] or 0) if ids else 1


def run(db: str, size: int, repeats: int) -> list[dict[str, Any]]:
    os.environ["PPRFLOW_HOME"] = tempfile.mkdtemp(prefix="pprflow-bench-web-")
    scratch = common.scratch_sqlite() if db == "sqlite" else common.scratch_postgres()
    rows = []
    with scratch as target:
        common.migrate(target)
        if db == "postgresql":
            load_s = _load_postgres(target, size)
        else:
            load_s = synthetic.load(target, synthetic.Shape.for_cases(size, 0), kind=synthetic.BENCH_KIND)[
                "load_seconds"]
        print(f"{db} {size} cases: loaded in {load_s:.0f} s", flush=True)
        url = common.sqlalchemy_url(target)
        _prepare(url)
        # "/" (the home page: the guard, the session, the template, no case data) is the floor of any page
        for who, path in ((LEADER, "/"), (LEADER, "/sager"), (LEADER, f"/sager?foer={_second_page(url)}"),
                          (ADMIN, "/i-dag")):
            client = _client(url, who)
            client.get(path)  # warm-up
            times, shown = _time(client, path, repeats)
            rows.append({"db": db, "cases": size, "page": path.split("=")[0], "rows": shown,
                         "median_ms": round(statistics.median(times), 1), "p95_ms": round(_p95(times), 1)})
            client.close()
        from pprflow.db import get_engine

        get_engine(url).dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default_sizes = [10_000, 100_000] + ([1_000_000] if os.environ.get("PPRFLOW_BENCH_WEB_1M") == "1" else [])
    parser.add_argument("--sizes", type=int, nargs="+", default=default_sizes)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for db in args.db:
        if db == "postgresql" and not common.pg_available():
            print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
            continue
        for size in args.sizes:
            rows += run(db, size, args.repeats)
    biggest = [r for r in rows if r["db"] == "postgresql" and r["cases"] == max(args.sizes) and r["page"] != "/"]
    targets = [common.target(f"p95 ≤ {TARGET_P95_MS:.0f} ms ({r['page']}, PostgreSQL, {r['cases']} cases)",
                             r["p95_ms"], r["p95_ms"] <= TARGET_P95_MS) for r in biggest]
    common.report("web_pages", rows, ["db", "cases", "page", "rows", "median_ms", "p95_ms"], targets=targets)


if __name__ == "__main__":
    main()
