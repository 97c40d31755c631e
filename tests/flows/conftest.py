"""Flow tests run real flow runs on the session's Prefect server against this test's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.flows._env import flow_env, no_heartbeat


@pytest.fixture
def env(prefect_server: None, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, engine: Engine,
        tmp_path: Path) -> Iterator[Engine]:
    """PPRFLOW_* for the Randers profile, and no ~1 s heartbeat wait at the end of every run."""
    from tests.factories import directory

    flow_env(monkeypatch, sqlite_url, tmp_path)
    directory(engine)  # PRIV-4: the people the flows act as are known staff
    with no_heartbeat():
        yield engine
