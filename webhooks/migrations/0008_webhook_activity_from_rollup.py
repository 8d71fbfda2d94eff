"""A webhook's event count and last received come from the dashboard's roll-up
(Webhook.objects.with_activity, dashboard 0002 fills it) instead of two columns that every IPN
updated, which made concurrent deliveries to one webhook queue on its row's lock until each
commit was flushed.

Unapplying brings the columns back filled from the roll-up.
"""

from django.db import migrations
from django.db.models import Max, Sum


def restore_counters(apps, schema_editor):
    Webhook = apps.get_model("webhooks", "Webhook")
    WebhookTotal = apps.get_model("dashboard", "WebhookTotal")
    activity = (
        WebhookTotal.objects.order_by()
        .values("webhook_pk")
        .annotate(total=Sum("count"), newest=Max("last_received"))
    )
    for row in activity:
        Webhook.objects.filter(pk=row["webhook_pk"]).update(
            event_count=row["total"], last_received=row["newest"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0007_webhook_last_signature_failure"),
        # Where the activity is read from now, and unapplying fills the columns from.
        ("dashboard", "0002_dailytotal_slot_last_received"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_counters),
        migrations.RemoveField(
            model_name="webhook",
            name="event_count",
        ),
        migrations.RemoveField(
            model_name="webhook",
            name="last_received",
        ),
    ]
