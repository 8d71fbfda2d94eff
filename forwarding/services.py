"""Workflows of forwarding: routing a stored event to its destinations, one delivery attempt,
the retry schedule, and the sweep that recovers deliveries a dead worker left behind.

Durable state is the Delivery row; a django-tasks task only nudges a worker to look at it.
A worker claims due deliveries in a batch with a conditional UPDATE (pending, due, lease expired)
that sets a lease before doing the slow part (conventions #21), so two workers never send the
same attempt, and a task run twice, early or late finds nothing to do. The database backend's
worker does not recover a task left RUNNING by a worker that died, so `deliveries_sweep`
re-queues due deliveries whose lease has expired and whose task is no longer waiting.
"""

import json
import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from forwarding import sender, tasks
from forwarding.models import Attempt, Delivery, Destination
from forwarding.signals import destination_disabled
from webhooks import ipn, samples
from webhooks.models import Event, Webhook
from webhooks.serializers import EventSerializer

logger = logging.getLogger(__name__)

# Waits after each failed attempt (after the first attempt, the second, …), as Svix's schedule:
# seconds, then minutes, then hours; 12 attempts over about 2.8 days. Each is jittered.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *[timedelta(hours=10)] * 6,
)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
# The longest Retry-After (on 429 and 503) that is honoured.
RETRY_AFTER_CAP = timedelta(hours=10)
# 4xx answers that say "try again later" rather than "this will never work".
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
# Deliveries re-queued per sweep; the next sweep takes the rest.
SWEEP_BATCH = 500


def lease() -> timedelta:
    """How long a claimed delivery is a worker's: an attempt takes at most about twice
    DESTINATIONS_TIMEOUT (sender.post), and so does a batch (all sent at once), plus time to
    record it."""
    return timedelta(seconds=3 * settings.DESTINATIONS_TIMEOUT)


def retry_delay(*, attempts: int, retry_after: str | None = None) -> timedelta | None:
    """The wait before the next attempt after `attempts` failed ones, jittered by ±20 % so
    deliveries that failed together do not return together; None when none is left. A
    Retry-After (seconds or an HTTP date) lengthens it, up to RETRY_AFTER_CAP."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - not security
    asked = _parse_retry_after(retry_after)
    if asked is not None:
        delay = max(delay, min(asked, RETRY_AFTER_CAP))
    return delay


def _parse_retry_after(value: str | None) -> timedelta | None:
    """The wait a receiver asks for, or None when it makes no sense. Untrusted: ASCII digits
    only (isdigit() also takes "²", which int() refuses), and more digits than any sensible
    wait mean the cap (a timedelta overflows, and int() refuses over 4300 digits)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = int(value) if len(value) <= 9 else RETRY_AFTER_CAP.total_seconds()
        return timedelta(seconds=seconds)
    try:
        return parsedate_to_datetime(value) - timezone.now()
    except (TypeError, ValueError, OverflowError):
        return None


def deliveries_create(*, events) -> list[Delivery]:
    """Route just-stored events: a pending Delivery per matching active destination and a task
    for each, written in the caller's transaction (the events' follow-up) so that they commit
    with it, once."""
    deliveries = [
        Delivery.new(event=event, destination=destination)
        for event, destination in Destination.objects.routes(events)
    ]
    for delivery in deliveries:
        delivery.task_id = tasks.deliver.enqueue(str(delivery.public_id)).id
    return Delivery.objects.bulk_create(deliveries)


def delivery_retry(*, delivery: Delivery) -> bool:
    """Send a finished (failed) delivery again from the start of the schedule, e.g. after its
    destination was fixed and re-enabled. False when it is still pending."""
    with transaction.atomic():
        result = tasks.deliver.enqueue(str(delivery.public_id))
        retried = (
            Delivery.objects.filter(pk=delivery.pk)
            .exclude(status=Delivery.Status.PENDING)
            .update(
                status=Delivery.Status.PENDING,
                attempts=0,
                next_attempt_at=timezone.now(),
                locked_until=None,
                finished=None,
                task_id=result.id,
            )
        )
        if not retried:
            transaction.set_rollback(True)
    return bool(retried)


