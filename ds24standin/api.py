"""The stand-in's API functions over its account (shared/digistore24.md §5).

Every function in the catalogue (connections/catalogue.py) is known here, with the catalogue's
parameter order and access level: a call names its parameters, or passes them by position as
Digistore24's own PHP connector does (`arg1`, `arg2[email]`, …). The functions the demo and the
console exercise answer from the seeded account and change it; every other catalogue function
answers an empty result of its documented shape. A function outside the catalogue is unknown,
as on Digistore24.

Writes that Digistore24 reports by IPN (refunds, rebilling stop and start, e-ticket use) post
the matching signed IPN to every connection registered with ipnSetup.
"""

import copy
import ipaddress
import re
import secrets
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import requests

from connections import catalogue
from connections.catalogue import Access
from ds24standin import data, dates
from ds24standin.ipn import Connection, Notifier
from ds24standin.params import (
    ApiError,
    Params,
    bad_params,
    matching,
    named_params,
    not_found,
    ordered,
    page,
    within,
    yes,
)

READ_ONLY = "readonly"
FULL_ACCESS = "writable"
DEVELOPER = "developer"  # no account access at all (for interactive key requests only)
DEMO_KEYS = {
    "1001-ReadOnlyDemoKey0000000000000000000000000": READ_ONLY,
    "1002-FullAccessDemoKey000000000000000000000000": FULL_ACCESS,
    "1003-DeveloperDemoKey0000000000000000000000000": DEVELOPER,
}
GRANTS = {
    READ_ONLY: {Access.READ},
    FULL_ACCESS: {Access.READ, Access.WRITE},
    DEVELOPER: {Access.DEVELOPER},
}
# ping only tells that Digistore24 answers, so any valid key may call it (whether DS24 refuses
# it to developer keys is unverified; connection_verify pings before it asks getUserInfo).
OPEN_TO_ALL_KEYS = {"ping"}
# Digistore24's own wording: the OpenAPI 403 is "Insufficient access rights", the function
# pages say "Read access or full access required" / "Full access required".
REQUIRED_ACCESS = {
    Access.READ: "read access or full access required",
    Access.WRITE: "full access required",
    Access.DEVELOPER: "a developer key is required",
}
IPN_TRANSACTIONS = (
    "payment",
    "refund",
    "chargeback",
    "payment_missed",
    "payment_denial",
    "rebill_cancelled",
    "rebill_resumed",
    "last_paid_day",
    "all",
)
IPN_CATEGORIES = ("orders", "affiliations", "etickets", "customforms", "orderform")
# billing_status in plain text, as stopRebilling and startRebilling add it (billing_status_msg).
BILLING_STATUS_MSG = {
    "paying": "Paying",
    "aborted": "Payments aborted",
    "unpaid": "Unpaid",
    "reminding": "Reminding",
    "completed": "Completed",
}
# Days from a transaction to the payout of its amount (the listCommissions page's example: 14).
PAYOUT_DAYS = 14
# ipnSetup's defaults per its documentation page (dev.digistore24.com/en/articles/61-ipnsetup).
IPN_DEFAULT_TRANSACTIONS = ("payment", "refund", "chargeback", "payment_missed")


def empty_answer(function: catalogue.Function) -> dict:
    """An empty result of the function's documented shape: lists for plural names, and an
    empty map where `data` itself is the answer."""
    if catalogue.DATA_ITSELF in function.response:
        return {}
    return {key: [] if _is_plural(key) else "" for key in function.response}


def choices_of(function: str, param: str) -> tuple[str, ...]:
    """The values the catalogue allows for one parameter of a function."""
    return next(p.choices for p in catalogue.get(function).params if p.name == param)


def _is_plural(name: str) -> bool:
    return name.endswith("_list") or (name.endswith("s") and not name.endswith(("ss", "us")))


