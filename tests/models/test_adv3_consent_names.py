"""Adversary 3 (LAW-3, CONS-1): a consent names its recipients; a partner joins only on a consent that names
them. An e-mail address matched as a substring of the consent's text let another mailbox in (r@vejle.dk is
"in" ppr@vejle.dk)."""

from __future__ import annotations

from pprflow.models.rules_meetings import consent_names_partner


def test_an_address_inside_another_address_is_not_named_by_the_consent_LAW_3() -> None:
    assert not consent_names_partner(["ppr@vejle.dk"], name="Xx Yy", email="r@vejle.dk", role="ssp")
    assert not consent_names_partner(["Skolens PPR: ppr@vejle.dk"], name="Xx Yy", email="pr@vejle.dk", role="ssp")
    assert not consent_names_partner(["ppr@vejle.dk.evil.example"], name="Xx Yy", email="ppr@vejle.dk", role="ssp")


def test_the_address_the_consent_names_is_still_named_LAW_3() -> None:
    assert consent_names_partner(["ppr@vejle.dk"], name="Xx Yy", email="PPR@vejle.dk", role="ssp")
    assert consent_names_partner(["PPR (ppr@vejle.dk), sundhedsplejen"], name="Xx Yy", email="ppr@vejle.dk",
                                 role="ssp")


def test_a_first_name_alone_does_not_make_another_person_named_LAW_3() -> None:
    """The consent names the health visitor Anne Hansen; an SSP worker typed in as "Anne" (another mailbox, another
    role) is not named by it."""
    assert not consent_names_partner(["Sundhedsplejerske Anne Hansen"], name="Anne", email="anne.jensen@ssp.dk",
                                     role="ssp")
