"""The stand-in over real HTTP on 127.0.0.1, and a tiny IPN receiver for what it posts."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests

from connections import catalogue
from ds24standin.server import StandIn
from tests.conftest import DEVELOPER_KEY, FULL_KEY


@pytest.fixture(scope="session")
def standin_server():
    # Errors with their documented 4xx statuses, so a test names the status it expects; the
    # default (errors in an HTTP 200 envelope) is exercised in tests/connections both ways.
    standin = StandIn(allow_local_ipn_urls=True, errors="status").start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(standin_server):
    standin_server.reset()
    return standin_server


def call(standin, function, params=None, key=None) -> tuple[int, dict]:
    """POST a call as the PHP connector does; (HTTP status, envelope)."""
    if key is None:
        spec = catalogue.get(function)
        key = DEVELOPER_KEY if spec and spec.access is catalogue.Access.DEVELOPER else FULL_KEY
    response = requests.post(
        standin.api_url + function, data=params or {}, headers={"X-DS-API-KEY": key}, timeout=15
    )
    return response.status_code, response.json()


def ok(standin, function, params=None, key=None) -> dict:
    """The `data` of a call that must succeed."""
    status, envelope = call(standin, function, params, key)
    assert (status, envelope["result"]) == (200, "success"), envelope
    return envelope["data"]


def error(standin, function, params=None, key=None) -> tuple[int, int, str]:
    """(HTTP status, code, message) of a call that must fail."""
    status, envelope = call(standin, function, params, key)
    assert envelope["result"] == "error", envelope
    return status, envelope["code"], envelope["message"]


def payment_of(standin, order_id: str) -> str:
    return next(
        t["id"]
        for t in standin.account.transactions
        if t["purchase_id"] == order_id and t["transaction_type"] == "payment"
    )


class Receiver:
    """An IPN endpoint: answers GET (DS24's URL check) and POST with OK, records each POST;
    any path under /missing answers 404."""

    def __init__(self):
        self.posts: list[tuple[str, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_GET(self):
                self._answer()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append((self.path, dict(parse_qsl(body.decode()))))
                self._answer()

            def _answer(self):
                missing = self.path.startswith("/missing")
                self.send_response(404 if missing else 200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"Not found" if missing else b"OK")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/ipn") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
