"""The receive URLs' own way in (webhooks/wsgi.py), called as gunicorn calls the WSGI
application: the same answers as through Django's middleware and URL conf, since both reach
the same view, plus what the skipped middleware still has to do (host check, trusted proxies,
HTTPS redirect, an unexpected exception answered as Django answers it)."""

from urllib.parse import urlencode

import pytest
from django.core.wsgi import get_wsgi_application

from ds24site.wsgi import application
from tests.conftest import FORM, follow_up, on_payment, signed, wsgi_environ
from webhooks import services
from webhooks.models import Event, InboundIPN, RejectedDelivery
from webhooks.wsgi import receiver_first

pytestmark = pytest.mark.django_db(transaction=True)  # the door closes connections, as Django


def call(path, body=b"", method="POST", query="", app=application, **extra):
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    environ = wsgi_environ(
        path, body, method=method, QUERY_STRING=query, REMOTE_ADDR="203.0.113.9", **extra
    )
    content = b"".join(app(environ, start_response))
    return int(seen["status"].split()[0]), seen["headers"], content


def path_of(webhook):
    return webhook.get_receive_url().removeprefix("https://ds24.example.com")


def test_a_verified_ipn_is_kept_answered_ok_and_then_in_the_log(webhook):
    status, headers, content = call(path_of(webhook), urlencode(signed(on_payment())).encode())
    assert (status, content) == (200, b"OK")
    assert headers["Content-Length"] == "2"  # not chunked on a kept-alive connection
    assert headers["Cache-Control"] == "no-store"
    assert InboundIPN.objects.count() == 1
    assert not Event.objects.exists()  # a worker's job
    follow_up()
    event = Event.objects.get()
    assert (event.order_id, event.sender_ip) == ("ABC123XY", "203.0.113.9")
    assert not InboundIPN.objects.exists()


@pytest.mark.parametrize(
    ("change", "query", "method"),
    [
        ({}, "", "POST"),  # OK
        ({"sha_sign": "0" * 128}, "", "POST"),  # 403, recorded
        ({"event": "on_refund"}, "", "POST"),  # signed with the old value: 403
        ({}, "", "PUT"),  # 405
        ({}, "", "GET"),  # Digistore24's URL check: OK
        ({}, "event=on_payment", "HEAD"),  # 405
    ],
)
def test_the_door_answers_as_the_url_conf_does(client, webhook, change, query, method):
    """Each request twice, through the door and through Django's test client (middleware,
    URL conf): the same status and body, the same rows."""
    body = urlencode({**signed(on_payment()), **change}).encode()
    body = body if method == "POST" else b""
    status, _headers, content = call(path_of(webhook), body, method=method, query=query)
    rejected = RejectedDelivery.objects.count()
    kept = InboundIPN.objects.count()
    InboundIPN.objects.all().delete()
    RejectedDelivery.objects.all().delete()

    client.follow = False  # what the receiver alone did, as through the door
    response = client.generic(
        method, path_of(webhook), data=body, content_type=FORM, QUERY_STRING=query
    )
    assert (status, content if method != "HEAD" else b"") == (
        response.status_code,
        response.content,
    )
    assert (RejectedDelivery.objects.count(), InboundIPN.objects.count()) == (rejected, kept)


def test_an_unknown_token_is_404_and_a_foreign_host_400(webhook):
    status, _headers, content = call("/ipn/no-such-token/", b"event=x")
    assert (status, content) == (404, b"ERROR: unknown webhook")
    status, _headers, _content = call(path_of(webhook), b"event=x", HTTP_HOST="evil.example")
    assert status == 400
    assert not InboundIPN.objects.exists()


def test_the_sender_behind_a_trusted_proxy_is_the_forwarded_address(webhook, settings):
    settings.TRUSTED_PROXIES = ["203.0.113.9"]
    body = urlencode(signed(on_payment())).encode()
    status, _headers, _content = call(
        path_of(webhook), body, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9"
    )
    assert status == 200
    assert InboundIPN.objects.get().sender_ip == "198.51.100.7"


def test_plain_http_is_redirected_where_https_is_enforced(webhook, settings):
    settings.SECURE_SSL_REDIRECT = True
    # SecurityMiddleware reads the setting when the application is made, as at a start.
    door = receiver_first(get_wsgi_application())
    status, headers, _content = call(
        path_of(webhook), urlencode(signed(on_payment())).encode(), app=door
    )
    assert status == 301
    assert headers["Location"].startswith("https://")
    assert not InboundIPN.objects.exists()
    # Behind a trusted proxy that terminated TLS, it is received.
    settings.TRUSTED_PROXIES = ["203.0.113.9"]
    status, _headers, _content = call(
        path_of(webhook),
        urlencode(signed(on_payment())).encode(),
        app=door,
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert status == 200


def test_an_unexpected_error_is_answered_as_django_answers_it(webhook, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "ipn_store", broken)
    monkeypatch.setattr("webhooks.views.ipn_store", broken)
    status, _headers, _content = call(path_of(webhook), urlencode(signed(on_payment())).encode())
    assert status == 500  # handler500's answer to a bug (not OK: Digistore24 retries)
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert logged
    assert "a bug" in str(logged[0].exc_info[1])


def test_other_paths_go_through_django_s_middleware(db):
    status, headers, _content = call("/admin/login/", method="GET")
    assert status == 200
    assert "Content-Security-Policy" in headers
