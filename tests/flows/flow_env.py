"""A fixture for flow tests of the intake, PPR, KV and sweep flows: real flow runs on the session's
Prefect server, against this test's migrated SQLite database (import `flow_env` into a test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def flow_env(prefect_server: None, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, engine,  # type: ignore[no-untyped-def]
             tmp_path) -> Iterator[object]:
    """What a flow run reads (PPRFLOW_*, Vejle), and no ~1 s heartbeat wait at the end of every run."""
    from tests.factories import directory
    from tests.flows._env import flow_env as set_flow_env
    from tests.flows._env import no_heartbeat

    set_flow_env(monkeypatch, sqlite_url, tmp_path, profile="vejle")
    directory(engine)  # PRIV-4: the people the flows act as are known staff
    with no_heartbeat():
        yield engine
