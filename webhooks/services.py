"""Workflows around webhooks: checking and storing an IPN exactly once, recording and
re-verifying rejections, telling app code about new events (from a worker), creating webhooks,
registering them in Digistore24."""

import dataclasses
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.http import parse_header_parameters

from connections import client as ds24
from connections.models import Connection
from connections.services import connection_call
from ds24site import prepared
from ds24site.db import writer_turn
from webhooks import ipn, receiving, rejected_log, samples, signing, tasks
from webhooks.models import Event, InboundIPN, RejectedDelivery, Webhook, new_domain_id
from webhooks.signals import events_stored, ipn_received

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class Rejection(Exception):
    """A delivery that is turned away: `status` is the HTTP answer, str() the one-line reason.
    `signed`: it carried a signature of Digistore24's form that did not verify, which is what
    Digistore24's own deliveries look like when the passphrases differ."""

    def __init__(self, status: int, reason: str, *, signed: bool = False):
        super().__init__(reason)
        self.status = status
        self.signed = signed


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
        params = dict(pairs)
        if not signing.verify(params, webhook.passphrase):
            raise Rejection(403, "invalid sha signature", signed=signing.looks_signed(params))
        return pairs, Event.Signature.VERIFIED
    if webhook.accept_unsigned:
        return pairs, Event.Signature.UNSIGNED
    raise Rejection(403, "webhook has no passphrase")


def ipn_store(
    *,
    webhook: Webhook,
    body: bytes,
    signature: str,
    sender_ip: str | None,
    received: datetime | None = None,
    remembered: receiving.Remembered | None = None,
) -> bool:
    """Keep a verified IPN (`body`, the form as received: a POST's body or a GET's query
    string, which ipn_verify accepted) for the event log, in one small INSERT. Raises
    DatabaseError when it could not be kept; once this returns True, the IPN is committed.

    Judged with a `remembered` webhook (receiving.recall's), it is kept only while the
    webhook's row is still as remembered, in the same statement; False when it is not, and
    nothing was written.

    A task worker then makes the event of it, or counts it as a redelivery of one, and does
    the rest (events_follow_up), usually within a second; the answer to Digistore24 waits for
    none of that.
    """
    values = {
        "webhook_id": webhook.pk,
        "body": body,
        "signature": signature,
        "sender_ip": sender_ip,
        "received": received or timezone.now(),
    }
    with writer_turn(connection):
        if remembered is not None:
            return receiving.keep_if_unchanged(remembered, values)
        _keep_inbound(values)
        return True


_keep_inbound = prepared.Insert(InboundIPN)


def events_follow_up(*, limit: int = 50) -> int:
    """Put up to `limit` received IPNs into the event log, oldest first, and do what a new
    event sets off; returns how many IPNs it took. Run by the task workers
    (webhooks.follow_up) until it returns 0.

    For each InboundIPN: the event row (typed columns, search keys, the payload's hash) goes
    in, or, when the webhook already has an event with the same payload hash, the delivery
    is counted on it (Event's unique constraint decides, in the same statement: exactly once
    on every database, whatever runs concurrently). Then, for the new events only,
    `events_stored` (the dashboard's roll-ups, forwarding's deliveries) and the queued
    `ipn_received` notification. All in one transaction that also deletes the InboundIPN
    rows, so each IPN is followed up once: if this fails or its worker dies, the rows stay
    for the next call.

    The events are made (parsed, hashed, their columns derived) before the transaction: on
    SQLite it holds the database's one write lock, which the receiver needs for every IPN.
    Inside, only rows still there are taken: another worker may have taken some meanwhile
    (SKIP LOCKED on PostgreSQL, where they may be in flight; on SQLite its commit is seen).
    """
    inbound = list(InboundIPN.objects.order_by("id")[:limit])
    if not inbound:
        return 0
    webhooks = Webhook.objects.in_bulk({row.webhook_id for row in inbound})
    events = {}
    for row in inbound:
        if row.webhook_id not in webhooks:
            continue  # deleted meanwhile: its IPNs go with it (CASCADE)
        try:
            events[row.id] = Event(**_event_values(webhooks[row.webhook_id], row))
        except Exception:
            # It was verified, so this is a bug: the row stays (nothing acknowledged is
            # dropped), the rest of the log goes on, and the dashboard shows it waiting.
            logger.exception("inbound IPN %s cannot be put in the event log", row.id)
    with transaction.atomic():
        taken = list(
            InboundIPN.objects.select_for_update(skip_locked=True)
            .filter(id__in=events)
            .order_by("id")
            .values_list("id", flat=True)
        )
        new = []
        for inbound_id in taken:
            event = events[inbound_id]
            event.id, delivery_count, event.txid = _store_event(vars(event))
            event._state.adding, event._state.db = False, "default"
            if delivery_count == 1:
                new.append(event)
        if new:
            events_stored.send(sender=Event, events=new)
        for event in new:
            event_notify_later(event=event, unless_unheard=True)
        InboundIPN.objects.filter(id__in=taken).delete()
    return len(taken)


