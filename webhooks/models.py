import re
import secrets
import string
import unicodedata
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max, OuterRef, Q, Subquery, Sum, signals
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

# The one arrow up from webhooks to the dashboard (architecture.md has it the other way):
# the roll-up that the dashboard's events_stored receiver writes in every event's follow-up is
# also where a webhook's activity is read from, so that the receiver writes nothing more.
from dashboard.models import WebhookTotal
from ds24site.crypto import EncryptedTextField, reveal_value
from ds24site.db import (  # (and registers the `__prefix` lookup)
    CurrentTransactionId,
    FastJSONField,
)
from webhooks import ipn
from webhooks.signing import SIGNATURE_KEYS

PASSPHRASE_ALPHABET = string.ascii_letters + string.digits
# The shortest passphrase that may be set: the passphrase is all that stops anyone who knows a
# receive URL from forging IPNs, and it can be tried offline against any signed IPN seen.
MIN_PASSPHRASE_LENGTH = 16


def new_token() -> str:
    """The secret part of a receive URL: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_passphrase() -> str:
    """An IPN passphrase of 32 letters and digits (~190 bits); DS24 accepts up to 63 chars and
    plain alphanumerics survive copy and paste into its form."""
    return "".join(secrets.choice(PASSPHRASE_ALPHABET) for _ in range(32))


def passphrase_problem(passphrase: str) -> str | None:
    """Why `passphrase` may not be set on a webhook, or None. Spaces at either end do not
    count: " " * 16 is no passphrase."""
    if len(passphrase.strip()) < MIN_PASSPHRASE_LENGTH:
        return (
            f"Use at least {MIN_PASSPHRASE_LENGTH} characters (spaces at either end do not "
            "count): a short passphrase can be guessed, and then IPNs forged. Keep the "
            "generated one unless Digistore24 already has another."
        )
    return None


def new_domain_id() -> str:
    """The id under which Digistore24 keeps a webhook's IPN connection (ipnSetup's domain_id).
    Digistore24 identifies a connection by (account, API key, domain_id) and ipnSetup with a
    known id overwrites that connection, so a generic id ("ds24site") would silently re-point
    another installation's connection of the same key; each webhook gets its own (§4.2)."""
    alphabet = string.ascii_lowercase + string.digits
    return "ds24site-" + "".join(secrets.choice(alphabet) for _ in range(12))


PRODUCT_IDS = re.compile(r"[0-9]+(,[0-9]+)*")  # ASCII: `\d` takes any script's digits


class WebhookQuerySet(models.QuerySet):
    def with_activity(self):
        """Webhooks with `event_count` (events stored, redeliveries not counted) and
        `last_received` (when the newest of them was received, None before the first), from
        the dashboard's roll-up in the same query: a subquery each over the webhook's few
        WebhookTotal rows. Webhook.status needs them.

        The receiver keeps no counter on the webhook's row: every IPN would write that one
        row, and concurrent deliveries would queue on its lock until each commit is flushed.
        The roll-up is written by the events' follow-up anyway (a worker, within about a
        second of receiving), so these lag the event log by as much.
        """
        rows = (
            WebhookTotal.objects.filter(webhook_pk=OuterRef("pk")).order_by().values("webhook_pk")
        )
        return self.annotate(
            event_count=Coalesce(Subquery(rows.annotate(n=Sum("count")).values("n")), 0),
            last_received=Subquery(rows.annotate(newest=Max("last_received")).values("newest")),
        )


