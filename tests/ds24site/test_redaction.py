"""Receive URLs' tokens are cut from Django's log lines and error mails (ds24site/redaction.py;
gunicorn's own logs: tests/ds24site/test_server_hardening.py)."""

import logging

import pytest
from django.core import mail
from django.urls import reverse

from ds24site.redaction import redact

pytestmark = pytest.mark.django_db

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz_-0123456789abcd"


def test_the_token_of_a_receive_url_is_cut_wherever_it_appears():
    path = reverse("webhooks:receive", kwargs={"token": TOKEN})
    assert redact(path) == "/ipn/AbCd…"
    assert redact(f'"POST {path}/ HTTP/1.1" 404') == '"POST /ipn/AbCd…/ HTTP/1.1" 404'
    assert redact(f"see https://example.com{path}?x=1") == "see https://example.com/ipn/AbCd…?x=1"
    assert redact("/ipn/abc/ and /admin/") == "/ipn/abc/ and /admin/"  # nothing to hide


def test_djangos_request_log_names_no_token(client, caplog):
    """An unknown token is logged as a 404 by django.request (a real token, turned off or
    regenerated away, the same); the console handler cuts it."""
    client.post(f"/ipn/{TOKEN}/", data="event=x", content_type="application/x-www-form-urlencoded")
    messages = [record.getMessage() for record in caplog.records]
    assert "Not Found: /ipn/AbCd…/" in messages
    assert TOKEN not in caplog.text


def test_a_traceback_names_no_token(caplog):
    try:
        raise ValueError(f"could not handle /ipn/{TOKEN}/")
    except ValueError:
        logging.getLogger("webhooks.views").exception("receiving")
    assert "could not handle /ipn/AbCd…/" in caplog.text
    assert TOKEN not in caplog.text


def test_the_error_mail_to_admins_names_no_token(client, webhook, broken_database, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    path = webhook.get_receive_url().removeprefix("https://ds24.example.com")
    token = path.removeprefix("/ipn/")
    broken_database()
    response = client.post(path, data="event=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 503  # logged by django.request as an error, and mailed

    (message,) = mail.outbox
    assert f"Service Unavailable: /ipn/{token[:4]}…" in message.subject
    assert f"/ipn/{token[:4]}…" in message.body
    assert token not in message.subject + message.body
