"""What an IPN is on the wire: its events, its form encoding, and how one is identified.

Pure functions over the received parameters; no database. Facts are from
shared/digistore24.md §1 and §3.
"""

import hashlib
import json
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from webhooks.php_html import html_entity_decode
from webhooks.signing import SIGNATURE_KEYS

CONNECTION_TEST = "connection_test"

# Events that pay or return money; each carries its own transaction_id.
MONEY_EVENTS = ("on_payment", "on_payment_subscription_signup", "on_refund", "on_chargeback")
ORDER_EVENTS = (
    "on_payment",
    "on_refund",
    "on_chargeback",
    "on_payment_missed",
    "payment_denial",
    "on_rebill_cancelled",
    "on_rebill_resumed",
    "last_paid_day",
)
KNOWN_EVENTS = (
    *ORDER_EVENTS,
    "on_payment_subscription_signup",
    "eticket",
    "on_affiliation",
    "custom_form",
    CONNECTION_TEST,
)

# The three Watch triggers, and one webhook for everything.
KIND_PAYMENTS = "payments"
KIND_ETICKETS = "etickets"
KIND_AFFILIATIONS = "affiliations"
KIND_ALL = "all"
KIND_DEFAULT_EVENTS = {
    KIND_PAYMENTS: ORDER_EVENTS,
    KIND_ETICKETS: ("eticket",),
    KIND_AFFILIATIONS: ("on_affiliation",),
    KIND_ALL: (),  # a webhook of this kind accepts every event, including future ones
}

MAX_FIELDS = 1000  # a live on_payment has ~175; far more is not Digistore24


class MalformedIPN(ValueError):
    """The form data is not an IPN; the message says why, in one line."""


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
        fields = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        raise MalformedIPN("form data is not valid UTF-8") from None
    pairs = [(key, value) for key, value in fields if key]
    if not pairs:
        raise MalformedIPN("no parameters")
    # Counted after parsing, so empty fields do not count; the receiver's size limit bounds the
    # parsing before this.
    if len(pairs) > MAX_FIELDS:
        raise MalformedIPN(f"more than {MAX_FIELDS} parameters")
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
    canonical = sorted(
        (key.upper(), value)
        for key, value in ((key, html_entity_decode(value)) for key, value in pairs)
        if key not in SIGNATURE_KEYS and value != ""
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
    if event in MONEY_EVENTS and get("transaction_id"):
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
    """A Decimal that fits the column, or None for anything else ("", "n/a", "1e999")."""
    if not value:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    try:
        number = number.quantize(Decimal(1).scaleb(-decimal_places))
    except InvalidOperation:
        return None
    if len(number.as_tuple().digits) > max_digits:
        return None
    return number


def parse_int(value: str | None, *, maximum: int = 2**31 - 1) -> int | None:
    """A non-negative integer that fits the column, or None."""
    digits = (value or "").strip()
    # isdigit alone admits "²"; the length check keeps int() off megabyte-long strings.
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(maximum)):
        return None
    number = int(digits)
    return number if number <= maximum else None
