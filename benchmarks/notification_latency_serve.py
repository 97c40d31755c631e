"""Abuse notification latency with `pprflow serve` running (ESC-1/LAW-1): report -> handed to the transport.

The whole production path on this machine: `pprflow serve` (its own Prefect server, every deployment on its
schedule, `underretning-straks` every minute), then `pprflow case report-abuse` as a school teacher would
run it with PREFECT_API_URL set (so the report is the `underretning` flow run on that server), and the file
transport (the embedded default; the mailboxes are `.example`/`.invalid`, nothing leaves the machine).
Latency = the moment the notification's `.eml` is written minus the moment the report command started:
it includes the CLI's start-up, the report flow run, the wait for the next every-minute urgent run and
Prefect's start of that run (a new process).

    python benchmarks/notification_latency_serve.py [--notifications 5] [--db sqlite postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _common as common

ROOT = Path(__file__).resolve().parent.parent
PPRFLOW = str(Path(sys.executable).parent / "pprflow")
TARGET_SECONDS = 60.0
REPORTER = "laerer.latens@skole.example"
NOTIFICATIONS_MAILBOX = b"modtagelsen@vejle.invalid"  # the Vejle profile's placeholder (ESC-2): the file transport only


@contextlib.contextmanager
def serving(home: Path, url: str) -> Iterator[dict[str, str]]:
    """`pprflow serve` on free ports with its own Prefect home; yields the environment a CLI call needs."""
    port, web_port = common.free_port(), common.free_port()
    env = {**os.environ, "PPRFLOW_HOME": str(home), "PPRFLOW_DATABASE_URL": common.sqlalchemy_url(url),
           "PPRFLOW_TRANSPORT": "file", "PREFECT_HOME": str(home / "prefect"), "PPRFLOW_PROFILE": "vejle"}
    env.pop("PREFECT_API_URL", None)
    subprocess.run([PPRFLOW, "db", "upgrade"], env=env, check=True, capture_output=True)
    log = (home / "serve.log").open("wb")
    serve = subprocess.Popen([PPRFLOW, "serve", "--port", str(port), "--web-port", str(web_port)], env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{api}/health", timeout=2)
                break
            if serve.poll() is not None:
                raise RuntimeError(f"pprflow serve ended: {(home / 'serve.log').read_text()[-2000:]}")
            time.sleep(1)
        time.sleep(20)  # the runner registers the deployments and schedules the first every-minute runs
        yield {**env, "PREFECT_API_URL": api}
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()


def report_and_wait(env: dict[str, str], mail: Path, i: int) -> float | None:
    before = set(mail.glob("*.eml")) if mail.exists() else set()
    started = time.time()
    subprocess.run([PPRFLOW, "--as", REPORTER, "case", "report-abuse", "--reporter-name", "Lærer Latens",
                    "--reporter-role", "lærer", "--institution", "Skovbakkeskolen", "--child-name", f"Barn {i}",
                    "--child-group", "2.A", "--child-birth-year", "2018",
                    "--observation", f"Måling {i}: mærker på armen"], env=env, check=True, capture_output=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        new = [p for p in (mail.glob("*.eml") if mail.exists() else []) if p not in before
               and NOTIFICATIONS_MAILBOX in p.read_bytes().lower()]
        if new:
            return min(p.stat().st_mtime for p in new) - started
        time.sleep(0.5)
    return None


def run(db: str, url: str, notifications: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pprflow-bench-serve-") as folder:
        home = Path(folder)
        with serving(home, url) as env:
            latencies = [report_and_wait(env, home / "mail", i) for i in range(notifications)]
    done = sorted(x for x in latencies if x is not None)
    return {"db": db, "notifications": notifications, "delivered": len(done),
            "median_s": round(common.median(done), 1) if done else None,
            "max_s": round(max(done), 1) if done else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=5)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    rows = []
    for db in args.db:
        if db == "postgresql" and not common.pg_available():
            continue
        scratch = common.scratch_postgres() if db == "postgresql" else common.scratch_sqlite()
        with scratch as url:
            rows.append(run(db, url, args.notifications))
    worst = max((r["max_s"] for r in rows if r["max_s"] is not None), default=None)
    lost = sum(r["notifications"] - r["delivered"] for r in rows)
    common.report("notification latency with pprflow serve (report command -> .eml written)", rows,
                  ["db", "notifications", "delivered", "median_s", "max_s"],
                  targets=[common.target(f"every notification handed to the transport within {TARGET_SECONDS:.0f} s",
                                         worst, worst is not None and worst <= TARGET_SECONDS and lost == 0)])
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
