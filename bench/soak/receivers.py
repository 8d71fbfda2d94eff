"""The destinations events are forwarded to: HTTP servers on 127.0.0.1 that record what each
request carried (webhook-id, the event it is about, whether its signature verifies) and answer
2xx, or 500 for a random share of requests."""

import json
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Request:
    webhook_id: str
    event_id: str  # the event's public id, from the body
    status: int  # what this receiver answered
    signed: bool  # the signature verifies with the destination's secret


@dataclass
class Receiver:
    name: str
    failure_rate: float  # share of requests answered 500
    url: str = ""
    secret: str = ""  # the destination's, once it exists
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _random: random.Random = field(default_factory=random.Random)

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.handle(self, body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        threading.Thread(target=self._server.serve_forever, args=(0.2,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        try:
            event_id = json.loads(body)["data"]["id"]
        except (ValueError, KeyError, TypeError):
            event_id = ""
        try:
            signed = bool(self.secret) and bool(Webhook(self.secret).verify(body, headers))
        except WebhookVerificationError:
            signed = False
        with self.lock:
            status = 500 if self._random.random() < self.failure_rate else 204
            self.requests.append(Request(headers.get("webhook-id", ""), event_id, status, signed))
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def snapshot(self) -> list[Request]:
        with self.lock:
            return list(self.requests)
