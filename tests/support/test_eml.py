"""The test mail reader sees through display names, brackets and case (ESC-1 assertions rely on it)."""

from __future__ import annotations

from tests.support.eml import bare, parse, reaching


def test_recipients_are_bare_case_folded_addresses_whatever_the_header_form_ESC_1() -> None:
    raw = (b"From: PPR Vejle Kommune <ppr@vejle.example>\r\n"
           b"To: Hanne Berg <Hanne.Berg@HJEM.example>, <lars@hjem.example>\r\n"
           b"Cc: =?utf-8?q?S=C3=B8ren?= <soren@skole.example>\r\n"
           b"Subject: =?utf-8?q?M=C3=B8de?=\r\n\r\nHej\r\n")
    mail = parse(raw)
    assert mail.recipients == {"hanne.berg@hjem.example", "lars@hjem.example", "soren@skole.example"}
    assert mail.subject == "Møde"
    assert reaching([mail], ["HANNE.BERG@hjem.example"]) == [mail]
    assert reaching([mail], ["ppr@vejle.example"]) == [], "From is not a recipient"
    assert bare(" Hanne <hanne.berg@hjem.example> ") == "hanne.berg@hjem.example"
