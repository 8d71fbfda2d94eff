"""The app server as production runs it (gunicorn.conf.py, a real gunicorn on the test
database) under clients that misbehave: slow ones that would hold its workers, and a look at
what it writes to its logs and leaves on the machine."""

import http.client
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import FORM, follow_up, on_payment, signed
from tests.forwarding.test_workers import database_url, wait_for
from webhooks.models import Event

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


class Server:
    def __init__(self, process: subprocess.Popen, port: int, logs: Path):
        self.process, self.port, self.logs = process, port, logs

    def post(self, path: str, params: dict, timeout: float) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", path, body=urlencode(params), headers={"Content-Type": FORM})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def log_text(self) -> str:
        return "".join(path.read_text() for path in sorted(self.logs.glob("*.log")))


@pytest.fixture
def gunicorn(tmp_path):
    """Start gunicorn with the project's gunicorn.conf.py on the test database; stopped at the
    end. HOME and XDG_RUNTIME_DIR are the test's own, so nothing it leaves there is missed."""
    started = []

    def start(**env) -> Server:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        home = tmp_path / "home"
        (home / "run").mkdir(parents=True, exist_ok=True)
        logs = tmp_path / f"logs-{port}"
        logs.mkdir()
        environ = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(home / "run"),
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "ds24site.wsgi", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=environ,
            stdout=(logs / "access.log").open("w"),
            stderr=(logs / "error.log").open("w"),
            start_new_session=True,  # its workers in its group, so a kill takes them too
        )
        started.append(process)
        server = Server(process, port, logs)

        def serving():
            # Answered by a worker: the arbiter (which listens before it starts any) has
            # started everything it starts with them, the control socket included.
            assert process.poll() is None, f"gunicorn exited:\n{server.log_text()}"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False
            finally:
                conn.close()

        wait_for(serving, "gunicorn to serve")
        return server

    yield start
    for process in started:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # A worker thread still inside a request's deadline can hold the quick shutdown
            # up to gunicorn's graceful_timeout; what the test checked is done. The whole
            # group: workers whose arbiter is killed were left running, holding the test
            # database (PostgreSQL's test database could then not be made again).
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def receive_path(webhook) -> str:
    return urlsplit(webhook.get_receive_url()).path


class Trickler(threading.Thread):
    """A client that sends `first`, then one more byte of `rest` every half second, as a
    slow-loris attack does, and notes when the server closes the connection."""

    def __init__(self, port: int, first: bytes, rest: bytes, give_up: float):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(first)
        self.rest, self.give_up = rest, give_up
        self.answer, self.closed = b"", threading.Event()

    def run(self):
        rest, deadline = iter(self.rest), time.monotonic() + self.give_up
        try:
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self.sock], [], [], 0.5)
                if not readable:
                    self.sock.send(bytes([next(rest)]))
                elif data := self.sock.recv(4096):
                    self.answer += data
                else:
                    self.closed.set()
                    return
        except OSError:
            self.closed.set()  # reset by the server
        finally:
            self.sock.close()


