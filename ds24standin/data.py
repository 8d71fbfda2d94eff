"""The stand-in's seeded account: a vendor with products, purchases, transactions and e-tickets.

Deterministic, so tests can name ids. Shapes follow shared/digistore24.md §5 (data.products,
data.purchase_list, data.transaction_list, data.etickets); all values are strings, as DS24 sends.
"""

from datetime import UTC, datetime, timedelta

USER = {
    "user_id": "4711",
    "user_name": "demo-vendor",
    "granted_roles": "user,merchant",
    "granted_roles_msg": "User, Vendor",
}

PRODUCTS = [
    {"id": str(100 + n), "name": name, "name_intern": name, "language": "de", "is_active": "Y",
     "approval_status": "approved", "currency": "EUR", "price": price}
    for n, (name, price) in enumerate(
        [("Online-Kurs: Masterclass", "49.00"), ("E-Book: Erste Schritte", "19.00"),
         ("Mitgliedschaft Premium", "29.00"), ("Workshop Köln (E-Ticket)", "199.00"),
         ("Coaching 1:1", "490.00")]
    )
]  # fmt: skip


def _purchases():
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    purchases, transactions = [], []
    for n in range(20):
        product = PRODUCTS[n % len(PRODUCTS)]
        created = base + timedelta(hours=7 * n)
        order_id = f"DEMO{n:04d}"
        billing = "subscription" if product["id"] == "102" else "single_payment"
        purchases.append(
            {
                "id": order_id,
                "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
                "product_id": product["id"],
                "product_name": product["name"],
                "amount": product["price"],
                "currency": "EUR",
                "billing_type": billing,
                "billing_status": "paying" if billing == "subscription" else "completed",
                "pay_method": ("creditcard", "paypal", "test")[n % 3],
                "buyer": {"email": f"buyer{n}@example.com", "first_name": "Jörg",
                          "last_name": f"Müller {n}"},
                "has_etickets": "Y" if product["id"] == "103" else "N",
            }
        )  # fmt: skip
        transactions.append(
            {
                "id": str(900_000 + n),
                "purchase_id": order_id,
                "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
                "transaction_type": "payment",
                "amount": product["price"],
                "currency": "EUR",
                "product_id": product["id"],
            }
        )
    return purchases, transactions


PURCHASES, TRANSACTIONS = _purchases()

ETICKETS = [
    {
        "id": f"{10**19 + n}",
        "purchase_id": p["id"],
        "product_id": "103",
        "date": "2026-12-12",
        "location_id": "77",
        "template_id": "5",
        "email": p["buyer"]["email"],
        "first_name": p["buyer"]["first_name"],
        "last_name": p["buyer"]["last_name"],
        "used_at": "",
        "is_blocked": "N",
    }
    for n, p in enumerate(p for p in PURCHASES if p["product_id"] == "103")
]
