"""Fixtures for the fault tests: a loopback TLS certificate (the Graph authority must be https)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.support.mailboxes import RecordingSmtp
from tests.transports.loopback import LoopbackCert, free_port, make_loopback_cert


@pytest.fixture(scope="session")
def loopback_cert(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCert:
    return make_loopback_cert(tmp_path_factory.mktemp("faults-tls"))


@pytest.fixture
def smtp() -> Iterator[tuple[RecordingSmtp, int]]:
    """A recording loopback SMTP server (the delivery fault tests count what it accepted)."""
    handler = RecordingSmtp(latency=0.01)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()
