"""Destinations (the user's HTTPS endpoints), one Delivery per event and destination, and one
Attempt per HTTP request made for a delivery.

The Delivery row is the durable state of forwarding: a task only nudges a worker to look at it.
A worker claims a delivery with a conditional UPDATE that sets `locked_until` (a lease), so a
delivery is sent by one worker at a time, and a delivery whose worker died becomes claimable
again when its lease runs out (forwarding/tasks.py).
"""

import base64
import secrets
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ds24site.crypto import EncryptedTextField
from ds24site.prepared import PreparedQuery
from forwarding import sender
from webhooks import ipn

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64, the form the
    standardwebhooks libraries take as is."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def message_id(*, event_public_id: uuid.UUID, destination_public_id: uuid.UUID) -> str:
    """The `webhook-id` of an event sent to a destination: derived from both public ids, so it
    is the same on every attempt (receivers de-duplicate on it) and differs per destination."""
    return "msg_" + uuid.uuid5(destination_public_id, str(event_public_id)).hex


class DestinationQuerySet(models.QuerySet):
    def routes(self, events) -> list[tuple[object, "Destination"]]:
        """(event, destination) for every active destination each of `events` goes to,
        whatever this queryset filters. One plain query on a table of a few rows per batch of
        events, compiled once (ds24site.prepared); `matches` does the rest in Python, because
        JSON list lookups differ between SQLite and PostgreSQL and the rows are few. Rows are
        not cached between batches: another process may have just changed a destination."""
        accepted = [event for event in events if event.scope == event.Scope.ACCEPTED]
        if not accepted:
            return []
        destinations = list(_active_destinations())
        return [
            (event, destination)
            for event in accepted
            for destination in destinations
            if destination.matches(event)
        ]


