"""The stand-in's seeded account: a vendor with products, buyers, affiliates, purchases, their
transactions and e-tickets, consistent with each other and spread over the 30 days before `now`
(so filters like `from=-7d` and the dashboard's charts have something to show).

Ids, names and amounts are deterministic, so tests can name them; only the dates move with the
clock. All values are strings, as Digistore24 sends them. Record shapes follow
shared/digistore24.md §5 and, where it is silent, the OpenAPI files (HEP's getProduct /
listProducts / listEtickets schemas, Digistore24's own getPurchase.yaml).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from ds24standin import dates

USER = {
    "user_id": "4711",
    "user_name": "demo-vendor",
    "granted_roles": "user,merchant",
    "granted_roles_msg": "User, Vendor",
}

# (id, name, language, currency, price, billing type)
_PRODUCTS = [
    ("100", "Online-Kurs: Masterclass", "de", "EUR", "49.00", "single_payment"),
    ("101", "E-Book: Erste Schritte", "de", "EUR", "19.00", "single_payment"),
    ("102", "Mitgliedschaft Premium", "de", "EUR", "29.00", "subscription"),
    ("103", "Workshop Köln (E-Ticket)", "de", "EUR", "199.00", "single_payment"),
    ("104", "Coaching 1:1", "de", "CHF", "490.00", "single_payment"),
    ("105", "Video Course: Marketing Basics", "en", "USD", "97.00", "single_payment"),
]
REBILL_DAYS = 7  # the membership bills weekly, so rebills fall inside the seeded 30 days

# (first name, last name, country, VAT rate in percent)
_BUYERS = [
    ("Jörg", "Müller", "DE", "19"),
    ("Anna", "Schmidt", "DE", "19"),
    ("Lukas", "Huber", "AT", "20"),
    ("Sophie", "Weber", "DE", "19"),
    ("Noah", "Keller", "CH", "8.1"),
    ("Emma", "Brown", "US", "0"),
    ("Mia", "Fischer", "DE", "19"),
    ("Paul", "Wagner", "AT", "20"),
    ("Lea", "Becker", "DE", "19"),
    ("Jonas", "Meier", "CH", "8.1"),
    ("Olivia", "Smith", "US", "0"),
    ("Ben", "Schulz", "DE", "19"),
    ("Hanna", "Koch", "DE", "19"),
    ("Elias", "Bauer", "AT", "20"),
    ("Lina", "Richter", "DE", "19"),
    ("Finn", "Klein", "DE", "19"),
]

AFFILIATES = [
    {
        "affiliate_id": "5001",
        "affiliate_name": "anna-empfiehlt",
        "email": "anna@partner.example",
        "first_name": "Anna",
        "last_name": "Partner",
        "commission_rate": "30.00",
    },
    {
        "affiliate_id": "5002",
        "affiliate_name": "marketingmax",
        "email": "max@partner.example",
        "first_name": "Max",
        "last_name": "Mustermann",
        "commission_rate": "40.00",
    },
    {
        "affiliate_id": "5003",
        "affiliate_name": "kursblog",
        "email": "team@kursblog.example",
        "first_name": "Kurs",
        "last_name": "Blog",
        "commission_rate": "25.00",
    },
]

PURCHASE_COUNT = 24
REFUNDED_ORDER = "DEMO0010"  # refunded three days after the sale
STOPPED_ORDER = "DEMO0008"  # a membership whose rebilling the buyer stopped
EVENT_LOCATION = {"location_id": "77", "template_id": "5"}


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def products(now: datetime) -> list[dict]:
    created = dates.stamp(now - timedelta(days=120))
    return [
        {
            "id": pid,
            "name": name,
            "name_intern": name,
            "language": language,
            "currency": currency,
            "note": "",
            "tag": "",
            "description": "",
            "product_group_id": "",
            "product_group_name": "",
            "product_type_id": "1",
            "approval_status": "approved",
            "approval_status_msg": "Approved",
            "is_active": "Y",
            "is_deleted": "N",
            "units_left": "infinite",
            "affiliate_commission": "30",
            "salespage_url": f"https://shop.example/p/{pid}",
            "thankyou_url": f"https://shop.example/thanks/{pid}",
            "created_at": created,
            "modified_at": created,
            "paymentplans": [_payment_plan(pid, currency, price, billing, created)],
        }
        for pid, name, language, currency, price, billing in _PRODUCTS
    ]


def _payment_plan(product_id, currency, price, billing, created) -> dict:
    subscription = billing == "subscription"
    return {
        "id": str(int(product_id) * 10),
        "product_id": product_id,
        "currency": currency,
        "first_amount": price,
        "other_amounts": price if subscription else "0.00",
        "number_of_installments": "0" if subscription else "1",
        "first_billing_interval": f"{REBILL_DAYS}_day" if subscription else "",
        "other_billing_intervals": f"{REBILL_DAYS}_day" if subscription else "",
        "is_active": "Y",
        "created_at": created,
        "modified_at": created,
    }


def seed(now: datetime) -> dict[str, list]:
    """A fresh account as of `now`."""
    catalogue = products(now)
    buyers = [
        {
            "id": str(300_000 + n),
            "email": f"buyer{n}@example.com",
            "first_name": first,
            "last_name": last,
            "country": country,
            "vat_rate": vat,
            "affiliate_name": "",
            "created_at": "",
        }
        for n, (first, last, country, vat) in enumerate(_BUYERS)
    ]
    purchases, transactions, etickets = [], [], []
    next_transaction = iter(range(900_000, 1_000_000))
    for n in range(PURCHASE_COUNT):
        product = catalogue[n % len(catalogue)]
        plan = product["paymentplans"][0]
        # The first 16 purchases are one per buyer; later ones are repeat customers (even buyers),
        # so buyer3@example.com has exactly one order, DEMO0003.
        buyer = buyers[n if n < len(buyers) else (n - len(buyers)) * 2]
        created = now - timedelta(days=29) + timedelta(hours=29 * n + 3)
        buyer["created_at"] = buyer["created_at"] or dates.stamp(created)
        affiliate = AFFILIATES[(n // 4) % len(AFFILIATES)] if n % 4 == 1 else None
        if affiliate and not buyer["affiliate_name"]:
            buyer["affiliate_name"] = affiliate["affiliate_name"]
        purchase = _purchase(n, product, plan, buyer, affiliate, created, now)
        purchases.append(purchase)

        payment_times = [created]
        if purchase["billing_type"] == "subscription":
            stop = created + timedelta(days=10) if purchase["id"] == STOPPED_ORDER else now
            while payment_times[-1] + timedelta(days=REBILL_DAYS) <= stop:
                payment_times.append(payment_times[-1] + timedelta(days=REBILL_DAYS))
        for sequence, paid_at in enumerate(payment_times):
            transactions.append(
                transaction(purchase, str(next(next_transaction)), "payment", paid_at, sequence)
            )
        if purchase["id"] == REFUNDED_ORDER:
            payment = transactions[-1]
            refund = transaction(
                purchase, str(next(next_transaction)), "refund", created + timedelta(days=3), 0
            )
            refund["parent_transaction_id"] = payment["id"]
            transactions.append(refund)
        if product["id"] == "103":
            etickets.append(_eticket(len(etickets), purchase, now))
    etickets[1]["used_at"] = dates.stamp(now - timedelta(days=1))  # one ticket already scanned
    return {
        "products": catalogue,
        "buyers": buyers,
        "affiliates": [dict(a) for a in AFFILIATES],
        "purchases": purchases,
        "transactions": transactions,
        "etickets": etickets,
    }


def _purchase(n, product, plan, buyer, affiliate, created, now) -> dict:
    order_id = f"DEMO{n:04d}"
    subscription = plan["number_of_installments"] == "0"
    active = subscription and order_id != STOPPED_ORDER
    amount = Decimal(plan["first_amount"])
    vat_rate = Decimal(buyer["vat_rate"])
    last_payment = created
    while subscription and last_payment + timedelta(days=REBILL_DAYS) <= now:
        last_payment += timedelta(days=REBILL_DAYS)
    base = f"https://www.digistore24.com/p/{order_id}"
    return {
        "id": order_id,
        "created_at": dates.stamp(created),
        "product_id": product["id"],
        "product_name": product["name"],
        "quantity": "1",
        "amount": plan["first_amount"],
        "currency": plan["currency"],
        "vat_rate": buyer["vat_rate"],
        "vat_amount": _money(amount - amount / (1 + vat_rate / 100)),
        "other_amounts": plan["other_amounts"],
        "number_of_installments": plan["number_of_installments"],
        "billing_type": "subscription" if subscription else "single_payment",
        "billing_status": "paying" if active else ("aborted" if subscription else "completed"),
        "billing_stop_reason": "by_buyer" if subscription and not active else "",
        "rebilling_active": "Y" if active else "N",
        "next_payment_at": (
            (last_payment + timedelta(days=REBILL_DAYS)).strftime("%Y-%m-%d") if active else ""
        ),
        "pay_method": ("creditcard", "paypal", "test", "banktransfer")[n % 4],
        "api_mode": "test" if n % 4 == 2 else "live",
        "affiliate_id": affiliate["affiliate_id"] if affiliate else "",
        "affiliate_name": affiliate["affiliate_name"] if affiliate else "",
        "amount_affiliate": (
            _money(amount * Decimal(affiliate["commission_rate"]) / 100) if affiliate else "0.00"
        ),
        "buyer": {k: buyer[k] for k in ("id", "email", "first_name", "last_name", "country")},
        "items": [
            {
                "order_item_id": str(70_000_000 + n),
                "product_id": product["id"],
                "product_name": product["name"],
                "quantity": "1",
                "amount": plan["first_amount"],
            }
        ],
        "has_etickets": "Y" if product["id"] == "103" else "N",
        "invoice_url": f"{base}/invoice",
        "receipt_url": f"{base}/receipt",
        "renew_url": f"{base}/renew" if subscription else "",
        "rebilling_stop_url": f"{base}/stop" if subscription else "",
    }


def transaction(purchase: dict, transaction_id: str, kind: str, when: datetime, sequence: int):
    """One money movement of `purchase`: a payment, or a refund (negative amounts)."""
    sign = -1 if kind == "refund" else 1
    amount = Decimal(purchase["amount"]) * sign
    share = Decimal(purchase["amount_affiliate"]) * sign
    return {
        "id": transaction_id,
        "purchase_id": purchase["id"],
        "parent_transaction_id": "",
        "created_at": dates.stamp(when),
        "transaction_type": kind,
        "pay_sequence_no": str(sequence),
        "amount": _money(amount),
        "vat_amount": _money(Decimal(purchase["vat_amount"]) * sign),
        "currency": purchase["currency"],
        "product_id": purchase["product_id"],
        "product_name": purchase["product_name"],
        "buyer_id": purchase["buyer"]["id"],
        "buyer_email": purchase["buyer"]["email"],
        "pay_method": purchase["pay_method"],
        "affiliate_name": purchase["affiliate_name"],
        "amount_affiliate": _money(share),
    }


def _eticket(n, purchase, now) -> dict:
    buyer = purchase["buyer"]
    return {
        "id": str(10**19 + 4711 * (n + 1)),  # scanned from the ticket: 20 digits
        "download_url": f"https://www.digistore24.com/eticket/{purchase['id']}",
        "date": now.strftime("%Y-%m-%d"),  # the workshop is today, so tickets can be scanned
        "hint": "Einlass ab 9 Uhr",
        **EVENT_LOCATION,
        "email": buyer["email"],
        "count": "1",
        "no": "1",
        "first_name": buyer["first_name"],
        "last_name": buyer["last_name"],
        "salutation": "",
        "title": "",
        "language": "de",
        "used_at": "",
        "is_blocked": "N",
        "note": "",
        "purchase_id": purchase["id"],
        "purchase_item_id": purchase["items"][0]["order_item_id"],
        "product_id": purchase["product_id"],
        "created_at": purchase["created_at"],
    }
