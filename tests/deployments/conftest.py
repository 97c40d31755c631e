"""Fixtures for deployment and dashboard tests: flow runs against the session's Prefect server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def pprflow_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, engine, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """What a flow run reads: this test's migrated database, the Vejle profile, mail under tmp_path."""
    monkeypatch.setenv("PPRFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PPRFLOW_PROFILE", "vejle")
    monkeypatch.setenv("PPRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("PPRFLOW_TRANSPORT", "file")
    return sqlite_url


@pytest.fixture
def fast_flow_runs(prefect_server: None) -> Iterator[None]:
    """Flow runs without the heartbeat thread (each run otherwise waits ~1 s at exit)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
