"""ESC-1/ESC-2 by construction, as a Hypothesis state machine over generated cases and operations.

Operations: referrals (valid, or with a random defect, with and without suspected abuse), abuse reports
with and without a case, a second case for the same child, meetings whose leader and participants are
given in every address form (display name, brackets, upper case, spaces — refused or normalised),
partners, handovers, agendas, consent withdrawals, `case close`, `outbox cancel`, sweeps over the LAW-2
escalation days, acknowledgements, retention runs, and delivery through the file transport (sometimes
through a transport that fails transiently first).

After every step:
- every report's notification is one outbox row of kind abuse_notification, pending or sent — never
  cancelled, failed or suppressed — and at most one .eml file per notification;
- a notification reaches only the profile's notifications address;
- no mail of any kind reaches a parent of a child once the child's confidentiality began (mail is read
  with tests/support/eml.py: bare, case-folded addresses, never raw header strings).
At the end, one more delivery: every notification has been delivered exactly once.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from pydantic import ValidationError
from sqlmodel import Session, col, select

from pprflow.models.abuse import AbuseReport
from pprflow.models.errors import PprflowError, RuleViolation
from pprflow.models.rules_meetings import MeetingInput, PartnerInput
from pprflow.models.tables import Notification, OutboxMessage
from pprflow.models.types import utcnow
from pprflow.tasks.abuse import acknowledge, report, report_abuse
from pprflow.tasks.consent import withdraw_consent
from pprflow.tasks.context import Ctx
from pprflow.tasks.deadlines import run_sweep
from pprflow.tasks.handover import handover
from pprflow.tasks.intake import parse_or_notify, submit_referral
from pprflow.tasks.meetings import add_partner, schedule_meeting, send_agenda
from pprflow.tasks.outbox import cancel_message, deliver_due
from pprflow.tasks.retention import close_case, purge_expired
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail
from pprflow.tasks.transports.file import FileTransport
from tests import referral_data as rd
from tests.factories import directory
from tests.support import eml

TODAY = dt.date(2026, 11, 23)
NOTIFICATIONS = "underretning@randers.dk"
STAFF = "sofie@skovbakke.example"

# --- named strategies ------------------------------------------------------------------------------

address_forms = st.sampled_from(["bare", "upper", "display", "brackets", "spaces", "padded"])
"""How a person typed an address: bare, upper case, `Name <addr>`, `<addr>`, with a space inside, padded."""

defects = st.sampled_from(["none", "no_action_plan", "no_community_measures", "no_consent", "future_consent",
                           "ppv_from_pedagogue", "cpr_in_concern", "unknown_field"])
"""What a teacher in a hurry gets wrong in a referral; none of it may stop the notification (ESC-2)."""


def _form(address: str, form: str) -> str:
    name = address.split("@")[0].replace(".", " ").title()
    return {"bare": address, "upper": address.upper(), "display": f"{name} <{address}>",
            "brackets": f"<{address}>", "spaces": address.replace("@", " @"), "padded": f"  {address.title()} "
            }[form]


def _with_defect(data: dict[str, Any], defect: str) -> dict[str, Any]:
    if defect == "no_action_plan":
        data["action_plan"] = None
    elif defect == "no_community_measures":
        data["action_plan"] = {**data["action_plan"], "community_measures": None}
    elif defect == "no_consent":
        data["consent"] = None
    elif defect == "future_consent":
        data["consent"] = {**data["consent"], "date": "2027-01-01"}
    elif defect == "ppv_from_pedagogue":
        data.update(pathway="ppv", school_start=True,
                    submitted_by={"name": "Per Pædagog", "email": "per@skovbakke.example", "role": "pedagogue"})
    elif defect == "cpr_in_concern":
        data["concern"] = data["concern"] + " CPR 010203-1234."
    elif defect == "unknown_field":
        data["actionplan"] = {}
    return data


_TEMPLATE: dict[str, Path] = {}


def _template_db() -> Path:
    """One migrated SQLite file per test session; every example starts from a copy (fast)."""
    if "db" not in _TEMPLATE:
        from pprflow.db import get_engine, upgrade

        folder = Path(tempfile.mkdtemp(prefix="esc1-template-"))
        url = f"sqlite:///{folder / 'template.db'}"
        upgrade(url)
        get_engine(url).dispose()
        _TEMPLATE["db"] = folder / "template.db"
    return _TEMPLATE["db"]


class FlakyTransport(FileTransport):
    """The file transport behind a mail server that answers 421 to the first `failures` attempts."""

    def __init__(self, mail_dir: Path, failures: int) -> None:
        super().__init__(mail_dir)
        self.failures = failures

    def send(self, mail: OutgoingMail) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("421 try again later", transient=True)
        return super().send(mail)


class Esc1Machine(RuleBasedStateMachine):
    """Children with parents, their cases, reports and ordinary (and careless) casework."""

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        from pprflow.db import get_engine
        from pprflow.profiles import load_profile

        self.folder = Path(tempfile.mkdtemp(prefix="esc1-"))
        shutil.copy(_template_db(), self.folder / "pprflow.db")
        self.url = f"sqlite:///{self.folder / 'pprflow.db'}"
        self.engine = get_engine(self.url)
        self.profile = load_profile("randers")
        # The acting colleague is an administrator in the staff directory (PRIV-4), so every careless step
        # reaches the ESC-1 rules instead of stopping at the access policy.
        directory(self.engine, ((STAFF, "administrator", "Sofie Mikkelsen"),))
        self.ctx = Ctx(engine=self.engine, profile=self.profile, actor=STAFF)
        self.mail_dir = self.folder / "mail"
        self.children = 0
        self.parents_of: dict[int, set[str]] = {}  # child serial -> its parents' bare addresses
        self.child_of_case: dict[int, int] = {}
        self.protected: set[str] = set()  # parents of a child whose confidentiality began
        self.seen_mail: set[str] = set()
        self.mail_cache: dict[str, tuple[str, frozenset[str], str]] = {}
        self.reports = 0
        self.notification_ids: set[int] = set()  # every notification ever stored (rows may be purged later)
        self.forgotten: set[int] = set()  # children whose every case a retention run deleted

    def teardown(self) -> None:
        try:
            # Time passes: a message retried after a transient failure waits 2 minutes (urgent lane) or more.
            with Session(self.engine) as session:
                for row in session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all():
                    row.send_after = utcnow() - dt.timedelta(seconds=1)
                    session.add(row)
                session.commit()
            self._deliver(FileTransport(self.mail_dir))
            delivered = self._notification_mail()
            with Session(self.engine) as session:
                rows = session.exec(select(OutboxMessage).where(
                    OutboxMessage.template == "abuse_notification")).all()
            assert {r.status for r in rows} <= {"sent"}, "ESC-2: after a working delivery every notification is sent"
            assert len(self.notification_ids) == self.reports
            for notification_id in self.notification_ids:
                keys = [k for k in delivered if f"|notification:{notification_id}:" in k]
                assert len(keys) == 1 and delivered[keys[0]] == 1, f"notification {notification_id}: {keys}"
        finally:
            self.engine.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------------

    def _child(self, serial: int) -> dict[str, Any]:
        return {"pseudonym": f"Elev K-{serial}", "birth_year": 2016}

    def _parents(self, serial: int) -> list[dict[str, str]]:
        return [{"name": "Hanne Berg", "email": f"mor.{serial}@hjem.example"},  # the names on rd.CONSENT
                {"name": "Jonas Berg", "email": f"sean.o'brien{serial}@hjem.example"}]

    def _protect(self, serial: int) -> None:
        self.protected |= self.parents_of.get(serial, set())

    def _deliver(self, transport: FileTransport) -> None:
        for _ in range(3):  # a transient failure stops a run; the next run goes on
            deliver_due(self.engine, transport, now=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=400))

    def _mail(self) -> dict[str, tuple[str, frozenset[str], str]]:
        """Every delivered .eml as (idempotency key, bare recipients, subject), each file parsed once."""
        if self.mail_dir.exists():
            for path in sorted(self.mail_dir.glob("*.eml")):
                if path.name not in self.mail_cache:
                    mail = eml.read(path)
                    self.mail_cache[path.name] = (str(mail.message.get("X-Pprflow-Key", "")).strip(),
                                                  frozenset(mail.recipients), mail.subject)
        return self.mail_cache

    def _notification_mail(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key, _, _ in self._mail().values():
            if key.startswith("abuse_notification|"):
                counts[key] = counts.get(key, 0) + 1
        return counts

    # --- rules -----------------------------------------------------------------------------------

    @rule(target=cases, abuse=st.booleans(), defect=defects, same_child=st.booleans(),
          parent_form=address_forms)
    def referral(self, abuse: bool, defect: str, same_child: bool, parent_form: str) -> Any:
        """A referral, maybe with suspected abuse and a defect; maybe a second case of an earlier child."""
        reuse = same_child and self.children and self.children not in self.forgotten
        serial = self.children if reuse else self.children + 1
        self.children = max(self.children, serial)
        parents = self._parents(serial)
        typed = [{"name": p["name"], "email": _form(p["email"], parent_form)} for p in parents]
        data = _with_defect(rd.data(child=self._child(serial), parents=typed, suspected_abuse=abuse,
                                    concern=f"Bekymring {self.reports} for elev {serial}."), defect)
        before = self._count_notifications()
        try:
            referral = parse_or_notify(self.ctx, data, today=TODAY)
            result = submit_referral(self.ctx, referral, today=TODAY)
        except PprflowError as exc:
            line = exc.one_line()
            assert "\n" not in line
            if abuse and self._count_notifications() > before:
                self.reports += 1
                assert "underretningen ER sendt" in line, line  # ESC-2: the refusal says it was sent
            elif abuse:
                assert "underretningen er IKKE sendt" in line or self._count_notifications() == before, line
            return None
        self.parents_of.setdefault(serial, set()).update(p["email"].lower() for p in parents)
        self.child_of_case[result.case_id] = serial
        if abuse:
            self.reports += self._count_notifications() - before
            self._protect(serial)
        if result.confidential_from_parents:
            self._protect(serial)
        return result.case_id

    def _count_notifications(self) -> int:
        with Session(self.engine) as session:
            return len(session.exec(select(Notification.id)).all())

    @rule(case=cases)
    def report_on_case(self, case: int | None) -> None:
        """A teacher reports suspected abuse on a case (LAW-1: any staff member)."""
        if case is None:
            return
        before = self._count_notifications()
        try:
            report_abuse(ctx=self.ctx, case_id=case, today=TODAY)
        except PprflowError:  # only: the case was deleted by a retention run (nothing stored then)
            assert self._count_notifications() == before
            return
        self.reports += self._count_notifications() - before
        self._protect(self.child_of_case[case])

    @rule(with_case=st.sampled_from([None, "known", "unknown"]), case=cases)
    def report_without_case(self, with_case: str | None, case: int | None) -> None:
        """A report as its own intake: a named child, no case (or an unknown case id) — nothing refuses it."""
        case_id = {None: None, "known": case, "unknown": 99999}[with_case]
        before = self._count_notifications()
        report(self.ctx, AbuseReport.model_validate({
            "reporter": {"name": "Sofie Mikkelsen", "email": "Sofie@Skovbakke.example", "role": "teacher"},
            "institution": "Skovbakkeskolen", "child": {"name": "Emil Jensen", "group": "3.B", "birth_year": 2016},
            "observation": f"Blå mærker på armen (observation {self.reports}).", "observed_on": "2026-11-23",
            "case_id": case_id}), today=TODAY)
        self.reports += self._count_notifications() - before
        if case_id == case and case is not None:
            self._protect(self.child_of_case[case])

    @rule(case=cases, leader_form=address_forms, participant_form=address_forms, parent_as_participant=st.booleans())
    def meeting(self, case: int | None, leader_form: str, participant_form: str, parent_as_participant: bool) -> None:
        """A meeting whose leader and participants are typed in any address form — even a parent's address."""
        if case is None:
            return
        serial = self.child_of_case[case]
        someone = f"mor.{serial}@hjem.example" if parent_as_participant else "ahmed@ppr.example"
        try:
            data = MeetingInput.model_validate({
                "case_id": case, "kind": "network", "level": 2, "date": "2026-12-10",
                "leader_email": _form("lene@skovbakke.example", leader_form),
                "participants": [{"name": "Deltager", "email": _form(someone, participant_form),
                                  "role": "ppr_psychologist"}]})
        except ValidationError as exc:
            assert leader_form in ("display", "brackets", "spaces") or participant_form in (
                "display", "brackets", "spaces"), exc
            return
        assert data.leader_email == "lene@skovbakke.example" and data.participants[0].email == someone
        try:
            scheduled = schedule_meeting(ctx=self.ctx, data=data, today=TODAY)
            send_agenda(ctx=self.ctx, meeting_id=scheduled["meeting_id"], today=TODAY)
        except PprflowError:
            return

    @rule(case=cases, form=address_forms)
    def partner_or_handover(self, case: int | None, form: str) -> None:
        """A partner or a new coordinator given as a parent's address in some form: refused or suppressed."""
        if case is None:
            return
        parent = f"mor.{self.child_of_case[case]}@hjem.example"
        try:
            add_partner(ctx=self.ctx, data=PartnerInput.model_validate(
                {"case_id": case, "name": "Partner", "email": _form(parent, form), "role": "health_visitor"}))
        except (PprflowError, ValidationError):
            pass
        try:
            handover(ctx=self.ctx, case_id=case, to_email=_form(parent, form), today=TODAY)
        except PprflowError:
            pass

    @rule(case=cases)
    def withdraw(self, case: int | None) -> None:
        if case is None:
            return
        try:
            withdraw_consent(ctx=self.ctx, case_id=case)
        except PprflowError:
            pass

    @rule(case=cases)
    def close(self, case: int | None) -> None:
        """`case close`: refused while a notification waits for its acknowledgement (ESC-2, LAW-2)."""
        if case is None:
            return
        with Session(self.engine) as session:
            waiting = session.exec(select(Notification).where(
                Notification.case_id == case, col(Notification.acknowledged_at).is_(None))).all()
        try:
            close_case(ctx=self.ctx, case_id=case, reason="Afsluttet")
        except RuleViolation as exc:
            assert waiting and exc.rule_id == "ESC-2" and "underretningen" in exc.message
            return
        except PprflowError:
            return  # the case was purged by a retention run
        assert not waiting, "a case with an unacknowledged notification was closed"

    @rule(pick=st.integers(min_value=0, max_value=50), as_anonymous=st.booleans())
    def outbox_cancel(self, pick: int, as_anonymous: bool) -> None:
        """`outbox cancel ID` on any pending message, even as the anonymous OS account."""
        with Session(self.engine) as session:
            pending = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")
                                   .order_by(col(OutboxMessage.id))).all()
            if not pending:
                return
            message = pending[pick % len(pending)]
            try:
                cancel_message(session, message, reason="by hand",
                               actor="system:root" if as_anonymous else STAFF)
                session.commit()
            except RuleViolation as exc:
                assert message.template == "abuse_notification" and exc.rule_id == "ESC-2"
                assert "kan ikke annulleres" in exc.message and "underretningen" in exc.message

    @rule(days=st.integers(min_value=0, max_value=30))
    def sweep(self, days: int) -> None:
        """Reminders and the LAW-2 escalation (leader, coordinator, escalation address)."""
        run_sweep(self.engine, self.profile, today=TODAY + dt.timedelta(days=days))

    @rule(case=cases)
    def acknowledge_case(self, case: int | None) -> None:
        if case is None:
            return
        try:
            acknowledge(ctx=self.ctx, case_id=case)
        except PprflowError:
            pass

    @rule(years=st.integers(min_value=0, max_value=7))
    def retention(self, years: int) -> None:
        """A retention run, years from now: never removes a waiting notification."""
        purge_expired(self.ctx, today=dt.date.today() + dt.timedelta(days=365 * years))
        from pprflow.models.tables import Case

        with Session(self.engine) as session:
            alive = {self.child_of_case[i] for i in session.exec(select(Case.id)).all() if i in self.child_of_case}
        # Confidentiality is kept as long as a case of the child is kept (PRIV-2 retention); a child whose
        # cases are all gone is a new child to pprflow, and the machine does not reuse it.
        self.forgotten |= set(self.child_of_case.values()) - alive

    @rule(failures=st.integers(min_value=0, max_value=2))
    def deliver(self, failures: int) -> None:
        self._deliver(FlakyTransport(self.mail_dir, failures) if failures else FileTransport(self.mail_dir))

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def notifications_are_never_cancelled_and_go_only_to_the_notification_address(self) -> None:
        with Session(self.engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.template == "abuse_notification")).all()
            self.notification_ids |= {i for i in session.exec(select(Notification.id)).all() if i is not None}
        assert len(self.notification_ids) == self.reports, (self.notification_ids, self.reports)
        delivered = self._notification_mail()
        on_row = {r.idempotency_key for r in rows}
        for notification_id in self.notification_ids:  # queued (pending or sent) or, once purged, delivered
            tag = f"|notification:{notification_id}:"
            assert any(tag in k for k in on_row) or any(tag in k for k in delivered), notification_id
        for row in rows:
            assert row.status in ("pending", "sent"), f"ESC-2: notification {row.id} is {row.status}"
            assert row.to == NOTIFICATIONS and not row.cc
        for key, count in delivered.items():
            assert count == 1, key
        for key, recipients, _ in self._mail().values():
            if key.startswith("abuse_notification|"):
                assert recipients == {NOTIFICATIONS}, recipients

    @invariant()
    def nothing_reaches_a_parent_once_the_child_is_confidential(self) -> None:
        for name, (_, recipients, subject) in self._mail().items():
            if name in self.seen_mail:
                continue
            leaked = sorted(recipients & self.protected)
            assert not leaked, f"ESC-1: {subject!r} reached {leaked}"
            self.seen_mail.add(name)


Esc1Machine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestEsc1ByConstruction_ESC_1_ESC_2 = Esc1Machine.TestCase
