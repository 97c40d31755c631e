"""Issue 20 (PRIV-2): `pprflow serve` turns on Prefect's flow-run and event vacuum with the profile's
retention, and Prefect itself reads the variables it sets (checked with Prefect's own settings model)."""

from __future__ import annotations

import datetime as dt

from pprflow.cli.serve import vacuum_environment


def test_prefect_reads_the_vacuum_serve_turns_on_with_the_profiles_retention_PRIV_2(monkeypatch) -> None:
    from prefect.settings.models.root import Settings as PrefectSettings

    from pprflow.profiles import load_profile

    days = load_profile("vejle").retention.flow_run_parameter_days
    env = vacuum_environment(days, {})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = PrefectSettings()
    assert {"events", "flow_runs"} <= set(settings.server.services.db_vacuum.enabled)
    assert settings.server.services.db_vacuum.retention_period == dt.timedelta(days=days)
    assert settings.server.events.retention_period == dt.timedelta(days=days)


def test_an_administrators_own_vacuum_setting_wins() -> None:
    env = vacuum_environment(7, {"PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": "2592000"})
    assert "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD" not in env
    assert env["PREFECT_SERVER_EVENTS_RETENTION_PERIOD"] == "P7D"
