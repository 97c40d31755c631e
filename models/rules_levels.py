"""The five levels (de fem niveauer, Randers [003]) as pure rules: LVL-1 … LVL-6, CAL-6.

No database, no Prefect, no mail. The service layer (tasks/levels.py) reads the case, asks
`decide_level_change` what the move means, and stores it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict, Field

from pprflow.models.address import EmailAddress
from pprflow.models.calendar import WorkingCalendar, investigation_deadline, review_due
from pprflow.models.errors import InvalidInput, RuleViolation
from pprflow.models.input import StrictInput

Sphere = Literal["institution", "family"]
Direction = Literal["up", "down"]

SPHERE_LABELS: dict[str, str] = {"institution": "dagtilbud/skole", "family": "familien"}

SPECIALISED_LEVEL = 4
"""Level 4: specialised effort (specialiseret indsats), reassessed at least every half year (CAL-6)."""

FAMILY_CENTRE_LEVEL = 5
"""Level 5: run by the family centre (Familie- og Rådgivningscentret), LVL-6."""

GREEN_FORM = "Samarbejdsaftale (grønt skema) — ved et konsultativt forløb"
YELLOW_FORM = "Tværfagligt netværksmøde (gult skema) — indkaldelse og dagsorden"
LIGHT_BLUE_FORM = "Aftaleskema/referat (lyseblåt skema)"
DARK_BLUE_FORM = "Forældreoplysningsskema (mørkeblåt skema)"
NOTIFICATION_FORM = "Henvendelse/underretning til Familie- og Rådgivningscentret"

LEVEL_PAPERWORK: dict[int, tuple[str, ...]] = {
    # LVL-2: a consultative course at level 2 gets a cooperation agreement (green form).
    1: (),
    2: (GREEN_FORM,),
    # LVL-3: levels 3 and 4 are called on the yellow form and minuted on the light-blue form;
    # level 4 adds the parents' information form (dark blue).
    3: (YELLOW_FORM, LIGHT_BLUE_FORM),
    4: (YELLOW_FORM, LIGHT_BLUE_FORM, DARK_BLUE_FORM),
    # LVL-6: level 5 is the family centre's.
    5: (NOTIFICATION_FORM,),
}

LEVEL_STEPS: dict[int, str] = {
    1: "Interne kompetencer i dagtilbud/skole; tovholder er ofte kontaktpædagog eller klasselærer (ROLE-1).",
    2: "Lederen kontakter samarbejdspartnerne, beskriver problemstillingen og det, der er gjort, og vedhæfter "
       "handleplanen; digital eller fysisk sparring aftales. Lederen inddrages, og tovholderrollen afklares "
       "(LVL-2, ROLE-1). Unavngivne børn kan drøftes.",
    3: "Lederen indkalder til tværfagligt netværksmøde og sender dagsordenen senest 5 arbejdsdage før mødet "
       "(LVL-3, CAL-2). Forældresamtykke ved mere end ét møde på niveau 3 (LVL-4).",
    4: "Specialiseret indsats: netværksmøde på niveau 4, referat og forældreoplysningsskema; indsatsen vurderes "
       "mindst hvert halve år (LVL-3, CAL-6).",
    5: "Familie- og Rådgivningscentret er ansvarligt; underretninger går til centrets adresse (LVL-6).",
}


SPECIALISED_TEACHING_MIN_LESSONS = 9
"""LAW-4: specialised teaching (specialundervisning) is at least 9 lessons a week (Folkeskoleloven §3
stk. 2); seed 003, level 4 at school: "Visitation til specialpædagogisk bistand (over 9 t/uge)"."""


class SpecialisedTeaching(StrictInput):
    """A level-4 effort at school that is specialised teaching (specialpædagogisk bistand), LAW-4."""

    model_config = ConfigDict(extra="forbid")

    lessons_per_week: int = Field(ge=0, le=60, description="Lessons a week of specialised teaching.")
    temporary: bool = Field(default=True, description="A temporary arrangement, or a lasting referral.")
    ppr_advice_on: dt.date | None = Field(default=None, description="Date of PPR's advice (PPV), §12 stk. 2.")


def check_specialised_teaching(teaching: SpecialisedTeaching, *, to_level: int, institution_kind: str) -> None:
    """LAW-4: specialised teaching is at least 9 lessons a week (Folkeskoleloven §3 stk. 2), a school's
    level-4 effort, and a referral that is not temporary follows PPR's advice (§12 stk. 2)."""
    if institution_kind != "school" or to_level != SPECIALISED_LEVEL:
        raise RuleViolation("LAW-4", "specialised teaching is a school's level-4 effort: escalate the institution "
                                     f"sphere of a school case to level {SPECIALISED_LEVEL}")
    if teaching.lessons_per_week < SPECIALISED_TEACHING_MIN_LESSONS:
        raise RuleViolation(
            "LAW-4", f"specialised teaching is at least {SPECIALISED_TEACHING_MIN_LESSONS} lessons a week "
                     f"(Folkeskoleloven §3 stk. 2), not {teaching.lessons_per_week}; fewer lessons are support "
                     "within ordinary teaching (level 3)")
    if not teaching.temporary and teaching.ppr_advice_on is None:
        raise RuleViolation(
            "LAW-4", "a referral to specialised teaching that is not temporary follows PPR's advice "
                     "(Folkeskoleloven §12 stk. 2): record the date of the PPV with --ppr-advice DATE")


