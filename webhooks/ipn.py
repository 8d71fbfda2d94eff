"""What an IPN is on the wire: its events, its form encoding, and how one is identified.

The registry of event types and webhook kinds, and pure functions over the received
parameters; no database. Facts are from
shared/digistore24.md §1 and §3.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote_to_bytes

from ds24site import numbers
from webhooks.php_html import html_entity_decode
from webhooks.signing import SIGNATURE_KEYS

CONNECTION_TEST = "connection_test"

# The three Watch triggers, and one webhook for everything.
KIND_PAYMENTS = "payments"
KIND_ETICKETS = "etickets"
KIND_AFFILIATIONS = "affiliations"
KIND_ALL = "all"

ORDERS = "orders"  # ipnSetup's category of the order events
ALL_PRODUCTS = "all"  # ipnSetup's product_ids for no restriction


@dataclass(frozen=True)
class EventType:
    """One Digistore24 event type (shared/digistore24.md §3.1)."""

    name: str  # the `event` parameter
    label: str  # what it is called here
    kind: str | None  # the trigger whose list it is in; None: only "All events" takes it
    ds24_label: str = ""  # its checkbox under DS24's "For order events"; "" where there is none
    ds24_preselected: bool = True  # ticked when a connection is added in Digistore24 (§4.1)
    # What ipnSetup must be asked for so that Digistore24 sends it (§4.2): its `categories`
    # entry and, for order events, its `transactions` entry; "" where there is none.
    ds24_category: str = ""
    ds24_transaction: str = ""
    money: bool = False  # pays or returns money, with a transaction_id of its own (§3.4)
    badge: str = ""  # the badge's style (static/ds24site/admin.css); "" is plain grey


@dataclass(frozen=True)
class Kind:
    """What a webhook is for: one Watch trigger, or every event."""

    name: str
    label: str
    ds24_categories: str  # what to tick under Digistore24's "Send notifications for"

    @property
    def events(self) -> tuple[str, ...]:
        """The events a webhook of this kind accepts unless told otherwise: all of its
        trigger's, since one left out would be stored as ignored. None for "All events",
        which accepts every event, including future ones."""
        return tuple(name for name, event in EVENT_TYPES.items() if event.kind == self.name)


def _by_name(*entries):
    return {entry.name: entry for entry in entries}


# The one list of events: everything else (choices, defaults, labels, samples, badges) derives
# from it. The order is the order shown to people.
EVENT_TYPES: dict[str, EventType] = _by_name(
    EventType(
        "on_payment",
        "Payment",
        KIND_PAYMENTS,
        "Payment",
        ds24_category=ORDERS,
        ds24_transaction="payment",
        money=True,
        badge="paid",
    ),
    # Only ds24-appkit lists it (UNVERIFIED); a first payment, so a payments event, sent (if at
    # all) with the payments: Digistore24's form has no box of its own for it (UNVERIFIED).
    EventType(
        "on_payment_subscription_signup",
        "Subscription signup",
        KIND_PAYMENTS,
        ds24_category=ORDERS,
        ds24_transaction="payment",
        money=True,
        badge="paid",
    ),
    EventType(
        "on_refund",
        "Refund",
        KIND_PAYMENTS,
        "Refund",
        ds24_category=ORDERS,
        ds24_transaction="refund",
        money=True,
        badge="lost",
    ),
    EventType(
        "on_chargeback",
        "Chargeback",
        KIND_PAYMENTS,
        "Chargeback",
        ds24_category=ORDERS,
        ds24_transaction="chargeback",
        money=True,
        badge="lost",
    ),
    EventType(
        "on_payment_missed",
        "Missed payment",
        KIND_PAYMENTS,
        "Missed recurring payment",
        ds24_category=ORDERS,
        ds24_transaction="payment_missed",
        badge="ending",
    ),
    EventType(
        "payment_denial",
        "Payment rejected",
        KIND_PAYMENTS,
        "Rejected payment",
        ds24_category=ORDERS,
        ds24_transaction="payment_denial",
        ds24_preselected=False,
        badge="lost",
    ),
    EventType(
        "on_rebill_cancelled",
        "Rebilling cancelled",
        KIND_PAYMENTS,
        "Rebilling canceled",
        ds24_category=ORDERS,
        ds24_transaction="rebill_cancelled",
        badge="ending",
    ),
    EventType(
        "on_rebill_resumed",
        "Rebilling resumed",
        KIND_PAYMENTS,
        "Rebilling resumed",
        ds24_category=ORDERS,
        ds24_transaction="rebill_resumed",
        badge="resumed",
    ),
    EventType(
        "last_paid_day",
        "Paid period ended",
        KIND_PAYMENTS,
        "End of paid period",
        ds24_category=ORDERS,
        ds24_transaction="last_paid_day",
        badge="ending",
    ),
    EventType("eticket", "E-ticket", KIND_ETICKETS, ds24_category="etickets", badge="ticket"),
    EventType(
        "on_affiliation",
        "Affiliate approved",
        KIND_AFFILIATIONS,
        ds24_category="affiliations",
        badge="affiliate",
    ),
    EventType("custom_form", "Custom form", None, ds24_category="customforms"),
    EventType(CONNECTION_TEST, "Connection test", None, badge="test"),
)

KINDS: dict[str, Kind] = _by_name(
    Kind(KIND_PAYMENTS, "Payments (Watch New Payments)", "Orders"),
    Kind(KIND_ETICKETS, "E-tickets (Watch New E-tickets)", "E-tickets"),
    Kind(KIND_AFFILIATIONS, "Affiliations (Watch Affiliate Approved)", "Affiliations"),
    Kind(KIND_ALL, "All events", "Orders, Affiliations, E-tickets and Custom forms"),
)

KNOWN_EVENTS = tuple(EVENT_TYPES)
KIND_DEFAULT_EVENTS = {name: kind.events for name, kind in KINDS.items()}


def ipn_setup_scope(kind: str, events) -> tuple[list[str], list[str]]:
    """ipnSetup's `categories` and `transactions` for a webhook of `kind` taking `events`: what
    Digistore24 must send so that each of them arrives. "All events" asks for everything the
    registry knows; events without an entry (connection tests, unknown names) add nothing."""
    chosen = (
        EVENT_TYPES.values() if kind == KIND_ALL else filter(None, map(EVENT_TYPES.get, events))
    )
    chosen = list(chosen)
    categories = dict.fromkeys(e.ds24_category for e in chosen if e.ds24_category)
    transactions = dict.fromkeys(e.ds24_transaction for e in chosen if e.ds24_transaction)
    return list(categories), list(transactions)


def event_choices(names=KNOWN_EVENTS) -> list[tuple[str, str]]:
    """(name, label) pairs for forms and filters; the label shows the name people see in
    payloads and Digistore24's documentation, and what it means."""
    return [(name, f"{name} \u2014 {EVENT_TYPES[name].label}") for name in names]


