"""Forwarding end to end in one process: an IPN is stored, its follow-up (as a worker runs it)
queues its deliveries, and the queued tasks (run as a worker runs them) POST signed JSON to real
HTTP receivers on 127.0.0.1, retrying on the schedule."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook as StandardWebhook

from forwarding import services, tasks
from forwarding.models import Attempt, Delivery, Destination
from forwarding.signals import destination_disabled
from tests.conftest import follow_up, on_payment, run_tasks, signed
from webhooks.models import Event, InboundIPN
from webhooks.services import events_follow_up
from webhooks.signals import events_stored

pytestmark = pytest.mark.django_db


def destination(url, **fields) -> Destination:
    return Destination.objects.create(name=fields.pop("name", "CRM"), url=url, **fields)


def make_due():
    """Let the clock jump to the next attempt: everything scheduled is due now."""
    now = timezone.now()
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(next_attempt_at=now)
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(run_after=now)


def test_an_event_reaches_two_destinations_signed_per_standard_webhooks(
    post_ipn, webhook, receivers
):
    crm, shop = receivers(), receivers()
    first, second = destination(crm.url), destination(shop.url, name="Shop")

    assert post_ipn(webhook, signed(on_payment())).content == b"OK"
    assert crm.requests == shop.requests == []  # nothing is sent in the request
    run_tasks()

    event = Event.objects.get()
    for receiver, dest in ((crm, first), (shop, second)):
        [request] = receiver.requests
        message = StandardWebhook(dest.secret).verify(request.body, request.headers)
        assert message["type"] == "on_payment"
        assert message["sequence"] == event.pk
        assert message["timestamp"] == message["data"]["received"]
        assert message["data"]["id"] == str(event.public_id)
        assert message["data"]["order_id"] == "ABC123XY"
        assert message["data"]["payload"]["product_name"] == "Online-Kurs Jörg"
        assert "sha_sign" not in message["data"]["payload"]  # it would let them replay it
        assert request.headers["content-type"] == "application/json"
    assert crm.requests[0].headers["webhook-id"] != shop.requests[0].headers["webhook-id"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    attempt = Attempt.objects.filter(delivery__destination=first).get()
    assert (attempt.status_code, attempt.response_excerpt, attempt.error) == (200, "ok", "")


def test_a_signature_with_a_wrong_secret_does_not_verify(post_ipn, webhook, receiver):
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    [request] = receiver.requests
    other = Destination(name="x", url=receiver.url).secret
    with pytest.raises(Exception, match="No matching signature"):
        StandardWebhook(other).verify(request.body, request.headers)


def test_failing_twice_then_succeeding_arrives_on_the_third_attempt_with_the_same_id(
    post_ipn, webhook, receiver
):
    receiver.answer(500, 503, 200)
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    # The next attempt waits (first retry after about 5 s): running due tasks now sends nothing.
    assert delivery.next_attempt_at > Attempt.objects.get().started
    run_tasks()
    assert len(receiver.requests) == 1

    make_due()
    run_tasks()
    make_due()
    run_tasks()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.message_id] * 3
    assert list(delivery.attempt_set.order_by("number").values_list("status_code", flat=True)) == [
        500,
        503,
        200,
    ]


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_a_permanent_4xx_fails_at_once(post_ipn, webhook, receiver, status):
    receiver.answer(status, body=b"no such hook")
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)
    assert delivery.last_error == f"HTTP {status}: not retried"
    assert delivery.attempt_set.get().response_excerpt == "no such hook"


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 302])
def test_other_answers_are_retried(post_ipn, webhook, receiver, status):
    receiver.answer(status, headers={"Location": receiver.url + "/elsewhere"})
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", status)
    assert [r.path for r in receiver.requests] == ["/hook"]  # a redirect is not followed


def test_retry_after_is_honoured(post_ipn, webhook, receiver):
    receiver.answer(429, headers={"Retry-After": "600"})
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    delivery = Delivery.objects.get()
    started = delivery.attempt_set.get().started
    assert delivery.next_attempt_at - started >= timedelta(seconds=600)
    task = DBTaskResult.objects.get(id=delivery.task_id)
    assert task.run_after == delivery.next_attempt_at


@pytest.mark.parametrize("retry_after", ["9" * 30, "\u00b2", "Wed, 21 Oct 2015 07:28:00"])
def test_an_absurd_retry_after_is_ignored_not_a_crash(post_ipn, webhook, receiver, retry_after):
    """A receiver's Retry-After is untrusted: more seconds than a timedelta holds, a digit int()
    refuses (latin-1 "\u00b2" passes isdigit()), a date without a zone. Each attempt is recorded
    and the delivery stays on the schedule (capped), rather than the task crashing."""
    receiver.answer(503, headers={"Retry-After": retry_after})
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    delivery = Delivery.objects.get()
    assert delivery.attempt_set.get().status_code == 503
    assert delivery.status == "pending"
    wait = delivery.next_attempt_at - delivery.attempt_set.get().started
    assert timedelta(seconds=3) < wait <= services.RETRY_AFTER_CAP + timedelta(seconds=1)


def test_after_the_last_attempt_the_delivery_fails(post_ipn, webhook, receiver):
    receiver.answer(500)
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    for _ in range(services.MAX_ATTEMPTS):
        run_tasks()
        make_due()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", services.MAX_ATTEMPTS)
    assert delivery.attempt_set.count() == services.MAX_ATTEMPTS == len(receiver.requests)
    make_due()
    run_tasks()
    assert len(receiver.requests) == services.MAX_ATTEMPTS  # nothing more is sent


def test_the_schedule_spans_about_three_days_starting_within_seconds():
    first = services.retry_delay(attempts=1)
    assert timedelta(seconds=4) <= first <= timedelta(seconds=6)
    total = sum(services.RETRY_DELAYS, timedelta())
    assert timedelta(days=2.5) < total < timedelta(days=3.5)
    assert services.retry_delay(attempts=services.MAX_ATTEMPTS) is None
    capped = services.retry_delay(attempts=1, retry_after=str(7 * 86400))
    assert capped == services.RETRY_AFTER_CAP


def test_destinations_filter_by_webhook_event_type_and_mode(post_ipn, webhook, receiver):
    from webhooks.services import webhook_create

    other = webhook_create(name="Other", kind="payments", passphrase="x" * 20)
    destination(receiver.url, name="all")
    destination(receiver.url, name="other webhook", webhook=other)
    destination(receiver.url, name="refunds only", event_types=["on_refund"])
    destination(receiver.url, name="test only", mode=Destination.Mode.TEST)
    destination(receiver.url, name="live only", mode=Destination.Mode.LIVE)
    destination(receiver.url, name="paused", active=False)

    post_ipn(webhook, signed(on_payment()), follow=False)  # live on_payment
    post_ipn(webhook, signed({"event": "connection_test"}), follow=False)  # never forwarded
    assert follow_up() == 2
    routed = sorted(Delivery.objects.values_list("destination__name", flat=True))
    assert routed == ["all", "live only"]


def test_deliveries_commit_or_roll_back_with_the_follow_up(post_ipn, webhook, receiver):
    destination(receiver.url)

    def fail(sender, events, **kwargs):
        raise DatabaseError("disk full")

    events_stored.connect(fail)
    try:
        assert post_ipn(webhook, signed(on_payment()), follow=False).status_code == 200  # kept: OK
        with pytest.raises(DatabaseError):
            events_follow_up()
    finally:
        events_stored.disconnect(fail)
    assert not Event.objects.exists()  # the event goes in with its deliveries, or not at all
    assert not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert InboundIPN.objects.count() == 1  # still waiting: the next worker takes it
    assert events_follow_up() == 1
    assert Delivery.objects.count() == 1
    assert not InboundIPN.objects.exists()


def test_a_destination_failing_for_a_day_is_disabled_and_reported(
    post_ipn, webhook, receiver, django_capture_on_commit_callbacks
):
    receiver.answer(500)
    dest = destination(receiver.url)
    Destination.objects.filter(pk=dest.pk).update(
        failing_since=timezone.now() - timedelta(days=1, minutes=1)
    )
    told = []

    def tell(sender, destination, reason, **kwargs):
        told.append((destination.pk, reason))

    destination_disabled.connect(tell)
    try:
        post_ipn(webhook, signed(on_payment()))
        with django_capture_on_commit_callbacks(execute=True):
            run_tasks()
    finally:
        destination_disabled.disconnect(tell)
    dest.refresh_from_db()
    assert not dest.active
    assert told == [(dest.pk, dest.disabled_reason)]
    assert dest.disabled_reason == "every attempt failed for 24 hours"
    make_due()
    run_tasks()  # its pending delivery fails without another request
    assert Delivery.objects.get().status == "failed"
    assert len(receiver.requests) == 1


def test_a_success_clears_the_failing_mark(post_ipn, webhook, receiver):
    receiver.answer(500, 200)
    dest = destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    dest.refresh_from_db()
    assert dest.failing_since is not None
    make_due()
    run_tasks()
    dest.refresh_from_db()
    assert dest.failing_since is None and dest.active


def test_a_rotated_secret_signs_alongside_the_old_one_during_the_grace(post_ipn, webhook, receiver):
    dest = destination(receiver.url)
    old = dest.secret
    new = dest.rotate_secret()
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        StandardWebhook(secret).verify(request.body, request.headers)

    Destination.objects.filter(pk=dest.pk).update(previous_secret_until=timezone.now())
    post_ipn(webhook, signed(on_payment(order_id="SECOND")))
    run_tasks()
    StandardWebhook(new).verify(receiver.requests[1].body, receiver.requests[1].headers)
    with pytest.raises(Exception, match="No matching signature"):
        StandardWebhook(old).verify(receiver.requests[1].body, receiver.requests[1].headers)


def test_the_sweep_requeues_a_delivery_whose_worker_died(post_ipn, webhook, receiver):
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    follow_up()
    delivery = Delivery.objects.get()
    # A worker took the task and claimed the delivery, then died: the task stays RUNNING.
    DBTaskResult.objects.filter(id=delivery.task_id).update(status=TaskResultStatus.RUNNING)
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=1, locked_until=timezone.now() + timedelta(minutes=1)
    )
    assert services.deliveries_sweep() == 0  # the lease still holds
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now())
    assert services.deliveries_sweep() == 1
    assert services.deliveries_sweep() == 0  # its new task is waiting: no second one
    run_tasks()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert len(receiver.requests) == 1


def test_one_sweep_waits_at_a_time():
    assert services.sweep_ensure(after=60)
    assert not services.sweep_ensure()
    assert DBTaskResult.objects.filter(task_path="forwarding.tasks.sweep").count() == 1


def test_a_failed_delivery_can_be_retried(post_ipn, webhook, receiver):
    receiver.answer(404, 200)
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert services.delivery_retry(delivery=delivery)
    assert not services.delivery_retry(delivery=delivery)  # pending now
    run_tasks()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


def test_one_task_sends_the_other_due_deliveries_in_its_batch(post_ipn, webhook, receiver):
    """A worker claims due deliveries together and sends them at once: the tasks queued for
    the others are done, and running them sends nothing twice."""
    destination(receiver.url)
    for n in range(3):
        post_ipn(webhook, signed(on_payment(order_id=f"O{n}")))
    follow_up()
    first = Delivery.objects.order_by("id").first()
    assert tasks.deliver.call(str(first.public_id)) == "succeeded: 3"
    assert set(Delivery.objects.values_list("status", "attempts")) == {("succeeded", 1)}
    others = Delivery.objects.exclude(pk=first.pk).values_list("task_id", flat=True)
    assert set(DBTaskResult.objects.filter(id__in=others).values_list("status", flat=True)) == {
        TaskResultStatus.SUCCESSFUL
    }
    run_tasks()  # the first delivery's own task finds nothing left to send
    assert len(receiver.requests) == 3
    assert Attempt.objects.count() == 3


def test_a_batch_takes_its_own_delivery_then_the_oldest_due(
    monkeypatch, post_ipn, webhook, receiver
):
    monkeypatch.setattr(services, "BATCH", 2)
    destination(receiver.url)
    for n in range(3):
        post_ipn(webhook, signed(on_payment(order_id=f"O{n}")))
    follow_up()
    oldest, middle, newest = Delivery.objects.order_by("id")
    tasks.deliver.call(str(newest.public_id))
    sent = {r.headers["webhook-id"] for r in receiver.requests}
    assert sent == {oldest.message_id, newest.message_id}
    middle.refresh_from_db()
    assert (middle.status, middle.attempts) == ("pending", 0)
    assert DBTaskResult.objects.get(id=middle.task_id).status == TaskResultStatus.READY


def test_deliver_looks_for_a_waiting_sweep_once_per_interval(
    monkeypatch, settings, post_ipn, webhook, receiver
):
    """Not a query per delivery: a lost sweep is replaced within an interval all the same."""
    settings.DESTINATIONS_SWEEP_INTERVAL = 60
    monkeypatch.setattr(tasks, "_sweep_checked", float("-inf"))
    sweeps = DBTaskResult.objects.filter(task_path="forwarding.tasks.sweep")
    destination(receiver.url)
    post_ipn(webhook, signed(on_payment(order_id="O1")))
    run_tasks()
    assert sweeps.filter(status=TaskResultStatus.READY).count() == 1
    sweeps.delete()  # lost with a dead worker
    post_ipn(webhook, signed(on_payment(order_id="O2")))
    run_tasks()
    assert not sweeps.exists()
    monkeypatch.setattr(tasks, "_sweep_checked", float("-inf"))  # an interval later
    post_ipn(webhook, signed(on_payment(order_id="O3")))
    run_tasks()
    assert sweeps.filter(status=TaskResultStatus.READY).count() == 1
