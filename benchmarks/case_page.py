"""Server time of the case page and its paged timeline at scale (issue 19): `/sager/{id}` and
`/sager/{id}/tidslinje?side=1|3`, on N open cases (benchmarks/_synthetic.py) plus 3 audit rows per case, one case
with a long history (600 audit rows), on PostgreSQL (and SQLite if asked).

The pages are requested in-process through the real app (FastAPI's TestClient: routing, the guard, the access
policy, the audit row each read writes, the template) as the case's coordinator, so the figure is the server's time
per request without the network. Every query is by case id on an index ((case_id, at) for the timeline, migration
0012_case_work); the timeline is paged, so a case's history never loads whole.

    .venv/bin/python benchmarks/case_page.py                        # 10k and 100k on PostgreSQL
    PPRFLOW_BENCH_1M=1 .venv/bin/python benchmarks/case_page.py     # and 1M
    .venv/bin/python benchmarks/case_page.py --sizes 1000 --db sqlite --repeats 3      # smoke
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
AUDIT_PER_CASE = 3
LONG_HISTORY = 600


def _coordinator(case_id: int, size: int) -> str:
    institutions = synthetic.Shape.for_cases(size, 0).institutions
    i = case_id % institutions + 1
    return f"tovholder{i}@inst{i}.bench.example"


def _history(url: str, size: int, case_id: int) -> None:
    """3 audit rows per case (the table as big as a real one's) and one case with a long history."""
    from sqlalchemy import text

    from pprflow.db import get_engine

    engine = get_engine(url)
    rows = size * AUDIT_PER_CASE
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(
                "INSERT INTO auditevent (at, actor, action, entity, entity_id, case_id, reason, detail) "
                "SELECT timestamp '2026-01-01' + (g % 5000) * interval '1 hour', 'bench@bench.example', "
                "CASE WHEN g % 3 = 0 THEN 'read' ELSE 'change' END, 'case', ((g % :n) + 1)::text, (g % :n) + 1, "
                "'bench', '{}' FROM generate_series(1, :rows) AS g"), {"n": size, "rows": rows})
            conn.execute(text(
                "INSERT INTO auditevent (at, actor, action, entity, entity_id, case_id, reason, detail) "
                "SELECT timestamp '2026-02-01' + g * interval '1 minute', 'bench@bench.example', 'change', "
                "'meeting', g::text, :c, 'MEET-3', '{}' FROM generate_series(1, :k) AS g"),
                {"c": case_id, "k": LONG_HISTORY})
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text(
                "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :rows) "
                "INSERT INTO auditevent (at, actor, action, entity, entity_id, case_id, reason, detail) "
                "SELECT '2026-01-01 00:00:00.000000', 'bench@bench.example', 'change', 'case', "
                "CAST((x % :n) + 1 AS TEXT), (x % :n) + 1, 'bench', '{}' FROM g"), {"n": size, "rows": rows})
            conn.execute(text(
                "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :k) "
                "INSERT INTO auditevent (at, actor, action, entity, entity_id, case_id, reason, detail) "
                "SELECT '2026-02-01 00:00:00.000000', 'bench@bench.example', 'change', 'meeting', "
                "CAST(x AS TEXT), :c, 'MEET-3', '{}' FROM g"), {"c": case_id, "k": LONG_HISTORY})
            conn.execute(text("ANALYZE"))
    engine.dispose()


def _client(url: str, email: str) -> Any:
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from pprflow.db import get_engine
    from pprflow.models.tables import StaffMember
    from pprflow.profiles import load_profile
    from pprflow.tasks.context import Ctx
    from pprflow.web.accounts import set_password
    from pprflow.web.app import create_app
    from pprflow.web.settings import WebSettings

    engine = get_engine(url)
    with Session(engine) as session:
        session.add(StaffMember(name="Admin", email=ADMIN, role="administrator", district="Distrikt 2"))
        session.commit()
    set_password(engine, actor=ADMIN, email=email, password=PASSWORD)
    ctx = Ctx(engine=engine, profile=load_profile("vejle"), actor="system:web")
    client = TestClient(create_app(WebSettings(secret_key="b" * 48), ctx=ctx), base_url="http://127.0.0.1")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(db: str, size: int, repeats: int) -> list[dict[str, Any]]:
    os.environ["PPRFLOW_HOME"] = tempfile.mkdtemp(prefix="pprflow-bench-case-")
    scratch = common.scratch_sqlite() if db == "sqlite" else common.scratch_postgres()
    rows = []
    case_id = size // 2 + 1
    with scratch as target:
        common.migrate(target)
        started = time.perf_counter()
        synthetic.load(target, synthetic.Shape.for_cases(size, 0), kind=synthetic.BENCH_KIND)
        url = common.sqlalchemy_url(target)
        _history(url, size, case_id)
        loaded_s = round(time.perf_counter() - started, 1)
        client = _client(url, _coordinator(case_id, size))
        for label, path in (("case page", f"/sager/{case_id}"), ("timeline p1", f"/sager/{case_id}/tidslinje"),
                            ("timeline p3", f"/sager/{case_id}/tidslinje?side=3")):
            client.get(path)  # warm-up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text[:500]
            rows.append({"db": db, "cases": size, "page": label, "median_ms": round(statistics.median(times), 1),
                         "p95_ms": round(_p95(times), 1), "load_s": loaded_s})
        client.close()
        from pprflow.db import get_engine

        get_engine(url).dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = [10_000, 100_000] + ([1_000_000] if os.environ.get("PPRFLOW_BENCH_1M") else [])
    parser.add_argument("--sizes", type=int, nargs="+", default=default)
    parser.add_argument("--db", nargs="+", default=["postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for db in args.db:
        if db == "postgresql" and not common.pg_available():
            print("PostgreSQL not reachable on 127.0.0.1:5432: skipped")
            continue
        for size in args.sizes:
            rows += run(db, size, args.repeats)
    biggest = [r for r in rows if r["db"] == "postgresql" and r["cases"] == max(args.sizes)]
    targets = [common.target(f"p95 ≤ {TARGET_P95_MS:.0f} ms ({r['page']}, PostgreSQL, {r['cases']} cases)",
                             r["p95_ms"], r["p95_ms"] <= TARGET_P95_MS) for r in biggest]
    common.report("case_page", rows, ["db", "cases", "page", "median_ms", "p95_ms", "load_s"], targets=targets)


if __name__ == "__main__":
    main()
