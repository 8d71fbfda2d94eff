"""From the receiver's row to the event log: ipn_store keeps a verified IPN as received
(InboundIPN), events_follow_up puts it in the log in batches, oldest first, exactly once, with
its follow-up, and the loop a task worker runs (webhooks.follow_up.FollowUpLoop) keeps doing
so, through a failing receiver."""

import logging
import time

import pytest
from django.utils import timezone

from dashboard.models import DailyTotal
from tests.conftest import event_of, keep_ipn, on_payment, wait_for
from webhooks.follow_up import FollowUpLoop
from webhooks.models import Event, InboundIPN
from webhooks.services import events_follow_up
from webhooks.signals import events_stored


def waiting() -> int:
    return InboundIPN.objects.count()


@pytest.fixture
def batches():
    """The order ids of the events each events_stored sends."""
    sent = []

    def record(sender, events, **kwargs):
        sent.append([e.order_id for e in events])

    events_stored.connect(record, dispatch_uid="test.batches")
    yield sent
    events_stored.disconnect(dispatch_uid="test.batches")


@pytest.mark.django_db
def test_the_receiver_keeps_the_ipn_and_the_follow_up_makes_one_event(webhook, batches):
    params = on_payment()
    keep_ipn(webhook, params, sender_ip="203.0.113.9")
    keep_ipn(webhook, params)  # Digistore24 sends it again
    assert (waiting(), Event.objects.count()) == (2, 0)
    assert events_follow_up() == 2
    event = event_of(webhook, params)
    assert (event.delivery_count, event.sender_ip, event.order_id) == (2, "203.0.113.9", "ABC123XY")
    assert waiting() == 0
    assert batches == [["ABC123XY"]]  # the redelivery sets nothing off
    keep_ipn(webhook, params)  # and again, after it is in the log
    assert events_follow_up() == 1
    assert Event.objects.get().delivery_count == 3
    assert batches == [["ABC123XY"]]


@pytest.mark.django_db
def test_oldest_first_at_most_limit_and_0_when_nothing_waits(webhook, batches):
    for n in range(5):
        keep_ipn(webhook, on_payment(transaction_id=str(n), order_id=f"O{n}"))
    assert events_follow_up(limit=2) == 2
    assert waiting() == 3
    assert events_follow_up(limit=2) == 2
    assert events_follow_up(limit=2) == 1
    assert batches == [["O0", "O1"], ["O2", "O3"], ["O4"]]
    assert events_follow_up() == 0
    assert batches == [["O0", "O1"], ["O2", "O3"], ["O4"]]  # nothing sent for nothing


@pytest.mark.django_db
def test_a_failing_follow_up_writes_nothing_and_leaves_the_ipns_waiting(webhook):
    def fail(sender, events, **kwargs):
        raise RuntimeError("a receiver's bad moment")

    keep_ipn(webhook, on_payment())
    events_stored.connect(fail, dispatch_uid="test.fail")
    try:
        with pytest.raises(RuntimeError):
            events_follow_up()
    finally:
        events_stored.disconnect(dispatch_uid="test.fail")
    assert (waiting(), Event.objects.count(), DailyTotal.objects.count()) == (1, 0, 0)
    assert events_follow_up() == 1
    assert (waiting(), Event.objects.count()) == (0, 1)
    assert sum(DailyTotal.objects.values_list("count", flat=True)) == 1


# --- The worker's loop ---------------------------------------------------------------------------


def counted() -> int:
    return sum(DailyTotal.objects.values_list("count", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_loop_follows_up_what_is_kept_and_survives_a_failing_receiver(webhook, caplog):
    failures = []

    def fails_once(sender, events, **kwargs):
        if not failures:
            failures.append([e.order_id for e in events])
            raise RuntimeError("a receiver's bad moment")

    loop = FollowUpLoop(interval=0.02)
    loop.start()
    try:
        keep_ipn(webhook, on_payment(transaction_id="1", order_id="O1"))
        wait_for(lambda: counted() == 1, "the first IPN's follow-up")
        assert waiting() == 0

        events_stored.connect(fails_once, dispatch_uid="test.fails_once")
        try:
            keep_ipn(webhook, on_payment(transaction_id="2", order_id="O2"))
            wait_for(lambda: counted() == 2, "the retried follow-up")
        finally:
            events_stored.disconnect(dispatch_uid="test.fails_once")
    finally:
        loop.stop(timeout=30)
    assert not loop.is_alive()
    assert failures == [["O2"]]
    assert waiting() == 0
    assert counted() == 2  # the failed attempt wrote nothing; the retry counted it once
    assert Event.objects.count() == 2
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.name == "webhooks.follow_up"
    assert str(logged.exc_info[1]) == "a receiver's bad moment"


# --- Standing back from a burst ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the loop's look replaces connections, as a worker's
def test_the_loop_stands_back_while_a_burst_arrives_but_not_for_long(webhook, settings):
    settings.FOLLOW_UP_DEFER_RATE, settings.FOLLOW_UP_MAX_DEFER = 100, 60
    loop = FollowUpLoop(interval=0.02)
    assert not loop._standing_back()  # nothing waits
    keep_ipn(webhook, on_payment(transaction_id="0"))
    assert not loop._standing_back()  # a first look: no rate yet
    newest = InboundIPN.objects.latest("id").id
    for n in range(1, 31):
        keep_ipn(webhook, on_payment(transaction_id=str(n)))
    # 30 IPNs in the tenth of a second since the last look: 300 a second.
    loop._last_look = (time.monotonic() - 0.1, newest)
    assert loop._standing_back()
    # 3 IPNs in a second: steady traffic, taken at once.
    newest = InboundIPN.objects.latest("id").id
    for n in range(31, 34):
        keep_ipn(webhook, on_payment(transaction_id=str(n)))
    loop._last_look = (time.monotonic() - 1, newest)
    assert not loop._standing_back()
    # A burst, but the oldest has waited FOLLOW_UP_MAX_DEFER: no longer.
    newest = InboundIPN.objects.latest("id").id
    for n in range(34, 64):
        keep_ipn(webhook, on_payment(transaction_id=str(n)))
    loop._last_look = (time.monotonic() - 0.1, newest)
    settings.FOLLOW_UP_MAX_DEFER = 0
    assert not loop._standing_back()


@pytest.mark.django_db
def test_an_ipn_that_cannot_be_logged_waits_without_holding_up_the_rest(webhook, caplog):
    """Only a bug could make a verified IPN unparseable; it is kept, logged, and shown as
    waiting (dashboard), and the IPNs after it go into the log."""
    broken = InboundIPN.objects.create(
        webhook=webhook, body=b"a=1&a=2", signature="verified", received=timezone.now()
    )
    keep_ipn(webhook, on_payment())
    assert events_follow_up() == 1
    assert list(InboundIPN.objects.values_list("id", flat=True)) == [broken.id]
    assert Event.objects.get().order_id == "ABC123XY"
    assert f"inbound IPN {broken.id} cannot be put in the event log" in caplog.text
