"""FileTransport: one .eml per key, written atomically, never overwritten."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from pprflow.tasks.mime import key_digest, message_id_for
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail, Transport
from pprflow.tasks.transports.file import FileTransport


def mail(key: str = "case-1:receipt:leder@skole.example", **overrides: object) -> OutgoingMail:
    values: dict[str, object] = dict(idempotency_key=key, sender="ppr@vejle.example", to="leder@skole.example",
                                     subject="Kvittering for henvendelse (æøå)", text="Tak.", html="<p>Tak.</p>")
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def test_is_a_transport(tmp_path: Path):
    assert isinstance(FileTransport(tmp_path), Transport)


def test_send_writes_one_eml_named_from_the_key_hash(tmp_path: Path):
    transport = FileTransport(tmp_path / "mail")
    assert transport.already_sent(mail().idempotency_key) is None

    message_id = transport.send(mail())

    path = tmp_path / "mail" / f"{key_digest(mail().idempotency_key)}.eml"
    assert [p.name for p in (tmp_path / "mail").iterdir()] == [path.name]  # no temporary file left
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == message_id == message_id_for(mail().idempotency_key)
    assert parsed["Subject"] == "Kvittering for henvendelse (æøå)"
    assert transport.already_sent(mail().idempotency_key) == message_id


def test_a_retry_overwrites_nothing(tmp_path: Path):
    transport = FileTransport(tmp_path)
    first_id = transport.send(mail())
    path = transport.path_for(mail().idempotency_key)
    first = path.read_bytes()
    stat = path.stat()

    again = transport.send(mail(subject="Changed on retry"))

    assert again == first_id
    assert path.read_bytes() == first
    assert path.stat().st_ino == stat.st_ino
    assert len(list(tmp_path.iterdir())) == 1


def test_different_keys_are_different_files(tmp_path: Path):
    transport = FileTransport(tmp_path)
    transport.send(mail("a"))
    transport.send(mail("b"))
    assert len(list(tmp_path.glob("*.eml"))) == 2


def test_header_injection_writes_nothing(tmp_path: Path):
    transport = FileTransport(tmp_path)
    with pytest.raises(DeliveryError) as caught:
        transport.send(mail(to="leder@skole.example\r\nBcc: alle@example.com"))
    assert caught.value.transient is False
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_transient(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(DeliveryError) as caught:
        FileTransport(blocker / "mail").send(mail())
    assert caught.value.transient is True
