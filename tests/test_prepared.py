"""ds24site.prepared: the receiver's statements, compiled once, behave as the ORM's."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from ds24site import prepared
from webhooks.models import Event, Webhook


def test_prepared_query_gives_what_the_queryset_gives(webhook):
    query = prepared.PreparedQuery(lambda token: Webhook.objects.filter(token=token))
    assert list(query(webhook.token)) == [webhook]
    assert list(query("no-such-token")) == []  # the second call runs the compiled SQL


def test_prepared_query_refuses_a_shape_that_depends_on_its_parameters(db):
    # A list compiles to one parameter per item: the SQL could not take a longer list.
    query = prepared.PreparedQuery(lambda ids: Webhook.objects.filter(pk__in=ids))
    with pytest.raises(ValueError, match="does not take exactly"):
        query([1, 2])


# The follow-up's statement (webhooks.services.events_follow_up), made afresh so that each
# test compiles it too.
def _store():
    return prepared.CountingInsert(
        Event,
        unique=("webhook", "payload_hash"),
        counter="delivery_count",
        latest=("last_delivered",),
        returning=("id", "txid", "delivery_count"),
    )


def _written(model):
    """The fields CountingInsert writes: all but the primary key and the database's defaults."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.db_default is NOT_PROVIDED
    ]


def _every_field(webhook) -> dict:
    """A value for every field the statement writes, none of them its default."""
    received = timezone.now() - timedelta(days=2)
    values = {
        "public_id": uuid.uuid4(),
        "webhook_id": webhook.pk,
        "event": "on_payment",
        "scope": Event.Scope.ACCEPTED,
        "payload": [["event", "on_payment"], ["email", "Kunde@Example.com"]],
        "payload_hash": "h1",
        "business_key": "order:ABC",
        "order_id": "ABC",
        "transaction_id": "T1",
        "product_id": "12345",
        "product_name": "Kurs",
        "email": "Kunde@Example.com",
        "buyer_first_name": "Jörg",
        "buyer_last_name": "Groß",
        "amount": Decimal("49.5000"),
        "currency": "EUR",
        "billing_type": "single_payment",
        "pay_sequence_no": 3,
        "affiliate_name": "aff",
        "eticket_id": "E1",
        "api_mode": "live",
        "signature": Event.Signature.VERIFIED,
        "sender_ip": "192.0.2.7",
        "received": received,
        "last_delivered": received + timedelta(seconds=1),
        "delivery_count": 5,
        "signal_error": "an earlier error",
        "email_normalized": "kunde@example.com",
        "buyer_name_normalized": "jorg gross",
        "buyer_last_name_normalized": "gross",
    }
    assert sorted(values) == sorted(field.attname for field in _written(Event))  # none left out
    return values


def test_counting_insert_stores_every_field_and_returns_the_databases_columns(webhook):
    values = _every_field(webhook)
    event_id, txid, count = _store()(values)
    stored = Event.objects.get(pk=event_id)
    assert {name: getattr(stored, name) for name in values} == values
    assert (txid, count) == (stored.txid, 5)  # txid: the database's default, returned


def test_counting_insert_counts_a_second_call_with_the_same_unique_columns(webhook):
    store = _store()
    first = _every_field(webhook)
    event_id, _, _ = store(first)
    later = timezone.now()
    again = {
        **first,
        "last_delivered": later,
        "signature": Event.Signature.UNSIGNED,
        "payload": [["x", "y"]],
    }
    assert store(again)[::2] == (event_id, 6)  # the same row, its counter + 1
    stored = Event.objects.get()
    assert stored.last_delivered == later  # the later of the two
    earlier = {**first, "last_delivered": first["received"]}
    assert store(earlier)[::2] == (event_id, 7)
    assert Event.objects.get().last_delivered == later  # not taken back by an older copy
    assert (stored.signature, stored.payload, stored.received) == (
        first["signature"],
        first["payload"],
        first["received"],
    )  # the rest as first stored
    other = {**first, "public_id": uuid.uuid4(), "payload_hash": "h2"}
    other_id, _, count = store(other)  # other unique columns: a new row
    assert other_id != event_id
    assert count == 5


def test_counting_insert_gives_fields_left_out_their_defaults(webhook):
    before = timezone.now()
    event_id, _, count = _store()(
        {
            "webhook_id": webhook.pk,
            "event": "on_refund",
            "scope": Event.Scope.IGNORED,
            "payload": [],
            "payload_hash": "h3",
            "signature": Event.Signature.VERIFIED,
        }
    )
    stored = Event.objects.get(pk=event_id)
    assert count == stored.delivery_count == 1
    assert isinstance(stored.public_id, uuid.UUID)
    assert stored.received >= before
    assert (stored.order_id, stored.amount, stored.sender_ip, stored.signal_error) == (
        "",
        None,
        None,
        "",
    )
