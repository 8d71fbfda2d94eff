import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apicall.rules import call_spec
from apicall.services import apicall_record
from connections.client import RawResponse
from connections.models import Connection
from tests.conftest import FULL_KEY


def Answer(
    *,
    status=200,
    headers=(("Content-Type", "application/json"),),
    body=b'{"result": "success", "data": {"purchase_id": "ABC"}}',
    truncated=False,
    duration_ms=42,
) -> RawResponse:
    """An answer as the client's request() returns it, for tests of what is recorded."""
    items = headers.items() if isinstance(headers, dict) else headers
    return RawResponse(status, tuple(items), body, truncated, duration_ms)


OK_ANSWER = Answer()


@pytest.fixture
def connection(db):
    connection = Connection(name="Shop")
    connection.set_key(FULL_KEY)
    connection.save()
    return connection


@pytest.fixture
def record(connection):
    """Record a call: `record(url=..., answer=Answer(...), **apicall_record kwargs)`."""

    def record(*, url="getPurchase?purchase_id=ABC", method="POST", headers=None, body=None,
               answer=OK_ANSWER, **kwargs):  # fmt: skip
        spec = call_spec(method=method, url=url, headers=headers, body=body, confirm_write=True)
        kwargs.setdefault("connection", connection)
        return apicall_record(spec=spec, answer=answer, **kwargs)

    return record


class AnsweringServer(ThreadingHTTPServer):
    """A Digistore24 that answers what a test sets, for answers the stand-in never gives:
    `server.answer(body, headers=..., trickle=seconds)`. With `trickle` the body is written
    a byte at a time, that long apart; `sent` counts the bytes written before the client left.
    """

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), AnsweringHandler)
        self.answer()

    def answer(self, body: bytes = b"", *, headers=(("Content-Type", "application/json"),),
               trickle: float = 0.0):  # fmt: skip
        self.body, self.headers, self.trickle, self.sent = body, headers, trickle, 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/call/"


class AnsweringHandler(BaseHTTPRequestHandler):
    server: AnsweringServer

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self.server
        self.send_response(200)
        for name, value in server.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(server.body)))
        self.end_headers()
        step = 1 if server.trickle else len(server.body)
        try:
            for start in range(0, len(server.body), step):
                self.wfile.write(server.body[start : start + step])
                self.wfile.flush()
                server.sent += step
                time.sleep(server.trickle)
        except OSError:
            pass  # the client gave up

    do_GET = do_POST


@pytest.fixture
def answering(settings):
    """An AnsweringServer as DS24_API_URL."""
    server = AnsweringServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.DS24_API_URL = server.api_url
    yield server
    server.shutdown()
    server.server_close()
