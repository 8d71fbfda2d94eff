"""Every webhooks admin page is for staff with permissions only."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.conftest import on_payment, signed
from webhooks.models import Event, RejectedDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, on_payment(order_id="FORGED"))
    event, rejected = Event.objects.get(), RejectedDelivery.objects.get()
    urls = [
        reverse(f"admin:webhooks_{model}_changelist")
        for model in (
            "webhook",
            "event",
            "paymentevent",
            "eticketevent",
            "affiliationevent",
            "rejecteddelivery",
        )
    ]
    urls += [
        reverse(f"admin:webhooks_{model}_export")
        for model in ("event", "paymentevent", "eticketevent", "affiliationevent")
    ]
    urls += [
        reverse("admin:webhooks_webhook_change", args=[webhook.pk]),
        reverse("admin:webhooks_webhook_regenerate_url", args=[webhook.pk]),
        reverse("admin:webhooks_webhook_rotate_passphrase", args=[webhook.pk]),
        reverse("admin:webhooks_event_change", args=[event.pk]),
        reverse("admin:webhooks_rejecteddelivery_change", args=[rejected.pk]),
    ]
    return urls, reverse("admin:webhooks_webhook_send_test", args=[webhook.pk])


def test_anonymous_and_non_staff_users_are_sent_to_login(client, pages):
    urls, send_test = pages
    for logged_in in (False, True):
        if logged_in:
            client.force_login(User.objects.create_user("buyer", password="pw-for-tests"))
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/"), url
        assert client.post(send_test)["Location"].startswith("/admin/login/")
    assert Event.objects.count() == 1


def test_staff_without_permissions_are_refused(client, pages):
    urls, send_test = pages
    client.force_login(User.objects.create_user("staff", password="pw-for-tests", is_staff=True))
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(send_test).status_code == 403
