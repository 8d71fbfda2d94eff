"""Workflows around webhooks: checking and storing an IPN exactly once, recording and
re-verifying rejections, telling app code about new events (from a worker), creating webhooks."""

import logging
from dataclasses import dataclass
from datetime import datetime

import requests
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.http import parse_header_parameters

from webhooks import ipn, samples, signing, tasks
from webhooks.models import Event, RejectedDelivery, Webhook
from webhooks.signals import event_stored, ipn_received

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class Rejection(Exception):
    """A delivery that is turned away: `status` is the HTTP answer, str() the one-line reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def ipn_verify(
    *, webhook: Webhook, method: str, body: bytes, content_type: str
) -> tuple[list[tuple[str, str]], str]:
    """The parameters of a delivery and its Event.Signature, or a Rejection saying why not.

    The one judgement of a delivery, used by the receiver and by re-verification. A POST
    carries the form in its body; a GET (a "Generic" connection's postback) carries it in its
    query string, given here as `body`, and has no content type to check.
    """
    if not body:
        raise Rejection(400, "no parameters")
    if method != "GET":
        media_type, options = parse_header_parameters(content_type)
        charset = options.get("charset", "utf-8").lower()
        if media_type.lower() != FORM_CONTENT_TYPE or charset not in ("utf-8", "utf8"):
            raise Rejection(415, f"expected {FORM_CONTENT_TYPE} in UTF-8")
    try:
        pairs = ipn.parse_body(body)
    except ipn.MalformedIPN as exc:
        raise Rejection(400, str(exc)) from None
    if webhook.passphrase:
        if not signing.verify(dict(pairs), webhook.passphrase):
            raise Rejection(403, "invalid sha signature")
        return pairs, Event.Signature.VERIFIED
    if webhook.accept_unsigned:
        return pairs, Event.Signature.UNSIGNED
    raise Rejection(403, "webhook has no passphrase")


def ipn_store(
    *,
    webhook: Webhook,
    pairs: list[tuple[str, str]],
    signature: str,
    sender_ip: str | None,
    received: datetime | None = None,
) -> Event | None:
    """Store a verified IPN; returns the new Event, or None when it was a redelivery.

    The unique constraint on (webhook, payload_hash) decides what is a redelivery, so two
    concurrent identical deliveries yield one row on every database: the loser's INSERT fails
    and it counts a delivery on the winner's row instead. Raises DatabaseError when the
    notification could not be stored.

    The follow-up work of a new event is queued in the same transaction (django-tasks'
    database backend: the task rows are an outbox), so once this returns nothing is lost:
    `event_stored` receivers (forwarding's deliveries) and the `ipn_received` notification.
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
    received = received or now

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
                    received=received,
                    last_delivered=now,
                    **Event.typed_fields(params),
                )
                Webhook.objects.filter(pk=webhook.pk).update(
                    event_count=F("event_count") + 1, last_received=now
                )
                event_stored.send(sender=Event, event=event)
                event_notify_later(event=event, unless_unheard=True)
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


def event_notify_later(*, event: Event, unless_unheard: bool = False) -> None:
    """Queue `ipn_received` for the event (webhooks.tasks.notify), in the caller's transaction.
    With `unless_unheard`, only when a receiver is connected: receivers connect at import
    (an AppConfig.ready), the same in the web and the worker processes, and a task per event
    that tells nobody would only cost the receiver a write."""
    if unless_unheard and not ipn_received.has_listeners(sender=Event):
        return
    tasks.notify.enqueue(event.pk)


def event_notify(*, event: Event) -> list[str]:
    """Send `ipn_received` for a committed event; record on it what any receiver raised.

    Returns the receivers' errors, one line each. Runs in a worker (webhooks.tasks.notify),
    queued when the event is stored or replayed.
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
    rejection: Rejection,
    method: str,
    content_type: str,
    body: bytes,
    sender_ip: str | None,
) -> None:
    """Keep a turned-away delivery for the vendor to inspect, at most REJECTED_KEEP per webhook
    (oldest dropped first, so junk cannot fill the disk). Never raises: the sender gets its
    rejection whether or not this could be written."""
    logger.warning("webhook %s rejected a delivery from %s: %s", webhook.pk, sender_ip, rejection)
    now = timezone.now()
    try:
        with transaction.atomic():
            RejectedDelivery.objects.create(
                webhook=webhook,
                received=now,
                sender_ip=sender_ip,
                status_code=rejection.status,
                reason=str(rejection)[: RejectedDelivery._meta.get_field("reason").max_length],
                method=method,
                content_type=content_type[:255],
                body=body,
            )
            Webhook.objects.filter(pk=webhook.pk).update(
                rejected_count=F("rejected_count") + 1, last_rejected=now
            )
        # The counter only grows, so below the cap there is certainly nothing to drop.
        if webhook.rejected_count >= settings.REJECTED_KEEP:
            rejected_prune(webhook=webhook, keep=settings.REJECTED_KEEP)
    except DatabaseError:
        logger.exception("could not record a rejected delivery for webhook %s", webhook.pk)


def rejected_prune(*, webhook: Webhook, keep: int) -> int:
    """Delete all but the newest `keep` rejected deliveries of a webhook; returns how many."""
    newest_first = RejectedDelivery.objects.filter(webhook=webhook).order_by("-id")
    first_doomed = list(newest_first.values_list("id", flat=True)[keep : keep + 1])
    if not first_doomed:
        return 0
    deleted, _ = newest_first.filter(id__lte=first_doomed[0]).delete()
    return deleted


def delivery_reverify(*, delivery: RejectedDelivery) -> Rejection | None:
    """Judge a rejected delivery again (say, after its passphrase was fixed). If it passes now,
    it is stored through the receiver's own path (same de-duplication, original received time)
    and the rejected row goes; otherwise returns why it still fails."""
    webhook = delivery.webhook
    try:
        pairs, signature = ipn_verify(
            webhook=webhook,
            method=delivery.method,
            body=bytes(delivery.body),
            content_type=delivery.content_type,
        )
    except Rejection as rejection:
        return rejection
    with transaction.atomic():
        # Claim the row first: of two concurrent re-verifications only one stores the IPN.
        if not RejectedDelivery.objects.filter(pk=delivery.pk).delete()[0]:
            return None
        ipn_store(
            webhook=webhook,
            pairs=pairs,
            signature=signature,
            sender_ip=delivery.sender_ip,
            received=delivery.received,
        )
    return None


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


@dataclass(frozen=True)
class TestDelivery:
    """What came back from a test IPN: an HTTP answer, or why there was none."""

    url: str
    event: str
    status: int | None = None
    body: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body.startswith("OK")


def webhook_send_test(*, webhook: Webhook, sample: bool = False) -> TestDelivery:
    """Do what Digistore24's "Test connection" does: sign a connection_test (or, with
    `sample`, a realistic test event of the webhook's kind) with the webhook's passphrase and
    POST it over HTTP to the webhook's own receive URL. Proves SITE_URL, routing, passphrase
    and storage end to end."""
    params = samples.SAMPLE_FOR_KIND[webhook.kind]() if sample else samples.connection_test()
    url = webhook.get_receive_url()
    try:
        response = requests.post(
            url,
            data=samples.signed_body(params, webhook.passphrase),
            headers={"Content-Type": f"{FORM_CONTENT_TYPE}; charset=utf-8"},
            timeout=(3.05, 10),
            allow_redirects=False,  # Digistore24 does not follow them either
        )
    except requests.RequestException as exc:
        return TestDelivery(url=url, event=params["event"], error=_describe(exc))
    return TestDelivery(
        url=url, event=params["event"], status=response.status_code, body=response.text[:200]
    )


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer within 10 seconds"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect (is SITE_URL right, and is this server reachable at it?)"
    return type(exc).__name__
