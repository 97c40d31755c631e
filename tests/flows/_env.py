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
    # PRIV-4: a human step's flow run without acting_user acts as PPRFLOW_USER (a known leader here);
    # without either it would be `system:pprflow`, which runs jobs only.
    monkeypatch.setenv("PPRFLOW_USER", "leder@skole.example")


@contextmanager
def no_heartbeat() -> Iterator[None]:
    """Flow runs without the heartbeat thread (each run otherwise waits ~1 s at exit, Prefect >= 3.9)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
