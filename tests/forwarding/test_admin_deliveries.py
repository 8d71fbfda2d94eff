"""The delivery log: list and filters, a delivery's attempts, Retry now (one and many), each
event's page listing its deliveries, and what each page costs in queries."""

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from forwarding.models import Attempt, Delivery, Destination
from tests.conftest import follow_up, on_payment, signed
from webhooks.models import Event

pytestmark = pytest.mark.django_db

LIST = "admin:forwarding_delivery_changelist"


@pytest.fixture
def sent(db, post_ipn, webhook):
    """Three events, each delivered to two destinations; of CRM's deliveries one failed, one
    succeeded and one is pending."""
    crm = Destination.objects.create(name="CRM", url="https://crm.example.com/hooks")
    Destination.objects.create(name="Sheet", url="https://sheet.example.com/hooks")
    for n in range(3):
        post_ipn(webhook, signed(on_payment(order_id=f"ORDER{n}", transaction_id=str(n))))
    follow_up()
    mine = {
        d.event.order_id: d
        for d in Delivery.objects.filter(destination=crm).select_related("event")
    }
    Delivery.objects.filter(pk=mine["ORDER0"].pk).update(
        status="failed", attempts=12, last_status_code=500, next_attempt_at=None
    )
    Delivery.objects.filter(pk=mine["ORDER1"].pk).update(status="succeeded", attempts=1)
    Attempt.objects.create(
        delivery=mine["ORDER0"], number=12, duration_ms=80, status_code=500,
        response_excerpt="database down",
    )  # fmt: skip
    return {key: Delivery.objects.get(pk=d.pk) for key, d in mine.items()}


def listing(client, **params):
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return response.content.decode()


def change(delivery):
    return reverse("admin:forwarding_delivery_change", args=[delivery.pk])


def test_list_filters_by_status_and_destination(forwarding_staff, sent):
    assert listing(forwarding_staff).count('class="field-created') == 6
    failed = listing(forwarding_staff, status__exact="failed")
    assert failed.count('class="field-created') == 1
    assert "on_payment ORDER0" in failed and "ORDER1" not in failed
    assert 'ds24-badge rejecting">Failed' in failed
    assert "HTTP 500" in failed
    crm = Destination.objects.get(name="CRM")
    assert (
        listing(forwarding_staff, destination__id__exact=crm.pk).count('class="field-created') == 3
    )


def test_search_is_the_exact_webhook_id(forwarding_staff, sent):
    delivery = sent["ORDER2"]
    html = listing(forwarding_staff, q=delivery.message_id)
    assert html.count('class="field-created') == 1 and change(delivery) in html
    assert listing(forwarding_staff, q=delivery.message_id[:-1]).count('class="field-created') == 0


def test_list_query_count_does_not_grow(forwarding_staff, sent, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        listing(forwarding_staff)


def test_a_delivery_page_shows_its_attempts(forwarding_staff, sent):
    html = forwarding_staff.get(change(sent["ORDER0"])).content.decode()
    assert "database down" in html and "Retry now" in html
    assert sent["ORDER0"].message_id in html
    # Succeeded and pending deliveries have nothing to retry.
    for key in ("ORDER1", "ORDER2"):
        assert "Retry now" not in forwarding_staff.get(change(sent[key])).content.decode()


def test_retry_now_sends_a_failed_delivery_again(forwarding_staff, sent):
    delivery = sent["ORDER0"]
    tasks = DBTaskResult.objects.count()
    response = forwarding_staff.post(
        reverse("admin:forwarding_delivery_retry", args=[delivery.pk]), follow=True
    )
    assert f"Delivery {delivery.message_id} is queued to be sent now." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0
    assert delivery.next_attempt_at is not None and delivery.finished is None
    assert DBTaskResult.objects.count() == tasks + 1
    assert str(delivery.task_id) == str(DBTaskResult.objects.order_by("-enqueued_at")[0].id)


def test_retry_now_leaves_a_succeeded_delivery_alone(forwarding_staff, sent):
    delivery = sent["ORDER1"]
    response = forwarding_staff.post(
        reverse("admin:forwarding_delivery_retry", args=[delivery.pk]), follow=True
    )
    assert "was left alone" in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == "succeeded"


def test_retry_now_in_bulk(forwarding_staff, sent):
    selected = [d.pk for d in sent.values()]
    response = forwarding_staff.post(
        reverse(LIST), {"action": "retry_now", "_selected_action": selected}, follow=True
    )
    html = response.content.decode()
    assert "Queued 1 failed deliveries to be sent now. 2 left alone" in html
    assert Delivery.objects.get(pk=sent["ORDER0"].pk).status == "pending"
    assert Delivery.objects.get(pk=sent["ORDER1"].pk).status == "succeeded"


def test_retry_needs_permission_to_change_destinations(forwarding_viewer, sent):
    delivery = sent["ORDER0"]
    assert "Retry now" not in forwarding_viewer.get(change(delivery)).content.decode()
    url = reverse("admin:forwarding_delivery_retry", args=[delivery.pk])
    assert forwarding_viewer.post(url).status_code == 403
    html = listing(forwarding_viewer)
    assert 'value="retry_now"' not in html
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


def test_retry_refuses_get_and_unknown_deliveries(forwarding_staff, sent):
    url = reverse("admin:forwarding_delivery_retry", args=[sent["ORDER0"].pk])
    assert forwarding_staff.get(url).status_code == 405
    missing = reverse("admin:forwarding_delivery_retry", args=[999999])
    assert forwarding_staff.post(missing).status_code == 404


def test_the_log_is_read_only(forwarding_staff, sent):
    assert forwarding_staff.get(reverse("admin:forwarding_delivery_add")).status_code == 403
    delete = reverse("admin:forwarding_delivery_delete", args=[sent["ORDER0"].pk])
    assert forwarding_staff.post(delete, {"post": "yes"}).status_code == 403


def test_each_event_page_lists_its_deliveries(
    forwarding_staff, sent, django_assert_max_num_queries
):
    event = Event.objects.get(order_id="ORDER0")
    url = reverse("admin:webhooks_event_change", args=[event.pk])
    with django_assert_max_num_queries(14):
        html = forwarding_staff.get(url).content.decode()
    section = html.split("Forwarded to")[1]
    assert ">CRM<" in section and ">Sheet<" in section
    assert 'ds24-badge rejecting">Failed' in section and 'ds24-badge silent">Pending' in section
    assert change(sent["ORDER0"]) in section
    # The event-type lists' pages too.
    payment = reverse("admin:webhooks_paymentevent_change", args=[event.pk])
    assert "Forwarded to" in forwarding_staff.get(payment).content.decode()


def test_event_page_without_delivery_permission_has_no_section(staff_client, sent):
    event = Event.objects.get(order_id="ORDER0")
    html = staff_client.get(reverse("admin:webhooks_event_change", args=[event.pk]))
    assert html.status_code == 200 and "Forwarded to" not in html.content.decode()
