from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.conftest import PASSPHRASE, follow_up, keep_ipn, on_payment
from webhooks import samples
from webhooks.models import Event
from webhooks.services import webhook_create


def at(days_ago: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment `days_ago` days before today, in the site's time zone."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), timezone.get_current_timezone())


def store(webhook, params, received):
    """Keep an IPN as the receiver does, received at `received`; in the event log and the
    roll-up once followed up (follow_up())."""
    keep_ipn(
        webhook,
        params,
        signature=Event.Signature.VERIFIED,
        sender_ip="127.0.0.1",
        received=received,
    )


def money(event, transaction_id, amount, currency="EUR", **fields):
    return on_payment(
        event=event,
        transaction_id=transaction_id,
        order_id=f"O{transaction_id}",
        amount_brutto=amount,
        currency=currency,
        **fields,
    )


@pytest.fixture
def seeded(db, settings):
    """Events in two currencies over 31 days, in a time zone that is not UTC. The hand-computed
    figures are in test_figures.py."""
    settings.TIME_ZONE = "Europe/Berlin"
    hook = webhook_create(name="Everything", kind="all", passphrase=PASSPHRASE)
    # Today; the second payment just after local midnight (the day before, in UTC).
    store(hook, money("on_payment", "1", "100.00"), at(0))
    store(hook, money("on_payment", "2", "50.50"), at(0, 0, 30))
    assert store(hook, money("on_payment", "1", "100.00"), at(0)) is None  # a redelivery
    store(hook, money("on_payment", "3", "30.00", "USD"), at(0))
    store(hook, money("on_refund", "4", "20.00"), at(0))
    store(hook, money("on_payment", "5", "999.00", api_mode="test"), at(0))  # a test order
    # Digistore24 may send what goes back as a negative amount (UNVERIFIED): it still subtracts.
    store(hook, money("on_chargeback", "6", "-10.00", "USD"), at(0))
    # Followed up a day at a time, as workers would in several batches: their first ids
    # differ, so the totals are in more than one slot.
    follow_up()
    # Yesterday.
    store(hook, money("on_payment", "7", "10.00"), at(1))
    store(hook, money("on_refund", "8", "5.00", "USD"), at(1))
    store(hook, samples.eticket(api_mode="live"), at(1))
    store(hook, samples.on_affiliation(api_mode="live"), at(1))
    store(hook, samples.on_affiliation(api_mode="test"), at(1))
    follow_up()
    # 8 days ago: in the last 30 days, not in the last 7.
    store(hook, money("on_payment", "9", "1000.00"), at(8))
    store(hook, money("on_chargeback", "10", "100.00"), at(8))
    follow_up()
    # 31 days ago: in none of them.
    store(hook, money("on_payment", "11", "7.00"), at(31))
    follow_up()
    return hook
