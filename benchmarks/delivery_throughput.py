"""Outbox delivery: messages a second through `deliver_due` + `SmtpTransport` to a loopback SMTP server,
and proof that the per-mailbox throttle holds Exchange Online's 30 messages a minute.

Throughput: `--messages` rendered messages are queued in a fresh database (SQLite and/or
PostgreSQL), then `pprflow.tasks.outbox.deliver_due` sends them all through `SmtpTransport` (plain SMTP,
no TLS) to an aiosmtpd server on 127.0.0.1 in its own process. Every message is claimed, checked
against ESC-1/CONS-1, sent and recorded, one transaction per state change, exactly as in production.

Throttle: `--throttle-messages` messages from two sending mailboxes go through `deliver_due` with
`pprflow.tasks.throttle.MailboxThrottle(per_minute=30)` and an injected clock and sleep (a fake minute
passes instantly), still over real SMTP. Each message's send time on that clock is recorded and
the most messages any mailbox sent within one rolling minute is counted; the same run without the
throttle is the control that shows the counting would catch an excess.

    .venv/bin/python benchmarks/delivery_throughput.py --messages 5000 --throttle-messages 300
"""

from __future__ import annotations

import argparse
import bisect
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _common as common

TARGET_PER_SECOND = 200.0
EXCHANGE_ONLINE_PER_MINUTE = 30
SENDERS = ("ppr@vejle.bench.example", "born-og-skole@vejle.bench.example")


