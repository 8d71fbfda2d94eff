"""`manage.py rebuildtotals`: the same totals as the follow-up's incremental ones, and history
kept for days whose events were pruned."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Sum

from dashboard.figures import dashboard_figures
from dashboard.models import DailyTotal, WebhookTotal
from tests.conftest import follow_up
from tests.dashboard.conftest import at, money, store
from webhooks.models import Event, InboundIPN, Webhook

pytestmark = pytest.mark.django_db


def totals():
    """Each key's figures, summed over its slots (follow-ups spread a key over several)."""
    return sorted(
        DailyTotal.objects.values_list("day", "event", "currency", "api_mode", "product_id")
        .annotate(Sum("count"), Sum("amount"), Max("last_received"))
        .order_by()
    )


def rebuild(*args):
    out = StringIO()
    call_command("rebuildtotals", *args, stdout=out)
    return out.getvalue()


def activity():
    return list(Webhook.objects.with_activity().values_list("pk", "event_count", "last_received"))


def test_rebuild_equals_incremental(seeded):
    incremental, figures, webhooks = totals(), dashboard_figures(), activity()
    assert len(incremental) > 5
    assert DailyTotal.objects.exclude(slot=0).exists()  # follow-ups spread them
    DailyTotal.objects.all().delete()
    WebhookTotal.objects.update(count=0)  # damaged too
    assert "Recomputed the daily totals from" in rebuild()
    assert not DailyTotal.objects.exclude(slot=0).exists()
    assert totals() == incremental
    assert dashboard_figures() == figures
    assert activity() == webhooks


def test_pruned_days_keep_their_totals(seeded):
    incremental = totals()
    Event.objects.filter(received__lt=at(5)).delete()  # as pruneevents would
    DailyTotal.objects.update(count=0)  # damaged since, every day
    # Yesterday's events are the oldest left: pruning may have cut that day in two, so it is
    # kept as it is, with the days before it; today is recomputed.
    assert f"from {at(0).date()}" in rebuild()
    today = [row for row in incremental if row[0] == at(0).date()]
    assert [row for row in totals() if row[5]] == today


def test_since_and_bad_input(seeded):
    incremental = totals()
    DailyTotal.objects.filter(day=at(0).date()).delete()
    assert f"from {at(0).date()}" in rebuild("--since", at(0).date().isoformat())
    assert totals() == incremental
    with pytest.raises(CommandError, match="must be a date"):
        rebuild("--since", "yesterday")


def test_nothing_stored(db):
    assert "nothing to recompute" in rebuild()


def test_an_event_still_queued_is_left_to_its_follow_up(seeded):
    """Rebuilding counts what has been followed up; an event whose follow-up is queued is
    counted by it, after the rebuild, once."""
    followed_up, webhooks = totals(), activity()
    store(seeded, money("on_payment", "Q", "25.00"), at(0))
    assert InboundIPN.objects.count() == 1
    rebuild()
    assert totals() == followed_up
    assert activity() == webhooks
    assert follow_up() == 1
    after = totals()
    key = (at(0).date(), "on_payment", "EUR", "live", "12345")
    counted = {row[:5]: row[5:7] for row in followed_up}
    assert {row[:5]: row[5:7] for row in after} == {
        **counted,
        key: (counted[key][0] + 1, counted[key][1] + Decimal("25.00")),
    }  # the follow-up counted it
    rebuild()
    assert totals() == after  # and the rebuild agrees: no double count
