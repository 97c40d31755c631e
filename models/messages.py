"""The Danish message catalogue: a rule error (models/errors.py) as one plain Danish line, and the field of a
form it concerns. Used by the web app (the sentence at the field) and the CLI (the line on stderr).

Pure: an error in, text out. A rule's English message is matched by its rule ID and a key phrase; the Danish
line keeps the rule ID so a user (or a colleague on the phone) can look it up in RULES.md. An error the
catalogue does not know keeps its own text (many service errors are Danish already).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pprflow.models.errors import PprflowError


@dataclass(frozen=True)
class Entry:
    rule_id: str | None
    pattern: str
    field: str | None
    danish: str


CATALOGUE: tuple[Entry, ...] = (
    Entry("PATH-1", r"starts with an action plan", "plan_context",
          "En henvendelse til PPR starter med en handleplan (SMTTE): udfyld Sammenhæng, Mål, Tegn, Tiltag og "
          "Evaluering."),
    Entry("PATH-2", r"only a school leader", "pathway",
          "Kun skolelederen kan starte en PPV. Bed skolelederen sende den, eller vælg et individforløb."),
    Entry("PATH-2", r"only in connection with school start", "school_start",
          "En PPV laves kun i forbindelse med skolestart. Sæt flueben, hvis det er tilfældet, eller vælg et "
          "individforløb."),
    Entry("PATH-2", r"is for a class or group: name it", "group",
          "Et læringsmiljøforløb handler om en klasse eller gruppe: skriv hvilken, fx 3.B."),
    Entry("PATH-2", r"concerns a class or group, not one child", "child_pseudonym",
          "Et læringsmiljøforløb handler om en klasse eller gruppe, ikke ét barn: fjern barnet, eller vælg et "
          "individforløb (med forældrenes samtykke)."),
    Entry("PATH-2", r"always in cooperation with the parents", "parent1_name",
          "Et individforløb sker altid i samarbejde med forældrene og barnet: skriv forældrene på."),
    Entry("PATH-3", r"community first", "plan_community",
          "Fællesskabet først: beskriv, hvad I har afprøvet i klassen eller gruppen (trin 1), før PPR arbejder "
          "med det enkelte barn."),
    Entry("PATH-4", r"concerns one child: add child", "child_pseudonym",
          "Henvendelsen handler om ét barn: skriv barnets pseudonym og fødselsår."),
    Entry("PATH-4", r"needs the parents' written consent", "consent_given_by",
          "En henvendelse om ét barn kræver forældrenes skriftlige samtykke: udfyld samtykket (hvem, dato, hvilke "
          "oplysninger, til hvem og formålet)."),
    Entry("PATH-4", r"may be named only with the parents' consent", "consent_given_by",
          "Et barn må kun nævnes med forældrenes samtykke: tilføj samtykket, eller fjern barnet og beskriv "
          "bekymringen, uden at barnet kan genkendes."),
    Entry("PATH-5", r"needs the action plan", "plan_context",
          "Pædagogisk Indsatsteam skal have den handleplan, I allerede har arbejdet med: udfyld handleplanen."),
    Entry("PATH-5", r"involve the local", "local_resources_involved",
          "Inddrag den lokale AKT-/sprogansvarlige, før I søger Pædagogisk Indsatsteam, og sæt så flueben."),
    Entry("PATH-6", r"request to the social-work adviser is anonymous", "consent_given_by",
          "Uden forældrenes samtykke er henvendelsen til den socialfaglige rådgiver anonym: fjern barn og "
          "forældre, eller tilføj samtykket."),
    Entry("PATH-7", r"serve daycares", "pathway",
          "Småbørnskonsulenterne betjener dagtilbud; en skole henvender sig til PPR."),
    Entry("LAW-3", r"list them in parents", "parent1_name",
          "Samtykke gives af forældremyndighedsindehaverne: skriv dem på under forældre."),
    Entry("LAW-3", r"who is not among the parents", "consent_given_by",
          "Samtykket skal være givet af de forældremyndighedsindehavere, der står under forældre."),
    Entry("LAW-3", r"is in the future", "consent_date",
          "Samtykkets dato ligger i fremtiden: brug datoen, hvor det skriftlige samtykke blev underskrevet."),
    Entry("LAW-3", r"before the child's birth year", "consent_date",
          "Samtykkets dato ligger før barnets fødselsår: brug datoen, hvor det skriftlige samtykke blev "
          "underskrevet."),
    Entry("PRIV-2", r"remove the CPR number: pprflow stores", "concern",
          "Fjern CPR-nummeret: pprflow gemmer kun et pseudonym og et fødselsår om barnet."),
    # issue 19: the case page, its meetings and KV (the web app's part 2)
    Entry("CAL-2", r"had to go out by", "date",
          "Dagsordenen skal ud senest 5 arbejdsdage før mødet: vælg den tidligste dato i feltet eller senere, eller "
          "skriv, hvorfor mødet ikke kan vente (så sendes dagsordenen med det samme)."),
    Entry("CAL-2", r"urgent-reason is for a meeting inside", "urgent_reason",
          "Begrundelsen for kort varsel bruges kun ved en dato inden for de 5 arbejdsdage: fjern den."),
    Entry("LVL-4", r"more than one meeting at level 3", "level",
          "Mere end ét møde på niveau 3 kræver forældrenes samtykke: registrér samtykket på sagen først."),
    Entry("LVL-1", r"skips a level", "reason",
          "Du springer et niveau over; normalt drøftes sagen på niveauet imellem først: skriv begrundelsen."),
    Entry("LVL-1", r"escalate goes up", "to",
          "Sagen er allerede på det niveau eller højere: vælg et højere niveau, eller vælg Ned."),
    Entry("LVL-1", r"deescalate goes down", "to",
          "Sagen er allerede på det niveau eller lavere: vælg et lavere niveau, eller vælg Op."),
    Entry("LVL-5", r"outposted social worker", "outposted_social_worker",
          "Den fremskudte socialrådgiver skal være inddraget før niveau 5: skriv rådgiverens e-mail."),
    Entry("LAW-3", r"holder\(s\) of parental authority", "given_by",
          "Samtykket skal være givet af mindst én af forældremyndighedsindehaverne på sagen: skriv deres navn, som "
          "det står på sagen."),
    Entry("MEET-4", r"has no phone number", "leader_phone",
          "Mødelederen har intet telefonnummer i medarbejderkartoteket: skriv det, så forældrene kan ringe."),
    Entry("MEET-4", r"is a parent of a child", "leader_email",
          "En forælder kan ikke være mødeleder; mødet ledes af en fagperson."),
    Entry("MEET-2", r"several responsible persons|responsible persons; name exactly one|no responsible person",
          None, "Hver aftale har præcis én ansvarlig: skriv én e-mailadresse."),
    Entry("MEET-2", r"need a follow-up", None,
          "Hver åben aftale fra sidste møde skal følges op: vælg fortsætter, justeres eller ændres."),
    Entry("MEET-2", r"is adjusted: give the adjusted text", None,
          "En aftale, der justeres, skal have den justerede tekst."),
    Entry("PATH-8", r"joins the case only with the parents' consent", "consent_id",
          "En samarbejdspartner kommer kun på sagen på forældrenes samtykke: vælg samtykket."),
    Entry("LAW-3", r"does not name .* among its recipients", "consent_id",
          "Samtykket nævner ikke samarbejdspartneren blandt modtagerne (CONS-1): registrér et samtykke, der nævner "
          "dem (navn, e-mail eller funktion, fx Sundhedsplejen), og vælg det."),
    Entry("CONS-1", r"withdrawn or not on this case", "consent_id",
          "Samtykket er trukket tilbage eller hører ikke til sagen; der deles intet på det."),
    Entry("ROLE-1", r"exactly one coordinator", "to",
          "En sag har præcis én tovholder: skriv én e-mailadresse."),
    Entry("ROLE-1", r"is a parent on the case; the coordinator", "to",
          "En forælder kan ikke være tovholder; tovholderen er en fagperson."),
    Entry("CAL-3", r"too late for KV on (?P<session>[\d-]+): topics must reach PPR by (?P<deadline>[\d-]+)"
          r".*next session on (?P<next>[\d-]+)", "session_date",
          "For sent til KV-mødet {session}: emnerne skulle være hos PPR senest {deadline} (mindst 5 dages "
          "varsel). Send emnet til næste møde, {next}."),
    Entry("CAL-3", r"too late for KV on (?P<session>[\d-]+): topics must reach PPR by (?P<deadline>[\d-]+)",
          "session_date",
          "For sent til KV-mødet {session}: emnerne skulle være hos PPR senest {deadline} (mindst 5 dages "
          "varsel). Bed den pædagogiske leder planlægge næste møde."),
    Entry("CAL-3", r"too late for KV", "session_date",
          "Fristen for emner til dette KV-møde er overskredet (mindst 5 dages varsel): vælg næste møde."),
    Entry("KV-1", r"anonymous", "text",
          "KV-emner er anonyme: fjern navne, CPR-numre og alt, der kan pege på et barn."),
    Entry("PATH-8", r"is a leader role: a partner joins", "role",
          "En samarbejdspartner kommer på sagen i en partnerrolle (fx sundhedsplejerske, SSP); institutionens "
          "leder findes i medarbejderkartoteket."),
    Entry("PATH-4", r"not a PPR employee", "to",
          "Sagen kan kun fordeles til en PPR-medarbejder: vælg en psykolog, konsulent, SUP eller talepædagog."),
    Entry("ESC-1", r"the case cannot be led there", None,
          "Lederen af den nye institution er forælder til barnet, så sagen kan ikke ledes derfra. Kontakt PPR's "
          "administration."),
)
"""(rule ID, key phrase of the English message) -> the form field and the Danish line."""

FIELD_OF_PATH: dict[str, str] = {
    "pathway": "pathway", "group": "group", "concern": "concern", "school_start": "school_start",
    "local_lead": "local_lead", "child.pseudonym": "child_pseudonym", "child.birth_year": "child_birth_year",
    "parents.0.name": "parent1_name", "parents.0.email": "parent1_email", "parents.1.name": "parent2_name",
    "parents.1.email": "parent2_email", "consent.given_by": "consent_given_by", "consent.date": "consent_date",
    "consent.information": "consent_information", "consent.recipients": "consent_recipients",
    "consent.purpose": "consent_purpose", "action_plan.context": "plan_context", "action_plan.goal": "plan_goal",
    "action_plan.signs": "plan_signs", "action_plan.measures": "plan_measures",
    "action_plan.evaluation": "plan_evaluation", "action_plan.community_measures": "plan_community",
    "social_adviser_email": "social_adviser_email",
}
"""A referral's field path (validation error) -> the web form's field."""

_INPUT_LINE = re.compile(r"^referral: (?P<path>[\w.]+): (?P<what>.*?)(?: \(and \d+ more problems?\))?$")
_WHAT: tuple[tuple[str, str], ...] = (
    ("required field is missing", "skal udfyldes"),
    ("must not be empty", "skal udfyldes"),
    ("must have at least one entry", "skal udfyldes"),
    ("greater than or equal", "er for lille"),
    ("less than or equal", "er for stor"),
    ("valid date", "er ikke en gyldig dato (dd-mm-åååå)"),
    ("valid integer", "skal være et tal"),
    ("whole number", "skal være et helt tal, fx 2017"),
    ("e-mail", "er ikke en gyldig e-mailadresse"),
    ("email", "er ikke en gyldig e-mailadresse"),
)


@dataclass(frozen=True)
class Message:
    """A Danish line for a user, the form field it belongs to (or None: the top of the form) and the rule."""

    text: str
    field: str | None = None
    rule_id: str | None = None


def danish(exc: PprflowError, labels: dict[str, str] | None = None) -> Message:
    """The error as one Danish line (rule ID kept) and the field it concerns."""
    raw = " ".join(exc.message.split())
    for entry in CATALOGUE:
        found = re.search(entry.pattern, raw)
        if (entry.rule_id is None or entry.rule_id == exc.rule_id) and found:
            return Message(_with_rule(_filled(entry, found), exc.rule_id), entry.field, exc.rule_id)
    match = _INPUT_LINE.match(raw)
    if match:
        path, what = match.group("path"), match.group("what")
        field = FIELD_OF_PATH.get(path)
        label = (labels or {}).get(field or "", path)
        said = next((da for en, da in _WHAT if en in what), f"er ikke gyldig ({what})")
        return Message(_with_rule(f"{label} {said}.", exc.rule_id), field, exc.rule_id)
    return Message(exc.one_line(), None, exc.rule_id)


def danish_line(exc: PprflowError) -> str:
    """The CLI's one line: the catalogue's Danish line for a rule refusal it knows, else the error's own line
    (an input error keeps its JSON field path, `referral: action_plan.goal: ...`: that is what to fix in the file)."""
    raw = " ".join(exc.message.split())
    for entry in CATALOGUE:
        found = re.search(entry.pattern, raw)
        if entry.rule_id == exc.rule_id and found:
            return _with_rule(_filled(entry, found), exc.rule_id)
    return exc.one_line()


def _filled(entry: Entry, found: re.Match[str]) -> str:
    """The Danish line with the specifics the rule's message named (a date, the next session): what to do next."""
    named = found.groupdict()
    return entry.danish.format(**named) if named else entry.danish


def _with_rule(text: str, rule_id: str | None) -> str:
    return f"{text} ({rule_id})" if rule_id else text