class Destination(models.Model):
    """An HTTPS endpoint of the user's that receives events as signed JSON (Standard Webhooks).

    Holds a secret: `secret` (and `previous_secret` during a rotation's grace period) are stored
    encrypted and must be redacted wherever they are not deliberately revealed.
    """

    class Mode(models.TextChoices):
        BOTH = "both", "Live and test"
        LIVE = "live", "Live only"
        TEST = "test", "Test only"

    # A destination whose deliveries have failed without a success for this long is disabled.
    DISABLE_AFTER = timedelta(days=1)
    # How long the old secret keeps signing after a rotation, so receivers can switch over.
    ROTATION_GRACE = timedelta(hours=24)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    url = models.URLField(
        max_length=2000,
        help_text="The HTTPS endpoint events are POSTed to. Redirects are not followed.",
    )
    webhook = models.ForeignKey(
        "webhooks.Webhook",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="destinations",
        help_text="Only events received by this webhook; empty: every webhook's.",
    )
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text="Digistore24 events to forward; empty: all of them.",
    )
    mode = models.CharField(
        max_length=4,
        choices=Mode.choices,
        default=Mode.BOTH,
        help_text="Live events (api_mode=live), test purchases (api_mode=test), or both.",
    )
    secret = EncryptedTextField(default=new_secret, editable=False)
    previous_secret = EncryptedTextField(blank=True, default="", editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True)
    # Why and when it was disabled automatically (or by a person); cleared on re-enabling.
    disabled_reason = models.CharField(max_length=255, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # The first failed attempt since the last success; None while it is healthy.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = DestinationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # No index beyond the primary key and webhook: the receiver reads the whole (tiny)
        # table of active destinations per event.

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            sender.check_url(self.url)
        except sender.UnsafeURL as exc:
            errors["url"] = str(exc)
        if not isinstance(self.event_types, list):
            errors["event_types"] = "A list of Digistore24 events."
        elif unknown := sorted(set(map(str, self.event_types)) - set(ipn.KNOWN_EVENTS)):
            errors["event_types"] = f"Unknown events: {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)

    def matches(self, event) -> bool:
        """Whether this destination takes the event (ignoring `active`)."""
        if self.webhook_id is not None and self.webhook_id != event.webhook_id:
            return False
        if self.event_types and event.event not in self.event_types:
            return False
        # DS24 marks test purchases api_mode=test; anything else counts as live.
        event_mode = self.Mode.TEST if event.api_mode == "test" else self.Mode.LIVE
        return self.mode in (self.Mode.BOTH, event_mode)

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one while
        its grace period lasts (Standard Webhooks sends one signature per secret)."""
        now = now or timezone.now()
        keys = [self.secret]
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now:
            keys.append(self.previous_secret)
        return keys

    def rotate_secret(self, grace: timedelta | None = None) -> str:
        """A new signing secret; the old one keeps signing (alongside) for `grace`. Returns the
        new secret, to be shown once."""
        self.previous_secret = self.secret
        self.previous_secret_until = timezone.now() + (
            self.ROTATION_GRACE if grace is None else grace
        )
        self.secret = new_secret()
        self.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated"])
        return self.secret

    class Status(models.TextChoices):
        HEALTHY = "healthy", "Healthy"
        FAILING = "failing", "Failing"
        DISABLED = "disabled", "Disabled"

    @property
    def status(self) -> str:
        """Disabled when inactive (by a person, or automatically after failing for a day);
        failing while deliveries fail without a success since; healthy otherwise."""
        if not self.active:
            return self.Status.DISABLED
        if self.failing_since is not None:
            return self.Status.FAILING
        return self.Status.HEALTHY

    @property
    def secret_hint(self) -> str:
        """The secret redacted, for pages that must not show it: `whsec_…` and its last 4."""
        return f"{SECRET_PREFIX}…{self.secret[-4:]}"


class Delivery(models.Model):
    """One event to one destination: pending until a 2xx answer (succeeded) or until the retry
    schedule is exhausted or the answer is a permanent error (failed)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(
        "webhooks.Event", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # The `webhook-id` header: the same on every attempt (see message_id()); unique, which
    # also serves the search for the id a receiver reports.
    message_id = models.CharField(max_length=40, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Attempts started (counted when claimed, so one whose worker died counts too).
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due; None once finished.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # The lease of the worker sending it now; another worker may claim it once this passes.
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The django-tasks result (DBTaskResult id) of the task queued for the next attempt; the
    # sweeper re-queues a due delivery whose task is no longer waiting to run.
    task_id = models.UUIDField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            # One delivery per event and destination, however often the event is routed.
            # Also serves an event's deliveries (the event column leads).
            models.UniqueConstraint(
                fields=["event", "destination"], name="delivery_unique_event_destination"
            ),
        ]
        indexes = [
            # The sweeper: pending deliveries that are due (partial: finished rows stay out).
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_due",
                condition=Q(status="pending"),
            ),
            # The deliveries list, newest first; a destination's deliveries, newest first.
            models.Index(fields=["-created"], name="delivery_created"),
            models.Index(fields=["destination", "-created"], name="delivery_destination_created"),
            # The status filter (failed deliveries to look at, pending ones = queue depth).
            models.Index(fields=["status", "-created"], name="delivery_status_created"),
        ]

    def __str__(self):
        return self.message_id

    @classmethod
    def new(cls, *, event, destination) -> "Delivery":
        """An unsaved pending delivery of `event` to `destination`, with its message id."""
        return cls(
            event=event,
            destination=destination,
            message_id=message_id(
                event_public_id=event.public_id, destination_public_id=destination.public_id
            ),
        )


class Attempt(models.Model):
    """One HTTP request for a delivery. Holds untrusted data: the start of the receiver's
    answer, capped at sender.RESPONSE_EXCERPT_BYTES."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_set", db_index=False
    )
    number = models.PositiveSmallIntegerField()
    started = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField()
    # None when no HTTP answer came (refused address, connection error, timeout).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started", "-id"]
        indexes = [
            # A delivery's attempts, newest first.
            models.Index(fields=["delivery", "-started"], name="attempt_delivery_started"),
        ]

    def __str__(self):
        return f"#{self.number} {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_active_destinations = PreparedQuery(lambda: Destination.objects.filter(active=True))
