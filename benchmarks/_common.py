"""What the benchmark scripts share: the machine line, JSON + table output, scratch databases.

Benchmarks are scripts, not tests: each prints its figures once as JSON (one line, for tools)
and once as a table (for people). A missed target is a figure, never an exit code; a crash is.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("PPRFLOW_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# Benchmarks never send telemetry and never reach a real mailbox.
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PPRFLOW_TRANSPORT", "file")


def isolate_prefect_home() -> None:
    """Keep Prefect's profile and database out of the user's ~/.prefect (before importing prefect)."""
    if "PREFECT_HOME" not in os.environ:
        home = tempfile.mkdtemp(prefix="pprflow-bench-prefect-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        os.environ["PREFECT_HOME"] = home
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # flow-run chatter would bury the figures


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    Linux's VmHWM, not ru_maxrss: ru_maxrss survives fork + exec, so a sweep subprocess started by
    a loader holding 400 MB would report the loader's peak instead of its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_model() -> str:
    if shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def pg_server_version(admin_url: str = PG_ADMIN_URL) -> str | None:
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else None
    except Exception:  # no server: the PostgreSQL runs are skipped and say so
        return None


def machine() -> dict[str, Any]:
    """The machine line every result carries."""
    import sqlite3

    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "arch": platform.machine(), "cpu": cpu_model(), "cores": os.cpu_count(), "mem_gib": round(mem_gib, 1),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "postgresql": pg_server_version(), "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def machine_line(info: dict[str, Any]) -> str:
    return (f"{info['arch']}, {info['cpu']}, {info['cores']} cores, {info['mem_gib']} GiB, "
            f"Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL {info['postgresql'] or 'n/a'}, "
            f"load average {info['load_avg_1m']} at the end")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table (pastes straight into the README)."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join(lines)


def report(name: str, rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
           targets: Sequence[dict[str, Any]] = (), extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Print the figures as one JSON line and as tables; return the JSON document."""
    info = machine()
    document = {"benchmark": name, "machine": info, "results": list(rows), "targets": list(targets),
                **(extra or {})}
    print(json.dumps(document, default=str, ensure_ascii=False))
    print()
    print(f"## {name}  ({machine_line(info)})")
    print(table(rows, columns))
    if targets:
        print()
        print(table(targets, ["target", "figure", "met"]))
    print(flush=True)
    return document


def target(description: str, figure: float | None, met: bool | None) -> dict[str, Any]:
    return {"target": description, "figure": figure, "met": met}


# --- scratch databases ---------------------------------------------------------------------------


def pg_available(admin_url: str = PG_ADMIN_URL) -> bool:
    return pg_server_version(admin_url) is not None


@contextmanager
def scratch_postgres(admin_url: str = PG_ADMIN_URL, *, keep: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database `pprflow_bench_*`, dropped afterwards; yields its psycopg URL."""
    import psycopg

    name = f"pprflow_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_sqlite(*, keep: bool = False, directory: str | None = None) -> Iterator[str]:
    """A fresh SQLite file in a temporary folder; yields its path."""
    folder = tempfile.mkdtemp(prefix="pprflow-bench-", dir=directory)
    try:
        yield str(Path(folder) / "pprflow.db")
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def sqlalchemy_url(url_or_path: str) -> str:
    """psycopg URL -> SQLAlchemy URL with the psycopg 3 driver; a file path -> sqlite:///path."""
    if url_or_path.startswith("postgresql://"):
        return "postgresql+psycopg://" + url_or_path[len("postgresql://"):]
    if "://" in url_or_path:
        return url_or_path
    return f"sqlite:///{url_or_path}"


def migrate(url: str) -> None:
    """Create the schema the way production does: the Alembic migrations."""
    from pprflow.db import get_engine, upgrade

    upgrade(sqlalchemy_url(url))
    get_engine(sqlalchemy_url(url)).dispose()  # the bulk loader wants the database to itself


def python() -> str:
    return sys.executable
