from django.db import migrations, models
from django.utils import timezone


def create_row(apps, schema_editor):
    apps.get_model("ds24site", "HealthProbe").objects.create(pk=1, written=timezone.now())


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="HealthProbe",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("written", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
