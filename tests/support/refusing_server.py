"""A loopback HTTP server that answers every request 401, standing in for a Prefect server whose API auth
string does not match (ESC-2: the abuse report must be received whatever the server answers)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Refuse(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def refusing_prefect_api() -> Iterator[str]:
    """The API URL of a server that refuses everything with 401; stopped on exit."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
