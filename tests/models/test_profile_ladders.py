"""Issue 17: the escalation ladders are profile data (`[escalation] ladders.<kind>`), validated at load:
an unknown deadline kind, an unknown rung or days that do not increase are one line, naming the setting.
A kind the profile leaves out climbs its default — for LAW-2 the timings tasks/abuse.py had in code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pprflow.models.errors import ConfigurationError
from pprflow.models.rules_deadlines import DEFAULT_LADDERS, LADDER_KINDS
from pprflow.profiles import SHIPPED, load_profile

PPRFLOW = Path(sys.executable).parent / "pprflow"
HEAD = "ladders.review_overdue = [                        # CAL-6: until the review is recorded\n"
LADDER = HEAD + '  { after_working_days = 1, to = "leader" },'


def _profile_with(tmp_path: Path, replacement: str) -> Path:
    text = (SHIPPED / "randers.toml").read_text(encoding="utf-8")
    assert LADDER in text
    path = tmp_path / "randers-test.toml"
    path.write_text(text.replace(LADDER, replacement), encoding="utf-8")
    return path


@pytest.mark.parametrize(("replacement", "expected"), [
    ('ladders.agenda_for_all = [{ after_working_days = 1, to = "leader" }]\n' + LADDER,
     "ukendt fristtype 'agenda_for_all' i escalation.ladders"),
    (HEAD + '  { after_working_days = 1, to = "mor" },',
     "escalation.ladders.review_overdue: ukendt modtager 'mor'"),
    (HEAD + '  { after_working_days = 5, to = "leader" },',
     "escalation.ladders.review_overdue: after_working_days skal stige for hvert trin, fik [5, 4, 9]"),
])
def test_a_bad_ladder_is_one_line_at_load_CAL_6_LAW_2_KV_1(tmp_path: Path, replacement: str, expected: str) -> None:
    path = _profile_with(tmp_path, replacement)
    load_profile.cache_clear()
    with pytest.raises(ConfigurationError) as caught:
        load_profile(str(path))
    message = str(caught.value)
    assert expected in message and "\n" not in message, message


def test_every_kind_climbs_the_profiles_ladder_or_its_default_and_law_2_keeps_its_timings_LAW_2() -> None:
    assert set(DEFAULT_LADDERS) == set(LADDER_KINDS)
    assert LADDER_KINDS == {"review_overdue": "CAL-6", "acknowledgement_overdue": "LAW-2",
                            "startup_meeting_reminder": "PATH-4", "kv_topic_list": "KV-1"}
    # LAW-2: the notifier's leader, the coordinator, the escalation address on working days 1, 2, 3 after the
    # acknowledgement deadline, as tasks/abuse.py pinned them before issue 17
    assert DEFAULT_LADDERS["acknowledgement_overdue"] == ((1, "leader"), (2, "coordinator"), (3, "top"))
    for name in ("vejle", "randers"):
        profile = load_profile(name)
        for kind in LADDER_KINDS:
            steps = profile.escalation.ladder(kind)
            assert [(s.after_working_days, s.to) for s in steps] == list(DEFAULT_LADDERS[kind]), (name, kind)


def test_profile_check_warns_in_one_line_that_randers_top_is_a_placeholder_issue_17() -> None:
    """Randers' seed [003] names the family centre (Familie- og Rådgivningscentret) but no leader's address:
    the top stays a placeholder, and the product says so."""
    env = {**os.environ, "PPRFLOW_PROFILE": "randers", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([str(PPRFLOW), "profile", "check"], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if "escalation.top" in line]
    assert warnings == ["ADVARSEL: escalation.top = familiecentret@randers.invalid er en pladsholder: "
                        "eskaleringsstigens sidste trin går til tovholderen eller PPR-postkassen "
                        "(ppr@randers.invalid), indtil PPR-/familiecenterlederens adresse er sat"]


def test_cal_2s_agenda_has_no_ladder_it_goes_out_at_its_deadline_by_itself_CAL_2_CAL_3(tmp_path: Path) -> None:
    """CAL-2: at the agenda deadline the sweep sends the agenda itself (tasks/meetings.py), so nothing waits for
    a person after it and a ladder for it is refused at load, naming the kinds that climb. CAL-3's notice
    deadline climbs as `kv_topic_list` (KV-1) when no topic came."""
    assert "network_agenda" not in LADDER_KINDS and "agenda_deadline_reminder" not in LADDER_KINDS
    assert LADDER_KINDS["kv_topic_list"] == "KV-1"
    path = _profile_with(tmp_path, 'ladders.network_agenda = [{ after_working_days = 1, to = "leader" }]\n' + LADDER)
    load_profile.cache_clear()
    with pytest.raises(ConfigurationError) as caught:
        load_profile(str(path))
    assert "ukendt fristtype 'network_agenda'" in str(caught.value) and "kv_topic_list" in str(caught.value)
