"""The gunicorn worker and logger classes that gunicorn.conf.py names.

DeadlineWorker: gunicorn's threaded worker with a deadline on reading each request.
Sync workers hold one connection each for as long as its client takes, so four clients
trickling a request one byte every few seconds held both workers and every IPN timed out.
gthread workers park idle and kept-alive connections in a poller instead of a thread, but once
a request's first byte has arrived its thread blocks in recv() with no limit. Here every read of
a request shares a deadline: its head (request line and headers) must be complete
REQUEST_HEADER_TIMEOUT seconds after its first byte, its body REQUEST_BODY_TIMEOUT seconds after
the head. A client that is late is disconnected (head) or answered 408 (body), and its thread
is free again; a slow client costs a thread for at most those seconds.

The worker reads the whole body itself before the application runs, as a buffering proxy does:
a view's request.read() then never waits on the network, and a trickled body never reaches a
view half-read. A body larger than anything the application reads is refused with 413 unread.

Why not gevent workers: a greenlet per connection makes slow clients cheap but bounds nothing
either, and every blocking call outside gevent's patched sockets stalls the whole process:
SQLite's busy wait for a lock (up to DB_BUSY_TIMEOUT, while the greenlet holding the lock cannot
run to release it), psycopg's waits unless patched just so, PBKDF2 on login. Threads keep
each of those to its own request.

Built on gunicorn 27's gthread internals (TConn, ThreadWorker.accept and handle_request);
pyproject.toml keeps gunicorn at 27.x and tests/test_server_hardening.py runs the real thing.
"""

import contextlib
import errno
import io
import os
import select
import socket
import time
from datetime import datetime
from functools import cached_property

from django.conf import settings
from gunicorn import glogging
from gunicorn.http.body import LengthReader
from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import TConn, ThreadWorker

from ds24site.redaction import RedactReceiveTokens

# The deadlines and body limit are the project's settings, whatever app gunicorn serves with
# this worker (the benchmark's bare baseline too); ds24site.wsgi sets the same.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ds24site.settings")


def peer(client) -> str:
    """The client's address as gunicorn hands it over: (host, port), or a path's string."""
    return client[0] if isinstance(client, tuple) else str(client)


class RequestTimeout(NoMoreData):
    """The client did not send its request in time. A NoMoreData, which gthread takes as a
    client gone away: when the head is late the connection is closed without an answer."""

    def __init__(self, part: str, seconds: float):
        super().__init__()
        self.part, self.seconds = part, seconds

    def __str__(self):
        return f"request {self.part} not received within {self.seconds:g} s"


