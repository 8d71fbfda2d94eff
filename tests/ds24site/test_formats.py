"""The admin shows date-times with seconds, in the site's time zone (TIME_ZONE)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.conftest import on_payment, signed
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    Event.objects.update(received=datetime(2026, 1, 15, 9, 30, 7, tzinfo=UTC))
    return Event.objects.get()


@pytest.mark.parametrize(("zone", "shown"), [("UTC", "09:30:07"), ("Europe/Berlin", "10:30:07")])
def test_event_list_and_page_show_seconds_in_the_site_time_zone(
    staff_client, event, settings, zone, shown
):
    settings.TIME_ZONE = zone
    listing = staff_client.get(reverse("admin:webhooks_event_changelist")).content.decode()
    page = staff_client.get(
        reverse("admin:webhooks_event_change", args=[event.pk])
    ).content.decode()
    # The list shows date and time on two lines of one cell (ds24site.admin_cells.when).
    assert f'2026-01-15<br><span class="ds24-sub">{shown}</span>' in listing
    assert f"2026-01-15 {shown}" in page
