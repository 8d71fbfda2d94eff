"""The outbound request's safety: refused URLs and addresses (checked again on the address the
socket connects to), no redirects, a capped answer, short timeouts; and signatures that the
standardwebhooks library accepts."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook as StandardWebhook

from forwarding import sender
from forwarding.models import Destination, new_secret

REFUSED = [
    ("http://example.com/hook", "only https"),
    ("ftp://example.com/hook", "only https"),
    ("https:///nohost", "no host"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://localhost/hook", "loopback"),
    ("https://api.localhost/hook", "loopback"),
    ("https://10.0.0.5/hook", "private"),
    ("https://192.168.1.1/hook", "private"),
    ("https://172.16.0.1/hook", "private"),
    ("https://[fd12::1]/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://169.254.10.10/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://224.0.0.1/", "multicast"),
    ("https://0.0.0.0/", "private"),
    ("https://100.64.0.1/", "not a public"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://example.com:99999/", "not a valid URL"),
    # Credentials in the URL would show wherever the URL does (lists, the API, emails), and
    # "user@host" is a classic way to dress one host as another.
    ("https://user:pass@example.com/hook", "no user name or password"),
    ("https://example.com@10.0.0.1/", "no user name or password"),
    # IPv6 addresses that carry an IPv4 one a gateway or relay turns into an IPv4 packet:
    # NAT64 (AWS IPv6-only subnets reach the VPC's private IPv4 through it), 6to4, and the
    # deprecated IPv4-compatible form.
    ("https://[64:ff9b::a00:1]/", "private"),
    ("https://[64:ff9b::7f00:1]/", "loopback"),
    ("https://[64:ff9b::a9fe:a9fe]/", "metadata"),
    ("https://[2002:a00:1::]/", "private"),
    ("https://[::7f00:1]/", "loopback"),
    ("https://[fec0::1]/", "site-local"),
]


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_refused_urls(settings, url, why):
    settings.DESTINATIONS_ALLOW_LOCAL = False
    with pytest.raises(sender.UnsafeURL, match=why):
        sender.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "https://93.184.215.14:8443/x",
        "https://[2606:2800:220:1::1]/",
        "https://[64:ff9b::5db8:d70e]/",  # NAT64 of a public IPv4 address
    ],
)
def test_public_https_urls_pass(settings, url):
    settings.DESTINATIONS_ALLOW_LOCAL = False
    sender.check_url(url)


def test_allow_local_admits_http_and_loopback_only(settings):
    settings.DESTINATIONS_ALLOW_LOCAL = True
    sender.check_url("http://127.0.0.1:8000/hook")
    sender.check_url("http://localhost/hook")
    for url in ("http://10.0.0.1/", "https://169.254.169.254/", "ftp://127.0.0.1/"):
        with pytest.raises(sender.UnsafeURL):
            sender.check_url(url)


def test_the_model_form_validation_refuses_them(settings):
    settings.DESTINATIONS_ALLOW_LOCAL = False
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="private"):
        Destination(name="x", url="https://10.1.2.3/").clean()
    with pytest.raises(ValidationError, match="Unknown events: nope"):
        Destination(name="x", url="https://example.com/", event_types=["nope"]).clean()


def post(url):
    return sender.post(url=url, body=b"{}", msg_id="msg_1", secrets=[new_secret()])


@pytest.fixture
def resolving_to(monkeypatch):
    """DNS answers as a rebinding or internal name would: the one thing that cannot run here."""

    def resolve(*addresses):
        real = socket.getaddrinfo

        def fake(host, port, *args, **kwargs):
            if host != "hooks.example.com":
                return real(host, port, *args, **kwargs)
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", fake)

    return resolve


@pytest.mark.parametrize(
    ("addresses", "why"),
    [
        (["127.0.0.1"], "loopback"),
        (["93.184.215.14", "10.0.0.7"], "private"),  # every address is checked
        (["169.254.169.254"], "metadata"),
    ],
)
def test_a_name_resolving_to_an_internal_address_is_refused_when_connecting(
    settings, resolving_to, addresses, why
):
    settings.DESTINATIONS_ALLOW_LOCAL = False
    resolving_to(*addresses)
    sender.check_url("https://hooks.example.com/x")  # the name alone looks fine
    with pytest.raises(sender.UnsafeURL, match=why):
        post("https://hooks.example.com/x")


def test_the_connected_peer_is_checked(settings, receiver, resolving_to):
    """A name that passes (allowed loopback) still reaches a receiver; with local addresses
    disallowed after resolution the very same connection is refused."""
    resolving_to("127.0.0.1")
    port = receiver.url.split(":")[2].split("/")[0]
    assert post(f"http://hooks.example.com:{port}/hook").status == 200
    settings.DESTINATIONS_ALLOW_LOCAL = False
    with pytest.raises(sender.UnsafeURL):
        sender.post(url="https://hooks.example.com/x", body=b"{}", msg_id="m", secrets=[])
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(receiver):
    receiver.answer(301, headers={"Location": receiver.url + "/moved"})
    assert post(receiver.url).status == 301
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_the_answer_is_read_only_up_to_the_cap(receiver):
    receiver.answer(200, body=b"x" * 1_000_000)
    assert post(receiver.url).excerpt == "x" * sender.RESPONSE_EXCERPT_BYTES


def test_a_slow_receiver_times_out(settings, receiver):
    settings.DESTINATIONS_TIMEOUT = 0.2
    receiver.hold = True  # released only when the test ends
    with pytest.raises(sender.SendError, match=r"no answer within 0\.2 s"):
        post(receiver.url)


@pytest.fixture
def dripping_receiver():
    """A receiver that answers one byte every 20 ms, for 10 s in all: in the header lines or
    in the body, or ("reused") in the body of its answer to a second request on the same
    kept-alive connection. Each read is quick, so only a limit on the whole request ends it
    early."""
    listener = socket.create_server(("127.0.0.1", 0))
    where = {}

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\n"
            if where["drip"] == "reused":
                conn.sendall(head + b"Content-Length: 2\r\n\r\nok")
                conn.recv(65536)
            if where["drip"] == "headers":
                conn.sendall(head)
                drip, rest = b"X-Slow: " + b"x" * 500 + b"\r\n", b"Content-Length: 2\r\n\r\nok"
            else:
                conn.sendall(head + b"Content-Length: 500\r\n\r\n")
                drip, rest = b"x" * 500, b""
            try:
                for byte in drip:
                    conn.sendall(bytes([byte]))
                    time.sleep(0.02)
                conn.sendall(rest)
            except OSError:  # the client gave up and closed
                pass

    def start(drip):
        where["drip"] = drip
        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/hook"

    yield start
    listener.close()


@pytest.mark.parametrize("drip", ["headers", "body"])
def test_a_receiver_dripping_its_answer_is_cut_off(settings, dripping_receiver, drip):
    """The whole request is bounded, not each read: a worker's lease on the delivery is sized
    by it, and a request outliving the lease is sent a second time by another worker."""
    settings.DESTINATIONS_ALLOW_LOCAL = True
    settings.DESTINATIONS_TIMEOUT = 0.5
    with pytest.raises(sender.SendError, match=r"no complete answer within 1 s"):
        post(dripping_receiver(drip))


def test_a_kept_alive_connection_is_cut_off_by_the_next_requests_deadline(
    settings, dripping_receiver
):
    """A connection reused from an earlier request is bounded by the new request's deadline,
    like one made for it."""
    settings.DESTINATIONS_ALLOW_LOCAL = True
    settings.DESTINATIONS_TIMEOUT = 0.5
    url = dripping_receiver("reused")
    assert post(url).status == 200
    began = time.monotonic()
    # Cut off by the read timeout or by the whole answer's deadline, whichever the drip meets.
    with pytest.raises(sender.SendError, match=r"no (complete )?answer within"):
        post(url)
    # Cut off, not merely judged late when the 10 s drip ends: the worker's lease counts on it.
    assert time.monotonic() - began < 5


def test_requests_to_a_destination_reuse_one_connection(settings):
    """Keep-alive: a worker sending many deliveries to one destination does not open (and
    check) a TCP connection for each."""
    settings.DESTINATIONS_ALLOW_LOCAL = True
    clients = []

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            clients.append(self.client_address)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        for _ in range(3):
            assert post(f"http://127.0.0.1:{server.server_port}/hook").status == 204
    finally:
        server.shutdown()
        server.server_close()
    assert len(clients) == 3
    assert len(set(clients)) == 1


def test_a_closed_port_is_a_send_error(receiver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(sender.SendError, match="cannot connect"):
        post(f"http://127.0.0.1:{port}/")


def test_signatures_verify_with_the_standardwebhooks_library():
    secret = new_secret()
    body = '{"type":"on_payment","data":{"name":"Jörg"}}'.encode()
    now = int(time.time())
    headers = sender.headers(msg_id="msg_abc", timestamp=now, body=body, secrets=[secret])
    assert StandardWebhook(secret).verify(body, headers)["data"]["name"] == "Jörg"
    assert headers["webhook-signature"].startswith("v1,")
