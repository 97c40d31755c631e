"""Synthetic national-scale data, bulk-loaded: PostgreSQL `COPY`, SQLite `executemany` in one transaction.

Shape for N open cases (all synthetic, `.bench.example` addresses, no real person):
- institutions: N/250, clamped to 10 … 5,000 (Denmark has about 4,000 daycares and schools), each
  with a leader and a coordinator (the coordinator's `leader_email` is the leader: LAW-2 needs it);
- children: N (pseudonym + birth year only, PRIV-2); cases: N, all open;
- outbox: per case the request it was opened with, sent long ago (history the sweep must not read);
- deadlines: per case one handled deadline in the past (history) and one open deadline whose
  reminder is months ahead, plus exactly `due` open deadlines whose reminder day has come. The
  sweep must find those `due` rows among 2N + due without reading the other 2N.

Due deadlines are of a real kind with a real handler when one exists (`acknowledgement_overdue`,
LAW-2, in tasks/abuse.py; each gets its Notification row) or of the benchmark-only kind
`bench_review_reminder` (benchmarks/_handlers.py), which does the same work as a real handler.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

UTC = dt.UTC
TODAY = dt.date(2026, 3, 2)  # a Monday, not a holiday
NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
PATHWAYS = ("ppr_learning_environment", "ppr_individual", "ppv", "intervention_team", "social_adviser",
            "early_years_consultant")
REAL_KIND = "acknowledgement_overdue"
BENCH_KIND = "bench_review_reminder"


@dataclass(frozen=True)
class Shape:
    cases: int
    due: int
    institutions: int

    @classmethod
    def for_cases(cls, cases: int, due: int) -> Shape:
        return cls(cases=cases, due=min(due, cases), institutions=max(10, min(5000, cases // 250)))

    def due_case_ids(self) -> list[int]:
        step = max(1, self.cases // max(1, self.due))
        return [1 + i * step for i in range(self.due)]


Row = tuple[Any, ...]
Table = tuple[str, tuple[str, ...], Callable[[], Iterator[Row]]]


def _tables(shape: Shape, kind: str, notifications_mailbox: str) -> list[Table]:
    n, m = shape.cases, shape.institutions
    created = NOW - dt.timedelta(days=200)

    def leader(i: int) -> str:
        return f"leder{i}@inst{i}.bench.example"

    def coordinator(i: int) -> str:
        return f"tovholder{i}@inst{i}.bench.example"

    def institutions() -> Iterator[Row]:
        for i in range(1, m + 1):
            yield (i, f"Institution {i:05d}", "school" if i % 2 else "daycare", f"Distrikt {i % 20 + 1}")

    def staff() -> Iterator[Row]:
        for i in range(1, m + 1):
            role = "school_leader" if i % 2 else "daycare_leader"
            yield (2 * i - 1, f"Leder {i}", leader(i), role, i, None)
            yield (2 * i, f"Tovholder {i}", coordinator(i), "teacher", i, leader(i))

    def children() -> Iterator[Row]:
        for c in range(1, n + 1):
            yield (c, f"B-{c:07d}", 2008 + c % 18)

    def cases() -> Iterator[Row]:
        for c in range(1, n + 1):
            i = c % m + 1
            yield (c, PATHWAYS[c % len(PATHWAYS)], "open", i, c, None, "", coordinator(i), coordinator(i), None,
                   1 + c % 3, 1, False, None, None, created, created, None)

    due_cases = shape.due_case_ids()

    def notifications() -> Iterator[Row]:
        if kind != REAL_KIND:
            return
        for k, c in enumerate(due_cases, start=1):
            i = c % m + 1
            yield (k, c, coordinator(i), notifications_mailbox, NOW - dt.timedelta(days=12),
                   TODAY - dt.timedelta(days=2 + k % 5), None)

    def deadlines() -> Iterator[Row]:
        ident = 0
        for c in range(1, n + 1):
            past = TODAY - dt.timedelta(days=20 + c % 300)
            ident += 1
            yield (ident, "agenda_deadline_reminder", "CAL-2", f"case:{c}", c, None, None, past,
                   past - dt.timedelta(days=7), created + dt.timedelta(days=1), created)
            ahead = TODAY + dt.timedelta(days=30 + c % 180)
            ident += 1
            yield (ident, "review_reminder", "CAL-6", f"case:{c}", c, None, None, ahead,
                   ahead - dt.timedelta(days=14), None, created)
        for k, c in enumerate(due_cases, start=1):
            remind = TODAY - dt.timedelta(days=k % 5)
            subject, rule = (f"notification:{k}", "LAW-2") if kind == REAL_KIND else (f"case:{c}", "CAL-6")
            ident += 1
            yield (ident, kind, rule, subject, c, None, None, remind - dt.timedelta(days=1), remind, None, created)

    def outbox() -> Iterator[Row]:
        # History: the request each case was opened with, long since sent (the outbox keeps it).
        sent = created + dt.timedelta(minutes=3)
        for c in range(1, n + 1):
            yield (c, f"ppr_request|case:{c}|intake|ppr@bench.example", "ppr_request", "PATH-1", c, None,
                   "ppr@bench.example", "ppr@bench.example", "[]", False, f"Henvendelse til PPR, sag {c}",
                   "Henvendelse (kort syntetisk tekst).", "<p>Henvendelse (kort syntetisk tekst).</p>", created,
                   "sent", 1, None, sent, sent, f"<{c}@bench.example>", None, created)

    return [
        ("institution", ("id", "name", "kind", "district"), institutions),
        ("staffmember", ("id", "name", "email", "role", "institution_id", "leader_email"), staff),
        ("child", ("id", "pseudonym", "birth_year"), children),
        ("case", ("id", "pathway", "status", "institution_id", "child_id", "group_name", "concern",
                  "submitted_by_email", "coordinator_email", "assigned_ppr_email", "level_institution",
                  "level_family", "confidential_from_parents", "specialised_effort_started_on", "level3_reason",
                  "created_at", "last_activity_at", "closed_at"), cases),
        ("notification", ("id", "case_id", "reported_by_email", "sent_to", "reported_at", "acknowledgement_due",
                          "acknowledged_at"), notifications),
        ("deadline", ("id", "kind", "rule_id", "subject_key", "case_id", "meeting_id", "district", "due_on",
                      "remind_on", "done_at", "created_at"), deadlines),
        ("outboxmessage", ("id", "idempotency_key", "template", "rule_id", "case_id", "consent_id", "sender", "to",
                           "cc", "to_is_parent", "subject", "body_text", "body_html", "send_after", "status",
                           "attempts", "last_error", "sending_started_at", "sent_at", "transport_message_id",
                           "cancelled_reason", "created_at"), outbox),
    ]


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite storage formats: naive UTC "YYYY-MM-DD HH:MM:SS.ffffff", dates ISO, booleans 0/1.
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _load_sqlite(path: str, tables: list[Table]) -> dict[str, int]:
    import sqlite3

    counts: dict[str, int] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Loading only: no journal, no fsync, a big page cache. Put back to WAL afterwards.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        for name, columns, rows in tables:
            quoted = ", ".join(f'"{c}"' for c in columns)
            sql = (f'INSERT INTO "{name}" ({quoted}) '
                   f'VALUES ({", ".join("?" for _ in columns)})')
            before = conn.total_changes
            conn.executemany(sql, (tuple(_sqlite_value(v) for v in row) for row in rows()))
            counts[name] = conn.total_changes - before
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return counts


def _naive_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _load_postgres(url: str, tables: list[Table]) -> dict[str, int]:
    import psycopg

    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for name, columns, rows in tables:
                count = 0
                quoted = ", ".join(f'"{c}"' for c in columns)
                with cur.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows():
                        copy.write_row(tuple(_naive_utc(v) for v in row))
                        count += 1
                counts[name] = count
                # Explicit ids: move the sequence past them so later inserts (outbox, audit) work.
                cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                            f'GREATEST((SELECT max(id) FROM "{name}"), 1))')
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # fresh statistics and visibility map after the bulk load
    return counts


def load(url_or_path: str, shape: Shape, *, kind: str = REAL_KIND,
         notifications_mailbox: str = "underretning@bench.example") -> dict[str, Any]:
    """Bulk-load the synthetic data into a migrated, empty database; return counts and seconds."""
    tables = _tables(shape, kind, notifications_mailbox)
    started = time.perf_counter()
    if url_or_path.startswith("postgresql"):
        counts = _load_postgres(url_or_path, tables)
    else:
        counts = _load_sqlite(url_or_path, tables)
    return {"rows": counts, "load_seconds": time.perf_counter() - started}
