"""A loopback SMTP server (aiosmtpd) that accepts and counts every message; run as a subprocess.

    python benchmarks/_smtp_sink.py PORT     # prints "ready", then answers each stdin line with the count

Loopback only: it binds 127.0.0.1 and relays nothing.
"""

from __future__ import annotations

import sys
import threading

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self) -> None:
        self.messages = 0
        self.recipients = 0
        self.bytes = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        with self._lock:
            self.messages += 1
            self.recipients += len(getattr(envelope, "rcpt_tos", []))
            self.bytes += len(getattr(envelope, "content", b"") or b"")
        return "250 Message accepted for delivery"


def main() -> int:
    port = int(sys.argv[1])
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        for _line in sys.stdin:
            print(f"{handler.messages} {handler.recipients} {handler.bytes}", flush=True)
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