def message_body(event) -> bytes:
    """The JSON a destination receives, shaped as Standard Webhooks suggests: `type`,
    `timestamp` (when Digistore24's IPN was received), `sequence` (the event's row id, which
    grows with arrival, for receivers that need an order: deliveries are not sent in order) and
    `data`, the event as the REST API shows it (without sha_sign), with the payload as an
    object."""
    data = dict(EventSerializer(event).data)
    data["payload"] = dict(event.payload_without_signature)
    message = {
        "type": event.event,
        "timestamp": data["received"],
        "sequence": event.pk,
        "data": data,
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


# Due deliveries one worker claims together (the one its task names first) and sends at once,
# a thread each: one claim and one record per batch instead of per delivery, and a slow
# receiver holds one thread, not the worker. All of a batch is sent at the same time, so the
# batch ends within one attempt's time limit, which is what its lease (lease()) allows for.
BATCH = 16
# Its threads start with the first batch (none in processes that never send).
_send_pool = ThreadPoolExecutor(BATCH, thread_name_prefix="forwarding-send")


def delivery_attempt(*, public_id: str) -> str:
    """Make the next attempt of a delivery if it is due and nobody else holds it, along with
    other due deliveries (BATCH); returns what happened, for the task result and the log."""
    now = timezone.now()
    lease_until = now + lease()
    deliveries = _deliveries_claim(public_id=public_id, now=now, lease_until=lease_until)
    if not deliveries:
        return "not due, taken or finished"
    # Bodies are made here: the sending threads make no queries (no connections of their own).
    bodies = [message_body(delivery.event) for delivery in deliveries]
    outcomes = list(_send_pool.map(_attempt_send, deliveries, bodies))
    with transaction.atomic():
        _attempts_record(outcomes, lease_until)
    counts = {}
    for outcome in outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))


def _deliveries_claim(*, public_id: str, now, lease_until) -> list[Delivery]:
    """Lease the delivery `public_id` names and up to BATCH - 1 other due ones nobody holds,
    oldest due first; the tasks still waiting for those others are marked done, as this
    batch sends them (should this worker die, their leases run out and the sweep re-queues
    them). Rows another worker is claiming are skipped (PostgreSQL: SKIP LOCKED; SQLite runs
    one writer at a time)."""
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    )
    with transaction.atomic():
        rows = list(
            due.filter(public_id=public_id)
            .select_for_update(skip_locked=True)
            .values_list("pk", "task_id")
        )
        rows += (
            due.exclude(public_id=public_id)
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", "task_id")[: BATCH - len(rows)]
        )
        if not rows:
            return []
        due.filter(pk__in=[pk for pk, _ in rows]).update(
            locked_until=lease_until, attempts=F("attempts") + 1
        )
        DBTaskResult.objects.filter(
            id__in=[task_id for _, task_id in rows if task_id], status=TaskResultStatus.READY
        ).update(
            status=TaskResultStatus.SUCCESSFUL,
            finished_at=now,
            return_value="claimed by a batch",
        )
    return list(
        Delivery.objects.select_related("destination", "event__webhook").filter(
            pk__in=[pk for pk, _ in rows], locked_until=lease_until
        )
    )


@dataclass
class _Sent:
    """One attempt's result, recorded with its batch's (_attempts_record)."""

    delivery: Delivery
    outcome: str
    started: datetime | None = None
    duration_ms: int = 0
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    delay: timedelta | None = None


