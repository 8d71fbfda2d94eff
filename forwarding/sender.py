"""The outbound request of forwarding: a JSON POST signed per the Standard Webhooks
specification (https://www.standardwebhooks.com), sent only to public addresses.

Pure: imports no models, so tests and tools can sign and send alone.

Safety (the URL is the user's, but the server may sit next to private services and a cloud
metadata endpoint): only https (http too with DESTINATIONS_ALLOW_LOCAL); the host name is
resolved here and every address it resolves to must be public, then the socket connects to one
of those checked addresses and the connected peer is checked again, so a DNS answer that
changes between check and use (rebinding) cannot reach an internal address. Connections are
kept alive and reused for later requests to the same host: a socket stays with the address it
was checked for. TLS still verifies the certificate for the host name (SNI), as urllib3 wraps
the socket with it. No proxies from the environment, no cookies kept, no redirects (a 3xx is a
failed attempt), short timeouts and a limit on the whole request (twice DESTINATIONS_TIMEOUT,
within the worker's lease), and only the first RESPONSE_EXCERPT_BYTES of the answer are read.
"""

import base64
import contextlib
import contextvars
import hashlib
import hmac
import http.cookiejar
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# The part of a receiver's answer that is read and kept with the attempt.
RESPONSE_EXCERPT_BYTES = 1024
USER_AGENT = "ds24site-forwarding/1"
# Addresses to name when refusing, beyond what `ipaddress` classifies: cloud metadata services.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class UnsafeURL(Exception):
    """A destination URL or address that forwarding refuses to send to; str() says why."""


class SendError(Exception):
    """No HTTP answer came (connection refused or reset, timeout, TLS error); str() says why."""


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str
    retry_after: str | None


def _allow_local() -> bool:
    return settings.DESTINATIONS_ALLOW_LOCAL


# NAT64's well-known prefix: a gateway turns 64:ff9b::a.b.c.d into an IPv4 packet to a.b.c.d
# (AWS IPv6-only subnets reach private IPv4 addresses of the VPC this way).
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 address carries for a translator or tunnel (IPv4-mapped,
    NAT64, 6to4, the deprecated IPv4-compatible form), which is where its packets end up;
    otherwise the address itself. Python calls those IPv6 forms global whatever they carry."""
    if ip.version == 4:
        return ip
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in NAT64_PREFIX or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def check_address(address: str) -> None:
    """Raise UnsafeURL unless `address` (an IP) is a public unicast address; loopback is
    allowed with DESTINATIONS_ALLOW_LOCAL (tests, the demo)."""
    ip = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    if ip in METADATA_ADDRESSES:
        raise UnsafeURL(f"{ip} is a cloud metadata address")
    if ip.is_loopback:
        if _allow_local():
            return
        raise UnsafeURL(f"{ip} is a loopback address")
    if ip.is_link_local:
        raise UnsafeURL(f"{ip} is a link-local address")
    if ip.is_multicast:
        raise UnsafeURL(f"{ip} is a multicast address")
    if ip.version == 6 and ip.is_site_local:  # deprecated, but still routed inside some sites
        raise UnsafeURL(f"{ip} is a site-local address")
    if ip.is_private:
        raise UnsafeURL(f"{ip} is a private address")
    if not ip.is_global:
        raise UnsafeURL(f"{ip} is not a public address")


def check_url(url: str) -> None:
    """Raise UnsafeURL unless the URL is one forwarding may send to, as far as can be told
    without resolving it (forms use this; resolution is checked again on every connection)."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise UnsafeURL("not a valid URL") from None
    schemes = ("https", "http") if _allow_local() else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeURL("only https:// URLs are allowed")
    if not hostname:
        raise UnsafeURL("the URL has no host")
    if parts.username is not None or parts.password is not None:
        # It would be shown wherever the URL is (lists, the API, emails); receivers verify the
        # signature instead.
        raise UnsafeURL("the URL must carry no user name or password")
    try:
        check_address(hostname)
    except ValueError:  # a name, not an address
        name = hostname.rstrip(".").lower()
        if (name == "localhost" or name.endswith(".localhost")) and not _allow_local():
            raise UnsafeURL(f"{hostname} is a loopback address") from None


