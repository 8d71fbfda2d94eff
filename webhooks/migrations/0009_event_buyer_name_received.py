"""The buyer-name indexes carry `received`: a page of a common name's events, newest first, is
then sorted from the index alone instead of reading every match from the table (the API's
?buyer=müller, 1 % of the log). Each index is built once, as in 0006: about 5 s each on the
1,000,000 events of bench/seed.py (SQLite).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0008_webhook_activity_from_rollup"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="event",
            name="event_buyer_name",
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_buyer_last_name",
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["buyer_name_normalized", "received"],
                name="event_buyer_name_received",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["buyer_last_name_normalized", "received"],
                name="event_buyer_last_name_received",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
        ),
    ]
