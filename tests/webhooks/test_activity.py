"""A webhook's event count and last received, read from the dashboard's roll-up
(Webhook.objects.with_activity): right in the admin list and page and in the API once events
and redeliveries are followed up, and kept without the receiver writing to the webhook's row."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tests.conftest import follow_up, keep_ipn, on_payment, signed
from webhooks.models import Event, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


def store(webhook, params, received=None):
    keep_ipn(webhook, params, sender_ip="127.0.0.1", received=received)


def activity(webhook):
    found = Webhook.objects.with_activity().get(pk=webhook.pk)
    return found.event_count, found.last_received


def test_events_count_once_and_a_redelivery_changes_nothing(post_ipn, webhook):
    assert activity(webhook) == (0, None)
    post_ipn(webhook, signed(on_payment(transaction_id="1")), follow=False)
    post_ipn(webhook, signed(on_payment(transaction_id="2")), follow=False)
    assert activity(webhook) == (0, None)  # until in the log
    assert follow_up() == 2
    newest = Event.objects.latest("received").received
    assert activity(webhook) == (2, newest)

    post_ipn(webhook, signed(on_payment(transaction_id="1")))  # redelivered
    assert Event.objects.get(transaction_id="1").delivery_count == 2
    assert activity(webhook) == (2, newest)


def test_last_received_is_the_newest_event_even_when_an_older_one_comes_later(webhook):
    """A re-verified delivery is stored with the time it first arrived, in another slot."""
    now = timezone.now()
    store(webhook, on_payment(transaction_id="1"), received=now)
    assert follow_up() == 1
    store(webhook, on_payment(transaction_id="2"), received=now - timedelta(minutes=5))
    assert follow_up() == 1
    assert activity(webhook) == (2, now)


def test_list_and_page_show_count_and_last_received(staff_client, post_ipn, webhook):
    webhook_create(name="Quiet", kind="all")
    for n in range(3):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n))))
    post_ipn(webhook, signed(on_payment(transaction_id="0")))  # redelivered
    follow_up()
    newest = timezone.localtime(Event.objects.latest("received").received)

    html = staff_client.get(reverse("admin:webhooks_webhook_changelist")).content.decode()
    rows = {
        name: next(row for row in html.split("<tr") if f">{name}<br>" in row)
        for name in ("Payments", "Quiet")
    }
    assert '<td class="field-event_count">3</td>' in rows["Payments"]
    assert f"last event {newest:%Y-%m-%d %H:%M}" in rows["Payments"]
    assert '<td class="field-event_count">0</td>' in rows["Quiet"]
    assert "last event" not in rows["Quiet"]

    url = reverse("admin:webhooks_webhook_change", args=[webhook.pk])
    page = staff_client.get(url).content.decode()
    assert re.search(r'field-event_count">.*?<div class="readonly">3</div>', page, re.S)
    assert "not their redeliveries" in page
    add = staff_client.get(reverse("admin:webhooks_webhook_add"))
    assert add.status_code == 200


def test_list_sorts_by_last_received_never_as_the_oldest(staff_client, webhook):
    older = webhook_create(name="Older", kind="all")
    webhook_create(name="Never", kind="all")
    store(older, on_payment(transaction_id="1"), received=timezone.now() - timedelta(days=2))
    store(webhook, on_payment(transaction_id="2"))
    follow_up()
    changelist = reverse("admin:webhooks_webhook_changelist")

    def names(order):
        # The status column is the third (o counts from 0).
        html = staff_client.get(changelist, {"o": order}).content.decode()
        return re.findall(r'field-name_and_kind">.*?>([A-Za-z]+)<br>', html)

    assert names("-2") == ["Payments", "Older", "Never"]
    assert names("2") == ["Never", "Older", "Payments"]


def test_api_keeps_its_fields_and_types(api_get, post_ipn, webhook):
    webhook_create(name="Quiet", kind="all")
    post_ipn(webhook, signed(on_payment(transaction_id="1")))
    post_ipn(webhook, signed(on_payment(transaction_id="1")))  # redelivered
    post_ipn(webhook, signed(on_payment(transaction_id="2")))
    follow_up()
    newest = Event.objects.latest("received").received

    items = {item["name"]: item for item in api_get("/api/v1/webhooks/").json()["results"]}
    assert items["Payments"]["event_count"] == 2
    assert parse_datetime(items["Payments"]["last_received"]) == newest
    assert items["Payments"]["status"] == "receiving"
    assert (items["Quiet"]["event_count"], items["Quiet"]["last_received"]) == (0, None)
    assert items["Quiet"]["status"] == "silent"
    one = api_get(f"/api/v1/webhooks/{webhook.public_id}/").json()
    assert one["event_count"] == 2


def test_api_list_query_count_does_not_grow_with_webhooks(api_get, db):
    def queries_for_the_list():
        with CaptureQueriesContext(connection) as listed:
            api_get("/api/v1/webhooks/")
        return len(listed)

    store(webhook_create(name="W", kind="all"), on_payment(transaction_id="W"))
    follow_up()
    queries_for_the_list()  # the first also notes the token's use
    one = queries_for_the_list()
    for n in range(5):
        store(webhook_create(name=f"W{n}", kind="all"), on_payment(transaction_id=str(n)))
    follow_up()
    assert queries_for_the_list() == one


def test_storing_never_touches_the_webhook_row(webhook):
    """Concurrent deliveries to one webhook would queue on its row's lock until each commit is
    flushed; neither keeping an IPN nor keeping it again writes it (nor reads it: it is
    given)."""
    table = re.compile(rf"\b{Webhook._meta.db_table}\b")
    with CaptureQueriesContext(connection) as new:
        store(webhook, on_payment())
    with CaptureQueriesContext(connection) as again:
        store(webhook, on_payment())
    statements = [query["sql"] for query in [*new.captured_queries, *again.captured_queries]]
    assert statements and not [sql for sql in statements if table.search(sql)]