def inbound_span() -> tuple[int | None, datetime | None]:
    """The newest waiting InboundIPN's id and when the oldest waiting one was received
    (None, None when none waits): two reads of the primary key's ends."""
    waiting = InboundIPN.objects.order_by("id")
    newest = waiting.values_list("id", flat=True).last()
    oldest = waiting.values_list("received", flat=True).first()
    return newest, oldest


def _event_values(webhook: Webhook, inbound: InboundIPN) -> dict:
    """The fields of a received IPN's event."""
    pairs = ipn.parse_body(bytes(inbound.body))
    params = dict(pairs)
    event_name = params.get("event", "")
    if event_name == ipn.CONNECTION_TEST:
        scope = Event.Scope.TEST
    elif webhook.accepts(event_name):
        scope = Event.Scope.ACCEPTED
    else:
        scope = Event.Scope.IGNORED
    return {
        "webhook": webhook,
        "event": event_name[:_EVENT_NAME_LENGTH],
        "scope": scope,
        "payload": pairs,
        "payload_hash": ipn.payload_hash(pairs),
        "business_key": ipn.business_key(params),
        "signature": inbound.signature,
        "sender_ip": inbound.sender_ip,
        "received": inbound.received,
        "last_delivered": inbound.received,
        **Event.typed_fields(params),
    }


