"""ds24site.prepared: the receiver's statements, compiled once, behave as the ORM's."""

import pytest
from django.db.models.signals import post_save

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


def _event(webhook, n):
    return Event(
        webhook=webhook,
        event="on_payment",
        scope=Event.Scope.ACCEPTED,
        payload=[["event", "on_payment"], ["n", str(n)]],
        payload_hash=f"h{n}",
        signature=Event.Signature.VERIFIED,
    )


def test_insert_stores_every_field_and_returns_the_database_defaults(webhook):
    event = _event(webhook, 1)
    prepared.insert(event)
    stored = Event.objects.get(pk=event.pk)
    assert (stored.public_id, stored.payload, stored.received) == (
        event.public_id,
        event.payload,
        event.received,
    )
    assert event.txid == stored.txid
    assert not event._state.adding


def test_insert_takes_the_full_save_when_someone_listens(webhook):
    seen = []

    def listener(sender, instance, created, **kwargs):
        seen.append(created)

    post_save.connect(listener, sender=Event)
    try:
        prepared.insert(_event(webhook, 2))
    finally:
        post_save.disconnect(listener, sender=Event)
    assert seen == [True]
