"""The admin index: what it shows to whom, where its figures link, its charts, its health
section, and a query count that does not grow with the events."""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from dashboard.services import dailytotals_rebuild
from tests.conftest import FORM, PASSPHRASE, follow_up, on_payment, signed
from tests.dashboard.conftest import at, money, store
from webhooks.models import Event, InboundIPN, RejectedDelivery, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")


def page(client):
    response = client.get(INDEX)
    assert response.status_code == 200
    return response.content.decode()


def test_every_figure_links_to_a_filtered_list_that_answers(seeded, admin_client):
    html = page(admin_client)
    figures = html[html.index('id="dashboard-figures"') :]
    links = [unescape(link) for link in re.findall(r'<a href="([^"]+)"', figures)]
    links = [link for link in links if "received_from=" in link]
    assert len(links) == 3 * (2 + 6)  # three periods of two currencies and six event types
    for link in links:
        response = admin_client.get(link)
        assert response.status_code == 200, link  # a bad filter would redirect to ?e=1


def test_a_count_link_lists_the_events_counted(seeded, admin_client):
    seven_days = dict(
        (row.label, row.cells[1]) for row in admin_client.get(INDEX).context["figures"].counts
    )
    listed = admin_client.get(seven_days["Refund"].url).context["cl"].result_count
    assert listed == seven_days["Refund"].value == 2


def test_charts_are_inline_svg_with_escaped_names(db, admin_client):
    hook = webhook_create(name="Shop", kind="all", passphrase=PASSPHRASE)
    evil = '<script>alert("x")</script>'
    store(hook, money("on_payment", "1", "10.00", product_name=evil), at(0))
    follow_up()
    html = page(admin_client)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    svgs = re.findall(r'<svg viewBox[^>]* role="img".*?</svg>', html, re.S)
    assert len(svgs) == 3  # revenue in EUR, events per day, top products
    for svg in svgs:
        assert "<title id=" in svg and "<desc id=" in svg
    assert "http" not in "".join(svgs)  # nothing fetched from elsewhere


def test_without_event_permission_no_figures(db, client, seeded):
    user = User.objects.create_user("hooks", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_webhook"))
    client.force_login(user)
    html = page(client)
    assert 'id="dashboard-figures"' not in html and 'role="img"' not in html
    assert "1,040.50" not in html
    assert 'id="dashboard-health"' in html  # the webhooks it may see
    assert ">Connection<" not in html and ">Worker<" not in html


def test_without_any_permission_nothing(db, client, seeded):
    client.force_login(User.objects.create_user("bare", password="pw", is_staff=True))
    html = page(client)
    assert 'id="dashboard-figures"' not in html and 'id="dashboard-health"' not in html


def test_django_auth_comes_after_the_products_sections(admin_client):
    html = page(admin_client)
    assert html.index("Authentication and Authorization") > html.index(">Webhooks<")
    assert html.index("Authentication and Authorization") > html.index(">Forwarding<")


def test_health_red_first_with_the_fixing_action(db, admin_client):
    fine = webhook_create(name="Fine", kind="payments", passphrase=PASSPHRASE)
    broken = webhook_create(name="Broken", kind="payments", passphrase=PASSPHRASE)
    now = timezone.now()
    store(fine, money("on_payment", "1", "10.00"), now)
    follow_up()
    for reason in ("invalid sha signature", "webhook has no passphrase"):
        RejectedDelivery.objects.create(
            webhook=broken, status_code=403, reason=reason, received=now
        )
    RejectedDelivery.objects.create(
        webhook=broken, status_code=403, reason="long ago", received=now - timedelta(days=2)
    )
    Webhook.objects.filter(pk=broken.pk).update(last_rejected=now, last_signature_failure=now)
    html = page(admin_client)
    rows = re.findall(r'<tr class="ds24-health-(\w+)">(.*?)</tr>', html, re.S)
    assert rows[0][0] == "red" and "Broken" in rows[0][1]
    assert "2 rejected in 24 h, latest: webhook has no passphrase" in rows[0][1]
    rejected = reverse("admin:webhooks_rejecteddelivery_changelist")
    assert f'href="{rejected}?webhook__id__exact={broken.pk}"' in rows[0][1]
    assert [level for level, _row in rows] == sorted(
        (level for level, _row in rows), key=["red", "amber", "ok"].index
    )
    assert any(level == "ok" and "Fine" in row for level, row in rows)


def test_a_waiting_task_nobody_takes_is_red(db, admin_client):
    from django_tasks_db.models import DBTaskResult

    from webhooks.tasks import notify

    notify.enqueue(1)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(hours=1))
    html = page(admin_client)
    first = re.search(r'<tr class="ds24-health-(\w+)">(.*?)</tr>', html, re.S)
    assert first[1] == "red" and "1 waiting, not taken" in first[2] and "runworker" in first[2]


def test_received_ipns_nobody_puts_in_the_log_are_red(webhook, client, admin_client):
    client.follow = False  # no worker
    client.post(webhook.get_receive_url(), data=urlencode(signed(on_payment())), content_type=FORM)
    html = page(admin_client)
    row = re.search(
        r'<tr class="ds24-health-(\w+)">((?:(?!</tr>).)*Received IPNs.*?)</tr>', html, re.S
    )
    assert row[1] == "ok" and "1 waiting" in row[2]  # a worker takes it within a second
    InboundIPN.objects.update(received=timezone.now() - timedelta(minutes=3))
    html = page(admin_client)
    first = re.search(r'<tr class="ds24-health-(\w+)">(.*?)</tr>', html, re.S)
    assert first[1] == "red" and "1 not in the event log yet" in first[2]
    assert "runworker" in first[2]
    follow_up()
    html = page(admin_client)
    row = re.search(
        r'<tr class="ds24-health-(\w+)">((?:(?!</tr>).)*Received IPNs.*?)</tr>', html, re.S
    )
    assert row[1] == "ok" and "In the log" in row[2]


def seed_events(count: int):
    """`count` events over 30 days, 3 currencies, 4 modes and 20 products, straight into the
    table; then the roll-up recomputed from them."""
    hook = webhook_create(name="Bulk", kind="all", passphrase=PASSPHRASE)
    events = ["on_payment", "on_refund", "on_chargeback", "eticket", "on_affiliation"]
    Event.objects.bulk_create(
        Event(
            webhook=hook,
            event=events[n % 5],
            scope="accepted",
            payload=[],
            payload_hash=str(n),
            amount=n,
            currency=["EUR", "USD", "CHF"][n % 3],
            api_mode=["live", "test"][n % 2],
            product_id=str(n % 20),
            product_name=f"Product {n % 20}",
            signature="verified",
            received=timezone.now() - timedelta(days=n % 30),
        )
        for n in range(count)
    )
    dailytotals_rebuild()


@pytest.mark.parametrize("events", [5, 500])
def test_query_count_does_not_grow_with_events(db, admin_client, events, django_assert_num_queries):
    seed_events(events)
    page(admin_client)  # the session and user are read the same way on every request
    # Session, user; figures, top products; webhooks, destinations, connections, received
    # IPNs, worker; Django's "Recent actions".
    with django_assert_num_queries(10):
        html = page(admin_client)
    assert 'id="dashboard-figures"' in html