MAX_FIELDS = 1000  # a live on_payment has ~175; far more is not Digistore24


class MalformedIPN(ValueError):
    """The form data is not an IPN; the message says why, in one line."""


def _unquote(text: str) -> str:
    """One form-encoded key or value, as urllib.parse.parse_qsl decodes it (strict UTF-8):
    its escapes as bytes, then the whole as UTF-8, which decodes the same as unquote() does
    run by run (a raw character's UTF-8 can neither complete nor continue an escaped
    sequence) at two thirds of its cost."""
    return unquote_to_bytes(text.replace("+", " ")).decode("utf-8")


def parse_body(body: bytes) -> list[tuple[str, str]]:
    """The parameters of a form-encoded body (or of a GET's query string), in the order
    received, decoded exactly once as UTF-8.

    Digistore24 signs what PHP's form parser reads, so this reads the same wherever the
    signature could differ: an empty field (a leading, trailing or doubled `&`) is skipped, a
    field without `=` is a key with an empty value, a field with an empty key (`=v`) is dropped,
    `+` is a space, and a malformed percent-escape stays as it is. PHP's key mangling (`a.b` and
    `a b` to `a_b`, `a[x]` to an array) is not copied: Digistore24's keys are plain identifiers.

    Where PHP would quietly guess, this refuses: a repeated key (PHP keeps the last, which makes
    the signature ambiguous), a NUL character, more than MAX_FIELDS fields (PHP drops the rest),
    anything that is not UTF-8.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedIPN("form data is not valid UTF-8") from None
    pairs = []
    # One pass with the common case inline (a field needs unquoting only with % or +): this
    # runs for every delivery, and function calls per field were most of its cost.
    for field in text.split("&"):
        key, _, value = field.partition("=")
        try:
            if "%" in key or "+" in key:
                key = _unquote(key)
            if "%" in value or "+" in value:
                value = _unquote(value)
        except UnicodeDecodeError:
            raise MalformedIPN("form data is not valid UTF-8") from None
        if key:
            pairs.append((key, value))
    if not pairs:
        raise MalformedIPN("no parameters")
    # Counted after parsing, so empty fields do not count; the receiver's size limit bounds the
    # parsing before this.
    if len(pairs) > MAX_FIELDS:
        raise MalformedIPN(f"more than {MAX_FIELDS} parameters")
    # Both checks in C where the form allows neither problem: every key distinct, and no NUL
    # (a parameter can only hold one if the form has one, raw or escaped).
    if len(dict(pairs)) == len(pairs) and "\x00" not in text and "%00" not in text:
        return pairs
    seen = set()
    for key, value in pairs:
        if key in seen:
            raise MalformedIPN(f"parameter {key!r} appears more than once")
        if "\x00" in key or "\x00" in value:
            # PostgreSQL cannot store NUL in text or jsonb; no real IPN carries one.
            raise MalformedIPN(f"parameter {key!r} contains a NUL character")
        seen.add(key)
    return pairs


def payload_hash(pairs: list[tuple[str, str]]) -> str:
    """Identifies a notification's content, so that a redelivery is recognised.

    Canonical in every way the signature check is lenient (order, key case, HTML entities,
    empty values, the signature itself): a delivery that verifies with another's signature has
    the same hash, so a captured IPN cannot be replayed as a new event by re-encoding it.
    """
    # An empty value stays empty and no other becomes empty when decoded, so empties are
    # skipped before decoding; most values have no `&` and need none.
    canonical = sorted(
        (key.upper(), html_entity_decode(value) if "&" in value else value)
        for key, value in pairs
        if value and key not in SIGNATURE_KEYS
    )
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


def business_key(params: dict[str, str]) -> str:
    """Identifies the object an IPN is about, so that a changed re-send is a revision of it.

    Money events: event + transaction_id. E-tickets: eticket_id. Affiliations: affiliate +
    product. Other order events: event + order_id + product_id. Empty when the IPN names no
    object (a connection test).
    """
    event = params.get("event", "")
    get = params.get
    known = EVENT_TYPES.get(event)
    if known and known.money and get("transaction_id"):
        parts = (event, get("transaction_id"))
    elif event == "eticket" and get("eticket_id"):
        parts = ("eticket", get("eticket_id"))
    elif event == "on_affiliation" and get("affiliate_name"):
        parts = ("on_affiliation", get("affiliate_name"), get("product_id", ""))
    elif get("order_id"):
        parts = (event, get("order_id"), get("product_id", ""))
    else:
        return ""
    key = ":".join(parts)
    if len(key) > 255:  # the column's size; a hash still identifies the object
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def parse_decimal(value: str | None, *, max_digits: int, decimal_places: int) -> Decimal | None:
    """A Decimal that fits the column, or None for anything else ("", "n/a", "1e999", or
    digits of another script than ASCII)."""
    try:
        number = numbers.parse_decimal((value or "").strip())
        number = number.quantize(Decimal(1).scaleb(-decimal_places))
    except (ValueError, InvalidOperation):
        return None
    if len(number.as_tuple().digits) > max_digits:
        return None
    return number


def parse_int(value: str | None, *, maximum: int = 2**31 - 1) -> int | None:
    """A non-negative integer that fits the column, or None."""
    try:
        return numbers.parse_int((value or "").strip(), minimum=0, maximum=maximum)
    except ValueError:
        return None
