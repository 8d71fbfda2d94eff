"""What Digistore24 (the stand-in) posts shows up: a payment, a refund, an e-ticket and an
affiliation in their lists and on the dashboard's figures and charts; the log is searched by
e-mail and exported as CSV."""

import csv
import re

from tests.browser.conftest import BUYER, expect


def rows(page):
    return page.locator("#result_list tbody tr")


def test_they_appear_in_their_lists_and_on_the_dashboard(logged_in, sales, shot):
    page = logged_in
    page.goto("/admin/webhooks/paymentevent/")
    expect(rows(page)).to_have_count(2)
    expect(rows(page).nth(0)).to_contain_text("Refund")
    expect(rows(page).nth(0)).to_contain_text("19.00 EUR")
    expect(rows(page).nth(1)).to_contain_text("Payment")
    expect(rows(page).nth(1)).to_contain_text("49.00 EUR")
    shot("payments")

    page.goto("/admin/webhooks/eticketevent/")
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("77770000000000000001")
    shot("etickets")

    page.goto("/admin/webhooks/affiliationevent/")
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("partner42")
    shot("affiliations")

    page.goto("/admin/")
    figures = page.locator("#dashboard-figures")

    def today(label):
        row = figures.locator("tbody tr").filter(
            has=page.get_by_role("rowheader", name=label, exact=True)
        )
        return row.locator("td").first

    expect(today("EUR")).to_have_text("30.00")  # 49.00 paid, 19.00 refunded
    for label in ("Payment", "Refund", "E-ticket", "Affiliate approved"):
        expect(today(label)).to_have_text("1")
    shot("dashboard")

    revenue = page.get_by_role("img", name="Revenue per day, EUR (live)")
    expect(revenue.locator("rect")).not_to_have_count(0)
    expect(revenue.locator("rect title").last).to_have_text(re.compile(r": 30\.00"))
    per_day = page.get_by_role("img", name="Events per day by type")
    expect(per_day.locator("rect")).not_to_have_count(0)
    products = page.get_by_role("img", name=re.compile("^Top products by revenue"))
    expect(products.locator("rect title")).to_contain_text([re.compile(r"30\.00")])
    shot("charts", target=revenue)

    # A figure links to the events it counts.
    today("Refund").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/admin/webhooks/"))
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_contain_text("19.00 EUR")
    shot("refunds-today")


def test_search_by_email_in_another_case(logged_in, sales, shot):
    page = logged_in
    page.goto("/admin/webhooks/event/")
    expect(rows(page)).to_have_count(4)
    search = page.locator("#searchbar")
    search.fill(BUYER.lower())
    search.press("Enter")
    expect(rows(page)).to_have_count(2)
    expect(rows(page).nth(0)).to_contain_text("Refund")
    expect(rows(page).nth(1)).to_contain_text("Payment")
    shot("found")
    search.fill("nobody@example.com")
    search.press("Enter")
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#changelist-form")).to_contain_text("0 events")
    shot("none")


def test_export_csv_and_read_it_back(logged_in, sales, shot):
    page = logged_in
    page.goto("/admin/webhooks/paymentevent/")
    expect(rows(page)).to_have_count(2)
    shot("list")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = download.value.path()
    assert re.fullmatch(r"payments-\d{8}-\d{6}\.csv", download.value.suggested_filename)
    with open(path, encoding="utf-8", newline="") as exported:
        lines = list(csv.DictReader(exported))
    assert [(line["event"], line["order_id"], line["amount"], line["email"]) for line in lines] == [
        ("on_refund", "PAYORDER1", "19.00", BUYER),
        ("on_payment", "PAYORDER1", "49.00", BUYER),
    ]
    assert {line["api_mode"] for line in lines} == {"live"}