class LevelChangeInput(StrictInput):  # one configuration for every input model (PRIV-2 in the reason)
    """`pprflow case escalate|deescalate CASE --sphere institution|family --to N [--reason TEXT]`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    case_id: int = Field(gt=0)
    sphere: Sphere = Field(description="institution (dagtilbud/skole) or family (familien), LVL-1")
    to: int = Field(ge=1, le=9, description="The new level.")
    reason: str | None = Field(default=None, max_length=2000,
                               description="Why a level is skipped (LVL-1), e.g. straight to level 3.")
    outposted_social_worker: EmailAddress | None = Field(
        default=None,
        description="The outposted social worker (fremskudt rådgiver) involved before level 5 (LVL-5).")
    specialised_teaching: SpecialisedTeaching | None = Field(
        default=None, description="When the level-4 effort at school is specialised teaching (LAW-4).")


@dataclass(frozen=True)
class LevelDecision:
    """What a level move means: the paperwork, the steps, and whether a review starts or ends."""

    sphere: str
    from_level: int
    to_level: int
    direction: str
    skipped_levels: bool
    paperwork: tuple[str, ...]
    steps: str
    starts_specialised_effort: bool
    ends_specialised_effort: bool
    reaches_family_centre: bool


def is_specialised(levels: tuple[int, int]) -> bool:
    """CAL-6: a specialised effort runs while either sphere is at level 4."""
    return SPECIALISED_LEVEL in levels


def decide_level_change(
    *,
    direction: Direction,
    sphere: Sphere,
    institution_level: int,
    family_level: int,
    to: int,
    max_level: int,
    reason: str | None,
    outposted_social_worker_involved: bool,
) -> LevelDecision:
    """LVL-1: all children start at level 1; efforts move up only when needed and normally pass level 2
    before 3 (skipping a level needs a recorded reason); movement goes both ways; the two spheres
    (institution and family) are independent. LVL-5: before level 5 an outposted social worker
    (fremskudt rådgiver) must have been involved."""
    if not 1 <= to <= max_level:
        raise InvalidInput(f"level {to} is not between 1 and {max_level}", rule_id="LVL-1")
    current = institution_level if sphere == "institution" else family_level
    if direction == "up" and to <= current:
        raise RuleViolation("LVL-1", f"the {sphere} level is {current}; escalate goes up (use deescalate to go down)")
    if direction == "down" and to >= current:
        raise RuleViolation("LVL-1", f"the {sphere} level is {current}; deescalate goes down (use escalate to go up)")
    skipped = direction == "up" and to - current > 1
    if skipped and not (reason and reason.strip()):
        raise RuleViolation(
            "LVL-1",
            f"going from level {current} to {to} skips a level; a problem is normally discussed at level "
            f"{current + 1} first — record why with --reason",
        )
    if direction == "up" and to >= FAMILY_CENTRE_LEVEL > current and not outposted_social_worker_involved:
        raise RuleViolation(
            "LVL-5",
            "an outposted social worker (fremskudt rådgiver) must have been involved before the family centre: "
            "add them with --outposted-social-worker EMAIL or `pprflow case add-partner --role "
            "outposted_social_worker`",
        )
    before = (institution_level, family_level)
    after = (to, family_level) if sphere == "institution" else (institution_level, to)
    return LevelDecision(
        sphere=sphere, from_level=current, to_level=to, direction=direction, skipped_levels=skipped,
        paperwork=LEVEL_PAPERWORK.get(to, ()), steps=LEVEL_STEPS.get(to, ""),
        starts_specialised_effort=is_specialised(after) and not is_specialised(before),
        ends_specialised_effort=is_specialised(before) and not is_specialised(after),
        reaches_family_centre=to >= FAMILY_CENTRE_LEVEL > current,
    )


# --- CAL-6 / CAL-7 ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewDates:
    """CAL-6: when the review is due, when coordinator and leader are reminded, when it is overdue."""

    due: dt.date
    remind_on: dt.date
    overdue_on: dt.date


def review_dates(calendar: WorkingCalendar, *, start: dt.date, months: int, reminder_days: int) -> ReviewDates:
    """CAL-6: reassess *at least every half year*: due `months` after `start` (month-end clamped, 31 Aug →
    28/29 Feb); reminded `reminder_days` before on a working day; overdue the first working day after."""
    due = review_due(start, months)
    remind = calendar.previous_working_day(due - dt.timedelta(days=reminder_days))
    return ReviewDates(due=due, remind_on=remind, overdue_on=calendar.add_working_days(due, 1))


def check_review(*, specialised: bool, review_date: dt.date, started_on: dt.date | None, today: dt.date) -> None:
    """CAL-6: a review is recorded for a running specialised effort, not in the future."""
    if not specialised:
        raise RuleViolation("CAL-6", "the case has no specialised effort (level 4) to review")
    if review_date > today:
        raise InvalidInput(f"the review date {review_date.isoformat()} is in the future", rule_id="CAL-6")
    if started_on is not None and review_date < started_on:
        raise InvalidInput(f"the review date is before the effort started ({started_on.isoformat()})",
                           rule_id="CAL-6")


def investigation_dates(*, aware_on: dt.date, months: int, today: dt.date) -> dt.date:
    """CAL-7: a §20 child-welfare investigation is done within 4 months of the municipality's awareness."""
    if aware_on > today:
        raise InvalidInput(f"--aware-on {aware_on.isoformat()} is in the future", rule_id="CAL-7")
    return investigation_deadline(aware_on, months)
