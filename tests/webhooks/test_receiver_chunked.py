"""An IPN sent with Transfer-Encoding: chunked (no Content-Length) is read, up to the size
limit: through gunicorn as `make run` and production serve it, and through the WSGI entry point
as a server that ends the body itself (`wsgi.input_terminated`) hands it over. (Django's test
client always sends a Content-Length, so it cannot send one.)"""

import http.client
import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import override_settings

from ds24site.wsgi import application
from tests.conftest import FORM, follow_up, on_payment, signed
from tests.forwarding.test_workers import database_url, wait_for
from webhooks.models import Event, RejectedDelivery

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2048  # IPN_MAX_BODY_BYTES for these tests: a payment fits, a padded one does not
pytestmark = pytest.mark.django_db(transaction=True)  # gunicorn reads the test database


def path_of(webhook) -> str:
    return webhook.get_receive_url().removeprefix("https://ds24.example.com")


def body(**overrides) -> bytes:
    return urlencode(signed(on_payment(**overrides))).encode()


def in_chunks(data: bytes, size: int = 100):
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.fixture
def gunicorn():
    """gunicorn with the project's configuration on a free port; returns the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "IPN_MAX_BODY_BYTES": str(LIMIT),
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "ERROR",
    }
    command = [sys.executable, "-m", "gunicorn", "ds24site.wsgi", "-c", "gunicorn.conf.py"]
    server = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, "gunicorn")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def post_chunked(port: int, path: str, data: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        # An iterable body without Content-Length: http.client sends it chunked.
        connection.request("POST", path, body=in_chunks(data), headers={"Content-Type": FORM})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_chunked_ipn_through_gunicorn_is_stored(gunicorn, webhook):
    assert post_chunked(gunicorn, path_of(webhook), body()) == (200, b"OK")
    follow_up()
    assert Event.objects.get().order_id == "ABC123XY"


def test_a_chunked_ipn_over_the_limit_through_gunicorn_is_413(gunicorn, webhook):
    data = body(padding="x" * LIMIT)
    assert post_chunked(gunicorn, path_of(webhook), data) == (
        413,
        f"ERROR: body larger than {LIMIT} bytes".encode(),
    )
    assert RejectedDelivery.objects.get().status_code == 413
    assert not Event.objects.exists()


class Trickle(io.BytesIO):
    """A body stream that hands over a few bytes per read, as a server may."""

    def read(self, size=-1):
        return super().read(min(size, 7) if size >= 0 else 7)


def call_terminated(path: str, data: bytes, stream=io.BytesIO) -> tuple[str, bytes]:
    """The WSGI application called as a server calls it for a chunked request: no
    CONTENT_LENGTH, and a body stream that ends where the request's body ends."""
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": FORM,
        "REMOTE_ADDR": "192.0.2.1",
        "wsgi.input": stream(data),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    content = b"".join(application(environ, start_response))
    return seen["status"], content


@override_settings(IPN_MAX_BODY_BYTES=LIMIT)
@pytest.mark.parametrize("stream", [io.BytesIO, Trickle])
def test_a_terminated_body_without_content_length_is_read(webhook, stream):
    assert call_terminated(path_of(webhook), body(), stream) == ("200 OK", b"OK")
    follow_up()
    assert Event.objects.get().sender_ip == "192.0.2.1"


@override_settings(IPN_MAX_BODY_BYTES=LIMIT)
@pytest.mark.parametrize("stream", [io.BytesIO, Trickle])
def test_a_terminated_body_over_the_limit_is_413(webhook, stream):
    status, content = call_terminated(path_of(webhook), body(padding="x" * LIMIT), stream)
    assert (status, content) == (
        "413 Request Entity Too Large",
        b"ERROR: body larger than 2048 bytes",
    )
    assert not Event.objects.exists()
