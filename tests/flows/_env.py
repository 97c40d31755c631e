"""What a pathway flow run reads in a test: this test's migrated database and a profile (env vars)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def flow_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path, profile: str = "randers") -> None:
    monkeypatch.setenv("PPRFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PPRFLOW_PROFILE", profile)
    monkeypatch.setenv("PPRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("PPRFLOW_TRANSPORT", "file")
    # PRIV-4 (issue 20): PPRFLOW_USER is never the actor of a flow run; a test starts a person's step with
    # `request_id=as_user(actor, flow)` (tests/support/acting.py), as the web app and the CLI do.
    monkeypatch.setenv("PPRFLOW_USER", "leder@skole.example")


@contextmanager
def no_heartbeat() -> Iterator[None]:
    """Flow runs without the heartbeat thread (each run otherwise waits ~1 s at exit, Prefect >= 3.9)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
