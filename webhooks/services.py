"""Workflows around webhooks: storing an IPN exactly once, recording rejections, telling app
code about new events, creating webhooks."""

import logging

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from webhooks import ipn
from webhooks.models import Event, RejectedDelivery, Webhook
from webhooks.signals import ipn_received

logger = logging.getLogger(__name__)


def ipn_store(
    *,
    webhook: Webhook,
    pairs: list[tuple[str, str]],
    signature: str,
    sender_ip: str | None,
) -> Event | None:
    """Store a verified IPN; returns the new Event, or None when it was a redelivery.

    The unique constraint on (webhook, payload_hash) decides what is a redelivery, so two
    concurrent identical deliveries yield one row on every database: the loser's INSERT fails
    and it counts a delivery on the winner's row instead. Raises DatabaseError when the
    notification could not be stored.
    """
    params = dict(pairs)
    event_name = params.get("event", "")
    if event_name == ipn.CONNECTION_TEST:
        scope = Event.Scope.TEST
    elif webhook.accepts(event_name):
        scope = Event.Scope.ACCEPTED
    else:
        scope = Event.Scope.IGNORED
    digest = ipn.payload_hash(pairs)
    now = timezone.now()

    for attempt in (1, 2):
        try:
            with transaction.atomic():
                event = Event.objects.create(
                    webhook=webhook,
                    event=event_name[: Event._meta.get_field("event").max_length],
                    scope=scope,
                    payload=[list(pair) for pair in pairs],
                    payload_hash=digest,
                    business_key=ipn.business_key(params),
                    signature=signature,
                    sender_ip=sender_ip,
                    received=now,
                    last_delivered=now,
                    **Event.typed_fields(params),
                )
                Webhook.objects.filter(pk=webhook.pk).update(
                    event_count=F("event_count") + 1, last_received=now
                )
            return event
        except IntegrityError:
            if attempt == 2:
                raise
        with transaction.atomic():
            redelivered = Event.objects.filter(webhook=webhook, payload_hash=digest).update(
                delivery_count=F("delivery_count") + 1, last_delivered=now
            )
            if redelivered:
                Webhook.objects.filter(pk=webhook.pk).update(last_received=now)
                return None
        # The row that conflicted is gone (pruned in between): store this one after all.
    raise AssertionError("unreachable")


def event_notify(*, event: Event) -> list[Exception]:
    """Send `ipn_received` for a committed event; record on it what any receiver raised.

    Returns the receivers' errors. Used by the receiver and by replays.
    """
    errors = []
    for receiver, result in ipn_received.send_robust(sender=Event, event=event):
        if isinstance(result, Exception):
            name = getattr(receiver, "__qualname__", repr(receiver))
            logger.error(
                "ipn_received receiver %s failed for event %s", name, event.pk, exc_info=result
            )
            errors.append(f"{name}: {type(result).__name__}: {result}")
    outcome = "\n".join(errors)
    if outcome != event.signal_error:
        event.signal_error = outcome
        try:
            Event.objects.filter(pk=event.pk).update(signal_error=outcome)
        except DatabaseError:
            logger.exception("could not record receiver errors on event %s", event.pk)
    return errors


def delivery_reject(
    *,
    webhook: Webhook,
    status_code: int,
    reason: str,
    content_type: str,
    body: bytes,
    sender_ip: str | None,
) -> None:
    """Keep a turned-away delivery for the vendor to inspect. Never raises: the sender gets
    its rejection whether or not this could be written."""
    logger.warning("webhook %s rejected a delivery from %s: %s", webhook.pk, sender_ip, reason)
    try:
        with transaction.atomic():
            RejectedDelivery.objects.create(
                webhook=webhook,
                sender_ip=sender_ip,
                status_code=status_code,
                reason=reason[: RejectedDelivery._meta.get_field("reason").max_length],
                content_type=content_type[:255],
                body=body,
            )
            Webhook.objects.filter(pk=webhook.pk).update(rejected_count=F("rejected_count") + 1)
    except DatabaseError:
        logger.exception("could not record a rejected delivery for webhook %s", webhook.pk)


def webhook_create(
    *,
    name: str,
    kind: str,
    passphrase: str | None = None,
    unsigned: bool = False,
    events: list[str] | None = None,
) -> Webhook:
    """A new webhook with its kind's default events. Without `passphrase` one is generated,
    unless `unsigned`, which makes a webhook that takes IPNs without a signature."""
    webhook = Webhook(
        name=name,
        kind=kind,
        events=list(events if events is not None else ipn.KIND_DEFAULT_EVENTS[kind]),
        accept_unsigned=unsigned,
    )
    if unsigned:
        webhook.passphrase = ""
    elif passphrase is not None:
        webhook.passphrase = passphrase
    webhook.full_clean()
    webhook.save()
    return webhook
