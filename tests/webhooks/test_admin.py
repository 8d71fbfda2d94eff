"""The admin pages for webhooks, events and rejected deliveries, as a staff user would use them."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from tests.conftest import on_payment, signed
from webhooks.models import Event, RejectedDelivery, Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, db):
    user = User.objects.create_user("staff", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="webhooks"))
    client.force_login(user)
    return client


@pytest.fixture
def some_events(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment(transaction_id="2", order_id="ZZZ", email="b@x.org")))
    post_ipn(webhook, signed({"event": "connection_test"}))
    post_ipn(webhook, on_payment(order_id="FORGED"))  # rejected
    return Event.objects.all()


def test_change_page_shows_receive_url_and_passphrase_with_copy_buttons(staff_client, webhook):
    response = staff_client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-copy="{webhook.get_receive_url()}"' in html
    assert f'value="{webhook.passphrase}"' in html
    assert 'data-copy-from="id_passphrase"' in html
    assert "ds24site/copy.js" in html


def test_add_webhook_with_kind_defaults(staff_client):
    response = staff_client.post(
        reverse("admin:webhooks_webhook_add"),
        {"name": "Tickets", "kind": "etickets", "passphrase": "abc", "active": "on"},
    )
    assert response.status_code == 302, response.content
    webhook = Webhook.objects.get()
    assert webhook.events == ["eticket"]
    assert webhook.passphrase == "abc"


def test_add_webhook_refuses_no_passphrase_without_unsigned(staff_client):
    response = staff_client.post(
        reverse("admin:webhooks_webhook_add"),
        {"name": "Open", "kind": "all", "passphrase": "", "active": "on"},
    )
    assert response.status_code == 200
    assert "explicitly accept unsigned IPNs" in response.content.decode()
    assert not Webhook.objects.exists()


def test_regenerate_receive_url_action(staff_client, webhook):
    old_token = webhook.token
    response = staff_client.post(
        reverse("admin:webhooks_webhook_changelist"),
        {"action": "regenerate_receive_url", "_selected_action": [webhook.pk]},
        follow=True,
    )
    assert "New receive URL for 1 webhook(s)" in response.content.decode()
    assert Webhook.objects.get().token != old_token


def test_event_list_newest_first_with_filters_and_exact_search(staff_client, some_events):
    url = reverse("admin:webhooks_event_changelist")
    html = staff_client.get(url).content.decode()
    assert html.index("connection_test") < html.index("ZZZ") < html.index("ABC123XY")
    assert "49.00 EUR" in html

    only_tests = staff_client.get(url, {"event": "connection_test"}).content.decode()
    assert "ABC123XY" not in only_tests

    found = staff_client.get(url, {"q": "ZZZ"}).content.decode()
    assert "ZZZ" in found and "ABC123XY" not in found
    assert "ZZZ" not in staff_client.get(url, {"q": "ZZ"}).content.decode()  # exact only
    by_email = staff_client.get(url, {"q": "b@x.org"}).content.decode()
    assert "ZZZ" in by_email and "ABC123XY" not in by_email
    by_transaction = staff_client.get(url, {"q": "987654"}).content.decode()
    assert "ABC123XY" in by_transaction and "ZZZ" not in by_transaction


def test_event_detail_shows_payload_in_order_and_is_read_only(staff_client, some_events):
    event = Event.objects.get(order_id="ABC123XY")
    url = reverse("admin:webhooks_event_change", args=[event.pk])
    html = staff_client.get(url).content.decode()
    assert (
        html.index("<th>event</th>")
        < html.index("<th>api_mode</th>")
        < html.index("<th>sha_sign</th>")
    )
    assert "Online-Kurs Jörg" in html
    assert 'name="_save"' not in html
    assert staff_client.post(url, {"order_id": "changed"}).status_code == 403
    assert staff_client.get(reverse("admin:webhooks_event_add")).status_code == 403


def test_rejected_delivery_list_and_detail(staff_client, some_events):
    rejected = RejectedDelivery.objects.get()
    html = staff_client.get(reverse("admin:webhooks_rejecteddelivery_changelist")).content
    assert b"invalid sha signature" in html
    detail = staff_client.get(
        reverse("admin:webhooks_rejecteddelivery_change", args=[rejected.pk])
    ).content
    assert b"order_id=FORGED" in detail


@pytest.mark.parametrize(
    "name",
    [
        "admin:webhooks_event_changelist",
        "admin:webhooks_webhook_changelist",
        "admin:webhooks_rejecteddelivery_changelist",
    ],
)
def test_non_staff_users_see_none_of_it(client, some_events, name):
    User.objects.create_user("buyer", password="pw-for-tests")
    client.login(username="buyer", password="pw-for-tests")
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
