"""EventSerializer builds an event's JSON directly (for speed); it must give exactly what DRF's
field-by-field rendering of its declared fields gives, which is what the API answered before
and what its schema describes."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from webhooks.models import Event
from webhooks.serializers import EventSerializer
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events/"

PAYLOADS = [
    [],
    [["event", "on_payment"], ["sha_sign", "ABC"], ["order_id", "X1"]],
    [["SHASIGN", "DEF"], ["buyer_last_name", "Müller-Weiß"], ["product_name", "Kurs 🎓 „Grün“"]],
    [["event", "on_refund"], ["note", ""], ["quote", 'a "b" \\ c\n\t\u2028'], ["sha_sign", ""]],
    [["x", "\x01\x1f"], ["日本", "語"], ["sha_sign_not", "kept"]],
]
COLUMNS = [  # typed columns: empty and null, set, odd values
    {},
    {"amount": Decimal("49"), "pay_sequence_no": 0, "order_id": "ABC123XY",
     "email": "Jörg@Example.com", "currency": "EUR"},
    {"amount": Decimal("-12.3456"), "pay_sequence_no": 11, "affiliate_name": "partner77",
     "eticket_id": "11112222333344445555", "api_mode": "test", "billing_type": "installment"},
    {"amount": Decimal("1234567.8912"), "product_name": "Zoë's „Kurs“ ✓",
     "business_key": "on_payment:987654", "transaction_id": "123", "product_id": "7"},
    {"amount": Decimal("0.5"), "signature": "unsigned", "scope": "ignored"},
]  # fmt: skip


def generic(event: Event) -> dict:
    """DRF's own rendering of EventSerializer's fields: the API's output before it was built
    directly."""
    return serializers.ModelSerializer.to_representation(EventSerializer(), event)


@pytest.fixture
def events():
    webhook = webhook_create(name="Zahlungen „Shop“", kind="payments", passphrase="p" * 32)
    everything = webhook_create(name="All", kind="all", passphrase="q" * 32)
    made = []
    for number, (payload, columns) in enumerate(zip(PAYLOADS, COLUMNS, strict=True)):
        received = datetime(2026, 3, 29, 0, 59, 59, 123456 * (number % 2), tzinfo=UTC)
        made.append(
            Event.objects.create(
                webhook=everything if number % 2 else webhook,
                event="on_payment",
                scope=columns.pop("scope", "accepted"),
                signature=columns.pop("signature", "verified"),
                payload=payload,
                payload_hash=f"{number:064d}",
                received=received,
                last_delivered=received.replace(hour=23),
                delivery_count=number + 1,
                **columns,
            )
        )
    # As the API reads them: from the database, with the webhook joined.
    return list(Event.objects.select_related("webhook").order_by("id"))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_direct_rendering_is_drfs_field_by_field(events, zone):
    with timezone.override(zone):
        for event in events:
            direct = EventSerializer(event).data
            assert list(direct) == list(EventSerializer().fields)
            assert direct == generic(event)
            assert JSONRenderer().render(direct) == JSONRenderer().render(generic(event))


def test_signature_is_left_out_and_the_rest_kept_in_order(events):
    payloads = [EventSerializer(event).data["payload"] for event in events]
    assert payloads[1] == [["event", "on_payment"], ["order_id", "X1"]]
    assert payloads[2] == [
        ["buyer_last_name", "Müller-Weiß"],
        ["product_name", "Kurs 🎓 „Grün“"],
    ]
    assert payloads[4][-1] == ["sha_sign_not", "kept"]
    # The stored payload keeps it, as received.
    assert ["sha_sign", "ABC"] in events[1].payload and events[2].payload[0] == ["SHASIGN", "DEF"]


def test_amounts_keep_four_decimals_and_nulls_stay_null(events):
    shown = [EventSerializer(event).data for event in events]
    assert [data["amount"] for data in shown] == [
        None, "49.0000", "-12.3456", "1234567.8912", "0.5000"
    ]  # fmt: skip
    assert shown[0]["pay_sequence_no"] is None and shown[1]["pay_sequence_no"] == 0


# Committed: on PostgreSQL, follow shows only events of transactions that have ended.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [EVENTS, f"{EVENTS}follow/"])
def test_api_pages_carry_the_same_json(api_get, events, path):
    answer = api_get(path, {"page_size": 500} if path == EVENTS else {"limit": 500})
    assert answer.status_code == 200, answer.content
    by_id = {str(event.public_id): event for event in events}
    results = json.loads(answer.content)["results"]
    assert sorted(item["id"] for item in results) == sorted(by_id)
    for item in results:
        assert item == json.loads(JSONRenderer().render(generic(by_id[item["id"]])))


def test_detail_carries_the_same_json(api_get, events):
    event = events[2]
    answer = api_get(f"{EVENTS}{event.public_id}/")
    assert answer.content == JSONRenderer().render(generic(event))
