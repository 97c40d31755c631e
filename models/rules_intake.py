"""The preconditions of each pathway into the external support system (Vejle [000, 001, 002]).

Pure: a validated `Referral` (and the profile, which is data) in; a `RuleViolation` naming the
rule, or a routing decision, out. No database, no Prefect, no mail.

The order of the checks is the order a user fixes things in: the pathway's own paperwork first
(PATH-1, PATH-2, PATH-5), then consent and identity (PATH-4, PATH-6, LAW-3), then community first
(PATH-3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.profile import Profile
from pprflow.models.referral import INDIVIDUAL_PATHWAYS, PPR_PATHWAYS, Referral
from pprflow.models.rules_privacy import contains_cpr_number  # PRIV-2 (rules_kv imports it from here too)

REQUEST_TEMPLATES: dict[str, str] = {
    "ppr_learning_environment": "ppr_request",
    "ppr_individual": "ppr_request",
    "ppv": "ppr_request",
    "intervention_team": "intervention_team_request",
    "social_adviser": "social_adviser_request",
    "early_years_consultant": "early_years_request",
}
"""The request form (henvendelsesskema) each pathway sends: one message kind per pathway."""

REQUEST_TYPE_LABELS: dict[str, str] = {
    "ppr_learning_environment": "Læringsmiljøforløb",
    "ppr_individual": "Individforløb",
    "ppv": "PPV (pædagogisk-psykologisk vurdering)",
}
"""PATH-2: the three PPR request types, in the words of the seed [000]."""


def check_referral(referral: Referral, *, today: dt.date) -> None:
    """Refuse a referral that breaks a pathway's precondition; return None when it may be opened."""
    pathway = referral.pathway
    plan = referral.action_plan

    # PATH-1: every request to PPR starts with an action plan (handleplan) and a request form [000].
    if pathway in PPR_PATHWAYS and plan is None:
        raise RuleViolation(
            "PATH-1", "a request to PPR starts with an action plan (handleplan, SMTTE): add action_plan with "
                      "context, goal, signs, measures and evaluation")

    # PATH-2: the three PPR request types [000].
    if pathway == "ppv":
        if referral.submitted_by.role != "school_leader":
            raise RuleViolation(
                "PATH-2", f"only a school leader (skoleleder) may start a PPV, not a {referral.submitted_by.role}: "
                          "ask the school leader to submit it, or choose ppr_individual")
        if not referral.school_start:
            raise RuleViolation(
                "PATH-2", "a PPV is made only in connection with school start (skolestart): set school_start "
                          "to true if it is, or choose ppr_individual")
    if pathway == "ppr_learning_environment":
        if referral.group is None:
            raise RuleViolation(
                "PATH-2", "a learning-environment course (læringsmiljøforløb) is for a class or group: "
                          "name it in group, e.g. \"3.B\"")
        if referral.child is not None:
            raise RuleViolation(
                "PATH-2", "a learning-environment course concerns a class or group, not one child: remove child, "
                          "or choose ppr_individual (with parental consent)")
    if pathway == "ppr_individual" and not referral.parents:
        raise RuleViolation(
            "PATH-2", "an individual course (individforløb) is always in cooperation with the parents and the "
                      "child: list the parents")

    # PATH-5: the intervention team needs a handleplan and the local AKT/language lead involved [000].
    if pathway == "intervention_team":
        if plan is None:
            raise RuleViolation(
                "PATH-5", "the intervention team (Pædagogisk Indsatsteam) needs the action plan(s) you have "
                          "already worked with: add action_plan")
        if not referral.local_resources_involved:
            raise RuleViolation(
                "PATH-5", "involve the local AKT/language lead (AKT/sprogansvarlig) before applying to the "
                          "intervention team, then set local_resources_involved to true")

    # PATH-7: the early-years consultants (småbørnskonsulenter) serve daycares [000].
    if pathway == "early_years_consultant" and referral.institution.kind != "daycare":
        raise RuleViolation(
            "PATH-7", "the early-years consultants serve daycares (dagtilbud): a school contacts PPR instead")

    _check_identity_and_consent(referral)
    if referral.consent is not None:
        check_consent(referral, today=today)

    # PATH-3: community first. PPR starts with the pedagogical efforts and the child's communities
    # before individual measures [000], so an individual course or a PPV must show which measures
    # in the child's communities (trin 1) were tried (PLAN-1, principle 6: how the measures connect).
    if pathway in INDIVIDUAL_PATHWAYS and plan is not None and plan.community_measures is None:
        raise RuleViolation(
            "PATH-3", "community first: PPR starts with the learning environment and the child's communities; "
                      "describe in action_plan.community_measures what was tried in the class/group before "
                      "individual measures")

    # PRIV-2: no CPR numbers anywhere in what is stored.
    texts = [referral.concern] + ([referral.child.pseudonym] if referral.child else [])
    if any(contains_cpr_number(t) for t in texts):
        raise InvalidInput("referral: remove the CPR number: pprflow stores a pseudonym and a birth year only",
                           rule_id="PRIV-2")


