"""Overlapping delivery runs: N `pprflow outbox send` started together over one outbox of M messages,
to a loopback SMTP server that counts every message by its idempotency key (issue 13).

Prints, per database and number of runs: messages, received by the server, doubles (messages that
arrived more than once), not received (still pending or lost), runs that ended with a traceback or non-zero exit.

`--tree DIR` runs the pprflow found in DIR (an unpacked older commit, e.g. `git archive 366600b`)
with this venv, to measure the behaviour before a change:

    python benchmarks/concurrent_delivery.py                     # this tree
    python benchmarks/concurrent_delivery.py --tree /tmp/before  # an older tree
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import _common as common

ROOT = Path(__file__).resolve().parent.parent

QUEUE = """
import datetime as dt, sys
from sqlmodel import Session
from pprflow.db import get_engine
from pprflow.models.types import utcnow
from pprflow.tasks.outbox import queue_message
from pprflow.templates.catalogue import MESSAGE_KINDS
engine = get_engine(sys.argv[1])
context = MESSAGE_KINDS["receipt"].example_context()
base = utcnow() - dt.timedelta(days=1)
with Session(engine) as session:
    for i in range(int(sys.argv[2])):
        queue_message(session, kind="receipt", to=f"modtager{i}@skole.example", context=context,
                      serves=f"bench:{i}", sender="ppr@vejle.example", send_after=base + dt.timedelta(seconds=i))
    session.commit()
"""


def run(tree: Path, db: str, url: str, runs: int, messages: int) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    sys.path.insert(0, str(ROOT))
    from tests.support.mailboxes import RecordingSmtp

    env = {**os.environ, "PPRFLOW_TRANSPORT": "smtp", "PPRFLOW_SMTP_HOST": "127.0.0.1",
           "PPRFLOW_SMTP_SECURITY": "none", "PPRFLOW_SMTP_TIMEOUT": "10",
           "PPRFLOW_THROTTLE_PER_MINUTE": "100000",  # doubles are measured, not the throttle
           "PPRFLOW_USER": "bench@vejle.example",
           "PPRFLOW_HOME": tempfile.mkdtemp(prefix="pprflow-bench-home-"), "PYTHONWARNINGS": "ignore"}
    env.pop("PREFECT_API_URL", None)
    pprflow = [sys.executable, "-m", "pprflow", "--db", url]
    subprocess.run([*pprflow, "db", "upgrade"], cwd=tree, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", QUEUE, url, str(messages)], cwd=tree, env=env, check=True)
    handler = RecordingSmtp(latency=0.01)
    controller = Controller(handler, hostname="127.0.0.1", port=common.free_port())
    controller.start()
    env["PPRFLOW_SMTP_PORT"] = str(controller.port)
    try:
        t0 = time.perf_counter()
        procs = [subprocess.Popen([*pprflow, "outbox", "send"], cwd=tree, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(runs)]
        outputs = [p.communicate(timeout=600) for p in procs]
        seconds = time.perf_counter() - t0
    finally:
        controller.stop()
    counts: Counter[str] = handler.sent
    bad = [i for i, (p, (_, err)) in enumerate(zip(procs, outputs, strict=True))
           if p.returncode != 0 or "Traceback" in err]
    return {"db": db, "runs": runs, "messages": messages, "received": sum(counts.values()),
            "doubles": sum(1 for n in counts.values() if n > 1), "not_received": messages - len(counts),
            "failed_runs": len(bad), "seconds": seconds,
            "first_error": next((outputs[i][1].strip().splitlines()[-1] for i in bad if outputs[i][1].strip()), "")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the pprflow source tree to run")
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--runs", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    common.isolate_prefect_home()
    rows = []
    for db in args.db:
        if db == "postgresql" and not common.pg_available():
            print(f"# PostgreSQL not reachable at {common.PG_ADMIN_URL}: skipped", file=sys.stderr)
            continue
        for runs in args.runs:
            if db == "postgresql":
                with common.scratch_postgres() as url:
                    rows.append(run(args.tree, db, common.sqlalchemy_url(url), runs, args.messages))
            else:
                with common.scratch_sqlite() as path:
                    rows.append(run(args.tree, db, common.sqlalchemy_url(path), runs, args.messages))
    print(f"# tree: {args.tree}")
    print(common.table(rows, ["db", "runs", "messages", "received", "doubles", "not_received", "failed_runs", "seconds",
                              "first_error"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
