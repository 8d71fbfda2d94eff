"""Rejected deliveries: bounded storage, and re-verification after a passphrase fix."""

from urllib.parse import urlencode

import pytest
from django.test import override_settings

from tests.conftest import on_payment, signed
from webhooks.models import Event, RejectedDelivery, Webhook
from webhooks.services import delivery_reverify, rejected_prune

pytestmark = pytest.mark.django_db


@override_settings(REJECTED_KEEP=5)
def test_at_most_rejected_keep_per_webhook_oldest_dropped_first(post_ipn, webhook):
    other = Webhook.objects.create(name="Other", kind="all", passphrase="x")
    post_ipn(other, on_payment(order_id="OTHER"))
    for n in range(12):
        post_ipn(Webhook.objects.get(pk=webhook.pk), on_payment(order_id=f"JUNK{n}"))
    kept = RejectedDelivery.objects.filter(webhook=webhook).order_by("id")
    assert [bytes(r.body).split(b"order_id=")[1][:6] for r in kept] == [
        b"JUNK7&",
        b"JUNK8&",
        b"JUNK9&",
        b"JUNK10",
        b"JUNK11",
    ]
    assert Webhook.objects.get(pk=webhook.pk).rejected_count == 12  # lifetime counter
    assert RejectedDelivery.objects.filter(webhook=other).count() == 1  # others untouched


def test_prune_with_fewer_than_keep_deletes_nothing(post_ipn, webhook):
    post_ipn(webhook, on_payment())
    assert rejected_prune(webhook=webhook, keep=5) == 0
    assert rejected_prune(webhook=webhook, keep=0) == 1


def test_reverify_after_fixing_the_passphrase_makes_exactly_one_event(post_ipn, webhook):
    genuine = signed(on_payment(), "the-real-passphrase")
    post_ipn(webhook, genuine)
    post_ipn(webhook, genuine)  # DS24 retried: two rejected copies of one notification
    assert RejectedDelivery.objects.count() == 2 and Event.objects.count() == 0
    first_received = RejectedDelivery.objects.order_by("id").first().received

    webhook.passphrase = "the-real-passphrase"
    webhook.save()
    outcomes = [delivery_reverify(delivery=d) for d in RejectedDelivery.objects.order_by("id")]

    assert outcomes == [None, None]
    event = Event.objects.get()
    assert event.delivery_count == 2
    assert event.received == first_received
    assert event.signature == Event.Signature.VERIFIED
    assert not RejectedDelivery.objects.exists()


def test_reverify_of_a_still_bad_delivery_says_why_and_keeps_it(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment(), "unknown-passphrase"))
    outcome = delivery_reverify(delivery=RejectedDelivery.objects.get())
    assert str(outcome) == "invalid sha signature"
    assert RejectedDelivery.objects.count() == 1 and Event.objects.count() == 0


def test_reverifying_the_same_delivery_twice_stores_it_once(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment(), "the-real-passphrase"))
    webhook.passphrase = "the-real-passphrase"
    webhook.save()
    first, second = RejectedDelivery.objects.get(), RejectedDelivery.objects.get()  # two admins
    assert delivery_reverify(delivery=first) is None
    assert delivery_reverify(delivery=second) is None
    assert Event.objects.get().delivery_count == 1


def test_a_rejected_get_is_reverified_from_its_query_string(client, webhook):
    """A GET has no content type to check: re-verification judges it as a GET, even when it
    came with a header that would make a POST a 415."""
    genuine = signed(on_payment(), "the-real-passphrase")
    url = f"{webhook.get_receive_url()}?{urlencode(genuine)}"
    assert client.get(url, CONTENT_TYPE="application/json").status_code == 403
    rejected = RejectedDelivery.objects.get()
    assert (rejected.method, rejected.content_type) == ("GET", "application/json")

    webhook.passphrase = "the-real-passphrase"
    webhook.save()
    assert delivery_reverify(delivery=rejected) is None

    event = Event.objects.get()
    assert event.params == genuine
    assert event.received == rejected.received
    assert event.signature == Event.Signature.VERIFIED
    assert not RejectedDelivery.objects.exists()


def test_a_rejected_get_that_still_fails_says_why(client, webhook):
    client.get(f"{webhook.get_receive_url()}?{urlencode(signed(on_payment(), 'unknown'))}")
    assert str(delivery_reverify(delivery=RejectedDelivery.objects.get())) == (
        "invalid sha signature"
    )
    assert RejectedDelivery.objects.count() == 1 and Event.objects.count() == 0