def test_slow_clients_neither_starve_the_server_nor_keep_their_connections(gunicorn, webhook):
    """8 clients trickle a request's head and 8 its body while Digistore24 delivers: every
    IPN is answered as usual, and the slow clients are cut off once their time is up."""
    seconds = 8
    server = gunicorn(REQUEST_HEADER_TIMEOUT=str(seconds), REQUEST_BODY_TIMEOUT=str(seconds))
    path = receive_path(webhook)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {FORM}\r\n"
    give_up = seconds + 10
    heads = [
        Trickler(server.port, head.encode(), b"X-Slow: " + b"a" * 1000, give_up) for _ in range(8)
    ]
    bodies = [
        Trickler(server.port, f"{head}Content-Length: 1000\r\n\r\n".encode(), b"a" * 1000, give_up)
        for _ in range(8)
    ]
    slow = heads + bodies
    for trickler in slow:
        trickler.start()
    time.sleep(1)  # every slow request has begun

    for n in range(5):
        # A server held by the slow clients would not answer before they are cut off.
        status, text = server.post(path, signed(on_payment(order_id=f"SLOW{n}")), timeout=3)
        assert (status, text) == (200, b"OK")
    assert not any(trickler.closed.is_set() for trickler in slow), "cut off too early"

    for trickler in slow:
        trickler.join()
    assert all(trickler.closed.is_set() for trickler in slow), "a slow client was never cut off"
    assert all(trickler.answer == b"" for trickler in heads)
    assert all(trickler.answer.startswith(b"HTTP/1.1 408 ") for trickler in bodies)
    follow_up()
    assert Event.objects.count() == 5
    log = server.log_text()
    assert log.count(f"request head not received within {seconds} s") == 8
    assert log.count(f"request body not received within {seconds} s") == 8


class Lingerer(threading.Thread):
    """A client that sends a whole request asking the server to close the connection after
    its answer, then goes on sending a byte every 0.3 s without reading."""

    def __init__(self, port: int, give_up: float):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        self.give_up, self.closed = give_up, threading.Event()

    def run(self):
        deadline = time.monotonic() + self.give_up
        try:
            while time.monotonic() < deadline:
                time.sleep(0.3)
                self.sock.send(b"x")
        except OSError:
            self.closed.set()  # the server has closed its end for good
        finally:
            self.sock.close()


def test_clients_trickling_after_their_answer_do_not_stall_the_worker(gunicorn, webhook):
    """Before closing, gunicorn reads what a client still sends, for up to 2 s, so that the
    answer is not lost to a reset. On the worker's main thread, ten clients that kept sending
    held every other connection of the worker for 20 s."""
    server = gunicorn(WEB_CONCURRENCY="1")
    lingering = [Lingerer(server.port, give_up=10) for _ in range(10)]
    for lingerer in lingering:
        lingerer.start()
    time.sleep(0.5)  # answered; the server is closing

    path = receive_path(webhook)
    for n in range(5):
        status, text = server.post(path, signed(on_payment(order_id=f"LINGER{n}")), timeout=3)
        assert (status, text) == (200, b"OK")
    for lingerer in lingering:
        lingerer.join()
    assert all(lingerer.closed.is_set() for lingerer in lingering)


def test_a_thread_serves_a_connection_s_next_requests_but_not_an_idle_one(gunicorn, webhook):
    """A pool thread serves a kept-alive connection's next request itself when it follows at
    once (ds24site.server.DeadlineWorker.handle); a connection that goes quiet is handed
    back to the poller after KEEPALIVE_LINGER, so with a single thread another client is
    still served while the first keeps its connection open, and the first is served again."""
    server = gunicorn(WEB_CONCURRENCY="1", WEB_THREADS="1")
    path = receive_path(webhook)
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for n in range(3):  # one after the other on the one connection
            kept.request("POST", path, body=urlencode(signed(on_payment(order_id=f"KEPT{n}"))),
                         headers={"Content-Type": FORM})  # fmt: skip
            response = kept.getresponse()
            assert (response.status, response.read()) == (200, b"OK")
        # The kept connection is idle now, and open: another client gets the one thread.
        status, text = server.post(path, signed(on_payment(order_id="OTHER")), timeout=3)
        assert (status, text) == (200, b"OK")
        kept.request("POST", path, body=urlencode(signed(on_payment(order_id="KEPT3"))),
                     headers={"Content-Type": FORM})  # fmt: skip
        response = kept.getresponse()
        assert (response.status, response.read()) == (200, b"OK")
    finally:
        kept.close()


def read_answer(sock) -> bool:
    """Read one answer with a Content-Length off a kept-alive connection; False at its end."""
    data = b""
    while b"\r\n\r\n" not in data:
        if not (chunk := sock.recv(65536)):
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.partition(b":")[2]) for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )  # fmt: skip
    while len(body) < length:
        if not (chunk := sock.recv(65536)):
            return False
        body += chunk
    return True


