"""`ipn_received`: sent once per stored event, after commit; a failing receiver changes nothing
for Digistore24 but is recorded on the event."""

import threading

import pytest
from django.db import connections

from tests.conftest import on_payment, signed
from webhooks.models import Event
from webhooks.signals import ipn_received


@pytest.fixture
def received():
    calls = []

    def receiver(sender, event, **kwargs):
        calls.append(event)

    ipn_received.connect(receiver)
    yield calls
    ipn_received.disconnect(receiver)


@pytest.fixture
def failing_receiver():
    def explode(sender, event, **kwargs):
        raise RuntimeError("CRM is down")

    ipn_received.connect(explode)
    yield explode
    ipn_received.disconnect(explode)


@pytest.mark.django_db
def test_sent_once_per_stored_event_not_for_redeliveries(post_ipn, webhook, received):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed({"event": "connection_test"}))
    assert [event.event for event in received] == ["on_payment", "connection_test"]
    assert received[0].pk == Event.objects.get(event="on_payment").pk


@pytest.mark.django_db
def test_not_sent_for_rejected_deliveries(post_ipn, webhook, received):
    post_ipn(webhook, on_payment())  # unsigned
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_sent_after_the_row_is_committed(post_ipn, webhook):
    seen_from_another_connection = []

    def receiver(sender, event, **kwargs):
        # A different thread has its own connection: it sees only committed rows.
        def look():
            seen_from_another_connection.append(Event.objects.filter(pk=event.pk).exists())
            connections.close_all()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join()

    ipn_received.connect(receiver)
    try:
        post_ipn(webhook, signed(on_payment()))
    finally:
        ipn_received.disconnect(receiver)
    assert seen_from_another_connection == [True]


@pytest.mark.django_db
def test_failing_receiver_is_recorded_and_answer_stays_ok(
    post_ipn, webhook, failing_receiver, received, caplog
):
    response = post_ipn(webhook, signed(on_payment()))
    assert response.content == b"OK"
    event = Event.objects.get()
    assert "RuntimeError: CRM is down" in event.signal_error
    assert "explode" in event.signal_error
    assert len(received) == 1  # the other receiver still ran
    assert any("CRM is down" in str(r.exc_info) for r in caplog.records if r.exc_info)
