"""The CPR check (PRIV-2) where it blanks instead of refusing: an abuse report is never refused for a CPR number
(ESC-2), every CPR number in it becomes a marker before anything is stored, and the rest of the text is kept
character for character. Exact outputs, so a mutation run (scripts/mutation.sh cpr) misses no change."""

from __future__ import annotations

import pytest

from pprflow.models.abuse import CPR_BLANKED, ReportedChild, Reporter, blank_cpr_numbers
from pprflow.models.rules_privacy import contains_cpr_number, redact_cpr_numbers

B = "[CPR-nummer fjernet]"


@pytest.mark.parametrize(("text", "blanked"), [
    ("Barnet 240317-1234 trives ikke", f"Barnet {B} trives ikke"),
    ("cpr 240317-1234", B),  # the prefix and the number are one span, blanked once
    ("CPR: 99 99 99 99 99 står i journalen", f"{B} står i journalen"),
    ("24.03.17-1234 og 240317 1234 og 2403171234", f"{B} og {B} og {B}"),
    ("x2403171234y", f"x{B}y"),
    ("240317\u20131234", B),  # an en dash is a dash
    ("Mødet 12-05-2026 kl. 10, ring 12 34 56 78 eller +45 12345678", None),  # dates and phones are kept
    ("Sagsnummer 123456789012", None),  # twelve digits: not a CPR number
    ("310217-1234", None),  # 31 Feb is no date
    ("", None),
])
def test_every_cpr_number_in_a_report_is_blanked_and_nothing_else_PRIV_2_ESC_2(text: str,
                                                                             blanked: str | None) -> None:
    expected = text if blanked is None else blanked
    assert blank_cpr_numbers(text) == expected
    assert CPR_BLANKED == B
    assert redact_cpr_numbers(text, "#") == expected.replace(B, "#")
    assert contains_cpr_number(text) is (blanked is not None)


def test_the_report_blanks_its_text_fields_but_never_an_address_PRIV_2_ESC_2() -> None:
    reporter = Reporter(name=" Lene 2403171234 ", email="240317-1234@skole.example", role="teacher 240317-1234")
    assert (reporter.name, reporter.email, reporter.role) == (f"Lene {B}", "240317-1234@skole.example", f"teacher {B}")
    child = ReportedChild(name="Barn 240317 1234", group="3.B", birth_year=2017)
    assert (child.name, child.group, child.birth_year) == (f"Barn {B}", "3.B", 2017)
