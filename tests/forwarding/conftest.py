import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """A destination on 127.0.0.1: records every request and answers with the next of
    `answers` ((status, headers, body) tuples; the last one repeats). `hold`, while set,
    makes every request wait for `release` before answering."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict, bytes]] = field(default_factory=lambda: [(200, {}, b"ok")])
    arrived: threading.Event = field(default_factory=threading.Event)
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int, headers=None, body: bytes = b"ok"):
        self.answers = [(status, headers or {}, body) for status in statuses]

    def handle(self, handler: BaseHTTPRequestHandler):
        length = int(handler.headers.get("Content-Length", 0))
        body = handler.rfile.read(length)
        with self.lock:
            self.requests.append(
                Received(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
            )
            status, headers, reply = (
                self.answers[0] if len(self.answers) == 1 else (self.answers.pop(0))
            )
        self.arrived.set()
        if self.hold:
            self.release.wait(30)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver.handle(self)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        # A worker opens a connection per delivery of a batch at once (forwarding.services
        # BATCH); http.server's default backlog of 5 would reset the rest, as no real
        # receiver does.
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}/hook"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver, server


@pytest.fixture
def receivers(settings):
    """A factory of local receivers, with local destinations allowed and short timeouts."""
    settings.DESTINATIONS_ALLOW_LOCAL = True
    settings.DESTINATIONS_TIMEOUT = 2.0
    servers = []

    def make() -> Receiver:
        receiver, server = start_receiver()
        servers.append((receiver, server))
        return receiver

    yield make
    for receiver, server in servers:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(receivers):
    return receivers()


def staff(client, username, *, view_only=False):
    """A logged-in staff user with the forwarding and webhooks permissions (only the view ones
    with `view_only`)."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username, password="pw-for-tests", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label__in=["forwarding", "webhooks"])
    if view_only:
        perms = perms.filter(codename__startswith="view")
    user.user_permissions.set(perms)
    client.force_login(user)
    return client


@pytest.fixture
def forwarding_staff(client):
    """Staff who may change destinations (not a superuser)."""
    return staff(client, "ops")


@pytest.fixture
def forwarding_viewer(client):
    return staff(client, "viewer", view_only=True)