def _check_identity_and_consent(referral: Referral) -> None:
    """PATH-4 and PATH-6: who may be named, and on which consent."""
    pathway = referral.pathway
    if pathway == "social_adviser":
        # PATH-6: contact with parental consent, or anonymously without it. Without consent pprflow
        # stores NO identity: a child or parents given anyway are refused, not silently dropped,
        # so the sender knows exactly what was (not) shared.
        if referral.consent is None and (referral.child is not None or referral.parents):
            raise RuleViolation(
                "PATH-6", "without parental consent the request to the social-work adviser is anonymous: "
                          "remove child and parents, or add the parents' consent")
        return
    # PATH-4: "samtykke fra forældre hvis enkeltindivid" [001]: a request about one child carries the
    # parents' consent. An individual course and a PPV are always about one child.
    if pathway in INDIVIDUAL_PATHWAYS:
        if referral.child is None:
            raise RuleViolation(
                "PATH-4", f"a {pathway} request concerns one child: add child (pseudonym and birth year)")
        if referral.consent is None:
            raise RuleViolation(
                "PATH-4", "a request about one child needs the parents' written consent (samtykke): add consent "
                          "(given_by, date, information, recipients, purpose)")
    if referral.child is not None and referral.consent is None:
        raise RuleViolation(
            "PATH-4", "a child may be named only with the parents' consent: add consent, or remove child "
                      "and describe the concern without identifying the child")


def check_consent(referral: Referral, *, today: dt.date) -> None:
    """LAW-3 (Forvaltningsloven §28): consent is express, written and given by the holders of
    parental authority, and states the information, the recipients and the purpose (the model
    requires all of those). Here: the givers are the parents on the referral, and it is not dated
    in the future."""
    consent = referral.consent
    if consent is None:
        return
    if not referral.parents:
        raise RuleViolation(
            "LAW-3", "consent is given by the holders of parental authority: list them in parents")
    parent_names = {p.name.casefold() for p in referral.parents}
    strangers = [name for name in consent.given_by if name.casefold() not in parent_names]
    if strangers:
        raise RuleViolation(
            "LAW-3", f"consent.given_by names {', '.join(repr(s) for s in strangers)}, who is not among the "
                     "parents: consent is given by the holders of parental authority listed in parents")
    if consent.date > today:
        raise RuleViolation(
            "LAW-3", f"consent.date {consent.date.isoformat()} is in the future: use the date the written consent "
                     "was signed")
    if referral.child is not None and consent.date.year < referral.child.birth_year:
        raise RuleViolation(
            "LAW-3", f"consent.date {consent.date.isoformat()} is before the child's birth year "
                     f"{referral.child.birth_year}: use the date the written consent was signed")


# --- routing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routing:
    """Where a referral's request form goes and what comes with it."""

    template: str
    recipients: tuple[str, ...]
    specialist: str | None = None
    """PATH-7: the early-years consultant specialised in disability and illness, when required."""
    district_meeting: bool = False
    """PATH-4/CAL-5: PPR requests are discussed at the district's next district meeting."""


def route_referral(referral: Referral, profile: Profile) -> Routing:
    """The request's recipients: the profile's pathway mailbox (PATH-1: ppr@…, PATH-5: metrm@…),
    or for the early-years pathway the institution's named consultants (PATH-7)."""
    pathway = referral.pathway
    template = REQUEST_TEMPLATES[pathway]
    recipients: list[str] = []
    specialist: str | None = None
    contacts = profile.early_years_directory.get(referral.institution.name)
    if pathway == "early_years_consultant":
        # PATH-7: each institution has named consultants (a directory); unknown institution → mailbox.
        recipients.append(contacts.pedagogical if contacts else profile.mailbox_for(pathway))
    elif pathway == "social_adviser" and referral.social_adviser_email is not None:
        # PATH-6: advisers may be contacted directly: the serving adviser, else the profile's mailbox.
        recipients.append(str(referral.social_adviser_email))
    else:
        recipients.append(profile.mailbox_for(pathway))
    if referral.assessment_for_minigroup_or_solen:
        # PATH-7: the consultant specialised in disability and illness must be involved *whenever* a
        # child is assessed for a mini-group or "Solen" — on any pathway.
        specialist = contacts.disability if contacts else profile.mailboxes.early_years_consultants
        recipients.append(specialist)
    unique: list[str] = []
    for address in recipients:
        if address.lower() not in {u.lower() for u in unique}:
            unique.append(address)
    return Routing(template=template, recipients=tuple(unique), specialist=specialist,
                   district_meeting=pathway in PPR_PATHWAYS)


def coordinator_for(referral: Referral) -> str:
    """ROLE-1: every open case has exactly one coordinator (tovholder) from the moment it opens.

    At level 1 the coordinator is usually the contact pedagogue or class teacher [003], and that is
    who files the referral — or the leader, when the leader files it. So the submitter becomes the
    coordinator; `pprflow case handover` moves the role later (the leader makes sure one exists).
    """
    return str(referral.submitted_by.email)
