"""The follow-up queue: the database queues every inserted event (FollowUp, by the trigger of
migration 0009), events_follow_up takes it in batches, oldest first, and the loop a task worker
runs (webhooks.follow_up.FollowUpLoop) keeps taking it, through a failing receiver."""

import logging
import time

import pytest

from dashboard.models import DailyTotal
from tests.conftest import on_payment
from webhooks.follow_up import FollowUpLoop
from webhooks.models import Event, FollowUp
from webhooks.services import events_follow_up, ipn_store
from webhooks.signals import events_stored


def store(webhook, **fields) -> int | None:
    return ipn_store(
        webhook=webhook,
        pairs=list(on_payment(**fields).items()),
        signature=Event.Signature.VERIFIED,
        sender_ip=None,
    )


def fields(webhook, n: int) -> dict:
    """An event's fields, as an import or a bulk load would give them."""
    return {
        "webhook": webhook,
        "event": "on_payment",
        "scope": Event.Scope.ACCEPTED,
        "payload": [["n", str(n)]],
        "payload_hash": f"other{n}",
        "signature": Event.Signature.VERIFIED,
    }


def queued() -> list[int]:
    return sorted(FollowUp.objects.values_list("event_id", flat=True))


@pytest.fixture
def batches():
    """The events each events_stored sends, by id."""
    sent = []

    def record(sender, events, **kwargs):
        sent.append([e.pk for e in events])

    events_stored.connect(record, dispatch_uid="test.batches")
    yield sent
    events_stored.disconnect(dispatch_uid="test.batches")


# --- The trigger ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_inserted_event_is_queued_once_and_a_redelivery_not(webhook):
    """Whichever way an event is inserted. Fails if a migration rebuilds the event table
    without its trigger (as SQLite's ALTER TABLE emulation does)."""
    stored = store(webhook)
    assert store(webhook) is None  # a redelivery
    created = Event.objects.create(**fields(webhook, 0)).pk
    bulk = Event.objects.bulk_create([Event(**fields(webhook, n)) for n in (1, 2)])
    everything = sorted(Event.objects.values_list("pk", flat=True))
    assert everything == sorted([stored, created, *(e.pk for e in bulk)])
    assert queued() == everything  # one row each (the event is its primary key)
    assert Event.objects.get(pk=stored).delivery_count == 2


# --- events_follow_up ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_oldest_first_at_most_limit_and_0_when_nothing_is_queued(webhook, batches):
    ids = [store(webhook, transaction_id=str(n)) for n in range(5)]
    assert events_follow_up(limit=2) == 2
    assert queued() == ids[2:]
    assert events_follow_up(limit=2) == 2
    assert events_follow_up(limit=2) == 1
    assert batches == [ids[0:2], ids[2:4], ids[4:]]
    assert events_follow_up() == 0
    assert batches == [ids[0:2], ids[2:4], ids[4:]]  # nothing sent for nothing
    assert queued() == []


# --- The worker's loop ---------------------------------------------------------------------------


def wait_for(condition, what: str, timeout: float = 30):
    """Poll until `condition()` holds; fail (not assert a duration) if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


def counted() -> int:
    return sum(DailyTotal.objects.values_list("count", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_loop_follows_up_what_is_stored_and_survives_a_failing_receiver(webhook, caplog):
    failures = []

    def fails_once(sender, events, **kwargs):
        if not failures:
            failures.append([e.pk for e in events])
            raise RuntimeError("a receiver's bad moment")

    loop = FollowUpLoop(interval=0.02)
    loop.start()
    try:
        store(webhook, transaction_id="1")
        wait_for(lambda: counted() == 1, "the first event's follow-up")
        assert queued() == []

        events_stored.connect(fails_once, dispatch_uid="test.fails_once")
        try:
            second = store(webhook, transaction_id="2")
            wait_for(lambda: counted() == 2, "the retried follow-up")
        finally:
            events_stored.disconnect(dispatch_uid="test.fails_once")
    finally:
        loop.stop(timeout=30)
    assert not loop.is_alive()
    assert failures == [[second]]
    assert queued() == []
    assert counted() == 2  # the failed attempt wrote nothing; the retry counted it once
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.name == "webhooks.follow_up"
    assert str(logged.exc_info[1]) == "a receiver's bad moment"
