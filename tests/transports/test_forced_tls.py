"""Issue 16: a message about a named child or a notification goes over SMTP only with verified TLS.

Refusals happen before any connection is opened, so these tests need no server for them; the loopback
relay is proven against a real aiosmtpd server.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pprflow.models.tables import Case
from pprflow.tasks.outbox import is_sensitive
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail
from pprflow.tasks.transports.smtp import SmtpTransport
from tests.transports.loopback import free_port


def mail(**overrides: Any) -> OutgoingMail:
    values: dict[str, Any] = dict(idempotency_key="meeting-42:agenda:mor@hjem.example", sender="ppr@vejle.example",
                                  to="mor@hjem.example", subject="Invitation", text="Kære Hanne\n", html="<p>Kære</p>",
                                  reply_to="leder@skole.example", sensitive=True)
    values.update(overrides)
    return OutgoingMail(**values)


def test_plain_smtp_to_a_remote_server_refuses_a_sensitive_message_permanently() -> None:
    transport = SmtpTransport("smtp.kommune.example", 25, "none", timeout=1)
    with pytest.raises(DeliveryError) as refused:
        transport.send(mail())
    assert refused.value.transient is False
    assert "without TLS" in str(refused.value) and "starttls" in str(refused.value)


def test_a_tls_context_that_does_not_verify_refuses_a_sensitive_message() -> None:
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    transport = SmtpTransport("smtp.kommune.example", 587, "starttls", timeout=1, ssl_context=lax)
    with pytest.raises(DeliveryError) as refused:
        transport.send(mail())
    assert refused.value.transient is False and "not be verified" in str(refused.value)


def test_a_verifying_context_is_accepted_by_the_check() -> None:
    SmtpTransport("smtp.kommune.example", 587, "starttls").check_encrypted()
    SmtpTransport("smtp.kommune.example", 465, "ssl").check_encrypted()


@pytest.fixture
def relay() -> Iterator[tuple[Controller, list[bytes]]]:
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.original_content)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, received
    finally:
        controller.stop()


def test_a_relay_on_this_machine_may_take_it_in_plain_and_reply_to_arrives(relay: Any) -> None:
    controller, received = relay
    transport = SmtpTransport("127.0.0.1", controller.port, "none", timeout=5)
    try:
        transport.send(mail())
    finally:
        transport.close()
    assert len(received) == 1 and b"Reply-To: leder@skole.example" in received[0]


def test_a_message_that_is_not_sensitive_still_goes_in_plain() -> None:
    # Not refused by the check (the connection then fails: nobody listens), proving the rule is selective.
    transport = SmtpTransport("127.0.0.1", free_port(), "none", timeout=1)
    with pytest.raises(DeliveryError) as failed:
        transport.send(mail(sensitive=False))
    assert failed.value.transient is True and "without TLS" not in str(failed.value)


def test_what_counts_as_sensitive() -> None:
    with_child = Case(pathway="ppr_individual", institution_id=1, child_id=7, submitted_by_email="a@b.example",
                      coordinator_email="a@b.example")
    group = Case(pathway="ppr_learning_environment", institution_id=1, child_id=None, group_name="3.B",
                 submitted_by_email="a@b.example", coordinator_email="a@b.example")
    assert is_sensitive("network_agenda", with_child) is True
    assert is_sensitive("network_agenda", group) is False
    assert is_sensitive("abuse_notification", group) is True  # a notification always
    assert is_sensitive("kv_topic_list", None) is False  # KV-1: anonymous by construction
    assert is_sensitive("district_case_list", None) is True  # names several children
