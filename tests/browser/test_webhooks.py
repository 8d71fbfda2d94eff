"""A vendor logs in, adds a webhook of each kind, lands on its page, copies its receive URL and
sends it a test IPN, then follows the link to the event the test made."""

import re

import pytest

from tests.browser.conftest import PASSWORD, expect
from webhooks import ipn
from webhooks.models import Event, Webhook


def test_log_in(page, admin_user, shot):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username")
    shot("refused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#user-tools")).to_contain_text("vendor")
    shot("dashboard")


@pytest.mark.parametrize("kind", list(ipn.KINDS))
def test_add_a_webhook_copy_its_url_and_send_a_test(logged_in, kind, shot):
    page = logged_in
    page.goto("/admin/webhooks/webhook/add/")
    page.get_by_label("Name").fill(f"Shop {kind}")
    page.get_by_label("Kind").select_option(kind)
    shot("add-form")
    page.get_by_role("button", name="Save", exact=True).click()

    # A new webhook lands on its own page, with the set-up panel.
    added = f"Added the webhook \u201cShop {kind}\u201d"
    expect(page.locator(".messagelist")).to_contain_text(added)
    expect(page.get_by_role("heading", name="Set up in Digistore24")).to_be_visible()
    webhook = Webhook.objects.get(name=f"Shop {kind}")
    assert webhook.kind == kind
    expect(page).to_have_url(re.compile(rf"/admin/webhooks/webhook/{webhook.pk}/change/$"))
    shot("its-page")

    receive_url = webhook.get_receive_url()
    page.locator(".field-receive_url").get_by_role("button", name="Copy").click()
    # The clipboard itself, read back (the button's "Copied" lasts only a moment).
    page.wait_for_function(
        "async (url) => (await navigator.clipboard.readText()) === url", arg=receive_url
    )
    shot("copied")

    page.get_by_role("button", name="Send test IPN").click()
    message = page.locator(".messagelist .success")
    expect(message).to_contain_text(f"Sent a signed connection_test to {receive_url}")
    expect(message).to_contain_text("answered HTTP 200")
    shot("test-sent")
    message.get_by_role("link", name="the test event").click()
    event = Event.objects.get(webhook=webhook)
    expect(page).to_have_url(re.compile(rf"/admin/webhooks/event/{event.pk}/change/$"))
    expect(page.locator(".field-event_badge")).to_contain_text("Connection test")
    expect(page.locator(".field-signature")).to_contain_text(re.compile("verified", re.I))
    shot("test-event")
