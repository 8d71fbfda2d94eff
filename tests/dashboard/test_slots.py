"""The roll-up spreads each key, and each webhook's total, over DailyTotal.SLOTS rows: a batch of
follow-ups counts its events in the slot of its first event's id (so concurrent batches rarely
wait on one row's lock); every reader sums the slots."""

from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.figures import dashboard_figures
from dashboard.models import DailyTotal, WebhookTotal
from tests.conftest import follow_up
from tests.dashboard.conftest import money, store
from webhooks.models import Event, Webhook
from webhooks.services import events_follow_up

pytestmark = pytest.mark.django_db

SPREAD = DailyTotal.SLOTS + 2


@pytest.fixture
def payments(webhook):
    """SPREAD payments of one key today, each followed up in a batch of its own: consecutive
    first ids, so every slot is used. Returns their ids."""
    now = timezone.now()
    ids = []
    for n in range(SPREAD):
        store(webhook, money("on_payment", str(n), "10.00"), now)
        assert events_follow_up() == 1
        ids.append(Event.objects.latest("id").id)
    return ids


@pytest.mark.parametrize("model", [DailyTotal, WebhookTotal])
def test_batches_land_in_the_slots_of_their_first_ids(payments, model):
    counts = dict.fromkeys(range(DailyTotal.SLOTS), 0)
    for event_id in payments:
        counts[event_id % DailyTotal.SLOTS] += 1
    stored = dict(model.objects.values_list("slot", "count"))
    assert stored == counts
    assert sorted(stored) == list(range(DailyTotal.SLOTS))  # every slot used
    assert sum(stored.values()) == SPREAD


@pytest.mark.parametrize("model", [DailyTotal, WebhookTotal])
def test_one_batch_counts_in_one_slot(webhook, model):
    now = timezone.now()
    for n in range(1, SPREAD + 1):
        store(webhook, money("on_payment", str(n), "10.00"), now)
    assert events_follow_up(limit=SPREAD) == SPREAD
    first = Event.objects.earliest("id").id
    assert list(model.objects.values_list("slot", "count")) == [(first % DailyTotal.SLOTS, SPREAD)]


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
    assert found.last_received == max(Event.objects.values_list("received", flat=True))


def test_a_row_without_last_received_takes_the_next_events(payments, webhook):
    """Rows of days pruned before the column existed have none; the next event in a row sets it
    (SQLite's max() of NULL and a time is NULL)."""
    for model in (DailyTotal, WebhookTotal):
        model.objects.update(last_received=None)
    later = timezone.now()
    for n in range(DailyTotal.SLOTS):
        store(webhook, money("on_payment", f"L{n}", "1.00"), later)
        follow_up()  # a batch each: one in every slot
    for model in (DailyTotal, WebhookTotal):
        assert list(model.objects.values_list("last_received", flat=True).distinct()) == [later]
