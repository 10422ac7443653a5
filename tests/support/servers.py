"""HTTP servers standing in for what the client may meet instead of a gateway.

- `ForeignServer`: answers that are not pyoco-server's (a proxy's HTML error page, a stranger's
  JSON), recording each request's headers;
- `ScriptedServer`: an event stream played from a script per connection (drops, pauses, error
  statuses), recording each request.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit


class ForeignServer:
    """A server that is not pyoco-server: GET /runs/... is a proxy's 502 HTML page, anything
    else a stranger's JSON; `headers_seen` keeps each request's headers."""

    def __init__(self) -> None:
        self.headers_seen: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            seen: ClassVar[list[dict[str, str]]] = self.headers_seen

            def do_GET(self) -> None:
                self.seen.append(dict(self.headers))
                if self.path.startswith("/runs/"):
                    page = b"<html><body>\n<h1>502 Bad Gateway</h1></body></html>"
                    self._answer(502, "text/html", page)
                else:
                    self._answer(200, "application/json", b'{"hello": "world"}')

            def _answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Keep the test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ForeignServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


Script = list[bytes | float | None] | int
"""What the server does on one connection: chunks to send, pauses (seconds) and drops (None),
or an error status."""


class ScriptedServer:
    """An SSE server that plays one script per connection and records each request."""

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = scripts
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            seen: ClassVar[list[dict[str, Any]]] = self.requests

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                self.seen.append({"path": self.path, "query": query, "headers": dict(self.headers)})
                script = owner.scripts.pop(0) if owner.scripts else 404
                if isinstance(script, int):
                    self._problem(script)
                else:
                    self._stream(script)

            def _problem(self, status: int) -> None:
                reason = "run_not_found" if status == 404 else "backend_unavailable"
                body = json.dumps({"title": "x", "status": status, "reason": reason}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, chunks: list[bytes | float | None]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.close_connection = True
                for chunk in chunks:
                    if chunk is None:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if isinstance(chunk, float):
                        time.sleep(chunk)  # the silence under test
                        continue
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, format: str, *args: object) -> None:
                """Keep the test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
