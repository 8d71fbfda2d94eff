"""Realistic IPN payloads, as Digistore24 sends them (field sets of shared/digistore24.md §3),
for the Send-test-IPN button, the Digistore24 stand-in and tests.

Every sample is marked `api_mode=test` so it is easy to tell from live sales, and carries fresh
ids so that two samples are two notifications, not one delivered twice. Pure Python (no Django
settings needed), so the Digistore24 stand-in can use it from the command line.
"""

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from webhooks import ipn
from webhooks.signing import signature


def _order_id() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def _number(digits: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))


def _connection_test(event: str, **fields: str) -> dict[str, str]:
    """What Digistore24's "Test connection" button sends (its exact field set is unverified;
    these are the fields every IPN carries)."""
    return {"event": event, "api_mode": "test", "ipn_version": "1.6", **fields}


SUBSCRIPTION = {"billing_type": "subscription", "number_of_installments": "0"}
REVERSAL = {
    "amount": "-41.18",
    "amount_brutto": "-49.00",
    "amount_netto": "-41.18",
    "amount_vat": "-7.82",
}
# How each order event differs from a plain payment. The transaction types are the value set
# of shared/digistore24.md §3.1, which mirrors the events; an event not named here gets the
# fields of a payment.
ORDER_EVENT_FIELDS = {
    "on_payment_subscription_signup": {**SUBSCRIPTION, "billing_status": "paying"},
    "on_refund": {**REVERSAL, "transaction_type": "refund"},
    "on_chargeback": {**REVERSAL, "transaction_type": "chargeback"},
    "on_payment_missed": {
        **SUBSCRIPTION,
        "transaction_type": "payment_missed",
        "billing_status": "reminding",
    },
    "payment_denial": {"transaction_type": "payment_denial", "billing_status": "unpaid"},
    "on_rebill_cancelled": {
        **SUBSCRIPTION,
        "transaction_type": "rebill_cancelled",
        "billing_status": "aborted",
        "billing_stop_reason": "by_buyer",
    },
    "on_rebill_resumed": {
        **SUBSCRIPTION,
        "transaction_type": "rebill_resumed",
        "billing_status": "paying",
    },
    "last_paid_day": {
        **SUBSCRIPTION,
        "transaction_type": "last_paid_day",
        "billing_status": "aborted",
        "billing_stop_reason": "by_buyer",
    },
}


def _order(event: str, **fields: str) -> dict[str, str]:
    now = datetime.now(UTC)
    order_id = _order_id()
    return {
        "event": event,
        "api_mode": "test",
        "ipn_version": "1.6",
        "ipn_config_id": "12345",
        "language": "de",
        "order_id": order_id,
        "order_item_id": _number(8),
        "order_date": now.strftime("%Y-%m-%d"),
        "order_time": now.strftime("%H:%M:%S"),
        "order_type": "regular",
        "transaction_id": _number(9),
        "transaction_type": "payment",
        "transaction_date": now.strftime("%Y-%m-%d"),
        "product_id": "654321",
        "product_name": "Online-Kurs: Jörg Müllers Masterclass",
        "quantity": "1",
        "amount": "41.18",
        "amount_brutto": "49.00",
        "amount_netto": "41.18",
        "amount_vat": "7.82",
        "vat_rate": "19.00",
        "currency": "EUR",
        "pay_method": "test",
        "billing_type": "single_payment",
        "billing_status": "completed",
        "pay_sequence_no": "0",
        "number_of_installments": "1",
        "email": "test.buyer@example.com",
        "buyer_id": _number(7),
        "buyer_first_name": "Jörg",
        "buyer_last_name": "Müller",
        "address_first_name": "Jörg",
        "address_last_name": "Müller",
        "address_street": "Hauptstraße 1",
        "address_zipcode": "50667",
        "address_city": "Köln",
        "address_country": "DE",
        "address_phone_no": "",
        "affiliate_name": "",
        "custom": "",
        "invoice_url": f"https://www.digistore24.com/invoice/{order_id}",
        "receipt_url": f"https://www.digistore24.com/receipt/{order_id}",
        "merchant_id": "1234",
        "merchant_name": "test-vendor",
        **ORDER_EVENT_FIELDS.get(event, {}),
        **fields,
    }


def _eticket(event: str, **fields: str) -> dict[str, str]:
    return {
        **_order(event),
        "eticket_id": _number(20),
        "eticket_no": "1",
        "eticket_count": "1",
        "eticket_url": "https://www.digistore24.com/eticket/download/x",
        "eticket_date": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d"),
        "eticket_is_blocked": "N",
        "action": "create",
        "location_id": "77",
        "location_name": "Stadthalle Köln",
        "location_address": "Domplatz 1, 50667 Köln",
        "location_country": "DE",
        **fields,
    }


def _affiliation(event: str, **fields: str) -> dict[str, str]:
    return {
        "event": event,
        "api_mode": "test",
        "ipn_version": "1.6",
        "email": "partner@example.com",
        "affiliate_name": "partner" + _number(4),
        "affiliate_link": "https://www.digistore24.com/redir/654321/partner/",
        "language": "de",
        "address_first_name": "Petra",
        "address_last_name": "Partner",
        "address_city": "Berlin",
        "product_id": "654321",
        "product_name": "Online-Kurs: Jörg Müllers Masterclass",
        "merchant_id": "1234",
        **fields,
    }


def _custom_form(event: str, **fields: str) -> dict[str, str]:
    return {**_order(event), "has_custom_forms": "Y", "form_count": "1", "form_no": "1", **fields}


# The payload's shape follows the event's trigger; events outside the triggers have their own.
SHAPE_OF_KIND = {
    ipn.KIND_PAYMENTS: _order,
    ipn.KIND_ETICKETS: _eticket,
    ipn.KIND_AFFILIATIONS: _affiliation,
}
OWN_SHAPE = {"custom_form": _custom_form, ipn.CONNECTION_TEST: _connection_test}


def _sample(event: ipn.EventType) -> Callable[..., dict[str, str]]:
    shape = OWN_SHAPE.get(event.name) or SHAPE_OF_KIND[event.kind]

    def sample(**fields: str) -> dict[str, str]:
        return shape(event.name, **fields)

    sample.__name__ = event.name
    return sample


# A sample of every registered event: sample(**fields) -> params, the fields overriding.
BY_EVENT = {name: _sample(event) for name, event in ipn.EVENT_TYPES.items()}

# What the Send-sample button sends: the kind's first event; for "All events", a payment.
SAMPLE_FOR_KIND = {
    name: BY_EVENT[(kind.events or ipn.KNOWN_EVENTS)[0]] for name, kind in ipn.KINDS.items()
}

# The samples callers name most.
connection_test = BY_EVENT[ipn.CONNECTION_TEST]
on_payment = BY_EVENT["on_payment"]
on_refund = BY_EVENT["on_refund"]
eticket = BY_EVENT["eticket"]
on_affiliation = BY_EVENT["on_affiliation"]


def signed_body(params: dict[str, str], passphrase: str) -> bytes:
    """The form-encoded body Digistore24 would post, signed when there is a passphrase."""
    if passphrase:
        params = {**params, "sha_sign": signature(params.items(), passphrase)}
    return urlencode(params).encode()