_EVENT_NAME_LENGTH = Event._meta.get_field("event").max_length
# A new event, or a redelivery counted on the event already there.
_store_event = prepared.CountingInsert(
    Event,
    unique=("webhook", "payload_hash"),
    counter="delivery_count",
    latest=("last_delivered",),
    returning=("id", "delivery_count", "txid"),
)


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
    (rejected_prune: a flood gives up its own rows first, so junk can neither fill the disk
    nor push out another sender's rejection). Only a signed delivery that failed counts
    towards the webhook's "Rejecting" status (Webhook.status). Never raises: the sender gets
    its rejection whether or not this could be written."""
    logger.warning("webhook %s rejected a delivery from %s: %s", webhook.pk, sender_ip, rejection)
    now = timezone.now()
    seen = {"last_signature_failure": now} if rejection.signed else {}
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
                rejected_count=F("rejected_count") + 1, last_rejected=now, **seen
            )
        # The counter only grows, so below the cap there is certainly nothing to drop.
        if webhook.rejected_count >= settings.REJECTED_KEEP:
            rejected_prune(webhook=webhook, keep=settings.REJECTED_KEEP)
    except DatabaseError:
        logger.exception("could not record a rejected delivery for webhook %s", webhook.pk)


def rejected_prune(*, webhook: Webhook, keep: int) -> int:
    """When a webhook holds more than `keep` rejected deliveries, delete down to nine tenths
    of `keep`, so that the next prune is a tenth of `keep` rejections away; the rows go from
    the largest (sender network, kind) groups first (webhooks.rejected_log). Returns how many
    were deleted."""
    newest_first = RejectedDelivery.objects.filter(webhook=webhook).order_by("-id")
    if not list(newest_first.values_list("id", flat=True)[keep : keep + 1]):
        return 0  # (one indexed probe: the common case while a webhook is under its cap)
    rows = list(newest_first.values_list("id", "sender_ip", "status_code"))
    kept = rejected_log.kept_ids(rows, keep - keep // 10)
    doomed = [row_id for row_id, _sender_ip, _status_code in rows if row_id not in kept]
    deleted, _ = RejectedDelivery.objects.filter(id__in=doomed).delete()
    return deleted


def delivery_reverify(*, delivery: RejectedDelivery) -> Rejection | None:
    """Judge a rejected delivery again (say, after its passphrase was fixed). If it passes now,
    it is stored through the receiver's own path (same de-duplication, original received time)
    and the rejected row goes; otherwise returns why it still fails."""
    webhook = delivery.webhook
    body = bytes(delivery.body)
    try:
        _pairs, signature = ipn_verify(
            webhook=webhook, method=delivery.method, body=body, content_type=delivery.content_type
        )
    except Rejection as rejection:
        return rejection
    with transaction.atomic():
        # Claim the row first: of two concurrent re-verifications only one stores the IPN.
        if not RejectedDelivery.objects.filter(pk=delivery.pk).delete()[0]:
            return None
        ipn_store(
            webhook=webhook,
            body=body,
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


# A field of our own on every test IPN, with a value used once: success means this database
# now holds that very event, so an OK from another server at SITE_URL (an old `make run` on
# the port, a tunnel to another machine) is not taken for this one's.
TEST_NONCE_FIELD = "ds24site_test_nonce"


@dataclass(frozen=True)
class TestDelivery:
    """What came back from a test IPN: an HTTP answer, or why there was none, and the event
    this server stored from it (None: not stored here)."""

    url: str
    event: str
    status: int | None = None
    body: str = ""
    error: str = ""
    stored: Event | None = None

    @property
    def answered_ok(self) -> bool:
        return self.status == 200 and self.body.startswith("OK")

    @property
    def ok(self) -> bool:
        return self.answered_ok and self.stored is not None

    @property
    def answered_elsewhere(self) -> bool:
        """Something answered OK, but this server has no such event: another server did."""
        return self.answered_ok and self.stored is None


# Seconds a test IPN's sender waits for a worker that took it to put it in the event log.
TEST_EVENT_WAIT = 10


def webhook_send_test(*, webhook: Webhook, sample: bool = False) -> TestDelivery:
    """Do what Digistore24's "Test connection" does: sign a connection_test (or, with
    `sample`, a realistic test event of the webhook's kind) with the webhook's passphrase and
    POST it over HTTP to the webhook's own receive URL. Proves SITE_URL, routing, passphrase
    and storage end to end: it succeeds only when this server's database holds the event."""
    params = samples.SAMPLE_FOR_KIND[webhook.kind]() if sample else samples.connection_test()
    params[TEST_NONCE_FIELD] = secrets.token_urlsafe(16)
    url = webhook.get_receive_url()
    body = samples.signed_body(params, webhook.passphrase)
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": f"{FORM_CONTENT_TYPE}; charset=utf-8"},
            timeout=(3.05, 10),
            allow_redirects=False,  # Digistore24 does not follow them either
        )
    except requests.RequestException as exc:
        return TestDelivery(url=url, event=params["event"], error=_describe(exc))
    test = TestDelivery(
        url=url, event=params["event"], status=response.status_code, body=response.text[:200]
    )
    if not test.answered_ok:
        return test
    return dataclasses.replace(test, stored=_test_event(webhook, params, body))


def _test_event(webhook: Webhook, params: dict[str, str], body: bytes) -> Event | None:
    """The event this server made of a test IPN it answered OK, or None when it holds no such
    IPN (another server answered). The receiver only kept it: it is put in the log here if no
    worker has taken it yet, so that the answer does not depend on a worker's timing, or, if
    a worker is at it, once that worker commits (its row goes with that commit)."""
    digest = ipn.payload_hash(list(params.items()))
    kept = InboundIPN.objects.filter(webhook=webhook, body=body)
    deadline = time.monotonic() + TEST_EVENT_WAIT
    while True:
        events_follow_up()
        event = Event.objects.filter(webhook=webhook, payload_hash=digest).first()
        if event is not None or not kept.exists() or time.monotonic() > deadline:
            return event
        time.sleep(0.05)


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "no answer within 10 seconds"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect (is SITE_URL right, and is this server reachable at it?)"
    return type(exc).__name__


# --- Registration in Digistore24 (ipnSetup, ipnInfo, ipnDelete; shared/digistore24.md §4.2) ---

# Names that resolve only inside a network (RFC 6761, 6762, 8375, and common practice).
LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".lan", ".home.arpa")
PUBLIC_URL_ADVICE = (
    "Set SITE_URL to this site's public https address; to try it out from this machine, a "
    "tunnel (such as cloudflared or ngrok) gives it one."
)