def test_a_client_keeping_its_requests_coming_does_not_keep_the_thread_from_others(gunicorn):
    """Each of its requests starts at once after the last answer and takes a second to
    arrive (within the head deadline); with one thread, a second client is still served
    after the request in progress, not after all of the first client's."""
    server = gunicorn(WEB_CONCURRENCY="1", WEB_THREADS="1", REQUEST_HEADER_TIMEOUT="2")
    stop = threading.Event()

    def keep_coming():
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            while not stop.is_set():
                sock.sendall(b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                time.sleep(1)
                sock.sendall(b"\r\n")
                if not read_answer(sock):
                    return

    first = threading.Thread(target=keep_coming, daemon=True)
    first.start()
    time.sleep(0.3)  # its first request holds the thread
    started = time.monotonic()
    try:
        status, _text = server.post("/ipn/not-a-token", {"event": "x"}, timeout=8)
        waited = time.monotonic() - started
    finally:
        stop.set()
    assert status == 404
    assert waited < 3  # one request of the first client's, not all of them


def exchange(port: int, data: bytes, then: bytes = b"") -> bytes:
    """Send `data` (a request asking for `Connection: close`); once an interim `100 Continue`
    arrives, send `then`; everything the server sent until it closed."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            if not answer and chunk.startswith(b"HTTP/1.1 100 "):
                sock.sendall(then)
            answer += chunk
    return answer


def test_the_server_reads_the_body_before_the_application(gunicorn, webhook):
    server = gunicorn()
    path = receive_path(webhook)
    body = urlencode(signed(on_payment())).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: {FORM}\r\n"
    )

    # A client that waits for the go-ahead before sending its body (curl does, for large ones).
    answer = exchange(
        server.port,
        f"{head}Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode(),
        body,
    )
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nOK")

    # Larger than anything the application reads: refused before a byte of it is sent.
    answer = exchange(server.port, f"{head}Content-Length: 100000000\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b"\r\n\r\nERROR: body larger than 2621440 bytes\n")
    follow_up()
    assert Event.objects.count() == 1


def test_no_control_socket_unless_asked_for(gunicorn, tmp_path):
    """gunicorn's default, one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl, else
    ~/.gunicorn/gunicorn.ctl), is shared by every instance on the machine."""
    gunicorn()
    assert not [path for path in (tmp_path / "home").rglob("*") if path.is_socket()]


def test_a_control_socket_asked_for_is_this_instances_own(gunicorn, tmp_path):
    path = tmp_path / "instance" / "gunicorn.ctl"
    path.parent.mkdir()
    gunicorn(GUNICORN_CONTROL_SOCKET=str(path))
    wait_for(path.exists, "the control socket")
    assert path.is_socket()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [path for path in (tmp_path / "home").rglob("*") if path.is_socket()]


def test_receive_tokens_are_cut_from_the_servers_logs(gunicorn, webhook):
    server = gunicorn()
    path = receive_path(webhook)
    token = path.split("/")[2]
    unknown = "Xy9" + token[3:]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", path)  # Digistore24's URL check
    assert conn.getresponse().read() == b"OK"
    conn.request("POST", f"/ipn/{unknown}/", body="event=x", headers={"Content-Type": FORM})
    assert conn.getresponse().status == 404  # logged by django.request as well
    conn.close()

    # The access log's line comes after the answer.
    wait_for(lambda: 'HTTP/1.1" 404' in server.log_text(), "the 404's access log line")
    log = server.log_text()
    assert f'"GET /ipn/{token[:4]}… HTTP/1.1" 200' in log
    assert f'"POST /ipn/Xy9{token[3]}…/ HTTP/1.1" 404' in log
    assert f"Not Found: /ipn/Xy9{token[3]}…/" in log
    assert token[4:] not in log
