import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from tests.conftest import on_payment, signed
from webhooks import samples

pytestmark = pytest.mark.django_db


def exported(response, name="events"):
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{name}-')
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_exports_the_current_filtered_list_streamed(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment(order_id="ZZZ", transaction_id="2")))
    post_ipn(webhook, signed(samples.connection_test()))

    everything = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert [row["event"] for row in everything] == ["connection_test", "on_payment", "on_payment"]

    rows = exported(
        staff_client.get(
            reverse("admin:webhooks_event_export"), {"event": "on_payment", "q": "ZZZ"}
        )
    )
    [row] = rows
    assert row["order_id"] == "ZZZ"
    assert row["amount"] == "49.0000" and row["currency"] == "EUR"
    assert row["webhook"] == "Payments"
    assert row["product_name"] == "Online-Kurs Jörg"


def test_untrusted_text_cannot_become_a_spreadsheet_formula(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment(product_name='=HYPERLINK("http://evil")')))
    [row] = exported(staff_client.get(reverse("admin:webhooks_event_export")))
    assert row["product_name"] == '\'=HYPERLINK("http://evil")'


def test_trigger_lists_export_their_own_events(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(samples.connection_test()))
    response = staff_client.get(reverse("admin:webhooks_paymentevent_export"))
    assert [row["event"] for row in exported(response, "payments")] == ["on_payment"]


def test_bad_filter_is_a_400(staff_client, webhook):
    response = staff_client.get(reverse("admin:webhooks_event_export"), {"received": "someday"})
    assert response.status_code == 400


def test_export_is_linked_from_the_list_with_the_current_filters(staff_client, webhook):
    html = staff_client.get(reverse("admin:webhooks_event_changelist"), {"event": "on_refund"})
    assert 'href="/admin/webhooks/event/export/?event=on_refund"' in html.content.decode()


def test_batches_cover_every_row_once_even_with_equal_timestamps(post_ipn, webhook):
    from django.utils import timezone

    from webhooks.admin import newest_first_in_batches
    from webhooks.models import Event

    for n in range(7):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n))))
    same_time = timezone.now()
    Event.objects.filter(transaction_id__in=["2", "3", "4", "5"]).update(received=same_time)
    rows = Event.objects.values_list("id", "received", "transaction_id")
    expected = list(rows.order_by("-received", "-id"))
    assert list(newest_first_in_batches(rows, size=2)) == expected
    assert len(expected) == 7