def public_url_problem(url: str) -> str | None:
    """Why Digistore24 would refuse `url` as an IPN URL, and what to do; None if it looks fine.

    Digistore24 posts only to https and checks the URL from its own servers (§7.13), so http,
    loopback, private and link-local addresses and names without a public domain are refused.
    No DNS lookup: a public name that resolves to a private address passes here, and
    Digistore24's own check refuses it.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    reasons = []
    if parts.scheme != "https":
        reasons.append(f"Digistore24 sends IPNs only to https:// URLs, not {parts.scheme}://.")
    if not host:
        reasons.append("The URL has no host.")
    else:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if host == "localhost" or host.endswith(LOCAL_SUFFIXES) or "." not in host:
                reasons.append(f"{host} is a local name that Digistore24's servers cannot reach.")
        else:
            if not address.is_global:
                reasons.append(
                    f"{host} is a {_address_kind(address)} address that Digistore24's servers "
                    "cannot reach."
                )
    if not reasons:
        return None
    return " ".join([*reasons, PUBLIC_URL_ADVICE])


def _address_kind(address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    return "non-public"


class NotRegistrable(Exception):
    """Registration was not attempted (nothing was sent); str() says why and what to do."""


@dataclass(frozen=True)
class Registration:
    """What ipnSetup answered."""

    created: bool  # a new connection in Digistore24 (else the webhook's existing one changed)
    ipn_id: str
    passphrase_changed: bool  # Digistore24 generated the passphrase, now stored here


@dataclass(frozen=True)
class RegistrationInfo:
    """What ipnInfo says about a webhook's IPN connection in Digistore24."""

    registered: bool  # have_settings
    details: dict[str, str]  # the rest of the answer, as Digistore24 gave it
    url_current: bool | None  # its URL is the webhook's receive URL (None: not in the answer)


def webhook_register_problem(*, webhook: Webhook, connection) -> str | None:
    """Why `webhook` cannot be registered in Digistore24 with `connection` (a sentence saying
    what to do), or None. Checked before anything is sent; the admin shows it on the button."""
    if not webhook.passphrase:
        return (
            "This webhook accepts unsigned IPNs. Give it a passphrase first (Rotate passphrase), "
            "so that what Digistore24 sends is signed."
        )
    url_problem = public_url_problem(webhook.get_receive_url())
    if url_problem and not settings.DS24_IPN_ALLOW_LOCAL_URLS:
        return url_problem
    if connection is None:
        return "Choose the connection (the Digistore24 API key) this webhook receives for."
    if webhook.ds24_connection_id not in (None, connection.pk):
        return (
            f"It is registered with the connection \u201c{webhook.ds24_connection}\u201d: remove "
            f"it from Digistore24 first, then register it with \u201c{connection}\u201d."
        )
    if connection.access == Connection.Access.READ_ONLY:
        return (
            f"The connection \u201c{connection}\u201d has a read-only API key; registering needs "
            "a key with full access (create one in Digistore24 and enter it in the connection)."
        )
    return None


