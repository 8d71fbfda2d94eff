"""Migrations dashboard 0002 and webhooks 0008: the roll-up learns each row's last received
from the stored events and the webhook's two counter columns go; unapplied, the slots merge
back into one row per key and the columns come back filled from the roll-up."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dashboard.models import DailyTotal
from tests.conftest import keep_ipn, migrate_to, on_payment
from webhooks.models import Webhook
from webhooks.services import events_follow_up

BEFORE = [("webhooks", "0006_event_email_normalized"), ("dashboard", "0001_initial")]
AFTER = [
    ("webhooks", "0008_webhook_activity_from_rollup"),
    ("dashboard", "0002_dailytotal_slot_last_received"),
]


@pytest.fixture
def before(transactional_db):
    apps = migrate_to(BEFORE)
    yield apps
    call_command("migrate", verbosity=0)  # the schema the next test expects


def webhook_columns():
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, "webhooks_webhook")
    return {column.name for column in table}


def test_forward_backfills_and_backward_restores(before):
    OldWebhook = before.get_model("webhooks", "Webhook")
    OldEvent = before.get_model("webhooks", "Event")
    OldTotal = before.get_model("dashboard", "DailyTotal")
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    two_days_ago, yesterday = now - timedelta(days=2), now - timedelta(days=1)
    webhook = OldWebhook.objects.create(
        name="Old", kind="all", passphrase="p" * 32, event_count=8, last_received=yesterday
    )
    key = {"currency": "EUR", "api_mode": "live", "product_id": "12345", "webhook_pk": webhook.pk}
    stored = [("on_payment", two_days_ago), ("on_payment", two_days_ago + timedelta(hours=1))]
    stored.append(("on_refund", yesterday))
    for n, (name, received) in enumerate(stored):
        OldEvent.objects.create(
            webhook=webhook, event=name, scope="accepted", payload=[], payload_hash=str(n),
            signature="verified", received=received, amount=Decimal(10), **{
                field: key[field] for field in ("currency", "api_mode", "product_id")},
        )  # fmt: skip
    pruned_day = (now - timedelta(days=10)).date()
    for day, name, count in [
        (two_days_ago.date(), "on_payment", 2),
        (yesterday.date(), "on_refund", 1),
        (pruned_day, "on_payment", 5),  # its events pruned
    ]:
        OldTotal.objects.create(day=day, event=name, count=count, amount=10 * count, **key)

    migrate_to(AFTER)

    assert {"event_count", "last_received"}.isdisjoint(webhook_columns())
    newest = dict(DailyTotal.objects.values_list("day", "last_received"))
    assert newest == {
        two_days_ago.date(): two_days_ago + timedelta(hours=1),
        yesterday.date(): yesterday,
        pruned_day: None,
    }
    activity = Webhook.objects.with_activity().get(pk=webhook.pk)
    assert (activity.event_count, activity.last_received) == (8, yesterday)

    # Refunds of yesterday's key, spread over the slots: stored and followed up as the site
    # does now, which needs the follow-up queue of the migration after.
    migrate_to([("webhooks", "0010_inboundipn")])
    for n in range(DailyTotal.SLOTS):
        params = on_payment(event="on_refund", transaction_id=f"R{n}", amount_brutto="10")
        keep_ipn(
            Webhook.objects.get(pk=webhook.pk), params, received=yesterday + timedelta(minutes=n)
        )
        assert events_follow_up() == 1  # a batch each: consecutive ids, every slot
    assert DailyTotal.objects.filter(day=yesterday.date()).count() > 1

    migrate_to(BEFORE)

    assert {"event_count", "last_received"} <= webhook_columns()
    rows = sorted(OldTotal.objects.values_list("day", "event", "count", "amount"))
    assert rows == [
        (pruned_day, "on_payment", 5, Decimal(50)),
        (two_days_ago.date(), "on_payment", 2, Decimal(20)),
        (yesterday.date(), "on_refund", 1 + DailyTotal.SLOTS, Decimal(10 + 10 * DailyTotal.SLOTS)),
    ]
    restored = OldWebhook.objects.get(pk=webhook.pk)
    last = yesterday + timedelta(minutes=DailyTotal.SLOTS - 1)
    assert (restored.event_count, restored.last_received) == (8 + DailyTotal.SLOTS, last)
