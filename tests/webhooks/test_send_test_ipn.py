"""Send test IPN: the admin signs a test and posts it over HTTP to the webhook's own receive
URL (here a live server), then shows what came back."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import PASSPHRASE, follow_up
from webhooks import samples
from webhooks.models import Event, RejectedDelivery
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client_live(client, live_server):
    user = User.objects.create_user("staff", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="webhooks"))
    client.force_login(user)
    with override_settings(SITE_URL=live_server.url):
        yield client


def send(client, webhook, **data):
    url = reverse("admin:webhooks_webhook_send_test", args=[webhook.pk])
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_connection_test_round_trip(admin_client_live):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    [message] = send(admin_client_live, webhook)
    assert message.startswith(f"Sent a signed connection_test to {webhook.get_receive_url()}")
    event = Event.objects.get()
    assert "answered HTTP 200: \u201cOK\u201d and is stored here" in message
    assert f'href="{reverse("admin:webhooks_event_change", args=[event.pk])}"' in message
    assert event.event == "connection_test"
    assert event.scope == Event.Scope.TEST
    assert event.signature == Event.Signature.VERIFIED


@pytest.mark.parametrize(
    ("kind", "event_name"),
    [("payments", "on_payment"), ("etickets", "eticket"), ("affiliations", "on_affiliation")],
)
def test_sample_of_the_kind_is_marked_test(admin_client_live, kind, event_name):
    webhook = webhook_create(name=kind, kind=kind, passphrase=PASSPHRASE)
    [message] = send(admin_client_live, webhook, sample="1")
    assert "answered HTTP 200" in message
    event = Event.objects.get()
    assert (event.event, event.api_mode, event.scope) == (event_name, "test", Event.Scope.ACCEPTED)
    send(admin_client_live, webhook, sample="1")
    assert Event.objects.count() == 2  # fresh ids: a second sample is a second event


def test_shows_a_rejection(admin_client_live):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    webhook.active = False
    webhook.save()
    [message] = send(admin_client_live, webhook)
    assert "answered HTTP 503: \u201cPAUSED" in message
    assert not Event.objects.exists() and not RejectedDelivery.objects.exists()


@pytest.fixture
def other_server():
    """Another HTTP server on 127.0.0.1 that answers every POST with 200 "OK", as an older
    `make run` on the port SITE_URL names would."""

    class AlwaysOK(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysOK)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_ok_from_another_server_is_not_a_success(staff_client, other_server):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    with override_settings(SITE_URL=other_server):
        url = reverse("admin:webhooks_webhook_send_test", args=[webhook.pk])
        response = staff_client.post(url, follow=True)
    [message] = response.context["messages"]
    assert message.level == messages.ERROR
    assert "another server answered (HTTP 200: \u201cOK\u201d)" in str(message)
    assert "SITE_URL" in str(message)


def test_an_identical_earlier_event_does_not_pass_for_this_test(staff_client, other_server):
    """Each test IPN is new (a nonce), so an earlier test stored here proves nothing."""
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    params = samples.connection_test()
    post = Client().post(
        webhook.get_receive_url().removeprefix(settings.SITE_URL),
        data=samples.signed_body(params, PASSPHRASE),
        content_type="application/x-www-form-urlencoded",
    )
    follow_up()
    assert post.status_code == 200 and Event.objects.count() == 1
    with override_settings(SITE_URL=other_server):
        [message] = send(staff_client, webhook)
    assert "another server answered" in message


def test_unreachable_site_url_is_explained(client, staff_client):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    with override_settings(SITE_URL="http://127.0.0.1:9"):  # discard port: nothing listens
        [message] = send(staff_client, webhook)
    assert "could not connect (is SITE_URL right" in message


def test_the_report_naming_the_url_stays_out_of_cookies(admin_client_live):
    """The report names the receive URL; Django's default message storage would put it in a
    cookie (signed, not encrypted). It waits in the database-backed session instead."""
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    url = reverse("admin:webhooks_webhook_send_test", args=[webhook.pk])
    response = admin_client_live.post(url)
    assert response.status_code == 302
    assert "messages" not in response.cookies
    assert all(webhook.token not in cookie.value for cookie in response.cookies.values())
    page = admin_client_live.get(response["Location"])
    assert "messages" not in page.cookies
    [message] = page.context["messages"]
    assert webhook.get_receive_url() in str(message)