def webhook_register(
    *, webhook: Webhook, connection, random_passphrase: bool = False
) -> Registration:
    """Register (or update) the webhook as an IPN connection in Digistore24 with ipnSetup: its
    receive URL, its events and products, signed with its passphrase. `random_passphrase`:
    Digistore24 generates a new passphrase, which replaces the webhook's (pitfall 10).

    Raises NotRegistrable before sending anything (see webhook_register_problem), or the
    client's Ds24Error when Digistore24 refuses (a read-only key is then recorded as such).
    """
    if problem := webhook_register_problem(webhook=webhook, connection=connection):
        raise NotRegistrable(problem)
    if not random_passphrase and webhook.passphrase.lower() == "random":
        raise NotRegistrable(
            "The passphrase \u201crandom\u201d asks Digistore24 to generate one; rotate it first."
        )
    # The id is stored before the call and only where none is, so a retry after a lost answer
    # (or a concurrent press) updates the same connection in Digistore24 instead of adding one.
    Webhook.objects.filter(pk=webhook.pk, ds24_domain_id="").update(ds24_domain_id=new_domain_id())
    webhook.ds24_domain_id = Webhook.objects.values_list("ds24_domain_id", flat=True).get(
        pk=webhook.pk
    )
    categories, transactions = ipn.ipn_setup_scope(webhook.kind, webhook.events)
    data = connection_call(
        connection=connection,
        function="ipnSetup",
        params={
            "ipn_url": webhook.get_receive_url(),
            "name": f"{webhook.name} (ds24site)",
            "product_ids": webhook.product_ids or ipn.ALL_PRODUCTS,
            "domain_id": webhook.ds24_domain_id,
            "categories": ",".join(categories),
            # None leaves Digistore24's default (only order events have transactions).
            "transactions": ",".join(transactions) or None,
            "sha_passphrase": "random" if random_passphrase else webhook.passphrase,
        },
        interactive=True,
    )
    webhook.ds24_connection = connection
    webhook.ds24_registered = timezone.now()
    webhook.ds24_ipn_id = str(data.get("ipn_id") or "")[:32]
    fields = ["ds24_connection", "ds24_registered", "ds24_ipn_id", "updated"]
    generated = str(data.get("sha_passphrase") or "") if random_passphrase else ""
    if generated:
        # Digistore24 signs with this from now on; the webhook must check with the same.
        webhook.passphrase, webhook.accept_unsigned = generated, False
        fields += ["passphrase", "accept_unsigned"]
    webhook.save(update_fields=fields)
    if random_passphrase and not 0 < len(generated) <= 63:
        # Registered, but signing with a passphrase nobody here knows: every IPN would fail.
        raise ds24.MalformedResponse(
            "Digistore24 registered the webhook but returned no usable passphrase; rotate the "
            "passphrase here and register again."
        )
    return Registration(
        created=ds24.parse_yn(data.get("created")) is True,
        ipn_id=webhook.ds24_ipn_id,
        passphrase_changed=bool(generated),
    )


def webhook_registration(*, webhook: Webhook) -> RegistrationInfo:
    """Ask Digistore24 (ipnInfo) whether it has the webhook's IPN connection, with the key it
    was registered with (else the webhook's connection): ipnInfo only sees that key's."""
    connection = webhook.ds24_connection or webhook.connection
    if not webhook.ds24_domain_id:
        raise NotRegistrable("This webhook has never been registered in Digistore24.")
    if connection is None:
        raise NotRegistrable("Choose the connection (the Digistore24 API key) to ask with.")
    data = connection_call(
        connection=connection,
        function="ipnInfo",
        params={"domain_id": webhook.ds24_domain_id},
        interactive=True,
    )
    registered = ds24.parse_yn(data.get("have_settings"))
    if registered is None:
        raise ds24.MalformedResponse("Digistore24's ipnInfo answer has no have_settings Y or N.")
    details = {
        str(key): str(value)
        for key, value in data.items()
        if key not in ("have_settings", "sha_passphrase") and value not in (None, "", [], {})
    }
    url = details.get("ipn_url")
    return RegistrationInfo(
        registered=registered,
        details=details,
        url_current=None if url is None else url == webhook.get_receive_url(),
    )


def webhook_unregister_problem(*, webhook: Webhook) -> str | None:
    """Why the webhook's registration cannot be removed from Digistore24, or None."""
    if webhook.ds24_connection is None:
        return "This webhook is not registered in Digistore24 by ds24site."
    if webhook.ds24_connection.access == Connection.Access.READ_ONLY:
        return (
            f"The key of the connection \u201c{webhook.ds24_connection}\u201d is read-only now; "
            "removing needs the full-access key that registered it."
        )
    return None


def webhook_unregister(*, webhook: Webhook) -> bool:
    """Remove the webhook's IPN connection from Digistore24 (ipnDelete, with the key that
    registered it: the deletion is scoped to key and domain id) and forget the registration;
    the domain id is kept for a later registration. Returns whether Digistore24 had one."""
    if problem := webhook_unregister_problem(webhook=webhook):
        raise NotRegistrable(problem)
    data = connection_call(
        connection=webhook.ds24_connection,
        function="ipnDelete",
        params={"domain_id": webhook.ds24_domain_id},
        interactive=True,
    )
    webhook.ds24_connection, webhook.ds24_registered, webhook.ds24_ipn_id = None, None, ""
    webhook.save(update_fields=["ds24_connection", "ds24_registered", "ds24_ipn_id", "updated"])
    return ds24.parse_yn(data.get("modified")) is True
