"""The web tests' municipality: staff with local passwords (synthetic, .example addresses only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.web.accounts import set_password
from tests import factories
from tests.referral_data import CONSENT, PARENTS, PLAN

PASSWORD = "korrekt-hest-batteri-42"
LEADER = "lene@skovbakke.example"
TEACHER = "sofie@skovbakke.example"
STRANGER = "leder@fjordskolen.example"
ADMIN = "admin@ppr.example"
PSYCHOLOGIST = "pia@ppr.example"


def build(engine: Engine) -> None:
    """A school in Nord with its leader and a teacher; a school leader elsewhere (the stranger); PPR's
    administrator and a psychologist in Nord. Everyone has the same local password."""
    with Session(engine) as session:
        skovbakke = factories.institution(session, "Skovbakkeskolen", "school", "Nord")
        fjord = factories.institution(session, "Fjordskolen", "school", "Syd")
        factories.staff(session, LEADER, "school_leader", name="Lene Holm", institution=skovbakke)
        factories.staff(session, TEACHER, "teacher", name="Sofie Mikkelsen", institution=skovbakke)
        factories.staff(session, STRANGER, "school_leader", name="Frederik Fjord", institution=fjord)
        factories.staff(session, ADMIN, "administrator", name="Anne Administration", district="Nord")
        factories.staff(session, PSYCHOLOGIST, "ppr_psychologist", name="Pia Psykolog", district="Nord")
        session.commit()
    for email in (LEADER, TEACHER, STRANGER, ADMIN, PSYCHOLOGIST):
        set_password(engine, actor=ADMIN, email=email, password=PASSWORD)


def individual_form(**overrides: str) -> dict[str, str]:
    """The "PPR – individforløb" form filled in as a leader would."""
    form = {
        "group": "3.B", "child_pseudonym": "Elev K-417", "child_birth_year": "2017",
        "parent1_name": PARENTS[0]["name"], "parent1_email": PARENTS[0]["email"],
        "parent2_name": PARENTS[1]["name"], "parent2_email": PARENTS[1]["email"],
        "consent_given_by": ", ".join(CONSENT["given_by"]), "consent_date": CONSENT["date"],
        "consent_information": CONSENT["information"], "consent_recipients": ", ".join(CONSENT["recipients"]),
        "consent_purpose": CONSENT["purpose"],
        "plan_context": PLAN["context"], "plan_goal": PLAN["goal"], "plan_signs": PLAN["signs"],
        "plan_measures": PLAN["measures"], "plan_evaluation": PLAN["evaluation"],
        "plan_community": PLAN["community_measures"],
        "concern": "Eleven har trukket sig fra klassefællesskabet siden sommerferien.",
    }
    form.update(overrides)
    return form


def report_form(**overrides: str) -> dict[str, Any]:
    form = {"reporter_name": "Sofie Mikkelsen", "reporter_role": "Klasselærer", "institution": "Skovbakkeskolen",
            "child_name": "Test Barn", "child_group": "3.B", "observation": "Blå mærker på begge overarme.",
            "observed_on": "2026-11-27"}
    form.update(overrides)
    return form