def yn(flag: bool) -> str:
    return "Y" if flag else "N"


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def is_local(host: str) -> bool:
    """Addresses Digistore24's servers could not reach: loopback, private, link-local, and
    names that are not public DNS names."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "." not in host or host.endswith((".localhost", ".local", ".internal"))
    return not address.is_global


class Account:
    """The mutable state behind the API: the seeded data and what writes change."""

    def __init__(self, now: datetime | None = None):
        seeded = data.seed(now or datetime.now(UTC))
        self.products: list = seeded["products"]
        self.buyers: list = seeded["buyers"]
        self.affiliates: list = seeded["affiliates"]
        self.purchases: list = seeded["purchases"]
        self.transactions: list = seeded["transactions"]
        self.etickets: list = seeded["etickets"]
        self.ipn_connections: dict[tuple[str, str], Connection] = {}  # (key id, domain_id)
        self.key_requests: dict[str, dict] = {}  # request_token -> request
        self.buy_urls: list = []
        self.affiliate_for_email: dict[str, str] = {}
        self.next_id = 1_100_000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def find(self, rows: list, field: str, value: str, what: str) -> dict:
        for row in rows:
            if row[field] == value:
                return row
        raise not_found(f"{what} {value} not found.")


class Api:
    """`call(function, flat params, permission, key)` -> the `data` of the answer, or ApiError.

    A function `fn_<name>` answers from the account; calls are serialised by one lock, so a
    handler sees and leaves the account consistent. `keys` is the stand-in's key table:
    retrieveApiKey adds the keys it hands out to it.
    """

    def __init__(
        self,
        account: Account,
        *,
        keys: dict[str, str] | None = None,
        allow_local_ipn_urls: bool = False,
        notifier: Notifier | None = None,
    ):
        self.account = account
        self.keys = {} if keys is None else keys
        self.allow_local_ipn_urls = allow_local_ipn_urls
        self.notifier = notifier or Notifier()
        self.lock = threading.Lock()
        self.caller_key_id = ""  # the numeric id of the calling key, set for each call

    def call(self, function: str, flat: dict[str, str], permission: str, key: str = "") -> dict:
        spec = catalogue.get(function)
        if spec is None:
            raise ApiError(400, 9, "unknown_function", function=function)
        if function not in OPEN_TO_ALL_KEYS and spec.access not in GRANTS.get(permission, ()):
            raise ApiError(
                403,
                8,
                f"Insufficient access rights for {function}(): {REQUIRED_ACCESS[spec.access]}.",
            )
        values = named_params(spec, flat)
        for param in spec.required:
            if values.get(param.name) in (None, "", {}):
                raise bad_params(f"The parameter '{param.name}' is required.")
        handler = getattr(self, f"fn_{function}", None)
        if handler is None:
            return empty_answer(spec)
        with self.lock:
            self.caller_key_id = key.partition("-")[0]
            return handler(Params(values, datetime.now(UTC)))

    # --- helpers over the account -------------------------------------------------------------

    def _purchase(self, purchase_id: str) -> dict:
        return self.account.find(self.account.purchases, "id", purchase_id, "Purchase")

    def _transactions_of(self, purchase_id: str) -> list:
        return [t for t in self.account.transactions if t["purchase_id"] == purchase_id]

    def _purchase_view(self, purchase: dict) -> dict:
        # Digistore24's getPurchase.yaml calls the order id `id`; the connector examples and
        # ds24-appkit read `purchase_id` too, so the answer carries both.
        return {
            **copy.deepcopy(purchase),
            "purchase_id": purchase["id"],
            "transaction_list": copy.deepcopy(self._transactions_of(purchase["id"])),
        }

    def _notify(self, event: str, purchase: dict, txn: dict | None = None, **extra: str):
        """Post the IPN for `event` on `purchase` to every registered connection."""
        buyer = purchase["buyer"]
        amount = txn["amount"] if txn else purchase["amount"]
        fields = {
            "order_id": purchase["id"],
            "order_item_id": purchase["items"][0]["order_item_id"],
            "order_date": purchase["created_at"][:10],
            "order_time": purchase["created_at"][11:],
            "product_id": purchase["product_id"],
            "product_name": purchase["product_name"],
            "transaction_id": txn["id"] if txn else "",
            "transaction_type": txn["transaction_type"] if txn else "",
            "transaction_date": txn["created_at"][:10] if txn else "",
            "amount_brutto": amount,
            "amount_vat": txn["vat_amount"] if txn else purchase["vat_amount"],
            "amount_netto": money(
                Decimal(amount) - Decimal(txn["vat_amount"] if txn else purchase["vat_amount"])
            ),
            "vat_rate": purchase["vat_rate"],
            "currency": purchase["currency"],
            "pay_method": purchase["pay_method"],
            "api_mode": purchase["api_mode"],
            "billing_type": purchase["billing_type"],
            "billing_status": purchase["billing_status"],
            "billing_stop_reason": purchase["billing_stop_reason"],
            "number_of_installments": purchase["number_of_installments"],
            "pay_sequence_no": txn["pay_sequence_no"] if txn else "",
            "next_payment_at": purchase["next_payment_at"],
            "email": buyer["email"],
            "buyer_email": buyer["email"],
            "buyer_id": buyer["id"],
            "buyer_first_name": buyer["first_name"],
            "buyer_last_name": buyer["last_name"],
            "address_first_name": buyer["first_name"],
            "address_last_name": buyer["last_name"],
            "address_country": buyer["country"],
            "affiliate_name": purchase["affiliate_name"],
            "merchant_id": data.USER["user_id"],
            "merchant_name": data.USER["user_name"],
            "invoice_url": purchase["invoice_url"],
            "receipt_url": purchase["receipt_url"],
            **extra,
        }
        fields["amount"] = fields["amount_netto"]
        self.notifier.notify(list(self.account.ipn_connections.values()), event, fields)

    def _refund(self, payment: dict, now: datetime) -> dict:
        purchase = self._purchase(payment["purchase_id"])
        refund = data.transaction(
            purchase, self.account.new_id(), "refund", now, int(payment["pay_sequence_no"])
        )
        refund["parent_transaction_id"] = payment["id"]
        self.account.transactions.append(refund)
        if purchase["rebilling_active"] == "Y":  # a refund ends the subscription
            self._stop_rebilling(purchase, "by_refund", now)
        self._notify("on_refund", purchase, refund)
        return refund

    def _refundable(self, payment: dict) -> bool:
        return payment["transaction_type"] == "payment" and not any(
            t["parent_transaction_id"] == payment["id"] for t in self.account.transactions
        )

    def _stop_rebilling(self, purchase: dict, reason: str, now: datetime) -> None:
        purchase.update(
            rebilling_active="N",
            billing_status="aborted",
            next_payment_at="",
            billing_stop_reason=reason,
        )
        self._notify("on_rebill_cancelled", purchase, rebill_stop_noted_at=dates.stamp(now))

    # --- system and account ---------------------------------------------------------------------

    def fn_ping(self, p: Params) -> dict:
        return {"server_time": dates.stamp(p.now)}

    def fn_getUserInfo(self, p: Params) -> dict:
        return dict(data.USER)

    def fn_getGlobalSettings(self, p: Params) -> dict:
        # The shape is not documented anywhere in the corpus; these are the lists its one-line
        # description names (product types, usage types, image sizes) plus currencies.
        return {
            "product_types": [
                {"id": "1", "name": "Digital product"},
                {"id": "2", "name": "Physical product"},
                {"id": "3", "name": "Service"},
                {"id": "4", "name": "E-ticket"},
            ],
            "image_usage_types": ["product", "orderform", "upsell", "eticket"],
            "image_sizes": {"product": "300x300", "orderform": "800x200"},
            "currencies": sorted({product["currency"] for product in self.account.products}),
            "languages": ["de", "en", "es", "fr", "it", "nl", "pl", "pt"],
        }

    def fn_requestApiKey(self, p: Params) -> dict:
        permissions = p.required("permissions")
        allowed = choices_of("requestApiKey", "permissions")
        if permissions not in allowed:
            raise bad_params(f"permissions must be one of: {', '.join(allowed)}.")
        # The function's page spells it read-only, the key settings readonly: the same access.
        permissions = READ_ONLY if permissions == "read-only" else permissions
        for name in ("return_url", "cancel_url"):
            if p.text(name) and not p.text(name).startswith("https://"):
                raise bad_params(f"{name} must be a public https URL.")
        token = secrets.token_hex(16)
        self.account.key_requests[token] = {"permissions": permissions, "api_key": ""}
        return {
            "request_token": token,
            "request_url": f"https://www.digistore24.com/api_key/request/{token}",
        }

    def fn_retrieveApiKey(self, p: Params) -> dict:
        request = self.account.key_requests.get(p.required("token"))
        if request is None:
            raise not_found("Unknown or expired API key request token.")
        if not request["api_key"]:
            # No vendor confirms here: the stand-in completes the request on the first poll,
            # and the new key then works against the stand-in.
            request["api_key"] = f"{self.account.new_id()}-{secrets.token_urlsafe(30)[:40]}"
            self.keys[request["api_key"]] = request["permissions"]
        return {
            "api_key": request["api_key"],
            "request_status": "completed",
            "permissions": request["permissions"],
            "note": "",
        }

    # --- IPN connections ------------------------------------------------------------------------

    def fn_ipnSetup(self, p: Params) -> dict:
        # domain_id is optional (the OpenAPI file requires ipn_url, name and product_ids): without
        # one, the key has a single connection, the one with the empty domain_id.
        url, domain_id = p.required("ipn_url"), p.text("domain_id")
        self._check_ipn_url(url)
        categories = self._choices(p, "categories", IPN_CATEGORIES, ("orders",))
        transactions = self._choices(p, "transactions", IPN_TRANSACTIONS, IPN_DEFAULT_TRANSACTIONS)
        product_ids = p.required("product_ids")
        if product_ids != "all" and not re.fullmatch(r"\d+(,\d+)*", product_ids.replace(" ", "")):
            raise bad_params("product_ids must be 'all' or a comma separated list of product ids.")
        timing = p.text("timing") or "before_thankyou"
        if timing not in ("before_thankyou", "delayed"):
            raise bad_params("timing must be before_thankyou or delayed.")
        key = (self.caller_key_id, domain_id)
        existing = self.account.ipn_connections.get(key)
        passphrase = p.text("sha_passphrase")
        if passphrase == "random":
            passphrase = secrets.token_urlsafe(24)[:30]
        elif not passphrase and existing:
            passphrase = existing.sha_passphrase  # an update keeps the passphrase
        if len(passphrase) > 63:
            raise bad_params("sha_passphrase may have at most 63 characters.")
        connection = Connection(
            ipn_id=existing.ipn_id if existing else self.account.new_id(),
            key_id=self.caller_key_id,
            domain_id=domain_id,
            ipn_url=url,
            name=p.required("name"),
            product_ids=product_ids.replace(" ", ""),
            categories=categories,
            transactions=transactions,
            timing=timing,
            sha_passphrase=passphrase,
            newsletter_send_policy=p.text("newsletter_send_policy") or "send_if_not_optout",
        )
        self.account.ipn_connections[key] = connection
        return {
            "created": yn(not existing),
            "updated": yn(bool(existing)),
            "deleted": "N",
            "sha_passphrase": passphrase,
            "ipn_id": connection.ipn_id,
        }

    def _choices(self, p: Params, name: str, allowed, default) -> tuple[str, ...]:
        chosen = tuple(v.strip() for v in p.text(name).split(",") if v.strip()) or default
        wrong = [v for v in chosen if v not in allowed]
        if wrong:
            raise bad_params(f"Invalid {name} '{wrong[0]}'; allowed: {', '.join(allowed)}.")
        return chosen

    def _check_ipn_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_params("ipn_url must be an https URL.")
        if not self.allow_local_ipn_urls:
            if parts.scheme != "https":
                raise bad_params("The IPN URL must use https.")
            if is_local(parts.hostname):
                raise bad_params(
                    "The IPN URL must be publicly reachable (no localhost or private addresses)."
                )
        # Digistore24 calls the URL with GET and accepts only HTTP 200, no redirect (§1.1).
        try:
            answer = requests.get(url, timeout=5, allow_redirects=False)
        except requests.RequestException as exc:
            raise bad_params(f"The IPN URL could not be reached ({type(exc).__name__}).") from None
        if answer.status_code != 200:
            raise bad_params(
                f"The IPN URL answered HTTP {answer.status_code} to a GET; "
                "Digistore24 needs HTTP 200 without a redirect."
            )

    def fn_ipnInfo(self, p: Params) -> dict:
        connection = self.account.ipn_connections.get((self.caller_key_id, p.text("domain_id")))
        return {"have_settings": yn(bool(connection)), **(connection.info() if connection else {})}

    def fn_ipnDelete(self, p: Params) -> dict:
        removed = self.account.ipn_connections.pop((self.caller_key_id, p.text("domain_id")), None)
        return {"modified": yn(bool(removed))}

    # --- products ---------------------------------------------------------------------------------

    def fn_listProducts(self, p: Params) -> dict:
        sorts = {
            "": lambda r: int(r["id"]),
            "name": lambda r: r["name"].lower(),
            "group": lambda r: (r["product_group_name"], r["name"].lower()),
        }
        if p.text("sort_by") not in sorts:
            raise bad_params("sort_by must be name or group.")
        rows = sorted(self.account.products, key=sorts[p.text("sort_by")])
        # listProducts' OpenAPI schema has no payment plans; getProduct adds them.
        return {"products": [{k: v for k, v in r.items() if k != "paymentplans"} for r in rows]}

    def fn_getProduct(self, p: Params) -> dict:
        # `data` is the product itself (HEP's OpenAPI getProductResponse); GoSuccess's docs
        # wrap it in `product`, but §0 flags those response examples as invented.
        product = self.account.find(
            self.account.products, "id", p.required("product_id"), "Product"
        )
        return copy.deepcopy(product)

    # --- purchases, transactions, buyers ------------------------------------------------------

    PURCHASE_SEARCH = {
        "purchase_id": lambda r: r["id"],
        "product_id": lambda r: r["product_id"],
        "email": lambda r: r["buyer"]["email"],
        "first_name": lambda r: r["buyer"]["first_name"],
        "last_name": lambda r: r["buyer"]["last_name"],
        "currency": lambda r: r["currency"],
        "pay_method": lambda r: r["pay_method"],
        "billing_type": lambda r: r["billing_type"],
        "affiliate_name": lambda r: r["affiliate_name"],
        "has_affiliate": lambda r: yn(bool(r["affiliate_name"])),
        "order_type": lambda r: r["api_mode"],  # live | test
        "role": lambda r: "vendor",
    }
    TRANSACTION_SEARCH = {
        "transaction_id": lambda r: r["id"],
        "transaction_type": lambda r: r["transaction_type"],
        "purchase_id": lambda r: r["purchase_id"],
        "product_id": lambda r: r["product_id"],
        "email": lambda r: r["buyer_email"],
        "currency": lambda r: r["currency"],
        "pay_method": lambda r: r["pay_method"],
        "affiliate_name": lambda r: r["affiliate_name"],
    }

    def fn_listPurchases(self, p: Params) -> dict:
        search = p.search()
        transaction_type = search.pop("transaction_type", "")
        rows = matching(
            within(self.account.purchases, "created_at", *p.period()), search, self.PURCHASE_SEARCH
        )
        if transaction_type:
            kinds = set(transaction_type.split(","))
            rows = [
                r
                for r in rows
                if any(t["transaction_type"] in kinds for t in self._transactions_of(r["id"]))
            ]
        rows = ordered(
            rows,
            p,
            {
                "date": lambda r: r["created_at"],
                "amount": lambda r: Decimal(r["amount"]),
                "earning": lambda r: (
                    Decimal(r["amount"]) - Decimal(r["vat_amount"]) - Decimal(r["amount_affiliate"])
                ),
            },
        )
        load = yes(p.text("load_transactions"))
        answer = page(rows, p, "purchase_list")
        answer["purchase_list"] = [
            self._purchase_view(r) if load else copy.deepcopy(r) for r in answer["purchase_list"]
        ]
        return answer

    def fn_getPurchase(self, p: Params) -> dict:
        # One id: the purchase itself; several: an object keyed by id (getPurchase.yaml).
        wanted = [w.strip() for w in p.required("purchase_id").split(",") if w.strip()]
        if not wanted:
            raise bad_params("The parameter 'purchase_id' is required.")
        found = {w: self._purchase_view(self._purchase(w)) for w in wanted}
        return found[wanted[0]] if len(wanted) == 1 else found

    def fn_listPurchasesOfEmail(self, p: Params) -> dict:
        email = p.required("email").lower()
        rows = [r for r in self.account.purchases if r["buyer"]["email"] == email]
        rows = sorted(rows, key=lambda r: r["created_at"], reverse=True)
        return {"purchase_list": copy.deepcopy(rows[: p.number("limit", 100)])}

    def fn_listTransactions(self, p: Params) -> dict:
        rows = matching(
            within(self.account.transactions, "created_at", *p.period()),
            p.search(),
            self.TRANSACTION_SEARCH,
        )
        rows = ordered(
            rows,
            p,
            {
                "date": lambda r: (r["created_at"], int(r["id"])),
                "amount": lambda r: Decimal(r["amount"]),
            },
        )
        return page(copy.deepcopy(rows), p, "transaction_list")

    def fn_listBuyers(self, p: Params) -> dict:
        # Paging only: the official OpenAPI file gives listBuyers no filters.
        rows = sorted(self.account.buyers, key=lambda r: r["created_at"], reverse=True)
        return page(copy.deepcopy(rows), p, "items")

    def fn_getBuyer(self, p: Params) -> dict:
        buyer = self.account.find(self.account.buyers, "id", p.required("buyer_id"), "Buyer")
        purchases = [r["id"] for r in self.account.purchases if r["buyer"]["id"] == buyer["id"]]
        return {"buyer": {**copy.deepcopy(buyer), "purchase_ids": purchases}}

    def fn_refundTransaction(self, p: Params) -> dict:
        transaction_id = p.required("transaction_id")
        _check_request_date(p)
        payment = self.account.find(self.account.transactions, "id", transaction_id, "Transaction")
        if payment["transaction_type"] != "payment":
            raise bad_params(
                f"Transaction {transaction_id} is a {payment['transaction_type']}, "
                "not a payment; only payments can be refunded."
            )
        if not self._refundable(payment):
            raise bad_params(f"Transaction {transaction_id} has already been refunded.")
        refund = self._refund(payment, p.now)
        return {
            "note": f"Transaction {transaction_id} refunded: {refund['amount'][1:]} "
            f"{refund['currency']} (refund transaction {refund['id']}).",
            "refund_transaction_id": refund["id"],
        }

    def fn_refundPurchase(self, p: Params) -> dict:
        purchase = self._purchase(p.required("purchase_id"))
        _check_request_date(p)
        payments = [t for t in self._transactions_of(purchase["id"]) if self._refundable(t)]
        if not payments:
            raise bad_params(f"Purchase {purchase['id']} has no payment left to refund.")
        refunds = [self._refund(payment, p.now) for payment in payments]
        return {
            "note": f"Purchase {purchase['id']}: {len(refunds)} payment(s) refunded.",
            "refund_transaction_ids": [r["id"] for r in refunds],
        }

    def fn_stopRebilling(self, p: Params) -> dict:
        # The answer's keys are those of the function's page (dev.digistore24.com stopRebilling);
        # the stand-in knows no minimum terms, so a stop is always effective now.
        purchase = self._rebilled(p.required("purchase_id"))
        modified = purchase["rebilling_active"] == "Y"
        if modified:
            self._stop_rebilling(purchase, "by_operator", p.now)
        outcome = "have been stopped" if modified else "were already stopped"
        return {
            **self._rebilling_answer(purchase, modified, outcome),
            "code": "stopped_now" if modified else "",
            "is_cancelled_now": yn(modified),
            "is_cancelled_later": "N",
            "can_cancel_before": "",
        }

    def fn_startRebilling(self, p: Params) -> dict:
        purchase = self._rebilled(p.required("purchase_id"))
        if purchase["billing_stop_reason"] in ("by_refund", "by_chargeback"):
            raise bad_params(
                f"Purchase {purchase['id']} was refunded; its rebilling cannot be restarted."
            )
        if purchase["rebilling_active"] == "N":
            purchase.update(
                rebilling_active="Y",
                billing_status="paying",
                billing_stop_reason="",
                next_payment_at=(p.now + timedelta(days=data.REBILL_DAYS)).strftime("%Y-%m-%d"),
            )
            self._notify("on_rebill_resumed", purchase)
            return self._rebilling_answer(purchase, True, "have been resumed")
        return self._rebilling_answer(purchase, False, "are already active")

    def _rebilling_answer(self, purchase: dict, modified: bool, outcome: str) -> dict:
        """What stopRebilling and startRebilling both answer (their function pages)."""
        return {
            "modified": yn(modified),
            "note": f"The payments of order {purchase['id']} {outcome}.",
            "billing_status": purchase["billing_status"],
            "billing_status_msg": BILLING_STATUS_MSG[purchase["billing_status"]],
            "next_payment_at": purchase["next_payment_at"],
            "rebilling_active": purchase["rebilling_active"],
        }

    def _rebilled(self, purchase_id: str) -> dict:
        purchase = self._purchase(purchase_id)
        if purchase["billing_type"] == "single_payment":
            raise bad_params(f"Purchase {purchase_id} is a single payment; it has no rebilling.")
        return purchase

    def fn_createBuyUrl(self, p: Params) -> dict:
        product = self.account.find(
            self.account.products, "id", p.required("product_id"), "Product"
        )
        for name, url in p.object("urls").items():
            if url and not str(url).startswith("https://"):
                raise bad_params(f"urls[{name}] must be an https URL.")
        valid_until = p.text("valid_until") or "forever"
        if valid_until != "forever":
            valid_until = dates.stamp(p.moment(valid_until, end_of_day=True))
        buy_url_id = self.account.new_id()
        token = secrets.token_urlsafe(12)
        url = f"https://www.digistore24.com/product/{product['id']}?ds24buyurl={buy_url_id}-{token}"
        self.account.buy_urls.append(
            {
                "id": buy_url_id,
                "url": url,
                "product_id": product["id"],
                "valid_until": valid_until,
                "email": str(p.object("buyer").get("email", "")),
                "created_at": dates.stamp(p.now),
            }
        )
        return {"id": buy_url_id, "url": url, "valid_until": valid_until}

    def fn_statsSales(self, p: Params) -> dict:
        # No source documents this answer's shape (GoSuccess's example looks invented): per
        # period and currency, the sales and refunds, plus totals per currency.
        period = p.text("period") or "day"
        keys = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m", "year": "%Y"}
        if period not in keys:
            raise bad_params(f"period must be one of: {', '.join(keys)}.")
        start, end = p.period()
        rows = within(self.account.transactions, "created_at", start, end)
        buckets, totals = defaultdict(_SalesSum), defaultdict(_SalesSum)
        for row in rows:
            label = dates.read(row["created_at"]).strftime(keys[period])
            for bucket in (buckets[label, row["currency"]], totals[row["currency"]]):
                bucket.add(row)
        return {
            "period": period,
            "from": dates.stamp(start) if start else "",
            "to": dates.stamp(end) if end else "",
            "sales": [
                {"period": label, "currency": currency, **bucket.as_dict()}
                for (label, currency), bucket in sorted(buckets.items())
            ],
            "totals": [
                {"currency": currency, **bucket.as_dict()}
                for currency, bucket in sorted(totals.items())
            ],
        }

    # --- e-tickets ------------------------------------------------------------------------------

    ETICKET_SEARCH = {
        k: (lambda r, k=k: r[k])
        for k in (
            "product_id",
            "location_id",
            "template_id",
            "purchase_id",
            "email",
            "first_name",
            "last_name",
            "is_blocked",
        )
    }

    def fn_listEtickets(self, p: Params) -> dict:
        search = p.search()
        # The event date range is search[from_date] and search[to_date], as the catalogue names
        # them; listEtickets takes no parameter but `search`.
        dates_of_event = {"from": search.pop("from_date", ""), "to": search.pop("to_date", "")}
        start, end = p.period(dates_of_event)
        only_used = yes(search.pop("only_validated", ""))
        rows = [
            r
            for r in matching(self.account.etickets, search, self.ETICKET_SEARCH)
            if (start is None or r["date"] >= start.strftime("%Y-%m-%d"))
            and (end is None or r["date"] <= end.strftime("%Y-%m-%d"))
            and (r["used_at"] or not only_used)
        ]
        return {"etickets": copy.deepcopy(rows)}

    def fn_getEticket(self, p: Params) -> dict:
        # Wrapped in `eticket`, as the function's page shows its answer.
        ticket = self.account.find(
            self.account.etickets, "id", p.required("eticket_id"), "E-ticket"
        )
        return {"eticket": copy.deepcopy(ticket)}

    def fn_validateEticket(self, p: Params) -> dict:
        # Digistore24 answers an invalid ticket with status=error inside a successful call.
        ticket_id = p.required("eticket_id")
        ticket = next((t for t in self.account.etickets if t["id"] == ticket_id), None)
        if ticket is None:
            return {"status": "error", "msg": "This e-ticket does not exist."}
        answer = {
            "eticket_location_id": ticket["location_id"],
            "eticket_template_id": ticket["template_id"],
            "eticket_date": ticket["date"],
            "is_eticket_valid_for_different_event": "N",
        }
        event = {
            "location_id": p.text("location_id") or ticket["location_id"],
            "template_id": p.text("template_id") or ticket["template_id"],
        }
        # `date` defaults to today: a ticket scanned at the door is for today's event.
        days = [p.moment(d).strftime("%Y-%m-%d") for d in p.text("date").split(",") if d.strip()]
        days = days or [p.now.strftime("%Y-%m-%d")]
        if ticket["is_blocked"] == "Y":
            return {"status": "error", "msg": "This e-ticket is blocked.", **answer}
        if any(ticket[k] != v for k, v in event.items()) or ticket["date"] not in days:
            answer["is_eticket_valid_for_different_event"] = "Y"
            return {"status": "error", "msg": "This e-ticket is for a different event.", **answer}
        if ticket["used_at"]:
            return {
                "status": "error",
                "msg": f"This e-ticket was already used at {ticket['used_at']}.",
                **answer,
            }
        ticket["used_at"] = dates.stamp(p.now)
        purchase = self._purchase(ticket["purchase_id"])
        self._notify(
            "eticket",
            purchase,
            action="use",
            eticket_id=ticket["id"],
            eticket_date=ticket["date"],
            eticket_used_at=ticket["used_at"],
            location_id=ticket["location_id"],
        )
        return {"status": "success", "msg": "The e-ticket is valid.", **answer}

    # --- affiliates -----------------------------------------------------------------------------

    def _affiliate(self, field: str, value: str) -> dict:
        return self.account.find(self.account.affiliates, field, value, "Affiliate")

    def fn_getAffiliateForEmail(self, p: Params) -> dict:
        email = p.required("email").lower()
        name = self.account.affiliate_for_email.get(email) or next(
            (b["affiliate_name"] for b in self.account.buyers if b["email"] == email), ""
        )
        affiliate = self._affiliate("affiliate_name", name) if name else {}
        return {"affiliate_name": name, "affiliate_id": affiliate.get("affiliate_id", "")}

    def fn_setAffiliateForEmail(self, p: Params) -> dict:
        email, name = p.required("email").lower(), p.required("affiliate")
        self._affiliate("affiliate_name", name)
        modified = self.account.affiliate_for_email.get(email) != name
        self.account.affiliate_for_email[email] = name
        return {"modified": yn(modified)}

    def fn_validateAffiliate(self, p: Params) -> dict:
        name = p.required("affiliate_name")
        known = {a["affiliate_name"]: a for a in self.account.affiliates}
        products = {r["id"] for r in self.account.products}
        wanted = [i.strip() for i in p.text("product_ids").split(",") if i.strip()] or ["all"]
        valid = name in known and all(i == "all" or i in products for i in wanted)
        return {
            "affiliate_name": name,
            "affiliate_id": known[name]["affiliate_id"] if name in known else "",
            "is_valid": yn(valid),
        }

    def fn_getAffiliateCommission(self, p: Params) -> dict:
        affiliate = self._affiliate("affiliate_id", p.required("affiliate_id"))
        wanted = {i.strip() for i in p.text("product_ids").split(",") if i.strip()}
        return {
            "affiliate_id": affiliate["affiliate_id"],
            "affiliate_name": affiliate["affiliate_name"],
            "commissions": [
                {
                    "product_id": r["id"],
                    "product_name": r["name"],
                    "commission_rate": affiliate["commission_rate"],
                    "commission_fix": "0.00",
                    "currency": r["currency"],
                }
                for r in self.account.products
                if not wanted or r["id"] in wanted
            ],
        }

    def fn_listCommissions(self, p: Params) -> dict:
        # The account owner's amounts, one per transaction, in the shape of the function's page
        # (dev.digistore24.com listCommissions): the vendor's share after VAT and affiliate.
        kinds = {k.strip() for k in p.text("transaction_type").split(",") if k.strip()}
        reasons = {k.strip() for k in p.text("commission_type").split(",") if k.strip()}
        rows = [
            t
            for t in within(self.account.transactions, "created_at", *p.period())
            if (not kinds or "all" in kinds or t["transaction_type"] in kinds)
            and (not reasons or "all" in reasons or "merchant_share" in reasons)
            and (not p.text("purchase_id") or t["purchase_id"] == p.text("purchase_id"))
        ]
        items = [
            {
                "id": t["id"],
                "created_at": t["created_at"],
                "amount": money(
                    Decimal(t["amount"]) - Decimal(t["vat_amount"]) - Decimal(t["amount_affiliate"])
                ),
                "currency": t["currency"],
                "reason": "merchant_share",
                "schedule_payout_at": (
                    dates.read(t["created_at"]) + timedelta(days=PAYOUT_DAYS)
                ).strftime("%Y-%m-%d"),
                "transaction_id": t["id"],
                "purchase_id": t["purchase_id"],
            }
            for t in sorted(rows, key=lambda t: t["created_at"], reverse=True)
        ]
        return page(items, p, "items")

    def fn_statsAffiliateToplist(self, p: Params) -> dict:
        rows = [
            t
            for t in within(self.account.transactions, "created_at", *p.period())
            if t["affiliate_name"]
        ]
        for name, field in (("affiliate", "affiliate_name"), ("currency", "currency")):
            if p.text(name):
                rows = [t for t in rows if t[field] == p.text(name)]
        sums = defaultdict(_SalesSum)
        for row in rows:
            sums[row["affiliate_name"], row["currency"]].add(row)
        ranked = sorted(sums.items(), key=lambda item: -item[1].amount)
        return {
            "toplist": [
                {"rank": str(n), "affiliate_name": name, "currency": currency, **bucket.as_dict()}
                for n, ((name, currency), bucket) in enumerate(ranked, 1)
            ]
        }


def _check_request_date(p: Params) -> None:
    """request_date (when the buyer asked for the refund) is a DATE; the stand-in grants every
    refund, so it only refuses a value that is not one."""
    if p.text("request_date"):
        p.moment(p.text("request_date"))


class _SalesSum:
    def __init__(self):
        self.sales, self.refunds = 0, 0
        self.amount, self.refunded = Decimal(0), Decimal(0)

    def add(self, transaction: dict) -> None:
        if transaction["transaction_type"] == "refund":
            self.refunds += 1
            self.refunded -= Decimal(transaction["amount"])
        else:
            self.sales += 1
            self.amount += Decimal(transaction["amount"])

    def as_dict(self) -> dict:
        return {
            "sales_count": str(self.sales),
            "amount": money(self.amount),
            "refunds_count": str(self.refunds),
            "refunds_amount": money(self.refunded),
            "net_amount": money(self.amount - self.refunded),
        }