def _attempt_send(delivery: Delivery, body: bytes) -> _Sent:
    """Send one claimed delivery and judge the answer (runs in a sending thread: no queries)."""
    destination = delivery.destination
    if not destination.active:
        return _Sent(delivery, Delivery.Status.FAILED, error="destination is disabled")
    started, clock = timezone.now(), time.monotonic()
    answer, error, permanent = None, "", False
    try:
        answer = sender.post(
            url=destination.url,
            body=body,
            msg_id=delivery.message_id,
            secrets=destination.signing_secrets(),
        )
    except sender.UnsafeURL as exc:
        error, permanent = f"refused: {exc}", True
    except sender.SendError as exc:
        error = str(exc)
    duration_ms = int((time.monotonic() - clock) * 1000)

    status = answer.status if answer else None
    outcome, delay = Delivery.Status.SUCCEEDED, None
    if answer and 300 <= status < 400:
        error = "redirect not followed"
    elif answer and 400 <= status < 500 and status not in RETRYABLE_4XX:
        error, permanent = f"HTTP {status}: not retried", True
    elif answer and not 200 <= status < 300:
        error = f"HTTP {status}"
    if error:
        if not permanent:
            retry_after = answer.retry_after if answer else None
            delay = retry_delay(attempts=delivery.attempts, retry_after=retry_after)
        outcome = Delivery.Status.PENDING if delay else Delivery.Status.FAILED
    return _Sent(
        delivery,
        outcome,
        started=started,
        duration_ms=duration_ms,
        status_code=status,
        excerpt=answer.excerpt if answer else "",
        error=error,
        delay=delay,
    )


def _attempts_record(batch: list[_Sent], lease_until) -> None:
    """Store a batch's attempts and move each delivery on; deliveries whose lease another
    worker took over in the meantime are left to it."""
    Attempt.objects.bulk_create(
        Attempt(
            delivery=sent.delivery,
            number=sent.delivery.attempts,
            started=sent.started,
            duration_ms=sent.duration_ms,
            status_code=sent.status_code,
            response_excerpt=sent.excerpt,
            error=sent.error,
        )
        for sent in batch
        if sent.started is not None  # a disabled destination's delivery was not attempted
    )
    finished: dict[tuple, list[int]] = {}
    for sent in batch:
        if sent.outcome == Delivery.Status.PENDING:
            _reschedule(
                sent.delivery,
                lease_until,
                status_code=sent.status_code,
                error=sent.error,
                after=sent.delay,
            )
        else:
            key = (sent.outcome, sent.status_code, sent.error)
            finished.setdefault(key, []).append(sent.delivery.pk)
    for (status, status_code, error), pks in finished.items():
        _finish(pks, lease_until, status, status_code=status_code, error=error)
    # Per destination: one success in the batch means it answers.
    health: dict[int, tuple[Destination, bool]] = {}
    for sent in batch:
        if sent.started is not None:
            destination = sent.delivery.destination
            _, before = health.get(destination.pk, (destination, False))
            health[destination.pk] = (destination, before or sent.outcome == "succeeded")
    for destination, succeeded in health.values():
        _record_health(destination, succeeded=succeeded)


def _finish(pks: list[int], lease_until, status, *, status_code=None, error="") -> None:
    """End deliveries, except those another worker has taken over since (lease lost)."""
    Delivery.objects.filter(pk__in=pks, locked_until=lease_until).update(
        status=status,
        next_attempt_at=None,
        locked_until=None,
        last_status_code=status_code,
        last_error=error,
        finished=timezone.now(),
    )


def _reschedule(delivery, lease_until, *, status_code, error, after: timedelta) -> None:
    """Queue the next attempt (the task waits until it is due) and release the lease."""
    due = timezone.now() + after
    with transaction.atomic():
        result = tasks.deliver.using(run_after=due).enqueue(str(delivery.public_id))
        released = Delivery.objects.filter(pk=delivery.pk, locked_until=lease_until).update(
            next_attempt_at=due,
            locked_until=None,
            last_status_code=status_code,
            last_error=error,
            task_id=result.id,
        )
        if not released:  # another worker took over after our lease ran out: it queues
            transaction.set_rollback(True)


def _record_health(destination: Destination, *, succeeded: bool) -> None:
    """Track how long a destination has been failing; disable it after DISABLE_AFTER without
    a success, and tell whoever listens (destination_disabled) once the transaction commits."""
    now = timezone.now()
    mine = Destination.objects.filter(pk=destination.pk)
    if succeeded:
        mine.exclude(failing_since=None).update(failing_since=None)
        return
    mine.filter(failing_since=None).update(failing_since=now)
    hours = destination.DISABLE_AFTER.total_seconds() / 3600
    reason = f"every attempt failed for {hours:g} hours"
    disabled = mine.filter(active=True, failing_since__lte=now - destination.DISABLE_AFTER).update(
        active=False, disabled_reason=reason, disabled_at=now
    )
    if disabled:
        logger.error("destination %s disabled: %s", destination.public_id, reason)
        transaction.on_commit(
            lambda: destination_disabled.send_robust(
                sender=Destination, destination=destination, reason=reason
            )
        )


