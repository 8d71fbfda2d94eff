"""An event's signature (sha_sign) is kept as received, but not shown to readers: whoever holds
it can replay the event to another webhook that shares the passphrase."""

import pytest
from django.urls import reverse

from tests.conftest import PASSPHRASE, on_payment, signed
from webhooks.models import Event
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    return Event.objects.get()


@pytest.fixture
def twin(event):
    """Another webhook with the same passphrase, which the signature would also pass."""
    return webhook_create(name="Twin", kind="payments", passphrase=PASSPHRASE)


def test_the_stored_payload_keeps_the_signature(event):
    assert event.payload[-1] == ["sha_sign", signed(on_payment())["sha_sign"]]


@pytest.mark.parametrize("uppercase", [False, True])
def test_the_api_serves_the_payload_without_the_signature(api_get, post_ipn, webhook, uppercase):
    params = signed(on_payment())
    if uppercase:  # Digistore24's other spelling
        params["SHASIGN"] = params.pop("sha_sign")
    post_ipn(webhook, params)
    event = Event.objects.get()
    signature = params.get("sha_sign") or params["SHASIGN"]
    expected = [pair for pair in event.payload if pair[0] not in ("sha_sign", "SHASIGN")]
    # (follow shares the serializer; on PostgreSQL it sees only committed events, not these)
    listing = api_get("/api/v1/events/")
    detail = api_get(f"/api/v1/events/{event.public_id}/")
    assert signature not in listing.content.decode() + detail.content.decode()
    assert listing.json()["results"][0]["payload"] == detail.json()["payload"] == expected


def test_a_reader_of_the_api_cannot_replay_the_event_to_a_twin(api_get, post_ipn, event, twin):
    [item] = api_get("/api/v1/events/").json()["results"]
    replay = dict(item["payload"])
    response = post_ipn(twin, replay)
    assert response.status_code == 403  # no signature to copy
    assert not Event.objects.filter(webhook=twin).exists()


def test_view_only_staff_see_the_payload_without_the_signature(viewer_client, event):
    html = viewer_client.get(reverse("admin:webhooks_event_change", args=[event.pk])).content
    assert b"<th>order_id</th>" in html
    assert event.params["sha_sign"].encode() not in html and b"sha_sign" not in html


def test_staff_who_may_change_webhooks_see_the_whole_payload(staff_client, event):
    html = staff_client.get(reverse("admin:webhooks_event_change", args=[event.pk])).content
    assert f"<th>sha_sign</th><td>{event.params['sha_sign']}</td>".encode() in html
