"""models/rules_moves.py and models/rules_deadlines.py, exactly (issue 15: `scripts/mutation.sh rules`): ROLE-2's
leaders, ROLE-3's refusals with their whole lines, and CAL-10's reminder days on each side of a closed day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pprflow.models.calendar import WorkingCalendar
from pprflow.models.errors import InvalidInput, PprflowError, RuleViolation
from pprflow.models.rules_deadlines import act_by, deadline_kind, escalation_day, kind_label, reminder_day
from pprflow.models.rules_moves import check_transfer, leader_roles_for

CAL = WorkingCalendar(closed_month_days=frozenset({(12, 24), (12, 31), (6, 5)}))
D = dt.date
LEADERS = ("pedagogical_leader", "school_leader", "daycare_leader")


def refusal(call: Any) -> tuple[type, str | None, str]:
    with pytest.raises(PprflowError) as caught:
        call()
    return type(caught.value), caught.value.rule_id, caught.value.message


def test_the_health_visitor_leads_before_institution_age_ROLE_2() -> None:
    assert leader_roles_for("health_visitors") == ("health_visitor", *LEADERS)
    assert leader_roles_for("daycare") == LEADERS and leader_roles_for(None) == LEADERS


@pytest.mark.parametrize(("change", "answer"), [
    ({"status": "closed"}, (InvalidInput, "case 3 is closed; only an open case moves with the child")),
    ({"to_name": "Børnehuset Solsikken"}, (InvalidInput, "case 3 already belongs to 'Børnehuset Solsikken'")),
    ({"to_kind": "gym"}, (InvalidInput, "'Skovbakkeskolen' is a 'gym', not one of health_visitors, daycare, school")),
    ({"from_kind": "school", "to_kind": "daycare"},
     (RuleViolation, "a child moves on from skole to dagtilbud, not back: check the institution ('Skovbakkeskolen')")),
    ({"to_kind": "health_visitors"}, (RuleViolation, "a child moves on from dagtilbud to sundhedsplejen, not back: "
                                                     "check the institution ('Skovbakkeskolen')")),
    ({}, None), ({"to_kind": "daycare"}, None), ({"from_kind": "health_visitors"}, None),
    ({"from_kind": "legacy", "to_kind": "health_visitors"}, None),  # an unknown old kind: any move is forward
])
def test_a_case_moves_forward_with_the_child_never_back_ROLE_3(change: dict[str, str], answer: Any) -> None:
    move = {"case_id": 3, "status": "open", "from_name": "Børnehuset Solsikken", "from_kind": "daycare",
            "to_name": "Skovbakkeskolen", "to_kind": "school", **change}
    if answer is None:
        check_transfer(**move)  # type: ignore[arg-type]
    else:
        assert refusal(lambda: check_transfer(**move)) == (answer[0], "ROLE-3", answer[1])  # type: ignore[arg-type]


def test_reminders_move_earlier_notices_later_and_labels_are_danish_CAL_10() -> None:
    saturday, friday, monday = D(2026, 11, 28), D(2026, 11, 27), D(2026, 11, 30)
    assert reminder_day(CAL, "kv_topic_list", saturday) == monday       # a notice after: later
    assert reminder_day(CAL, "network_agenda", saturday) == friday      # a reminder ahead: earlier
    assert reminder_day(CAL, "no_such_kind", saturday) == friday        # unknown: nobody loses notice
    assert reminder_day(CAL, "kv_topic_list", friday) == friday         # a working day is kept
    assert reminder_day(CAL, "network_agenda", monday) == monday
    assert act_by(CAL, D(2026, 11, 29)) == friday and act_by(CAL, monday) == monday
    assert escalation_day(CAL, friday, 1) == monday and escalation_day(CAL, friday, 2) == D(2026, 12, 1)
    with pytest.raises(ValueError, match=r"^after_working_days must be at least 1, got 0$"):
        escalation_day(CAL, friday, 0)
    assert kind_label("network_agenda") == "Dagsorden sendes"
    assert kind_label("no_such_kind", "CAL-9") == "Frist (CAL-9)" and kind_label("no_such_kind") == "Frist"
    assert deadline_kind("no_such_kind") is None
    found = deadline_kind("review_overdue")
    assert found is not None and (found.rule_id, found.side, found.calendar_days) == ("CAL-6", "after", True)