def deliveries_sweep() -> int:
    """Re-queue deliveries that are due, not held by a live lease and have no task waiting:
    those whose worker died mid-attempt (its task stays RUNNING forever) or whose task row is
    gone. Returns how many were re-queued."""
    now = timezone.now()
    waiting = DBTaskResult.objects.filter(id=OuterRef("task_id"), status=TaskResultStatus.READY)
    stranded = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .exclude(Exists(waiting))
        .values_list("pk", "public_id", "task_id")[:SWEEP_BATCH]
    )
    requeued = 0
    for pk, public_id, task_id in stranded:
        with transaction.atomic():
            result = tasks.deliver.enqueue(str(public_id))
            # Conditional on the task it had, so a concurrent sweep re-queues it only once.
            if Delivery.objects.filter(pk=pk, task_id=task_id).update(task_id=result.id):
                requeued += 1
            else:
                transaction.set_rollback(True)
    if requeued:
        logger.warning("re-queued %d delivery(ies) left behind by a stopped worker", requeued)
    return requeued


def sweep_ensure(*, after: float = 0.0) -> bool:
    """Queue a sweep unless one is already waiting; True when it queued one. Called when a
    worker starts and after every sweep, so the chain of sweeps survives any worker dying."""
    if DBTaskResult.objects.filter(
        task_path=tasks.sweep.module_path, status=TaskResultStatus.READY
    ).exists():
        return False
    tasks.sweep.using(run_after=timezone.now() + timedelta(seconds=after)).enqueue()
    return True


# --- Started by people (the admin, the API) ----------------------------------------------------

# Most events one replay sends: a replay runs in the request, and a larger backlog is better
# sent in a few ranges than queued at once.
REPLAY_MAX = 1000


def deliveries_retry(*, deliveries) -> int:
    """Retry now: send failed deliveries again, from the start of the retry schedule (the
    destination was probably fixed); returns how many. Succeeded and pending ones are left
    alone."""
    return sum(
        delivery_retry(delivery=delivery)
        for delivery in deliveries
        if delivery.status == Delivery.Status.FAILED
    )


@dataclass(frozen=True)
class Replay:
    """What a replay did, or why it did nothing (`refused`)."""

    created: int = 0
    requeued: int = 0
    left_alone: int = 0
    refused: str = ""


def destination_replay(
    *, destination: Destination, since: datetime, until: datetime, resend_delivered: bool = False
) -> Replay:
    """Send the destination the events received in [since, until) that it takes: a new delivery
    for each event it never got, failed deliveries again (and with `resend_delivered`,
    succeeded ones too). Pending ones are under way and left alone. Receivers see the same
    webhook-id as before, so those that de-duplicate stay safe. At most REPLAY_MAX events: a
    larger range is refused whole rather than cut somewhere the person did not choose."""
    if not destination.active:
        return Replay(refused=f"{destination.name} is disabled; enable it first.")
    if since >= until:
        return Replay(refused="The range is empty: its start must be before its end.")
    events = list(
        destination_events(destination=destination)
        .filter(received__gte=since, received__lt=until)
        .order_by("received", "id")[: REPLAY_MAX + 1]
    )
    if len(events) > REPLAY_MAX:
        return Replay(
            refused=f"More than {REPLAY_MAX} events in that range; replay at most {REPLAY_MAX} "
            "at a time (choose a shorter range)."
        )
    again = {Delivery.Status.FAILED}
    if resend_delivered:
        again.add(Delivery.Status.SUCCEEDED)
    existing = list(Delivery.objects.filter(destination=destination, event__in=events))
    delivered = {delivery.event_id for delivery in existing}
    new = [
        Delivery.new(event=event, destination=destination)
        for event in events
        if event.pk not in delivered
    ]
    with transaction.atomic():
        for delivery in new:
            delivery.task_id = tasks.deliver.enqueue(str(delivery.public_id)).id
        # A concurrent replay may have made some of them: the unique constraint keeps its
        # rows, and the tasks queued here for ours find nothing to send.
        Delivery.objects.bulk_create(new, ignore_conflicts=True)
    requeued = sum(
        delivery_retry(delivery=delivery) for delivery in existing if delivery.status in again
    )
    return Replay(created=len(new), requeued=requeued, left_alone=len(existing) - requeued)


