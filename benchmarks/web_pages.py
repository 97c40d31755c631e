"""Server time of the web app's list pages at scale: "Vores sager" (a leader) and "I dag" (an administrator of
one district), on N open cases (benchmarks/_synthetic.py), SQLite and PostgreSQL (issue 18).

The pages are requested in-process through the real app (FastAPI's TestClient: routing, the guard, the access
policy, the audit rows, the template), so the figure is the server's time per request without the network.

    .venv/bin/python benchmarks/web_pages.py --sizes 10000 100000 --db sqlite postgresql --repeats 20
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


def run(db: str, size: int, repeats: int) -> list[dict[str, Any]]:
    os.environ["PPRFLOW_HOME"] = tempfile.mkdtemp(prefix="pprflow-bench-web-")
    scratch = common.scratch_sqlite() if db == "sqlite" else common.scratch_postgres()
    rows = []
    with scratch as target:
        common.migrate(target)
        synthetic.load(target, synthetic.Shape.for_cases(size, 0), kind=synthetic.BENCH_KIND)
        url = common.sqlalchemy_url(target)
        _prepare(url)
        for who, path in ((LEADER, "/sager"), (ADMIN, "/i-dag")):
            client = _client(url, who)
            client.get(path)  # warm-up
            times, shown = _time(client, path, repeats)
            rows.append({"db": db, "cases": size, "page": path, "rows": shown,
                         "median_ms": round(statistics.median(times), 1), "p95_ms": round(_p95(times), 1)})
            client.close()
        from pprflow.db import get_engine

        get_engine(url).dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
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
    biggest = [r for r in rows if r["db"] == "postgresql" and r["cases"] == max(args.sizes)]
    targets = [common.target(f"p95 ≤ {TARGET_P95_MS:.0f} ms ({r['page']}, PostgreSQL, {r['cases']} cases)",
                             r["p95_ms"], r["p95_ms"] <= TARGET_P95_MS) for r in biggest]
    common.report("web_pages", rows, ["db", "cases", "page", "rows", "median_ms", "p95_ms"], targets=targets)


if __name__ == "__main__":
    main()