class Webhook(models.Model):
    """A receive URL that Digistore24 posts IPNs to: one of the three Watch triggers, or all."""

    Kind = models.TextChoices(
        "Kind", [(kind.name.upper(), (kind.name, kind.label)) for kind in ipn.KINDS.values()]
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PAYMENTS)
    events = models.JSONField(
        default=list,
        blank=True,
        help_text="Digistore24 events this webhook accepts; others are stored but marked "
        "ignored. Not used by the 'All events' kind, which accepts every event.",
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    passphrase = EncryptedTextField(
        blank=True,
        default=new_passphrase,
        help_text="The IPN passphrase; must equal the one set in the Digistore24 IPN form.",
    )
    accept_unsigned = models.BooleanField(
        default=False,
        help_text="Accept IPNs without a signature. Only for a webhook without passphrase; "
        "anyone who learns the URL can then post fake events.",
    )
    connection = models.ForeignKey(
        "connections.Connection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhooks",
        help_text="The Digistore24 account (API key) this webhook receives for.",
    )
    product_ids = models.CharField(
        "products",
        max_length=255,
        blank=True,
        help_text="Digistore24 product ids, comma-separated, that Digistore24 sends IPNs for "
        "when it registers this webhook; empty: all products.",
    )
    active = models.BooleanField(
        default=True,
        help_text="While inactive, deliveries are refused with 503 and Digistore24 retries "
        "them for days, so nothing is lost.",
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)
    # Denormalised so that lists of webhooks need no aggregate over the rejected deliveries;
    # the events' count and last received come from with_activity().
    rejected_count = models.PositiveBigIntegerField(default=0, editable=False)
    last_rejected = models.DateTimeField(null=True, blank=True, editable=False)
    # The latest rejected delivery that carried a signature of Digistore24's form (what its
    # deliveries look like when the passphrases differ): the "Rejecting" status reads this,
    # not last_rejected, so junk cannot make a receiving webhook look broken.
    last_signature_failure = models.DateTimeField(
        "last signed delivery rejected", null=True, blank=True, editable=False
    )
    # Its registration in Digistore24 (webhooks.services.webhook_register). The domain id is
    # made at the first registration and kept, so that registering again updates the same
    # connection there. The connection registered with is protected from deletion: only its
    # key can remove the registration from Digistore24 (ipnDelete is scoped to the key).
    ds24_domain_id = models.CharField(
        "Digistore24 domain id", max_length=40, blank=True, editable=False
    )
    ds24_connection = models.ForeignKey(
        "connections.Connection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="registered_webhooks",
        verbose_name="registered with",
    )
    ds24_registered = models.DateTimeField(
        "registered in Digistore24", null=True, blank=True, editable=False
    )
    ds24_ipn_id = models.CharField("Digistore24 IPN id", max_length=32, blank=True, editable=False)

    objects = WebhookQuerySet.as_manager()
    # The passphrase as loaded from the database (None for a new webhook; still sealed, as
    # loading decrypts nothing), see clean().
    _stored_passphrase = None

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ds24_domain_id"],
                condition=~Q(ds24_domain_id=""),
                name="webhook_unique_ds24_domain_id",
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        webhook = super().from_db(db, field_names, values)
        webhook._stored_passphrase = webhook.__dict__.get("passphrase")
        return webhook

    def clean(self):
        errors = {}
        self.product_ids = "".join(self.product_ids.split())
        if self.product_ids and not PRODUCT_IDS.fullmatch(self.product_ids):
            errors["product_ids"] = "Product ids (digits), separated by commas; or empty for all."
        if self.passphrase and self.accept_unsigned:
            errors["accept_unsigned"] = (
                "Only a webhook without passphrase can accept unsigned IPNs."
            )
        elif not self.passphrase and not self.accept_unsigned:
            errors["passphrase"] = "Set a passphrase, or explicitly accept unsigned IPNs."
        if len(self.passphrase) > 63:
            errors["passphrase"] = "Digistore24 takes passphrases of at most 63 characters."
        # Only a passphrase being set now: one stored before the rule keeps working (and
        # Digistore24 keeps signing with it) until someone changes it.
        elif self.passphrase and self.passphrase != reveal_value(self._stored_passphrase):
            problem = passphrase_problem(self.passphrase)
            if problem:
                errors["passphrase"] = problem
        if self.kind != self.Kind.ALL:
            if not isinstance(self.events, list) or not self.events:
                errors["events"] = "Choose at least one event."
            elif unknown := sorted(set(map(str, self.events)) - set(ipn.KNOWN_EVENTS)):
                errors["events"] = f"Unknown events: {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)

    class Status(models.TextChoices):
        RECEIVING = "receiving", "Receiving"
        SILENT = "silent", "Silent"
        REJECTING = "rejecting", "Rejecting"
        PAUSED = "paused", "Paused"

    # Without a new event for this long a webhook counts as silent.
    SILENT_AFTER = timedelta(hours=24)

    @property
    def status(self) -> str:
        """Paused when inactive; rejecting when, recently and since the last delivery that
        was stored, a signed delivery failed its signature check (Digistore24's, when the
        passphrases differ; deliveries without a signature of its form are junk, which must
        not make a webhook look broken); receiving when a new event was stored recently
        (redeliveries do not count); silent otherwise. (A forger who knows the receive URL and
        the signature's form can still make a webhook show "rejecting", never "receiving".)
        Only on webhooks from Webhook.objects.with_activity()."""
        if not self.active:
            return self.Status.PAUSED
        recent = timezone.now() - self.SILENT_AFTER
        failed = self.last_signature_failure
        if failed and failed > recent and (not self.last_received or failed > self.last_received):
            return self.Status.REJECTING
        if self.last_received and self.last_received > recent:
            return self.Status.RECEIVING
        return self.Status.SILENT

    @property
    def registered(self) -> bool:
        """Whether this webhook is registered in Digistore24 as far as ds24site knows (the
        vendor may have removed it there since: webhook_registration asks)."""
        return self.ds24_registered is not None

    def accepts(self, event: str) -> bool:
        return self.kind == self.Kind.ALL or event in self.events

    def get_receive_url(self) -> str:
        """The absolute URL to paste into Digistore24's IPN form."""
        return settings.SITE_URL + reverse("webhooks:receive", args=[self.token])

    def regenerate_token(self) -> None:
        """Give the webhook a new receive URL; the old one answers 404 from now on."""
        self.token = new_token()
        self.save(update_fields=["token", "updated"])

    def rotate_passphrase(self) -> None:
        """A new generated passphrase; deliveries signed with the old one are rejected (and can
        be re-verified) until Digistore24 has the new one. A webhook that accepted unsigned
        IPNs stops doing so: it now has a passphrase to check."""
        self.passphrase = new_passphrase()
        self.accept_unsigned = False
        self.save(update_fields=["passphrase", "accept_unsigned", "updated"])


# The B-tree operator class that lets PostgreSQL's LIKE 'ABC%' read an index under any
# collation (ds24site.db.Prefix); other databases ignore it.
PATTERN_OPS = "varchar_pattern_ops"


def normalize_email(value: str) -> str:
    """An e-mail address as stored for search and as searched for: trimmed, lower case."""
    return value.strip().lower()


def normalize_name(value: str) -> str:
    """A name as stored for search and as searched for: compatibility-composed (so a "ü" sent
    as "u" and a combining diaeresis is the "ü" people type), case-folded ("Weiß" and "WEISS"
    both become "weiss", which lower() would not do), with single spaces."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


# Shorter terms match whole values only: a prefix of one or two characters matches much of the
# table, which the database must then read and sort (9 s at 1M events on SQLite for "1").
MIN_ID_PREFIX = 4
MIN_NAME_PREFIX = 3


class EventQuerySet(models.QuerySet):
    def search(self, term: str):
        """What the event log's search box finds for `term`; each part reads one index
        (Event.Meta.indexes), none scans the table:
        - an e-mail address (it has an @): events with that address, whatever its case;
        - one word: order and transaction ids starting with it, and the e-ticket id or
          affiliate name that it is exactly;
        - words without digits: events of buyers so named (for_buyer).
        One word without digits is both: an order id may be all letters, a last name is one
        word. An empty term finds everything."""
        term = term.strip()
        if not term:
            return self
        if "@" in term:
            return self.for_email(term)
        matches = Q()
        if len(term.split()) == 1:
            if len(term) >= MIN_ID_PREFIX:
                matches |= Q(order_id__prefix=term) | Q(transaction_id__prefix=term)
            else:
                matches |= Q(order_id=term) | Q(transaction_id=term)
            matches |= Q(eticket_id=term) | Q(affiliate_name=term)
        if not any(char.isdigit() for char in term):
            matches |= self.buyer_condition(term)
        return self.filter(matches)

    def for_email(self, address: str):
        """Events of this e-mail address, whatever its case."""
        return self.filter(email_normalized=normalize_email(address))

    def for_buyer(self, name: str):
        return self.filter(self.buyer_condition(name))

    @staticmethod
    def buyer_condition(name: str) -> Q:
        """Events whose buyer's full name ("first last") or last name starts with `name`,
        whatever its case: "jörg", "Jörg Müller", "müller", "MÜLL". "Müller, Jörg" is read
        as "Jörg Müller"."""
        last, comma, first = name.partition(",")
        key = normalize_name(f"{first} {last}" if comma else name)
        if not key:
            return Q(pk__in=[])
        if len(key) < MIN_NAME_PREFIX:
            return Q(buyer_name_normalized=key) | Q(buyer_last_name_normalized=key)
        return Q(buyer_name_normalized__prefix=key) | Q(buyer_last_name_normalized__prefix=key)


class Event(models.Model):
    """One IPN, stored once however often Digistore24 delivered it.

    Holds untrusted data: `payload` is exactly what the sender posted (pairs, in order), and
    the typed columns are best-effort parses of it for filtering — a value that does not parse
    leaves its column empty and survives only in `payload`.
    """

    class Signature(models.TextChoices):
        VERIFIED = "verified", "Verified"
        UNSIGNED = "unsigned", "Unsigned"

    class Scope(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        TEST = "test", "Connection test"
        IGNORED = "ignored", "Not in webhook's events"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="event_set")
    event = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    # [[key, value], ...] as received: a JSON object would lose the order on PostgreSQL (jsonb).
    payload = FastJSONField()
    payload_hash = models.CharField(max_length=64)
    business_key = models.CharField(max_length=255, blank=True)

    order_id = models.CharField(max_length=64, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    product_id = models.CharField(max_length=64, blank=True)
    product_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True)
    buyer_first_name = models.CharField(max_length=100, blank=True)
    buyer_last_name = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=4, blank=True, null=True)
    currency = models.CharField(max_length=3, blank=True)
    billing_type = models.CharField(max_length=32, blank=True)
    pay_sequence_no = models.PositiveIntegerField(blank=True, null=True)
    affiliate_name = models.CharField(max_length=100, blank=True)
    eticket_id = models.CharField(max_length=64, blank=True)
    api_mode = models.CharField(max_length=10, blank=True)

    signature = models.CharField(max_length=10, choices=Signature.choices)
    sender_ip = models.GenericIPAddressField(blank=True, null=True)
    received = models.DateTimeField(default=timezone.now)
    last_delivered = models.DateTimeField(default=timezone.now)
    delivery_count = models.PositiveIntegerField(default=1)
    # What failed in an `ipn_received` receiver, so app code's errors are visible in the log.
    signal_error = models.TextField(blank=True)
    # The inserting transaction: with the id, the order in which followers of the API read
    # events (webhooks/follow.py). Set by the database, returned on insert.
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)
    # Search keys (normalize_email, normalize_name): what a person types matches regardless of
    # case, and of how the sender wrote an umlaut or an ß.
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    buyer_name_normalized = models.CharField(max_length=255, blank=True, editable=False)
    buyer_last_name_normalized = models.CharField(max_length=255, blank=True, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-received", "-id"]
        constraints = [
            # Exactly-once storage: a redelivery hits this and becomes a delivery_count bump.
            models.UniqueConstraint(
                fields=["webhook", "payload_hash"], name="event_unique_delivery"
            ),
        ]
        indexes = [
            # The log, newest first; and one webhook's log.
            models.Index(fields=["-received"], name="event_received"),
            models.Index(fields=["webhook", "-received"], name="event_webhook_received"),
            # Filters: event type, signature status, scope, live/test.
            models.Index(fields=["event", "-received"], name="event_type_received"),
            models.Index(fields=["scope", "-received"], name="event_scope_received"),
            models.Index(fields=["signature", "-received"], name="event_signature_received"),
            models.Index(fields=["api_mode", "-received"], name="event_mode_received"),
            # Searches (EventQuerySet.search, the API's filters) and the other events of an
            # order: order and transaction ids exactly and by prefix (the pattern operator
            # class serves PostgreSQL's LIKE 'ABC%' under any collation; see Prefix).
            models.Index(fields=["order_id"], name="event_order_id", opclasses=[PATTERN_OPS]),
            models.Index(
                fields=["transaction_id"], name="event_transaction_id", opclasses=[PATTERN_OPS]
            ),
            # The e-mail, exactly, whatever its case.
            models.Index(fields=["email_normalized"], name="event_email_normalized"),
            # The buyer's name by prefix: "jörg mü" (first name first), or "Müller". With
            # `received`, a page of a common name's events, newest first, is sorted from the
            # index alone (the API reads a page's keys before its rows: NewestFirst); without
            # it, every match (1 % of the log for "Müller") was read from the table to sort.
            models.Index(
                fields=["buyer_name_normalized", "received"],
                name="event_buyer_name_received",
                opclasses=[PATTERN_OPS, "timestamptz_ops"],
            ),
            models.Index(
                fields=["buyer_last_name_normalized", "received"],
                name="event_buyer_last_name_received",
                opclasses=[PATTERN_OPS, "timestamptz_ops"],
            ),
            # A product has many events: newest first needs received in the index too.
            models.Index(fields=["product_id", "-received"], name="event_product_received"),
            models.Index(fields=["eticket_id"], name="event_eticket_id"),
            models.Index(fields=["affiliate_name"], name="event_affiliate_name"),
            # Revisions of one object, oldest first.
            models.Index(fields=["webhook", "business_key", "received"], name="event_revisions"),
            # The API's follow cursor.
            models.Index(fields=["txid", "id"], name="event_follow"),
        ]

    def __str__(self):
        return f"{self.event} {self.order_id or self.eticket_id or ''}".strip()

    @classmethod
    def from_db(cls, db, field_names, values):
        """A row loaded with all its columns, as Model.from_db makes it, without running
        Model.__init__, whose per-field work was the largest item of an API page of 500 events
        (cProfile): loading 500 events in-process took 27 ms with it and 14-20 ms without
        (time.perf_counter, bench/seed.py's log). No
        field of Event needs them on load: its one descriptor that does work on set, the
        webhook's id, only drops a cached webhook, which a new instance has not
        (tests/webhooks/test_event_loading.py). Rows with deferred columns, and any while
        something listens to Event's init signals, go Django's way."""
        if (
            len(values) != len(cls._meta.concrete_fields)
            or signals.pre_init.has_listeners(cls)
            or signals.post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        new.__dict__.update(zip(_EVENT_ATTNAMES, values, strict=True))
        new._state = models.base.ModelState()
        new._state.adding, new._state.db = False, db
        return new

    @cached_property
    def params(self) -> dict[str, str]:
        return dict(self.payload)

    @property
    def payload_without_signature(self) -> list[list[str]]:
        """The payload less its signature (sha_sign): the payload shown to anyone but those
        who may change webhooks. The signature tells a reader nothing, but whoever holds it can
        replay the event to any webhook sharing the passphrase. The stored payload keeps it,
        as received."""
        return [pair for pair in self.payload if pair[0] not in SIGNATURE_KEYS]

    @classmethod
    def typed_fields(cls, params: dict[str, str]) -> dict:
        """The typed columns for a payload, and the search keys derived from them; a value
        that does not fit its column leaves it empty ("" or None)."""
        fields = {}
        for column, keys in (
            ("order_id", ("order_id",)),
            ("transaction_id", ("transaction_id",)),
            ("product_id", ("product_id",)),
            ("product_name", ("product_name",)),
            ("email", ("email", "buyer_email")),
            ("currency", ("currency", "transaction_currency")),
            ("billing_type", ("billing_type",)),
            ("affiliate_name", ("affiliate_name",)),
            ("eticket_id", ("eticket_id",)),
            ("api_mode", ("api_mode",)),
        ):
            value = next((params[key] for key in keys if params.get(key)), "")
            fields[column] = cls._fitting(column, value)
        # The buyer's name, else the (shipping) address's: as a pair, so that one person's
        # first name never meets another's last name.
        names = [params.get("buyer_first_name", ""), params.get("buyer_last_name", "")]
        if not any(names):
            names = [params.get("address_first_name", ""), params.get("address_last_name", "")]
        fields["buyer_first_name"] = cls._fitting("buyer_first_name", names[0])
        fields["buyer_last_name"] = cls._fitting("buyer_last_name", names[1])
        fields["email_normalized"] = cls._fitting(
            "email_normalized", normalize_email(fields["email"])
        )
        fields["buyer_name_normalized"] = cls._fitting(
            "buyer_name_normalized",
            normalize_name(f"{fields['buyer_first_name']} {fields['buyer_last_name']}"),
        )
        fields["buyer_last_name_normalized"] = cls._fitting(
            "buyer_last_name_normalized", normalize_name(fields["buyer_last_name"])
        )
        amount = cls._meta.get_field("amount")
        fields["amount"] = ipn.parse_decimal(
            params.get("amount_brutto") or params.get("amount"),
            max_digits=amount.max_digits,
            decimal_places=amount.decimal_places,
        )
        fields["pay_sequence_no"] = ipn.parse_int(params.get("pay_sequence_no"))
        return fields

    @classmethod
    def _fitting(cls, column: str, value: str) -> str:
        return value if len(value) <= cls._meta.get_field(column).max_length else ""


class PaymentEvent(Event):
    """The Payments list (Watch New Payments): order events."""

    EVENTS = ipn.KINDS[ipn.KIND_PAYMENTS].events

    class Meta:
        proxy = True
        verbose_name = "payment"


class ETicketEvent(Event):
    """The E-tickets list (Watch New E-tickets)."""

    EVENTS = ipn.KINDS[ipn.KIND_ETICKETS].events

    class Meta:
        proxy = True
        verbose_name = "e-ticket"


class AffiliationEvent(Event):
    """The Affiliations list (Watch Affiliate Approved)."""

    EVENTS = ipn.KINDS[ipn.KIND_AFFILIATIONS].events

    class Meta:
        proxy = True
        verbose_name = "affiliation"


_EVENT_ATTNAMES = [field.attname for field in Event._meta.concrete_fields]


class InboundIPN(models.Model):
    """A verified delivery as the receiver stored it, before a worker puts it in the event log
    (webhooks.services.events_follow_up): the receiver's one row per IPN.

    The receiver only checks and keeps: the form as received (a GET's query string), whether
    it was signed, who sent it and when. Everything else an IPN sets off costs more than that
    (its payload's hash, typed columns and search keys; an event row under a dozen and a half
    indexes; the roll-ups; forwarding) and is done by the task workers, a batch per
    transaction, usually within a second. So this table has no index but its primary key, and
    is empty whenever the workers have caught up.

    A row is deleted in the transaction that makes its event (or counts it as a redelivery of
    one), so it is followed up once, or again after a crash, never lost.
    """

    # Not indexed: rows are read in id order and deleted by id; a webhook's deletion scans
    # a table that is empty or nearly so.
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="+", db_index=False)
    body = models.BinaryField()
    signature = models.CharField(max_length=10, choices=Event.Signature.choices)
    sender_ip = models.GenericIPAddressField(blank=True, null=True)
    received = models.DateTimeField()

    class Meta:
        verbose_name = "inbound IPN"

    def __str__(self):
        return f"inbound IPN {self.pk} for webhook {self.webhook_id}"


class RejectedDelivery(models.Model):
    """A delivery to a known webhook that was turned away, kept so a vendor can see why
    Digistore24 reports errors. Holds the untrusted body (or a GET's query string) as received."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="rejected_set")
    received = models.DateTimeField(default=timezone.now)
    sender_ip = models.GenericIPAddressField(blank=True, null=True)
    status_code = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=255)
    # A GET delivery's parameters are its query string, kept in `body`; re-verification needs
    # to know which it was, as a GET has no content type to check.
    method = models.CharField(max_length=4, default="POST")
    content_type = models.CharField(max_length=255, blank=True)
    body = models.BinaryField(blank=True)

    class Meta:
        # Rows arrive in time order, so id order is received order, and the primary key index
        # serves the list.
        ordering = ["-id"]
        verbose_name_plural = "rejected deliveries"
        indexes = [
            # One webhook's rejections, newest first; and the REJECTED_KEEP cap.
            models.Index(fields=["webhook", "-id"], name="rejected_webhook_newest"),
            # Retention (pruneevents).
            models.Index(fields=["received"], name="rejected_received"),
        ]

    def __str__(self):
        return f"{self.status_code} {self.reason}"
