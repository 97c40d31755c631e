"""Fixtures for the fault tests: a loopback TLS certificate (the Graph authority must be https)."""

from __future__ import annotations

import pytest

from tests.transports.loopback import LoopbackCert, make_loopback_cert


@pytest.fixture(scope="session")
def loopback_cert(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCert:
    return make_loopback_cert(tmp_path_factory.mktemp("faults-tls"))
