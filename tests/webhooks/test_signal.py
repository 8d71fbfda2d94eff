"""`ipn_received`: queued by each stored event's follow-up and sent by a worker, never in the
request; a failing receiver changes nothing for Digistore24 but is recorded on the event."""

import pytest
from django_tasks_db.models import DBTaskResult

from tests.conftest import follow_up, on_payment, run_tasks, signed
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
    assert received == []  # not in the request
    run_tasks()
    assert [event.event for event in received] == ["on_payment", "connection_test"]
    assert received[0].pk == Event.objects.get(event="on_payment").pk


@pytest.mark.django_db
def test_queued_by_the_events_follow_up(post_ipn, webhook, received):
    post_ipn(webhook, signed(on_payment()), follow=False)
    assert not DBTaskResult.objects.exists()  # the receiver only keeps it
    assert follow_up() == 1
    task = DBTaskResult.objects.get()
    assert task.task_path == "webhooks.tasks.notify"
    assert task.args_kwargs["args"] == [Event.objects.get().pk]


@pytest.mark.django_db
def test_nothing_queued_while_nobody_listens(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    assert Event.objects.exists()
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_not_sent_for_rejected_deliveries(post_ipn, webhook, received):
    post_ipn(webhook, on_payment())  # unsigned
    run_tasks()
    assert received == []


@pytest.mark.django_db
def test_an_event_pruned_before_the_worker_came_is_skipped(post_ipn, webhook, received):
    post_ipn(webhook, signed(on_payment()))
    follow_up()
    assert DBTaskResult.objects.exists()  # queued
    Event.objects.all().delete()
    run_tasks()
    assert received == []


@pytest.mark.django_db
def test_failing_receiver_is_recorded_and_answer_stays_ok(
    post_ipn, webhook, failing_receiver, received, caplog
):
    response = post_ipn(webhook, signed(on_payment()))
    assert response.content == b"OK"
    run_tasks()
    event = Event.objects.get()
    assert "RuntimeError: CRM is down" in event.signal_error
    assert "explode" in event.signal_error
    assert len(received) == 1  # the other receiver still ran
    assert any("CRM is down" in str(r.exc_info) for r in caplog.records if r.exc_info)
