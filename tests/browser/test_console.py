"""The API console: pick a function with the filter box, run it against the stand-in, and see
its list answer as a table."""

import re

from connections.models import Connection
from tests.browser.conftest import expect
from tests.conftest import FULL_KEY


def test_run_a_function_and_see_the_table(logged_in, site, shot):
    connection = Connection(name="Demo vendor")
    connection.set_key(FULL_KEY)
    connection.save()
    page = logged_in
    page.goto("/admin/apicall/apiconsole/")
    page.get_by_placeholder("Filter functions…").fill("listpurchases")
    shown = page.locator("#ds24-function option:not([hidden])")  # the filter hides the rest
    expect(shown).to_have_text(
        [re.compile(r"^listPurchases "), re.compile(r"^listPurchasesOfEmail ")]
    )
    shot("filtered")
    page.locator("#ds24-function").select_option("listPurchases")  # opens its form
    expect(page.locator(".ds24-function-title")).to_contain_text("listPurchases")
    # The only connection is chosen already.
    expect(page.get_by_label("Connection")).to_have_value(str(connection.public_id))
    shot("form")
    page.get_by_role("button", name="Send").click()

    result = page.locator(".ds24-result")
    expect(result.get_by_role("heading", level=2)).to_contain_text("listPurchases")
    expect(result.locator(".ds24-facts")).to_contain_text("HTTP 200")
    heading = result.get_by_role("heading", name=re.compile(r"^purchase_list: \d+ rows"))
    expect(heading).to_be_visible()
    total = int(re.search(r"(\d+) rows", heading.inner_text()).group(1))
    assert total > 1
    table = result.locator(".ds24-table table")
    expect(table.locator("tbody tr")).to_have_count(total)
    expect(table.locator("thead th").first).to_have_text("id")
    expect(table.locator("thead th", has_text="buyer")).to_have_count(1)
    shot("table")


def test_a_refused_url_shows_its_form_error(logged_in, site, shot, standin):
    connection = Connection(name="Demo vendor")
    connection.set_key(FULL_KEY)
    connection.save()
    page = logged_in
    page.goto("/admin/apicall/apiconsole/?mode=raw")
    page.get_by_label("URL").fill("https://evil.example/api/call/getUserInfo")
    page.get_by_role("button", name="Send").click()
    # The error sits on the URL field, the input is kept, and nothing was sent.
    error = page.locator(".errorlist").first
    expect(error).to_contain_text("relative to the API base")
    expect(page.get_by_label("URL")).to_have_value("https://evil.example/api/call/getUserInfo")
    shot("refused")
    assert standin.calls() == []
