"""Display names on the wire (issue 13/16): a recipient's name travels beside the bare address — from the
staff directory, the case's parties or the profile's mailboxes, never parsed out of free text — and
decodes to exactly what was stored, RFC 2047-encoded where it is not ASCII: in To and Cc over SMTP (a real
loopback server) and the file transport, in Graph's toRecipients/ccRecipients, in the EWS MimeContent."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pprflow.models.tables import CaseParty, StaffMember
from pprflow.tasks.mime import mime_bytes
from pprflow.tasks.outbox import deliver_due, queue_message
from pprflow.tasks.transports.base import OutgoingMail
from pprflow.tasks.transports.file import FileTransport
from pprflow.tasks.transports.smtp import SmtpTransport
from pprflow.templates.catalogue import MESSAGE_KINDS
from tests.factories import case_with_parents, put_staff
from tests.support.eml import parse, read_folder
from tests.support.mailboxes import RecordingSmtp
from tests.transports import test_exchange as _exchange
from tests.transports import test_graph as _graph
from tests.transports.loopback import free_port

# The HTTP-level fakes of Graph and EWS, shared with their transports' own tests.
graph = _graph.graph
ews, oauth_over_loopback_http = _exchange.ews, _exchange.oauth_over_loopback_http

SENDER = "ppr@vejle.example"
NAMES = ["Søren", "Østergård", "Æbelø", "Åse", "Mette-Marie", "O'Brien", "Berg,", "Hanne", "\"Lille\"", "Dr.",
         "Jørgensen", "Ümit", "(PPR)", "Kristensen"]
danish_name = st.lists(st.sampled_from(NAMES), min_size=1, max_size=6).map(" ".join)


def _names(raw: bytes, header: str) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in parse(raw).message[header].addresses]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(to_name=danish_name, cc_name=danish_name)
def test_generated_danish_display_names_decode_exactly_in_to_and_cc(to_name: str, cc_name: str) -> None:
    mail = OutgoingMail(idempotency_key="k", sender=SENDER, to="soren@skole.example", to_name=to_name,
                        cc=("hanne@sundhed.example", "uden.navn@skole.example"), cc_names=(cc_name, ""),
                        subject="s", text="t", html="<p>t</p>")
    raw = mime_bytes(mail)
    assert _names(raw, "To") == [(to_name, "soren@skole.example")]
    assert _names(raw, "Cc") == [(cc_name, "hanne@sundhed.example"), ("", "uden.navn@skole.example")]
    header_lines = raw.split(b"\r\n\r\n", 1)[0]
    assert header_lines.isascii(), "RFC 2047: the header stays 7-bit; names are encoded words"


def test_a_staff_member_and_a_partner_on_the_case_arrive_with_their_names_over_smtp(
        engine: Engine) -> None:
    handler = RecordingSmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with Session(engine) as session:
            case = case_with_parents(session)
            put_staff(session, StaffMember(name="Søren Østergård", email="soren@skole.example", role="teacher"))
            session.add(CaseParty(case_id=case.id or 0, name="Hanne Berg, sundhedsplejerske",
                                  email="hanne@sundhed.example", role="health_visitor"))
            session.flush()
            queued = queue_message(session, kind="assignment", to="Soren@Skole.example",
                                   cc=["hanne@sundhed.example", "ukendt@skole.example"],
                                   context=MESSAGE_KINDS["assignment"].example_context(), serves="names:1",
                                   sender=SENDER, case=case)
            assert queued is not None
            session.commit()
        report = deliver_due(engine, SmtpTransport("127.0.0.1", controller.port, "none", timeout=5),
                             sender_names={SENDER: "PPR Vejle Kommune"})
    finally:
        controller.stop()
    assert len(report.sent) == 1
    [(_, rcpts, raw)] = handler.received
    assert sorted(rcpts) == ["hanne@sundhed.example", "soren@skole.example", "ukendt@skole.example"]
    assert _names(raw, "To") == [("Søren Østergård", "soren@skole.example")]
    assert _names(raw, "Cc") == [("Hanne Berg, sundhedsplejerske", "hanne@sundhed.example"),
                                 ("", "ukendt@skole.example")]
    assert _names(raw, "From") == [("PPR Vejle Kommune", SENDER)]


def test_the_profiles_mailboxes_arrive_with_the_unit_reception_and_district_team_names(
        engine: Engine, vejle: Any, tmp_path: Path) -> None:
    profile = vejle.model_copy(update={"district_teams": {"Nord": "ppr-nord@vejle.example"}})
    names = profile.mailbox_names()
    assert names["ppr-nord@vejle.example"] == "PPR Vejle, distrikt Nord"
    assert names[profile.mailboxes.notifications] == "Familieafdelingen, Modtagelsen"
    assert names["ppr@vejle.dk"] == "PPR Vejle"
    with Session(engine) as session:
        for i, to in enumerate(("ppr-nord@vejle.example", profile.mailboxes.notifications)):
            kind = "district_case_list" if i == 0 else "abuse_notification"
            queue_message(session, kind=kind, to=to, context=MESSAGE_KINDS[kind].example_context(),
                          serves=f"names:{i}", sender=SENDER)
        session.commit()
    deliver_due(engine, FileTransport(tmp_path / "mail"), mailbox_names=names)
    got = sorted(a for m in read_folder(tmp_path / "mail") for a in
                 ((x.display_name, x.addr_spec) for x in m.message["To"].addresses))
    assert got == sorted([("PPR Vejle, distrikt Nord", "ppr-nord@vejle.example"),
                          ("Familieafdelingen, Modtagelsen", profile.mailboxes.notifications)])


def test_graph_carries_the_display_names_in_its_recipients(graph: Any, loopback_cert: Any) -> None:
    fake, server = graph
    _graph.make(server, loopback_cert).send(_graph.mail(to_name="Søren Østergård", cc_names=("",)))
    draft = json.loads(fake.of("create")[0].body)
    assert draft["toRecipients"] == [{"emailAddress": {"address": "leder@skole.example", "name": "Søren Østergård"}}]
    assert draft["ccRecipients"] == [{"emailAddress": {"address": "tovholder@skole.example"}}]


def test_exchange_carries_the_display_names_in_the_mime_it_sends(ews: Any, oauth_over_loopback_http: Any) -> None:
    from tests.support.ews import NS

    fake, server = ews
    _exchange.oauth_transport(server).send(_exchange.mail(to_name="Lene Leder", cc_names=("Åse Æbelø",)))
    [message] = fake.last("CreateItem").findall("s:Body/m:CreateItem/m:Items/t:Message", NS)
    raw = base64.b64decode(message.find("t:MimeContent", NS).text or "")  # type: ignore[union-attr]
    assert _names(raw, "To") == [("Lene Leder", "leder@skole.example")]
    assert _names(raw, "Cc") == [("Åse Æbelø", "sundhedsplejerske@vejle.example")]


def test_a_name_with_a_line_break_is_folded_to_one_line_and_never_stops_the_mail(engine: Engine,
                                                                                tmp_path: Path) -> None:
    with Session(engine) as session:
        put_staff(session, StaffMember(name="Sofie\r\nBcc: spion@ond.example", email="sofie@skole.example",
                                       role="teacher"))
        queue_message(session, kind="kv_topic_list", to="sofie@skole.example", serves="names:hostile",
                      context=MESSAGE_KINDS["kv_topic_list"].example_context(), sender=SENDER)
        session.commit()
    report = deliver_due(engine, FileTransport(tmp_path / "mail"))
    assert len(report.sent) == 1 and report.failed == []
    [mail] = read_folder(tmp_path / "mail")
    assert [(a.display_name, a.addr_spec) for a in mail.message["To"].addresses] == [
        ("Sofie Bcc: spion@ond.example", "sofie@skole.example")]
    assert mail.message["Bcc"] is None and mail.recipients == {"sofie@skole.example"}
