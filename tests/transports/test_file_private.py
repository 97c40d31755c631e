"""Files holding case data are owner-only, and a killed send leaves nothing behind (issue 13)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from pprflow.tasks.transports.base import OutgoingMail
from pprflow.tasks.transports.file import FileTransport


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_and_its_folder_are_created_owner_only(tmp_path: Path) -> None:
    from sqlalchemy import text

    from pprflow.db import get_engine

    url = f"sqlite:///{tmp_path / 'home' / 'pprflow.db'}"
    with get_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
        conn.execute(text("INSERT INTO t VALUES ('Hanne Berg')"))
    get_engine(url).dispose()
    assert mode(tmp_path / "home" / "pprflow.db") == 0o600, "not world-readable (was 0644)"
    assert mode(tmp_path / "home") == 0o700
    for extra in ("pprflow.db-wal", "pprflow.db-shm"):
        if (tmp_path / "home" / extra).exists():
            assert mode(tmp_path / "home" / extra) == 0o600, extra


def test_eml_files_are_owner_only_and_a_killed_runs_temporary_file_is_removed_on_the_next_run(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    leftover = mail_dir / ".tmp-abc123.eml"
    leftover.write_bytes(b"Subject: half a mail about a child")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    fresh = mail_dir / ".tmp-live.eml"  # a concurrent run writing right now: left alone
    fresh.write_bytes(b"in progress")
    transport = FileTransport(mail_dir)
    transport.send(OutgoingMail(idempotency_key="k", sender="ppr@vejle.dk", to="a@skole.example", subject="Emne",
                                text="t", html="t"))
    assert not leftover.exists()
    assert fresh.exists()
    [eml] = [p for p in mail_dir.glob("*.eml") if not p.name.startswith(".")]
    assert mode(eml) == 0o600
