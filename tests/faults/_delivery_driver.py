"""A delivery process to kill: `python -m tests.faults._delivery_driver '<json config>'`.

It imports everything once, prints `ready`, and then, for every `go` line on stdin, forks a child
that builds its own database engine and transport and runs `deliver_due` to the end — a real
process the test kills with SIGKILL the moment the loopback server has accepted the k-th message
(tests/support/mailboxes.py, `Tripwire`). For each child it prints `pid <pid>`; a child that finishes
prints `report <pid> <json>` (its DeliveryReport's ids per outcome); when the child is gone the parent
prints `exit <pid> <status>`. Forking from a warm parent keeps 30 kills in seconds
instead of minutes of interpreter start-up. `quit` ends it.

Config: {"db": url, "transport": "smtp"|"exchange"|"graph", "server": url or port, "mailbox": ...,
"cert": path to the loopback CA (graph)}.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from pydantic import SecretStr

from pprflow.db import get_engine
from pprflow.tasks.outbox import deliver_due
from pprflow.tasks.transports.base import Transport


def make_transport(config: dict[str, Any]) -> Transport:
    kind = config["transport"]
    if kind == "smtp":
        from pprflow.tasks.transports.smtp import SmtpTransport

        return SmtpTransport("127.0.0.1", int(config["server"]), "none", timeout=5)
    if kind == "exchange":
        from pprflow.tasks.transports.exchange import ExchangeTransport

        return ExchangeTransport(mailbox=config["mailbox"], server=f"{config['server']}/EWS/Exchange.asmx",
                                 auth="oauth2", tenant_id="vejle-tenant", client_id="pprflow-app",
                                 client_secret=SecretStr("loopback-secret"), authority_base_url=config["server"],
                                 max_wait=0)
    if kind == "graph":
        import ssl

        import httpx
        import requests

        from pprflow.tasks.transports.graph import GraphTransport, MsalTokenProvider

        session = requests.Session()
        session.trust_env = False
        session.verify = config["cert"]
        provider = MsalTokenProvider(tenant_id="vejle-tenant", client_id="pprflow-app",
                                     client_secret=SecretStr("loopback-secret"), authority_base_url=config["server"],
                                     http_client=session)
        client = httpx.Client(verify=ssl.create_default_context(cafile=config["cert"]), timeout=5)
        return GraphTransport(mailbox=config["mailbox"], token_provider=provider, base_url=f"{config['server']}/v1.0",
                              http_client=client, max_wait=0)
    raise SystemExit(f"unknown transport {kind}")


def deliver(config: dict[str, Any]) -> dict[str, Any]:
    engine = get_engine(config["db"])
    report = deliver_due(engine, make_transport(config))
    return {"sent": report.sent, "already_sent": report.already_sent, "failed": report.failed,
            "cancelled": report.cancelled, "deferred": report.deferred}


def main() -> None:
    config = json.loads(sys.argv[1])
    if config["transport"] == "exchange":
        import exchangelib  # noqa: F401  (warm the import before forking)
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            return
        if command != "go":
            continue
        pid = os.fork()
        if pid == 0:  # the delivery process
            code = 0
            try:
                report = deliver(config)
                print(f"report {os.getpid()} {json.dumps(report)}", flush=True)
            except BaseException as exc:  # report, never hang the parent
                sys.stderr.write(f"delivery failed: {type(exc).__name__}: {exc}\n")
                code = 3
            finally:
                sys.stderr.flush()
                os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)


if __name__ == "__main__":
    main()
