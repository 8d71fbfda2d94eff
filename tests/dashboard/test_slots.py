"""The roll-up spreads each key, and each webhook's total, over DailyTotal.SLOTS rows (so
concurrent IPNs rarely wait on one row's lock); every reader sums them."""

from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.figures import dashboard_figures
from dashboard.models import DailyTotal, WebhookTotal
from tests.dashboard.conftest import money, store
from webhooks.models import Webhook

pytestmark = pytest.mark.django_db

SPREAD = DailyTotal.SLOTS + 2


@pytest.fixture
def payments(webhook):
    """SPREAD payments of one key today: consecutive ids, so every slot is used."""
    now = timezone.now()
    return [store(webhook, money("on_payment", str(n), "10.00"), now) for n in range(SPREAD)]


@pytest.mark.parametrize("model", [DailyTotal, WebhookTotal])
def test_one_key_is_spread_over_every_slot(payments, model):
    slots = sorted(model.objects.values_list("slot", flat=True))
    assert slots == list(range(DailyTotal.SLOTS))
    assert sum(model.objects.values_list("count", flat=True)) == SPREAD


def test_figures_sum_the_slots(payments):
    figures = dashboard_figures()
    counts = {row.label: [cell.value for cell in row.cells] for row in figures.counts}
    assert counts["Payment"] == [SPREAD] * 3
    assert [[cell.value for cell in row.cells] for row in figures.revenue] == [
        [Decimal("10.00") * SPREAD] * 3
    ]
    assert dict(figures.events_per_day)[figures.today] == {"on_payment": SPREAD}
    [product] = figures.top_products
    assert product["revenue"] == Decimal("10.00") * SPREAD


def test_webhook_activity_sums_the_slots(payments, webhook):
    found = Webhook.objects.with_activity().get(pk=webhook.pk)
    assert found.event_count == SPREAD
    assert found.last_received == max(event.received for event in payments)


def test_a_row_without_last_received_takes_the_next_events(payments, webhook):
    """Rows of days pruned before the column existed have none; the next event in a row sets it
    (SQLite's max() of NULL and a time is NULL)."""
    for model in (DailyTotal, WebhookTotal):
        model.objects.update(last_received=None)
    later = timezone.now()
    for n in range(DailyTotal.SLOTS):
        store(webhook, money("on_payment", f"L{n}", "1.00"), later)
    for model in (DailyTotal, WebhookTotal):
        assert list(model.objects.values_list("last_received", flat=True).distinct()) == [later]
