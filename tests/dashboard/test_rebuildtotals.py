"""`manage.py rebuildtotals`: the same totals as the receiver's incremental ones, and history
kept for days whose events were pruned."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dashboard.models import DailyTotal
from tests.dashboard.conftest import at
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def totals():
    return sorted(
        DailyTotal.objects.values_list(
            "day", "event", "currency", "api_mode", "product_id", "count", "amount"
        )
    )


def rebuild(*args):
    out = StringIO()
    call_command("rebuildtotals", *args, stdout=out)
    return out.getvalue()


def test_rebuild_equals_incremental(seeded):
    incremental = totals()
    assert len(incremental) > 5
    DailyTotal.objects.all().delete()
    assert "Recomputed the daily totals from" in rebuild()
    assert totals() == incremental


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
