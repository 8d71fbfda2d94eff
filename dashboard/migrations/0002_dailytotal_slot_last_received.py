"""The roll-up takes over the webhooks' activity: each row keeps when its newest event was
received, a key's count may be spread over DailyTotal.SLOTS rows so that concurrent IPNs rarely
queue on one row's lock, and WebhookTotal sums each webhook's rows.

Existing rows are all slot 0 and get their last received from the events still stored; rows of
days whose events were all pruned keep none. Each webhook's total is then summed from them (as
`rebuildtotals` does; webhooks 0007 drops the webhook's own counters after this). Unapplying
merges each key's slots into one row first, so that the old unique key holds again.
"""

from django.db import migrations, models
from django.db.models import F, Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

KEY = ("day", "event", "currency", "api_mode", "product_id", "webhook_pk")


def backfill(apps, schema_editor):
    """Last received: one UPDATE per key with stored events, the key grouped as rebuildtotals
    groups it. Then the webhooks' totals."""
    DailyTotal = apps.get_model("dashboard", "DailyTotal")
    WebhookTotal = apps.get_model("dashboard", "WebhookTotal")
    Event = apps.get_model("webhooks", "Event")
    zone = timezone.get_current_timezone()
    newest = (
        Event.objects.order_by()
        .annotate(day=TruncDate("received", tzinfo=zone), webhook_pk=F("webhook_id"))
        .values(*KEY)
        .annotate(newest=Max("received"))
    )
    for row in newest.iterator():
        DailyTotal.objects.filter(**{key: row[key] for key in KEY}).update(
            last_received=row["newest"]
        )
    webhooks = DailyTotal.objects.order_by().values("webhook_pk")
    WebhookTotal.objects.bulk_create(
        WebhookTotal(webhook_pk=row["webhook_pk"], count=row["total"], last_received=row["newest"])
        for row in webhooks.annotate(total=Sum("count"), newest=Max("last_received"))
    )


def merge_slots(apps, schema_editor):
    """Each key spread over several slots becomes its lowest row, with the sums of all."""
    DailyTotal = apps.get_model("dashboard", "DailyTotal")
    spread = (
        DailyTotal.objects.order_by()
        .values(*KEY)
        .annotate(
            keep=Min("pk"),
            rows=models.Count("pk"),
            total_count=Sum("count"),
            total_amount=Sum("amount"),
            name=Max("product_name"),
        )
        .filter(rows__gt=1)
    )
    for row in list(spread):
        DailyTotal.objects.filter(**{key: row[key] for key in KEY}).exclude(
            pk=row["keep"]
        ).delete()
        DailyTotal.objects.filter(pk=row["keep"]).update(
            count=row["total_count"], amount=row["total_amount"], product_name=row["name"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("webhooks", "0006_event_email_normalized"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="dailytotal",
            name="dailytotal_unique_key",
        ),
        migrations.AddField(
            model_name="dailytotal",
            name="last_received",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="dailytotal",
            name="slot",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="dailytotal",
            constraint=models.UniqueConstraint(
                fields=("day", "event", "currency", "api_mode", "product_id", "webhook_pk", "slot"),
                name="dailytotal_unique_key",
            ),
        ),
        migrations.CreateModel(
            name="WebhookTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("webhook_pk", models.BigIntegerField(verbose_name="webhook id")),
                ("slot", models.PositiveSmallIntegerField(default=0)),
                ("count", models.PositiveBigIntegerField(default=0)),
                ("last_received", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("webhook_pk", "slot"), name="webhooktotal_unique_key")
                ],
            },
        ),
        migrations.RunPython(backfill, merge_slots),
    ]
