"""The receiver's memory of webhooks (webhooks/receiving.py): a delivery to a webhook the
process loaded before costs one statement, and is kept only while the webhook's row is as it
was loaded. Each change below is made after the webhook was remembered, and the answer must
be what a fresh load gives."""

from urllib.parse import urlencode

import pytest

from tests.conftest import FORM, PASSPHRASE, on_payment, signed
from webhooks.models import Event, InboundIPN, RejectedDelivery, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def remembered(post_ipn, webhook):
    """The webhook, after one delivery that made this process remember it."""
    assert post_ipn(webhook, signed(on_payment(order_id="FIRST"))).content == b"OK"
    return webhook


def receive_path(webhook) -> str:
    return webhook.get_receive_url().removeprefix("https://ds24.example.com")


def form(params) -> str:
    return urlencode(signed(params))


def kept() -> int:
    return InboundIPN.objects.count() + Event.objects.count()


def test_a_remembered_webhook_costs_one_statement(post_ipn, remembered, django_assert_num_queries):
    with django_assert_num_queries(1):  # the INSERT … SELECT, no lookup
        response = post_ipn(remembered, signed(on_payment(order_id="SECOND")), follow=False)
    assert response.content == b"OK"
    assert InboundIPN.objects.count() == 1


def test_a_new_passphrase_is_verified_at_once(post_ipn, remembered):
    remembered.passphrase = "a-new-passphrase-8f3k2"
    remembered.save()
    before = kept()
    old = post_ipn(remembered, signed(on_payment(order_id="OLD")))
    assert old.status_code == 403
    assert RejectedDelivery.objects.count() == 1
    assert kept() == before
    new = post_ipn(remembered, signed(on_payment(order_id="NEW"), "a-new-passphrase-8f3k2"))
    assert new.content == b"OK"
    assert Event.objects.filter(order_id="NEW").exists()


def test_a_deactivated_webhook_pauses_at_once_even_without_save(post_ipn, remembered):
    Webhook.objects.filter(pk=remembered.pk).update(active=False)  # no signal, no save()
    before = kept()
    response = post_ipn(remembered, signed(on_payment(order_id="PAUSED")))
    assert response.status_code == 503
    assert response.content.startswith(b"PAUSED")
    assert kept() == before


def test_a_regenerated_token_is_refused_at_once(client, remembered):
    old_path = receive_path(remembered)
    remembered.regenerate_token()
    before = kept()
    response = client.post(old_path, data=form(on_payment(order_id="STALE")), content_type=FORM)
    assert response.status_code == 404
    assert kept() == before


def test_a_deleted_webhook_is_unknown_at_once(client, post_ipn, webhook):
    # Remembered by a delivery not yet in the log (an event would protect the webhook).
    assert post_ipn(webhook, signed(on_payment(order_id="FIRST")), follow=False).content == b"OK"
    path = receive_path(webhook)
    webhook.delete()
    response = client.post(path, data=form(on_payment(order_id="GONE")), content_type=FORM)
    assert response.status_code == 404
    assert InboundIPN.objects.count() == 0


def test_unsigned_deliveries_stop_when_no_longer_accepted(post_ipn, webhook):
    webhook.passphrase, webhook.accept_unsigned = "", True
    webhook.save()
    assert post_ipn(webhook, on_payment(order_id="UNSIGNED1")).content == b"OK"  # remembered
    Webhook.objects.filter(pk=webhook.pk).update(accept_unsigned=False)
    response = post_ipn(webhook, on_payment(order_id="UNSIGNED2"))
    assert response.status_code == 403
    assert not Event.objects.filter(order_id="UNSIGNED2").exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_failure_is_503_for_a_remembered_webhook_too(post_ipn, broken_database):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    assert post_ipn(webhook, signed(on_payment(order_id="FIRST")), follow=False).content == b"OK"
    broken_database()
    response = post_ipn(webhook, signed(on_payment(order_id="DOWN")), follow=False)
    assert (response.status_code, response.content) == (503, b"ERROR: not stored, retry later")
