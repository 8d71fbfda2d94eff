"""Workflows of forwarding that people start from the admin and the API: replaying a time range
to a destination, a test event, enabling a destination again, and telling the admins."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from forwarding import sender, tasks
from forwarding.models import Delivery, Destination
from webhooks import ipn, samples
from webhooks.models import Event, Webhook

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
