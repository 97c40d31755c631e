"""Adversary (adv2): a profile typo is a loss. `retention.closed_case_years = -1` (or 0) loaded without a word, and
the weekly purge then deleted every closed case at once (PRIV-2: "after a retention period"); `audit_years = 0` the
audit log (PRIV-1); a cadence of 0 weeks loaded and failed later, in the first planning run (CAL-4, CAL-5). Each
is refused when the profile loads, naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pprflow.models.errors import ConfigurationError
from pprflow.profiles import SHIPPED, load_profile


@pytest.mark.parametrize(("old", "new", "setting"), [
    ("closed_case_years = 5", "closed_case_years = -1", "retention.closed_case_years"),
    ("closed_case_years = 5", "closed_case_years = 0", "retention.closed_case_years"),
    ("audit_years = 5", "audit_years = 0", "retention.audit_years"),
    ("cadence_weeks = 2\n", "cadence_weeks = 0\n", "district_meeting.cadence_weeks"),
    ("daycare = 6 }", "daycare = 0 }", "kv.cadence_weeks.daycare"),
])
def test_a_retention_or_cadence_typo_is_refused_when_the_profile_loads_PRIV_2_CAL_5(
        tmp_path: Path, old: str, new: str, setting: str) -> None:
    text = (SHIPPED / "randers.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "kommune.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigurationError) as refused:
        load_profile(str(path))
    assert setting in refused.value.message