def stop_reading(sock):
    """Read no more from a client being dropped: the graceful close that follows then ends at
    once instead of lingering while the client keeps trickling (see DeadlineConn.close), and
    writing stays open for an answer."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)


class DeadlineUnreader(SocketUnreader):
    """A connection's socket reads, each bounded by what is left of its request's deadline."""

    def __init__(self, sock, *, head_timeout: float, log, client):
        super().__init__(sock)
        self.head_timeout, self.log, self.client = head_timeout, log, client
        self.start_head()

    def start_head(self):
        """A new request: its head's clock starts with its first read, which happens once the
        poller has seen data arrive (gthread defers connections that send nothing)."""
        self.part, self.seconds, self.deadline = "head", self.head_timeout, None

    def start_body(self, seconds: float):
        self.part, self.seconds, self.deadline = "body", seconds, time.monotonic() + seconds

    def chunk(self, size_hint=None):
        if self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.expired()
        self.sock.settimeout(remaining)
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            raise self.expired() from None
        finally:
            # Blocking again: gunicorn writes the response to this socket.
            self.sock.settimeout(None)

    def expired(self) -> RequestTimeout:
        error = RequestTimeout(self.part, self.seconds)
        self.log.warning("Dropped a slow client %s: %s", peer(self.client), error)
        stop_reading(self.sock)
        return error


class DeadlineConn(TConn):
    """A gthread connection whose HTTP/1 requests are read by a DeadlineUnreader."""

    def __init__(self, worker, sock, client, server):
        super().__init__(worker.cfg, sock, client, server)
        self.worker = worker

    def init(self):
        fresh = not self.initialized
        super().init()
        if fresh and isinstance(self.parser, RequestParser):
            unreader = DeadlineUnreader(
                self.sock,
                head_timeout=self.worker.head_timeout,
                log=self.worker.log,
                client=self.client,
            )
            # Whatever protocol negotiation read ahead belongs to the first request.
            unreader.unread(self.parser.unreader.take_buffered())
            self.parser.unreader = unreader

    def close(self, graceful=False):
        if graceful:
            # gthread closes connections on the worker's main thread, and a graceful close
            # lingers up to 2 s for as long as the client keeps sending: ten clients that
            # asked for `Connection: close` and kept trickling stalled every other connection
            # of the worker for 12 s, one after the other. The linger runs in a pool thread.
            try:
                self.worker.tpool.submit(super().close, True)
                return
            except RuntimeError:
                pass  # the pool is shut down: the worker is exiting, no time to linger
        super().close()


# How long a pool thread waits for a kept-alive connection's next request before handing the
# connection back to the poller, and how many requests in a row it serves (DeadlineWorker.handle).
KEEPALIVE_LINGER = 0.02
KEEP_SERVING = 100


def next_request_arrives(conn, seconds: float) -> bool:
    """Whether the connection's next request has started, or starts within `seconds`."""
    if conn.parser.unreader.buf.getbuffer().nbytes:  # read ahead with the last request
        return True
    poller = select.poll()
    poller.register(conn.sock, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


class DeadlineWorker(ThreadWorker):
    @cached_property
    def head_timeout(self) -> float:
        return settings.REQUEST_HEADER_TIMEOUT

    @cached_property
    def body_timeout(self) -> float:
        return settings.REQUEST_BODY_TIMEOUT

    @cached_property
    def max_body_bytes(self) -> int:
        """The largest body the application reads: Django refuses larger forms by their
        Content-Length alone, and the receiver reads one byte past IPN_MAX_BODY_BYTES to tell
        that a body is too large (and to record that it was)."""
        return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, settings.IPN_MAX_BODY_BYTES + 1)

    def accept(self, listener):
        # ThreadWorker.accept (gunicorn 27.0), with a DeadlineConn for the connection.
        try:
            client_sock, client_addr = listener.accept()
            self.nr_conns += 1
            client_sock.setblocking(True)
            conn = DeadlineConn(self, client_sock, client_addr, listener.getsockname())
            self.enqueue_req(conn)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise

    def handle(self, conn):
        """Serve the connection's request, and its next ones while they follow at once.

        gthread hands a kept-alive connection back to its main thread between requests: the
        main thread puts it in its poller and, when the next request arrives, passes it to a
        pool thread again, and each of those hand-offs waits for the GIL, up to the switch
        interval (5 ms) while other threads run. A client that sends its next request within
        KEEPALIVE_LINGER is served by this thread directly, while no other connection waits
        for a thread (others_waiting); the deadlines of each request apply as before, and
        after KEEP_SERVING requests, a quiet moment or a waiting connection, it goes back to
        the poller. With it, the benchmark's ingestion over 16 kept-alive connections
        (`python -m bench.run --sections ingest-sqlite,ingest-postgresql`) went from 593 to
        1,062 IPNs a second on SQLite and from 616 to 866 on PostgreSQL (the baseline, served
        alike, from 764 to 1,421 and from 710 to 1,436)."""
        for _ in range(KEEP_SERVING):
            if isinstance(getattr(conn.parser, "unreader", None), DeadlineUnreader):
                conn.parser.unreader.start_head()
            keepalive = super().handle(conn)
            if keepalive is not True or conn.is_http2 or not self.alive or self.others_waiting():
                return keepalive
            if not next_request_arrives(conn, KEEPALIVE_LINGER) or self.others_waiting():
                return keepalive
        return keepalive

    def others_waiting(self) -> bool:
        """Whether other connections wait for a pool thread. Then this one goes back to the
        poller and, when its next request comes, to the end of the line, as gthread has it:
        a client that keeps its next request coming, each within its deadlines, must not
        keep a thread while others wait (a trickling one would hold it for many requests).
        (The executor's queue: gthread's pool is a ThreadPoolExecutor.)"""
        return not self.tpool._work_queue.empty()

    def handle_request(self, req, conn):
        body = self.read_body(req, conn)
        if body is None:
            return False
        req.body = body
        return super().handle_request(req, conn)

    def read_body(self, req, conn) -> io.BytesIO | None:
        """The request's whole body, read within REQUEST_BODY_TIMEOUT; None when it was
        refused (answered here) or the client went away, and the connection is to close."""
        reader = req.body.reader
        declared = reader.length if isinstance(reader, LengthReader) else None  # else chunked
        if declared == 0:
            return io.BytesIO()
        limit = self.max_body_bytes
        if declared is not None and declared > limit:
            return self.refuse_too_large(req, conn)
        if req._expected_100_continue:
            # gunicorn sends this as the application starts; the body is read before that.
            conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req._expected_100_continue = False
        conn.parser.unreader.start_body(self.body_timeout)
        try:
            data = req.body.read(limit + 1)
        except RequestTimeout as timeout:
            return self.refuse(req, conn, 408, "Request Timeout", str(timeout))
        if len(data) > limit:
            return self.refuse_too_large(req, conn)
        if declared is not None and len(data) < declared:
            self.log.debug("Ignored a request whose client left during its body.")
            return None
        return io.BytesIO(data)

    def refuse_too_large(self, req, conn) -> None:
        message = f"body larger than {self.max_body_bytes} bytes"
        self.log.warning("Refused a request from %s: %s", peer(conn.client), message)
        return self.refuse(req, conn, 413, "Content Too Large", message)

    def refuse(self, req, conn, status: int, reason: str, message: str) -> None:
        """Answer a request the application never sees, in the receiver's `ERROR: …` style,
        log it as gunicorn logs the requests it refuses itself, and read no more."""
        started = datetime.now()
        body = f"ERROR: {message}\n".encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with contextlib.suppress(OSError):  # the client may be gone already
            conn.sock.sendall(head.encode() + body)
        environ = default_environ(req, conn.sock, self.cfg)
        environ["REMOTE_ADDR"] = peer(conn.client)
        response = Response(req, conn.sock, self.cfg)
        response.status, response.response_length = f"{status} {reason}", len(body)
        self.log.access(response, req, environ, datetime.now() - started)
        stop_reading(conn.sock)


REDACT = RedactReceiveTokens()


class RedactingLogger(glogging.Logger):
    """gunicorn's logger with receive URLs' tokens cut from its access log (the request line,
    %(U)s and others carry the path) and its error log ("Error handling request /ipn/…")."""

    def setup(self, cfg):
        super().setup(cfg)
        # One filter instance: addFilter skips it when setup runs again on a reload.
        self.error_log.addFilter(REDACT)
        self.access_log.addFilter(REDACT)