def destination_events(*, destination: Destination):
    """The events a destination takes, as a query: Destination.matches() in SQL, for replays,
    which look at a range of the event log rather than at one event."""
    events = Event.objects.filter(scope=Event.Scope.ACCEPTED)
    if destination.webhook_id is not None:
        events = events.filter(webhook_id=destination.webhook_id)
    if destination.event_types:
        events = events.filter(event__in=destination.event_types)
    if destination.mode == Destination.Mode.TEST:
        events = events.filter(api_mode="test")
    elif destination.mode == Destination.Mode.LIVE:
        events = events.exclude(api_mode="test")
    return events


@dataclass(frozen=True)
class TestSend:
    """What came back from a test event: an HTTP answer, or why there was none."""

    event: str
    status: int | None = None
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def destination_send_test(*, destination: Destination) -> TestSend:
    """POST a synthetic event (a sample of the first event type the destination takes, marked
    api_mode=test) to the destination now, signed and shaped like every delivery, and report
    the answer. Nothing is stored: the event is not in the log and no delivery is recorded."""
    name = (destination.event_types or ["on_payment"])[0]
    params = samples.BY_EVENT[name]()
    now = timezone.now()
    event = Event(
        # Sequence 0: no stored event has it, so a receiver can tell a test apart.
        id=0,
        webhook=destination.webhook or Webhook(name="Test", kind=Webhook.Kind.ALL),
        event=name,
        scope=Event.Scope.ACCEPTED,
        payload=[list(pair) for pair in params.items()],
        payload_hash=ipn.payload_hash(list(params.items())),
        business_key=ipn.business_key(params),
        signature=Event.Signature.VERIFIED,
        received=now,
        last_delivered=now,
        **Event.typed_fields(params),
    )
    try:
        answer = sender.post(
            url=destination.url,
            body=message_body(event),
            msg_id=f"msg_test_{uuid.uuid4().hex}",
            secrets=destination.signing_secrets(),
        )
    except (sender.UnsafeURL, sender.SendError) as exc:
        return TestSend(event=name, error=str(exc))
    return TestSend(event=name, status=answer.status, excerpt=answer.excerpt[:200])


def destination_enable(*, destination: Destination) -> None:
    """Take a destination back into service with a clean slate: the failure streak that
    disabled it is forgotten, so it gets a full day again before it can be disabled."""
    destination.active = True
    destination.failing_since = None
    destination.disabled_reason = ""
    destination.disabled_at = None
    destination.save(
        update_fields=["active", "failing_since", "disabled_reason", "disabled_at", "updated"]
    )


def destination_notify_disabled(*, destination: Destination, reason: str) -> int:
    """Tell the admins by email that a destination was disabled, and what to do."""
    link = reverse("admin:forwarding_destination_change", args=[destination.pk])
    return admins_notify(
        subject=f"Forwarding to {destination.name} was disabled",
        message=(
            f"The destination {destination.name} ({destination.url}) was disabled: {reason}.\n\n"
            "Events are no longer forwarded to it. Fix the receiver, enable the destination "
            "again, then replay the events it missed:\n"
            f"{settings.SITE_URL}{link}\n"
        ),
    )


def admins_notify(*, subject: str, message: str) -> int:
    """Email the people responsible for this server: settings.ADMINS and every active
    superuser with an email address, through Django's mail settings (EMAIL_URL). Returns how
    many messages went out (0 when nobody is set up to be told)."""
    recipients = {address for _, address in settings.ADMINS}
    recipients |= set(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    return send_mail(
        settings.EMAIL_SUBJECT_PREFIX + subject,
        message,
        None,  # DEFAULT_FROM_EMAIL
        sorted(recipients),
    )
