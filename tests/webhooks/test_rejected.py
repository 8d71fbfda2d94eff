"""Rejected deliveries: bounded storage, and re-verification after a passphrase fix."""

from urllib.parse import urlencode

import pytest
from django.test import override_settings

from tests.conftest import FORM, follow_up, on_payment, signed
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
    follow_up()

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
    follow_up()
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
    follow_up()

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


# --- Junk cannot push out a real rejection ----------------------------------------------------

REAL_IP = "203.0.113.5"
JUNK_IP = "198.51.100.7"


def real_rejection(post_ipn, webhook, sender=REAL_IP):
    """Digistore24's IPN signed with a passphrase that differs from the webhook's."""
    post_ipn(webhook, signed(on_payment(), "the-real-passphrase"), REMOTE_ADDR=sender)
    return RejectedDelivery.objects.latest("id")


def junk(client, webhook, count, senders=(JUNK_IP,), body=b"x=1"):
    path = webhook.get_receive_url()
    for n in range(count):
        sender = senders[n % len(senders)]
        client.post(path, data=body, content_type=FORM, REMOTE_ADDR=sender)


def test_a_thousand_junk_posts_leave_another_senders_rejection_re_verifiable(
    client, post_ipn, webhook
):
    """The finding: 1,001 unsigned posts (at the default cap of 1,000) pushed a real rejection
    out of the log, so it could no longer be re-verified."""
    real = real_rejection(post_ipn, webhook)
    junk(client, webhook, 1001, body=urlencode(on_payment(order_id="JUNK")).encode())

    assert RejectedDelivery.objects.filter(webhook=webhook).count() <= 1000
    assert RejectedDelivery.objects.filter(pk=real.pk).exists()
    webhook.passphrase = "the-real-passphrase"
    webhook.save()
    assert delivery_reverify(delivery=RejectedDelivery.objects.get(pk=real.pk)) is None
    follow_up()
    assert Event.objects.get().order_id == "ABC123XY"


@override_settings(REJECTED_KEEP=10)
@pytest.mark.parametrize(
    ("junk_senders", "junk_body"),
    [
        pytest.param([JUNK_IP], b"x=1", id="same reason, another sender"),
        pytest.param([REAL_IP], b"", id="same sender, another reason"),
        pytest.param([f"2001:db8:1:2::{n:x}" for n in range(1, 200)], b"x=1", id="one IPv6 /64"),
    ],
)
def test_junk_pushes_out_only_its_own_rejections(
    client, post_ipn, webhook, junk_senders, junk_body
):
    real = real_rejection(post_ipn, webhook, sender="2001:db8:1:3::1")
    other = real_rejection(post_ipn, webhook)
    junk(client, webhook, 60, junk_senders, junk_body)

    kept = RejectedDelivery.objects.filter(webhook=webhook)
    assert kept.count() <= 10
    assert kept.filter(pk__in=[real.pk, other.pk]).count() == 2
    # The junk keeps its newest rows: the log still shows what is going on.
    assert kept.exclude(pk__in=[real.pk, other.pk]).count() >= 5


@override_settings(REJECTED_KEEP=10)
def test_more_senders_than_the_cap_still_never_exceed_it(client, post_ipn, webhook):
    """Every sender keeps its newest row while there is room; an attacker with more addresses
    (networks) than the cap can only push out the senders whose latest row is oldest."""
    real_rejection(post_ipn, webhook)
    junk(client, webhook, 30, [f"192.0.2.{n}" for n in range(1, 31)])
    kept = RejectedDelivery.objects.filter(webhook=webhook)
    assert kept.count() <= 10
    assert len({row.sender_ip for row in kept}) == kept.count()  # one per sender, the newest
    assert max(kept.values_list("id", flat=True)) == RejectedDelivery.objects.latest("id").id


# --- What makes a webhook show "Rejecting" ----------------------------------------------------


def test_junk_does_not_make_a_receiving_webhook_rejecting(client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    junk(client, webhook, 20)  # no signature
    junk(client, webhook, 5, body=b"sha_sign=abc&event=on_payment")  # not Digistore24's form
    junk(client, webhook, 5, body=b"")  # nothing at all
    follow_up()
    webhook = Webhook.objects.with_activity().get(pk=webhook.pk)
    assert webhook.rejected_count == 30
    assert webhook.status == Webhook.Status.RECEIVING


def test_a_signed_ipn_that_fails_makes_it_rejecting(post_ipn, webhook):
    """What Digistore24 sends when its passphrase differs from the webhook's."""
    post_ipn(webhook, signed(on_payment()))
    follow_up()
    real_rejection(post_ipn, webhook)
    webhook = Webhook.objects.with_activity().get(pk=webhook.pk)
    assert webhook.status == Webhook.Status.REJECTING
    post_ipn(webhook, signed(on_payment(order_id="NEXT")))  # the passphrases agree again
    follow_up()
    webhook = Webhook.objects.with_activity().get(pk=webhook.pk)
    assert webhook.status == Webhook.Status.RECEIVING