class SmtpSink:
    """The loopback SMTP server process (benchmarks/_smtp_sink.py)."""

    def __init__(self) -> None:
        self.port = common.free_port()
        self.process = subprocess.Popen(
            [common.python(), str(Path(__file__).with_name("_smtp_sink.py")), str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the loopback SMTP server did not start")

    def received(self) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline().split()[0])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def queue_messages(url: str, count: int, senders: tuple[str, ...] = SENDERS[:1]) -> None:
    """Queue `count` rendered messages on a few cases (one template rendered, rows bulk-inserted)."""
    import datetime as dt

    from sqlalchemy import insert
    from sqlmodel import Session

    from pprflow.db import get_engine
    from pprflow.models.tables import Case, Institution, OutboxMessage
    from pprflow.models.types import utcnow
    from pprflow.templates.catalogue import MESSAGE_KINDS
    from pprflow.templates.render import render_message

    engine = get_engine(common.sqlalchemy_url(url))
    rendered = render_message("review_reminder", MESSAGE_KINDS["review_reminder"].example_context())
    with Session(engine) as session:
        institution = Institution(name="Bench skole", kind="school", district="Distrikt 1")
        session.add(institution)
        session.flush()
        cases = [Case(pathway="ppv", institution_id=institution.id or 0, submitted_by_email="a@bench.example",
                      coordinator_email="tovholder@bench.example") for _ in range(10)]
        session.add_all(cases)
        session.commit()
        case_ids = [c.id for c in cases]
    start = utcnow() - dt.timedelta(minutes=5)
    rows = [{
        "idempotency_key": f"review_reminder|case:{case_ids[i % 10]}|bench:{i}|modtager{i}@bench.example",
        "template": "review_reminder", "rule_id": "CAL-6", "case_id": case_ids[i % 10],
        "sender": senders[i % len(senders)], "to": f"modtager{i}@bench.example", "cc": [], "to_is_parent": False,
        "subject": rendered.subject, "body_text": rendered.text, "body_html": rendered.html,
        "send_after": start + dt.timedelta(microseconds=i), "status": "pending", "attempts": 0,
        "created_at": start,
    } for i in range(count)]
    with engine.begin() as conn:
        for i in range(0, len(rows), 1000):
            conn.execute(insert(OutboxMessage), rows[i:i + 1000])


def throughput(db: str, messages: int, *, reuse_ssl_context: bool = False) -> dict[str, Any]:
    import ssl

    from pprflow.db import get_engine
    from pprflow.tasks.outbox import deliver_due
    from pprflow.tasks.transports.smtp import SmtpTransport

    scratch = common.scratch_postgres() if db == "postgresql" else common.scratch_sqlite()
    with scratch as url, SmtpSink() as sink:
        common.migrate(url)
        queue_messages(url, messages)
        engine = get_engine(common.sqlalchemy_url(url))
        # As tasks.transports.make_transport builds it; the variant hands in one SSL context made up
        # front, to show what building a context (loading the system CAs) for every message costs.
        context = ssl.create_default_context() if reuse_ssl_context else None
        transport = SmtpTransport("127.0.0.1", sink.port, security="none", timeout=10, ssl_context=context)
        t0 = time.perf_counter()
        result = deliver_due(engine, transport)
        seconds = time.perf_counter() - t0
        received = sink.received()
        engine.dispose()
    sent = len(result.sent)
    return {"db": db, "transport": "SmtpTransport, SSL context made once" if reuse_ssl_context else
            "SmtpTransport as configured", "messages": messages, "sent": sent, "received": received, "seconds": seconds,
            "per_s": sent / seconds, "ms_per_message": 1000 * seconds / max(sent, 1),
            "errors": len(result.errors)}


class FakeClock:
    """Monotonic seconds that move only when someone sleeps (or a send takes its modelled time)."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class RecordingTransport:
    """SmtpTransport that notes, on the fake clock, when each mailbox sent each message."""

    name = "smtp"

    def __init__(self, inner: Any, clock: FakeClock, send_seconds: float) -> None:
        self.inner, self.clock, self.send_seconds = inner, clock, send_seconds
        self.sent: dict[str, list[float]] = {}

    def already_sent(self, idempotency_key: str) -> str | None:
        return None

    def send(self, mail: Any) -> str:
        message_id: str = self.inner.send(mail)
        self.clock.sleep(self.send_seconds)  # a send takes a little time on the fake clock too
        self.sent.setdefault(mail.sender, []).append(self.clock.now())
        return message_id


def max_in_rolling_minute(times: list[float]) -> int:
    """Most messages in any window (t - 60 s, t]: the throttle's own definition of a minute."""
    ordered = sorted(times)
    return max((i + 1 - bisect.bisect_right(ordered, t - 60.0) for i, t in enumerate(ordered)), default=0)


def throttle_proof(messages: int, per_minute: int, *, throttled: bool) -> list[dict[str, Any]]:
    from pprflow.db import get_engine
    from pprflow.tasks.outbox import deliver_due
    from pprflow.tasks.throttle import MailboxThrottle
    from pprflow.tasks.transports.smtp import SmtpTransport

    clock = FakeClock()
    with common.scratch_sqlite() as url, SmtpSink() as sink:
        common.migrate(url)
        queue_messages(url, messages, SENDERS)
        engine = get_engine(common.sqlalchemy_url(url))
        transport = RecordingTransport(SmtpTransport("127.0.0.1", sink.port, security="none", timeout=10),
                                       clock, send_seconds=0.2)
        throttle = MailboxThrottle(per_minute=per_minute, clock=clock.now) if throttled else None
        t0 = time.perf_counter()
        result = deliver_due(engine, transport, throttle=throttle, max_throttle_wait=120.0,
                             clock=clock.now, sleep=clock.sleep)
        wall = time.perf_counter() - t0
        received = sink.received()
        engine.dispose()
    rows = []
    for sender in SENDERS:
        times = transport.sent.get(sender, [])
        rows.append({
            "run": "throttled" if throttled else "control (no throttle)", "mailbox": sender, "sent": len(times),
            "clock_minutes": (max(times) - min(times)) / 60 if times else 0.0,
            "max_per_rolling_minute": max_in_rolling_minute(times), "limit": per_minute if throttled else None,
            "holds": max_in_rolling_minute(times) <= per_minute if throttled else None,
            "wall_s": wall, "received": received, "deferred": len(result.deferred),
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="messages for the throughput run")
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--throttle-messages", type=int, default=200,
                        help="messages (two mailboxes) for the throttle proof")
    parser.add_argument("--per-minute", type=int, default=EXCHANGE_ONLINE_PER_MINUTE)
    args = parser.parse_args(argv)

    dbs = list(args.db)
    if "postgresql" in dbs and not common.pg_available():
        print(f"# PostgreSQL not reachable at {common.PG_ADMIN_URL}: skipped", file=sys.stderr)
        dbs.remove("postgresql")
    rows = [throughput(db, args.messages, reuse_ssl_context=reuse) for db in dbs for reuse in (False, True)]
    proof = throttle_proof(args.throttle_messages, args.per_minute, throttled=True)
    control = throttle_proof(args.throttle_messages, args.per_minute, throttled=False)
    targets = [common.target(f"{r['db']}, {r['transport']}: messages/s >= {TARGET_PER_SECOND:.0f}",
                             r["per_s"], r["per_s"] >= TARGET_PER_SECOND) for r in rows]
    worst = max(r["max_per_rolling_minute"] for r in proof)
    targets.append(common.target(f"throttled: most messages one mailbox sent in a rolling minute <= {args.per_minute}",
                                 worst, worst <= args.per_minute))
    common.report("delivery_throughput", rows,
                  ["db", "transport", "messages", "sent", "received", "seconds", "per_s", "ms_per_message", "errors"],
                  targets=targets, extra={"throttle": proof + control})
    print(common.table(proof + control, ["run", "mailbox", "sent", "clock_minutes", "max_per_rolling_minute",
                                         "limit", "holds", "wall_s", "received"]))
    problems = [r for r in rows if r["sent"] != r["messages"] or r["received"] != r["sent"]]
    problems += [r for r in proof + control if r["received"] != args.throttle_messages]
    if problems:  # a message lost or not delivered is a bug, not a missed target
        print(f"delivery did not deliver everything: {problems}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
