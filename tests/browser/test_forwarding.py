"""Forwarding in the browser: a URL forwarding refuses is a form error; a destination on
127.0.0.1 is added, shows its secret once, and a payment the stand-in posts is delivered."""

import re

import pytest

from tests.browser.conftest import expect
from tests.conftest import run_tasks
from tests.forwarding.conftest import start_receiver
from webhooks.models import Webhook


@pytest.fixture
def receiver():
    """A destination's receiving end on 127.0.0.1, answering 200 to every POST."""
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


def test_a_refused_url_then_a_delivery_that_succeeds(logged_in, sales, receiver, shot):
    page = logged_in
    webhook = Webhook.objects.get()
    page.goto("/admin/forwarding/destination/add/")
    page.get_by_label("Name").fill("CRM")
    page.get_by_label("Url").fill("https://10.0.0.5/hook")
    page.get_by_label("Webhook").select_option(label=str(webhook))
    page.get_by_role("checkbox", name=re.compile("^on_payment \u2014")).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-url .errorlist")).to_have_text("10.0.0.5 is a private address")
    shot("refused-url")

    page.get_by_label("Url").fill(receiver.url)
    page.get_by_role("button", name="Save", exact=True).click()
    secret = page.locator("#signing-secret")
    expect(secret).to_have_text(re.compile(r"^whsec_"))
    shot("secret-shown-once")

    # The stand-in posts a payment; a worker (run here) forwards it.
    from ds24standin.ipn import send_ipn
    from tests.conftest import PASSPHRASE

    answer = send_ipn(webhook.get_receive_url(), "on_payment", PASSPHRASE, order_id="FWD1")
    assert answer.text == "OK"
    assert run_tasks() >= 1
    [request] = receiver.requests
    assert request.json["type"] == "on_payment" and request.json["data"]["order_id"] == "FWD1"

    page.get_by_role("link", name="Back to CRM").click()
    recent = page.locator(".field-recent_deliveries table")
    expect(recent.locator("tr")).to_have_count(2)  # a header and the one delivery
    expect(recent.locator("tr").nth(1)).to_contain_text("on_payment")
    expect(recent.locator("tr").nth(1)).to_contain_text("Succeeded")
    expect(recent.locator("tr").nth(1)).to_contain_text("200")
    shot("delivered")
    recent.locator("tr").nth(1).get_by_role("link").click()
    expect(page.locator("#content")).to_contain_text("Succeeded")
    shot("delivery")