class _Deadline:
    """The time limit of a whole request. Socket timeouts bound each connect and each read,
    not their sum: a name with many unreachable addresses, or a receiver that drips its answer
    a byte at a time, would hold the worker past its lease on the delivery (and another worker
    would send it again). So connecting stops at the deadline, and a timer then shuts down the
    request's sockets, which ends any read under way."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._done = False
        self._at = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: TLS takes over (detaches) a new socket object, a TLS
        # socket cannot dup() itself, and shutting down either descriptor ends the connection.
        with self._lock:
            self._sockets.append(socket.fromfd(sock.fileno(), sock.family, sock.type))

    def _expire(self) -> None:
        with self._lock:
            if self._done:  # the request ended just as the timer fired
                return
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # already closed by the other side
                    sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self):
        _deadline.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        _deadline.set(None)
        with self._lock:
            self._done = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


# The deadline of the request this thread (or task) is making; read by the connections that
# requests and urllib3 create deep inside session.post().
_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar(
    "forwarding_deadline", default=None
)


class _GuardedConnectionMixin:
    """Resolve the host, check every address, connect to a checked one, check the peer."""

    def _new_conn(self) -> socket.socket:
        deadline = _deadline.get()
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise SendError(f"cannot resolve {self.host}: {exc.strerror}") from None
        for *_, sockaddr in infos:
            check_address(sockaddr[0])
        last_error = None
        for family, socktype, proto, _, sockaddr in infos:
            timeout = self.timeout
            if deadline is not None:
                if deadline.remaining() <= 0:
                    break
                timeout = min(timeout, deadline.remaining())
            sock = socket.socket(family, socktype, proto)
            try:
                sock.settimeout(timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.connect(sockaddr)
                check_address(sock.getpeername()[0])
                if deadline is not None:
                    deadline.watch(sock)
                return sock
            except UnsafeURL:
                sock.close()
                raise
            except TimeoutError:
                sock.close()
                last_error = SendError(f"no connection to {self.host} within {self.timeout} s")
            except OSError as exc:
                sock.close()
                last_error = SendError(f"cannot connect to {self.host}: {exc.strerror or exc}")
        raise last_error or SendError(f"{self.host} has no address")

    def request(self, *args, **kwargs):
        # A kept-alive connection was made (and checked) for an earlier request: this
        # request's deadline must be able to end it too.
        deadline = _deadline.get()
        if deadline is not None and self.sock is not None:
            deadline.watch(self.sock)
        return super().request(*args, **kwargs)


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


# Connections kept alive per destination host, for the threads that send a batch at once
# (services.BATCH). Reusing one is as safe as the request that opened it: its address
# was checked when it connected, and a kept-alive socket cannot move to another address.
POOL_CONNECTIONS = 16
_shared_session: requests.Session | None = None
_shared_session_lock = threading.Lock()


def _session() -> requests.Session:
    """The process's session (thread-safe for requests like these: no cookies, no auth)."""
    global _shared_session
    with _shared_session_lock:
        if _shared_session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc from the environment
            # A receiver's cookies are not sent back, neither to it nor to another destination.
            session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            for scheme in ("http://", "https://"):
                session.mount(
                    scheme,
                    _GuardedAdapter(
                        max_retries=0,
                        pool_connections=POOL_CONNECTIONS,
                        pool_maxsize=POOL_CONNECTIONS,
                    ),
                )
            _shared_session = session
        return _shared_session


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64 HMAC-SHA256>` entry of the webhook-signature header. The secret is
    `whsec_` + base64 key bytes, as the standardwebhooks libraries take it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(*, msg_id: str, timestamp: int, body: bytes, secrets: list[str]) -> dict[str, str]:
    """The Standard Webhooks headers; one signature per secret (two during a rotation)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
            for secret in secrets
        ),
    }


def post(*, url: str, body: bytes, msg_id: str, secrets: list[str]) -> Answer:
    """POST a signed body to `url`; the answer's status and the start of its body.

    Raises UnsafeURL for a refused URL or address and SendError when no (complete) answer
    came. Takes at most twice DESTINATIONS_TIMEOUT (_Deadline), which the worker's lease on
    the delivery counts on; connecting and each read are bounded by it too.
    """
    check_url(url)
    timeout = settings.DESTINATIONS_TIMEOUT
    request_headers = headers(msg_id=msg_id, timestamp=int(time.time()), body=body, secrets=secrets)
    deadline = _Deadline(2 * timeout)
    try:
        with deadline:
            response = _session().post(
                url,
                data=body,
                headers=request_headers,
                timeout=(min(timeout, 5.0), timeout),
                allow_redirects=False,
                stream=True,
            )
            with response:
                excerpt = _read_capped(response)
    except requests.RequestException as exc:
        if deadline.expired:
            raise SendError(f"no complete answer within {deadline.seconds:g} s") from None
        if isinstance(exc, requests.Timeout):
            raise SendError(f"no answer within {timeout:g} s") from None
        if isinstance(exc, requests.exceptions.SSLError):
            raise SendError(f"TLS error: {_reason(exc)}") from None
        raise SendError(f"connection failed: {_reason(exc)}") from None
    if deadline.expired:  # cut off in the headers, or in a body that runs to the close
        raise SendError(f"no complete answer within {deadline.seconds:g} s")
    return Answer(
        status=response.status_code,
        excerpt=excerpt,
        retry_after=response.headers.get("Retry-After"),
    )


def _read_capped(response: requests.Response) -> str:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=RESPONSE_EXCERPT_BYTES):
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_EXCERPT_BYTES:
            break
    return b"".join(chunks)[:RESPONSE_EXCERPT_BYTES].decode("utf-8", "replace")


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests error, which is the one a person can act on."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, SendError):
            return str(inner)
        exc = inner
    return str(exc)
