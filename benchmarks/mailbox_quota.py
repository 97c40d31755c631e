"""The cost of keeping the per-mailbox window in the database (issue 20): acquires per second.

Every message a delivery run sends now takes its slot with one write transaction in
`mailboxsend` (tasks/mailbox_quota.py) instead of a list append in process memory. This prints how
many slots a second one process takes on SQLite and PostgreSQL (limits set high so every acquire
succeeds, the table filling as it would over a busy day), next to the in-memory throttle.

    .venv/bin/python benchmarks/mailbox_quota.py [--acquires 2000] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_ADMIN_URL = os.environ.get("PPRFLOW_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _database(kind: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='pprflow-bench-quota-')}/pprflow.db", None
    name = f"pprflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def _drop(handle: object) -> None:
    from sqlalchemy import text

    if handle is None:
        return
    admin, name = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure_database(kind: str, acquires: int) -> dict[str, object]:
    from pprflow.db import get_engine, upgrade
    from pprflow.tasks.mailbox_quota import DatabaseThrottle

    url, handle = _database(kind)
    try:
        upgrade(url)
        throttle = DatabaseThrottle(get_engine(url), per_minute=10**9, recipients_per_day=10**9)
        start, now = time.perf_counter(), 1_000_000.0
        for i in range(acquires):
            assert throttle.acquire("ppr@vejle.example", 1, now + i * 0.01) == 0.0
        seconds = time.perf_counter() - start
        get_engine(url).dispose()
    finally:
        _drop(handle)
    return {"window": f"database ({kind})", "acquires": acquires, "seconds": round(seconds, 3),
            "per_second": round(acquires / seconds), "ms_each": round(1000 * seconds / acquires, 3)}


def measure_memory(acquires: int) -> dict[str, object]:
    from pprflow.tasks.throttle import MailboxThrottle

    throttle = MailboxThrottle(per_minute=10**9, recipients_per_day=10**9)
    start = time.perf_counter()
    for i in range(acquires):
        throttle.acquire("ppr@vejle.example", 1, 1_000_000.0 + i * 0.01)
    seconds = time.perf_counter() - start
    return {"window": "process memory (before)", "acquires": acquires, "seconds": round(seconds, 3),
            "per_second": round(acquires / seconds), "ms_each": round(1000 * seconds / acquires, 3)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--acquires", type=int, default=2000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    rows = [measure_memory(args.acquires)] + [measure_database(kind, args.acquires) for kind in args.db]
    for row in rows:
        print(f"{row['window']:<28} {row['acquires']:>6} acquires  {row['seconds']:>8} s  "
              f"{row['per_second']:>8}/s  {row['ms_each']:>7} ms each")
    print("Exchange Online allows 30 messages a minute per mailbox: 0.5/s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
