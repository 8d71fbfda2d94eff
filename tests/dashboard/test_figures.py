"""The dashboard's figures against hand-computed ones, and the roll-up they are read from."""

from decimal import Decimal

import pytest
from django.urls import reverse

from dashboard.figures import dashboard_figures
from dashboard.models import DailyTotal, WebhookTotal
from tests.conftest import follow_up, on_payment, signed
from webhooks.models import InboundIPN
from webhooks.services import events_follow_up

pytestmark = pytest.mark.django_db


def table(rows):
    return {row.label: [cell.value for cell in row.cells] for row in rows}


def test_revenue_per_currency_today_7_and_30_days(seeded):
    figures = dashboard_figures()
    assert table(figures.revenue) == {
        # 100 + 50.50 - 20 | + 10 yesterday | + 1000 - 100 eight days ago
        "EUR": [Decimal("130.50"), Decimal("140.50"), Decimal("1040.50")],
        # 30 - 10 | - 5 yesterday
        "USD": [Decimal("20.00"), Decimal("15.00"), Decimal("15.00")],
    }
    assert all(
        isinstance(value, Decimal) for row in figures.revenue for value in table([row])[row.label]
    )


def test_counts_of_live_events(seeded):
    assert table(dashboard_figures().counts) == {
        "Payment": [3, 4, 5],  # the redelivery and the test order not among them
        "Subscription signup": [0, 0, 0],
        "Refund": [1, 2, 2],
        "Chargeback": [1, 1, 2],
        "E-ticket": [0, 1, 1],
        "Affiliate approved": [0, 1, 1],  # the test-mode one left out
    }


def test_chart_series(seeded):
    figures = dashboard_figures()
    eur = dict(figures.revenue_per_day["EUR"])
    assert len(eur) == 30
    assert eur[figures.today] == Decimal("130.50")
    assert sum(eur.values()) == Decimal("1040.50")
    per_day = dict(figures.events_per_day)
    # Every stored event, test ones too: this is traffic, not revenue.
    assert per_day[figures.today] == {"on_payment": 4, "on_refund": 1, "on_chargeback": 1}
    assert [(p["product_id"], p["currency"], p["revenue"]) for p in figures.top_products] == [
        ("12345", "EUR", Decimal("1040.50")),
        ("12345", "USD", Decimal("15.00")),
    ]


def test_the_page_shows_them(seeded, admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "1,040.50" in html
    assert "130.50" in html


def test_the_follow_up_keeps_the_rollup(post_ipn, webhook):
    assert post_ipn(webhook, signed(on_payment()), follow=False).status_code == 200
    assert post_ipn(webhook, signed(on_payment()), follow=False).status_code == 200  # again
    refund = on_payment(event="on_refund", transaction_id="R1", amount_brutto="9.50")
    assert post_ipn(webhook, signed(refund), follow=False).status_code == 200
    assert not DailyTotal.objects.exists()  # the receiver only keeps them
    assert follow_up() == 3
    rows = {
        (t.event, t.currency, t.api_mode, t.product_id): (t.count, t.amount)
        for t in DailyTotal.objects.all()
    }
    assert rows == {
        ("on_payment", "EUR", "live", "12345"): (1, Decimal("49.00")),
        ("on_refund", "EUR", "live", "12345"): (1, Decimal("9.50")),
    }


def test_a_follow_up_that_fails_counts_nothing_until_it_is_done_again(webhook, post_ipn):
    """The roll-up is written in the follow-up's transaction: when a later receiver fails it,
    nothing of the batch stays, the events stay queued, and the next follow-up counts them
    once."""
    from webhooks import signals

    def fail(**kwargs):
        raise RuntimeError("a later receiver failed")

    assert post_ipn(webhook, signed(on_payment()), follow=False).status_code == 200  # kept: OK
    signals.events_stored.connect(fail, dispatch_uid="test.fail")
    try:
        with pytest.raises(RuntimeError):
            events_follow_up()
    finally:
        signals.events_stored.disconnect(dispatch_uid="test.fail")
    assert not DailyTotal.objects.exists()
    assert not WebhookTotal.objects.exists()
    assert InboundIPN.objects.count() == 1
    assert events_follow_up() == 1
    assert list(DailyTotal.objects.values_list("count", "amount")) == [(1, Decimal("49.00"))]
    assert not InboundIPN.objects.exists()
