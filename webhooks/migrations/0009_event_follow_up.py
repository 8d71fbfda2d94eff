"""Follow-up work moves out of the storing transaction: a trigger queues every new event in
webhooks_followup in the statement that inserts it (webhooks.models.FollowUp), and the task
workers do the work from there (webhooks.services.events_follow_up). Events stored before this
migration were followed up when they were stored; none is queued."""

import django.db.models.deletion
from django.db import migrations, models

# The trigger's SQL per database. AFTER INSERT fires for inserted rows only: an upsert that
# counts a redelivery on an existing row (ON CONFLICT DO UPDATE) fires the update triggers,
# of which there are none.
CREATE = {
    "sqlite": [
        "CREATE TRIGGER webhooks_event_follow_up AFTER INSERT ON webhooks_event "
        "BEGIN INSERT INTO webhooks_followup (event_id) VALUES (NEW.id); END",
    ],
    "postgresql": [
        "CREATE FUNCTION webhooks_event_follow_up() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO webhooks_followup (event_id) VALUES (NEW.id); RETURN NULL; END $$",
        "CREATE TRIGGER webhooks_event_follow_up AFTER INSERT ON webhooks_event "
        "FOR EACH ROW EXECUTE FUNCTION webhooks_event_follow_up()",
    ],
}
DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS webhooks_event_follow_up"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS webhooks_event_follow_up ON webhooks_event",
        "DROP FUNCTION IF EXISTS webhooks_event_follow_up()",
    ],
}


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"no follow-up trigger for {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0008_webhook_activity_from_rollup"),
    ]

    operations = [
        migrations.CreateModel(
            name="FollowUp",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="webhooks.event",
                    ),
                ),
            ],
        ),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
