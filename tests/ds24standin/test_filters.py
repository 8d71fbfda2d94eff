"""The seeded account is consistent, and list functions honour from/to (in Digistore24's date
forms), search[...] and paging."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ds24standin import dates
from ds24standin.api import Account
from tests.ds24standin.conftest import error, ok


def test_seeded_account_is_consistent():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    account = Account(now)
    buyers = {b["id"]: b for b in account.buyers}
    purchases = {p["id"]: p for p in account.purchases}
    products = {p["id"]: p for p in account.products}
    affiliates = {a["affiliate_name"] for a in account.affiliates}
    for purchase in account.purchases:
        assert buyers[purchase["buyer"]["id"]]["email"] == purchase["buyer"]["email"]
        assert products[purchase["product_id"]]["currency"] == purchase["currency"]
        assert purchase["affiliate_name"] in affiliates | {""}
        assert now - timedelta(days=30) <= dates.read(purchase["created_at"]) <= now
    for transaction in account.transactions:
        purchase = purchases[transaction["purchase_id"]]
        assert (transaction["product_id"], transaction["currency"], transaction["buyer_email"]) == (
            purchase["product_id"],
            purchase["currency"],
            purchase["buyer"]["email"],
        )
        assert purchase["created_at"] <= transaction["created_at"] <= dates.stamp(now)
    for ticket in account.etickets:
        purchase = purchases[ticket["purchase_id"]]
        assert purchase["has_etickets"] == "Y" and ticket["email"] == purchase["buyer"]["email"]
    assert len({p["currency"] for p in account.purchases}) >= 3
    refunds = [t for t in account.transactions if t["transaction_type"] == "refund"]
    assert [purchases[r["purchase_id"]]["id"] for r in refunds] == ["DEMO0010"]
    assert Account(now).purchases == account.purchases, "deterministic for a given clock"


def moments(rows):
    return [dates.read(row["created_at"]) for row in rows]


@pytest.mark.parametrize("start", ["-7d", "-168h", "-1w"])
def test_relative_from_and_now(standin, start):
    rows = ok(standin, "listPurchases", {"from": start, "to": "now", "page_size": "1000"})
    seeded = [
        p
        for p in standin.account.purchases
        if dates.read(p["created_at"]) >= datetime.now(UTC) - timedelta(days=7, seconds=5)
    ]
    assert 0 < len(rows["purchase_list"]) == len(seeded) < 24
    assert int(rows["item_count"]) == len(seeded)


def test_date_and_datetime_bounds_are_inclusive(standin):
    created = standin.account.purchases[5]["created_at"]  # "YYYY-MM-DD HH:MM:SS"
    at = {"from": created, "to": created}
    assert [p["id"] for p in ok(standin, "listPurchases", at)["purchase_list"]] == ["DEMO0005"]
    later = dates.stamp(dates.read(created) + timedelta(seconds=1))
    assert ok(standin, "listPurchases", {"from": later, "to": later})["purchase_list"] == []
    day = created[:10]
    same_day = ok(standin, "listPurchases", {"from": day, "to": day})["purchase_list"]
    assert "DEMO0005" in [p["id"] for p in same_day]
    assert all(p["created_at"].startswith(day) for p in same_day)
    iso = ok(standin, "listPurchases", {"from": created.replace(" ", "T") + "+00:00"})
    assert "DEMO0005" in [p["id"] for p in iso["purchase_list"]]


def test_today_and_future_ranges(standin):
    today = ok(standin, "listTransactions", {"from": "today", "to": "today", "page_size": "1000"})
    start = datetime.now(UTC).strftime("%Y-%m-%d")
    assert all(t["created_at"].startswith(start) for t in today["transaction_list"])
    assert ok(standin, "listPurchases", {"from": "1d"})["purchase_list"] == []


def test_bad_date_is_refused_with_the_forms_digistore24_accepts(standin):
    status, code, message = error(standin, "listPurchases", {"from": "last tuesday"})
    assert (status, code) == (400, 3)
    assert "Invalid date 'last tuesday'" in message and "-7d" in message


def test_search_filters(standin):
    rows = ok(standin, "listPurchases", {"search[product_id]": "102,103", "page_size": "100"})
    assert {p["product_id"] for p in rows["purchase_list"]} == {"102", "103"}
    assert int(rows["item_count"]) == 8
    usd = ok(standin, "listPurchases", {"search[currency]": "USD"})["purchase_list"]
    assert usd and {p["currency"] for p in usd} == {"USD"}
    with_affiliate = ok(standin, "listPurchases", {"search[has_affiliate]": "Y"})["purchase_list"]
    assert with_affiliate and all(p["affiliate_name"] for p in with_affiliate)
    refunded = ok(standin, "listPurchases", {"search[transaction_type]": "refund"})
    assert [p["id"] for p in refunded["purchase_list"]] == ["DEMO0010"]
    nested = error(standin, "listPurchases", {"search[email][x]": "a"})[2]
    assert nested == "search[email] must be a single value."
    message = error(standin, "listPurchases", {"search[colour]": "red"})[2]
    assert message.startswith("Unknown search field 'colour'; known: ")


def test_paging_and_sorting(standin):
    everything = ok(standin, "listPurchases", {"sort_by": "date", "sort_order": "asc"})
    ids = [p["id"] for p in everything["purchase_list"]]
    assert ids == [f"DEMO{n:04d}" for n in range(24)]
    second = ok(
        standin,
        "listPurchases",
        {"sort_by": "date", "sort_order": "asc", "page_no": "2", "page_size": "5"},
    )
    assert [p["id"] for p in second["purchase_list"]] == ids[5:10]
    assert (second["page_no"], second["page_size"], second["item_count"], second["page_count"]) == (
        "2",
        "5",
        "24",
        "5",
    )
    beyond = ok(standin, "listPurchases", {"page_no": "9", "page_size": "5"})
    assert beyond["purchase_list"] == []
    by_amount = ok(standin, "listPurchases", {"sort_by": "amount"})["purchase_list"]
    amounts = [Decimal(p["amount"]) for p in by_amount]
    assert amounts == sorted(amounts, reverse=True)
    assert "transaction_list" not in by_amount[0]
    loaded = ok(standin, "listPurchases", {"load_transactions": "Y", "page_size": "1"})
    assert loaded["purchase_list"][0]["transaction_list"]
    assert error(standin, "listPurchases", {"page_no": "two"})[2] == (
        "Parameter 'page_no' must be a whole number."
    )


def test_transactions_filter_by_type_and_range(standin):
    refunds = ok(standin, "listTransactions", {"search[transaction_type]": "refund"})
    [refund] = refunds["transaction_list"]
    assert refund["purchase_id"] == "DEMO0010" and refund["amount"].startswith("-")
    recent = ok(standin, "listTransactions", {"from": "-3d", "page_size": "1000"})
    assert all(
        m >= datetime.now(UTC) - timedelta(days=3, seconds=5)
        for m in moments(recent["transaction_list"])
    )
    # Membership rebills: one order, several payments with rising sequence numbers.
    rebills = ok(
        standin, "listTransactions", {"search[purchase_id]": "DEMO0002", "sort_order": "asc"}
    )["transaction_list"]
    assert [t["pay_sequence_no"] for t in rebills] == [str(n) for n in range(len(rebills))]
    assert len(rebills) > 1


def test_purchase_and_its_buyer_transactions_and_tickets(standin):
    purchase = ok(standin, "getPurchase", {"purchase_id": "DEMO0003"})
    assert purchase["id"] == purchase["purchase_id"] == "DEMO0003"
    assert [t["purchase_id"] for t in purchase["transaction_list"]] == ["DEMO0003"]
    assert purchase["has_etickets"] == "Y"
    several = ok(standin, "getPurchase", {"purchase_id": "DEMO0003,DEMO0004"})
    assert set(several) == {"DEMO0003", "DEMO0004"}


def test_products(standin):
    products = ok(standin, "listProducts")["products"]
    assert products[0]["name"] == "Online-Kurs: Masterclass"
    assert "paymentplans" not in products[0]
    product = ok(standin, "getProduct", {"product_id": "102"})
    assert (product["id"], product["paymentplans"][0]["number_of_installments"]) == ("102", "0")
    assert error(standin, "getProduct", {"product_id": "999"}) == (404, 4, "Product 999 not found.")


def test_buyers(standin):
    everyone = ok(standin, "listBuyers")
    assert (everyone["item_count"], len(everyone["items"])) == ("16", 16)
    last_page = ok(standin, "listBuyers", {"page_size": "5", "page_no": "4"})
    assert (last_page["page_count"], last_page["items"]) == ("4", everyone["items"][15:])
    buyer = ok(standin, "getBuyer", {"buyer_id": "300000"})["buyer"]
    assert buyer["email"] == "buyer0@example.com"
    assert buyer["purchase_ids"] == ["DEMO0000", "DEMO0016"]  # a repeat customer


def test_etickets_list_get_and_validate(standin):
    tickets = ok(standin, "listEtickets", {"search[product_id]": "103"})["etickets"]
    assert len(tickets) == 4 and {t["product_id"] for t in tickets} == {"103"}
    used = ok(standin, "listEtickets", {"search[only_validated]": "Y"})["etickets"]
    assert len(used) == 1
    today = {"search[from_date]": "today", "search[to_date]": "today"}
    assert len(ok(standin, "listEtickets", today)["etickets"]) == 4
    assert ok(standin, "listEtickets", {"search[from_date]": "1d"})["etickets"] == []
    assert ok(standin, "listEtickets", {"search[to_date]": "-1d"})["etickets"] == []
    ticket = tickets[0]["id"]
    assert ok(standin, "getEticket", {"eticket_id": ticket})["eticket"]["purchase_id"] == (
        "DEMO0003"
    )
    event = {"eticket_id": ticket, "template_id": "5", "location_id": "77"}
    elsewhere = ok(standin, "validateEticket", {**event, "location_id": "78"})
    assert (elsewhere["status"], elsewhere["is_eticket_valid_for_different_event"]) == (
        "error",
        "Y",
    )
    assert ok(standin, "validateEticket", event)["status"] == "success"
    again = ok(standin, "validateEticket", event)
    assert again["status"] == "error" and "already used" in again["msg"]
    assert ok(standin, "getEticket", {"eticket_id": ticket})["eticket"]["used_at"]


def test_stats_sales_adds_up_the_transactions(standin):
    stats = ok(standin, "statsSales", {"period": "day", "from": "-30d", "to": "now"})
    rows = ok(standin, "listTransactions", {"from": "-30d", "to": "now", "page_size": "1000"})
    for total in stats["totals"]:
        mine = [t for t in rows["transaction_list"] if t["currency"] == total["currency"]]
        payments = [Decimal(t["amount"]) for t in mine if t["transaction_type"] == "payment"]
        assert total["amount"] == str(sum(payments)) and total["sales_count"] == str(len(payments))
    assert {t["currency"] for t in stats["totals"]} == {"EUR", "CHF", "USD"}
    assert sum(int(s["sales_count"]) for s in stats["sales"]) == sum(
        int(t["sales_count"]) for t in stats["totals"]
    )
    assert error(standin, "statsSales", {"period": "fortnight"})[2].startswith("period must be")


def test_affiliates(standin):
    assert ok(standin, "getAffiliateForEmail", {"email": "buyer1@example.com"})[
        "affiliate_name"
    ] == ("anna-empfiehlt")
    assert ok(standin, "setAffiliateForEmail", {"email": "x@example.com", "affiliate": "kursblog"})
    assert ok(standin, "getAffiliateForEmail", {"email": "x@example.com"})["affiliate_id"] == "5003"
    assert error(
        standin, "setAffiliateForEmail", {"email": "x@example.com", "affiliate": "nobody"}
    )[:2] == (404, 4)
    commissions = ok(standin, "listCommissions", {"from": "-30d"})["items"]
    transactions = {t["id"]: t for t in standin.account.transactions}
    assert len(commissions) == len(transactions)
    for item in commissions:  # the vendor's share: after VAT and the affiliate's commission
        t = transactions[item["transaction_id"]]
        share = Decimal(t["amount"]) - Decimal(t["vat_amount"]) - Decimal(t["amount_affiliate"])
        assert (Decimal(item["amount"]), item["purchase_id"]) == (share, t["purchase_id"])
    refunds = ok(standin, "listCommissions", {"from": "-30d", "transaction_type": "refund"})
    assert refunds["items"] and all(Decimal(c["amount"]) < 0 for c in refunds["items"])
    valid = ok(standin, "validateAffiliate", {"affiliate_name": "kursblog", "product_ids": "100"})
    assert valid["is_valid"] == "Y"


def test_create_buy_url(standin):
    answer = ok(
        standin,
        "createBuyUrl",
        {"product_id": "105", "tracking[custom]": "user-42", "payment_plan[first_amount]": "47.00"},
    )
    assert answer["url"].startswith("https://www.digistore24.com/product/105?")
    assert answer["valid_until"] == "forever"
    assert error(standin, "createBuyUrl", {"product_id": "999"})[:2] == (404, 4)
    message = error(
        standin, "createBuyUrl", {"product_id": "105", "urls[thankyou_url]": "http://x.example"}
    )[2]
    assert message == "urls[thankyou_url] must be an https URL."
