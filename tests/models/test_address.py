"""The one e-mail address type (models/address.py), ESC-1: bare, case-folded, valid in a mail header and in
an iCalendar line; display names, brackets and spaces refused at input with one Danish line naming the field."""

from __future__ import annotations

import datetime as dt
import email.policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from pydantic import BaseModel, ValidationError

from pprflow.models.address import AddressError, EmailAddress, address_key, normalise_address, parse_address
from pprflow.models.errors import InvalidInput
from pprflow.models.referral import parse_referral
from pprflow.models.rules_meetings import MeetingInput, PartnerInput
from pprflow.templates.ics import meeting_invite
from tests import referral_data as rd
from tests.support import eml

# --- named strategies ------------------------------------------------------------------------------

local_parts = st.from_regex(r"[A-Za-z0-9!$&'*+/=^_`~-]{1,12}(\.[A-Za-z0-9'_-]{1,8}){0,2}", fullmatch=True)
"""Local parts a municipality meets: letters, digits, dots, apostrophes (sean.o'brien), plus tags."""

domains = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,2}\.(dk|example|invalid|com)",
                        fullmatch=True)

addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
"""Addresses that must be accepted (in any case)."""

noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
"""Anything at all a form field may receive."""


class Form(BaseModel):
    email: EmailAddress


def _header_round_trip(address: str) -> str:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "ppr@randers.example"
    msg["To"] = address
    msg["Subject"] = "x"
    msg.set_content("x")
    [back] = eml.parse(msg.as_bytes()).recipients
    return back


