"""Send test IPN: the admin signs a test and posts it over HTTP to the webhook's own receive
URL (here a live server), then shows what came back."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import override_settings
from django.urls import reverse

from tests.conftest import PASSPHRASE
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
    assert message.endswith("answered HTTP 200: \u201cOK\u201d.")
    event = Event.objects.get()
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


def test_unreachable_site_url_is_explained(client, staff_client):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    with override_settings(SITE_URL="http://127.0.0.1:9"):  # discard port: nothing listens
        [message] = send(staff_client, webhook)
    assert "could not connect (is SITE_URL right" in message
