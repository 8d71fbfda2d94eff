import pytest
from django.urls import reverse

from tests.conftest import follow_up, on_payment, signed
from webhooks.models import Event, RejectedDelivery

pytestmark = pytest.mark.django_db

LIST = "admin:webhooks_rejecteddelivery_changelist"


def test_list_and_detail_show_time_ip_reason_and_raw_body(staff_client, post_ipn, webhook):
    post_ipn(webhook, on_payment(order_id="FORGED"), REMOTE_ADDR="203.0.113.9")
    rejected = RejectedDelivery.objects.get()
    html = staff_client.get(reverse(LIST)).content.decode()
    assert "invalid sha signature" in html and "203.0.113.9" in html
    detail = staff_client.get(reverse("admin:webhooks_rejecteddelivery_change", args=[rejected.pk]))
    assert b"order_id=FORGED" in detail.content


def test_reverify_action_turns_fixed_deliveries_into_events(staff_client, post_ipn, webhook):
    genuine = signed(on_payment(), "set-in-ds24")
    post_ipn(webhook, genuine)
    post_ipn(webhook, signed(on_payment(transaction_id="9"), "someone-else"))
    webhook.passphrase = "set-in-ds24"
    webhook.save()

    response = staff_client.post(
        reverse(LIST),
        {
            "action": "reverify",
            "_selected_action": list(RejectedDelivery.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    html = response.content.decode()
    assert "1 deliveries now verify and are received" in html
    assert "1 still rejected: invalid sha signature." in html
    follow_up()
    assert Event.objects.get().transaction_id == "987654"
    assert RejectedDelivery.objects.count() == 1


def test_reverify_needs_webhook_change_permission(viewer_client, post_ipn, webhook):
    post_ipn(webhook, on_payment())
    assert 'value="reverify"' not in viewer_client.get(reverse(LIST)).content.decode()
    viewer_client.post(
        reverse(LIST),
        {"action": "reverify", "_selected_action": [RejectedDelivery.objects.get().pk]},
    )
    assert RejectedDelivery.objects.count() == 1


def test_list_query_count_is_constant(
    staff_client, post_ipn, webhook, django_assert_max_num_queries
):
    for n in range(25):
        post_ipn(webhook, on_payment(order_id=f"JUNK{n}"))
    with django_assert_max_num_queries(8):
        staff_client.get(reverse(LIST))