def _ics_round_trip(address: str) -> str:
    raw = meeting_invite(uid="u-1@pprflow", start=dt.datetime(2026, 12, 10, 9, tzinfo=dt.UTC), duration_minutes=60,
                         summary="Møde", location="Skolen", description="", organizer_email="ppr@randers.example",
                         attendees=[("Deltager", address)], dtstamp=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    attendee = str(event.get("attendee"))
    assert attendee.lower().startswith("mailto:")
    return attendee[len("mailto:"):]


@settings(max_examples=40)
@given(addresses)
def test_an_accepted_address_renders_in_a_header_and_an_ics_line_and_parses_back_to_itself_ESC_1(
        address: str) -> None:
    parsed = normalise_address(address)
    assert parsed == address.lower()
    assert normalise_address(parsed) == parsed, "parsing is idempotent"
    assert _header_round_trip(parsed) == parsed
    assert _ics_round_trip(parsed) == parsed


@settings(max_examples=60)
@given(noise)
def test_anything_accepted_at_all_is_usable_in_a_header_and_an_ics_line_ESC_1(text: str) -> None:
    try:
        parsed = normalise_address(text)
    except AddressError as exc:
        assert "\n" not in str(exc)
        return
    assert _header_round_trip(parsed) == parsed
    assert _ics_round_trip(parsed) == parsed


@given(addresses, st.sampled_from(["Hanne Berg <{}>", "<{}>", '"Berg, Hanne" <{}>', "{} ", " {}"]))
def test_display_names_and_brackets_are_refused_padding_is_trimmed_ESC_1(address: str, shape: str) -> None:
    typed = shape.format(address)
    if "<" in typed:
        with pytest.raises(AddressError, match="uden navn og uden <>"):
            normalise_address(typed)
    else:
        assert normalise_address(typed) == address.lower()


@pytest.mark.parametrize(("typed", "why"), [
    ("Hanne Berg <hanne.berg@hjem.example>", "uden navn og uden <>, fx hanne.berg@hjem.example"),
    ("<hanne.berg@hjem.example>", "uden navn og uden <>"),
    ("hanne berg@hjem.example", "mellemrum"),
    ("a@b.dk, c@d.dk", "mellemrum"),
    ("a@b.dk;c@d.dk", "kun én adresse"),
    ("søren@skole.dk", "ASCII"),
    ("hanne@@hjem.example", "præcis ét @"),
    ("hanne.@hjem.example", "delen før @"),
    ("hanne@localhost", "domæne"),
    ("", "mangler"),
])
def test_refusals_are_one_danish_line_saying_how_to_fix_it_ESC_1(typed: str, why: str) -> None:
    with pytest.raises(AddressError) as err:
        normalise_address(typed)
    assert why in str(err.value) and "\n" not in str(err.value)


def test_sean_obrien_is_a_valid_address_end_to_end_ESC_1() -> None:
    address = normalise_address("Sean.O'Brien@Skole.example")
    assert address == "sean.o'brien@skole.example"
    assert _header_round_trip(address) == address
    assert _ics_round_trip(address) == address


def test_every_input_model_takes_the_type_and_names_the_field_ESC_1() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_referral(rd.data(parents=[{"name": "Hanne Berg", "email": "Hanne Berg <hanne.berg@hjem.example>"}]))
    assert "parents.0.email" in err.value.one_line() and "uden navn og uden <>" in err.value.one_line()
    referral = parse_referral(rd.data(parents=[{"name": "Hanne Berg", "email": " HANNE.Berg@Hjem.example "}],
                                      consent={**rd.CONSENT, "given_by": ["Hanne Berg"]}))
    assert referral.parents[0].email == "hanne.berg@hjem.example"
    assert referral.submitted_by.email == "sofie@skovbakke.example"
    with pytest.raises(ValidationError):
        MeetingInput.model_validate({"case_id": 1, "kind": "network", "date": "2026-12-10",
                                     "leader_email": "<lene@skole.example>"})
    meeting = MeetingInput.model_validate({"case_id": 1, "kind": "network", "date": "2026-12-10",
                                           "leader_email": "Lene@Skole.example",
                                           "participants": [{"name": "A", "email": "AHMED@ppr.example",
                                                             "role": "ppr_psychologist"}]})
    assert (meeting.leader_email, meeting.participants[0].email) == ("lene@skole.example", "ahmed@ppr.example")
    with pytest.raises(ValidationError):
        PartnerInput.model_validate({"case_id": 1, "name": "H", "email": "Hanne <hanne@hjem.example>",
                                     "role": "health_visitor"})
    assert Form(email="X@Y.dk").email == "x@y.dk"


def test_parse_address_names_the_option_and_address_key_compares_stored_rows_ESC_1() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_address("Lene <lene@skole.example>", "--to")
    assert err.value.one_line().startswith("--to: ")
    assert address_key(" Hanne Berg <HANNE.BERG@hjem.example>") == "hanne.berg@hjem.example"
    assert address_key("Hanne.Berg@Hjem.Example ") == "hanne.berg@hjem.example"
    assert address_key(None) == ""


_local = st.from_regex(r"[a-z0-9][a-z0-9.\-_]{0,15}", fullmatch=True).filter(lambda s: ".." not in s and not
                                                                              s.endswith("."))
_tag = st.from_regex(r"[a-z0-9.\-_]{1,12}", fullmatch=True)


@given(_local, _tag, st.sampled_from(["hjem.example", "gmail.com", "outlook.dk"]), st.booleans())
def test_a_parent_is_known_by_any_spelling_of_the_mailbox_sub_address_included_ESC_1(
        local: str, tag: str, domain: str, stored_tagged: bool) -> None:
    """ESC-1 "whatever the spelling": mor+skole@ and mor@ are one mailbox; case and padding never matter;
    another mailbox at the same domain never matches (a parent is never made of a stranger by chance)."""
    from pprflow.models.address import Mailboxes

    bare, tagged = f"{local}@{domain}", f"{local}+{tag}@{domain}"
    parents = Mailboxes([tagged if stored_tagged else bare])
    for spelling in (bare, tagged, f" {tagged.upper()} ", f"{local}+other@{domain}"):
        assert spelling in parents
    assert f"{local}x@{domain}" not in parents and f"x{local}@{domain}" not in parents
    assert f"{local}@other-{domain}" not in parents
