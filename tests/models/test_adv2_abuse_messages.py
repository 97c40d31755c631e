"""Adversary (adv2): a report refused as given says, in Danish, that the notification was NOT sent and what to fix
(ESC-2, STYLE) — before, the web form and the CLI showed pydantic's English ("Input should be a valid date or
datetime, day value is outside expected range")."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pprflow.models.abuse import ReportRefused, parse_report

BASE: dict[str, Any] = {"reporter": {"name": "Sofie", "email": "laerer@skole.example", "role": "teacher"},
                        "institution": "Skovbakkeskolen", "child": {"name": "Emil"}, "observation": "Blå mærker.",
                        "observed_on": "2026-11-24"}


@pytest.mark.parametrize(("path", "value", "danish"), [
    (("observed_on",), "2026-02-30", "skal være en dato som ÅÅÅÅ-MM-DD"),
    (("observed_time",), "25:61", "skal være et klokkeslæt som TT:MM"),
    (("child", "birth_year"), 99999, "må højst være 2100"),
    (("reporter", "name"), None, "reporter.name: skal udfyldes"),  # the CLI without --reporter-name
    (("observation",), "", "observation: skal udfyldes"),
    (("reporter", "name"), "x" * 300, "må højst være 200 tegn"),
])
def test_a_refused_report_says_what_to_fix_in_danish_ESC_2(path: tuple[str, ...], value: Any, danish: str) -> None:
    data = copy.deepcopy(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReportRefused) as refused:
        parse_report(data)
    line = refused.value.message
    assert line.startswith("underretningen er IKKE sendt") and danish in line, line
    assert "Input should" not in line and "String should" not in line
