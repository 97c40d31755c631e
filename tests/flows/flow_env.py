"""A fixture for flow tests of the intake, PPR, KV and sweep flows: real flow runs on the session's
Prefect server, against this test's migrated SQLite database (import `flow_env` into a test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def flow_env(prefect_server: None, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, engine,  # type: ignore[no-untyped-def]
             tmp_path) -> Iterator[object]:
    """What a flow run reads (PPRFLOW_*), and no ~1 s heartbeat wait at the end of every run."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    monkeypatch.setenv("PPRFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PPRFLOW_PROFILE", "vejle")
    monkeypatch.setenv("PPRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("PPRFLOW_TRANSPORT", "file")
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield engine
