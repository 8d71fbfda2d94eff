"""The receiver keeps each verified IPN as received (InboundIPN), in one small row; the task
workers put it into the event log and do the rest (webhooks.services.events_follow_up)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0009_event_buyer_name_received'),
    ]

    operations = [
        migrations.CreateModel(
            name='InboundIPN',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('body', models.BinaryField()),
                ('signature', models.CharField(choices=[('verified', 'Verified'), ('unsigned', 'Unsigned')], max_length=10)),
                ('sender_ip', models.GenericIPAddressField(blank=True, null=True)),
                ('received', models.DateTimeField()),
                ('webhook', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='webhooks.webhook')),
            ],
            options={
                'verbose_name': 'inbound IPN',
            },
        ),
    ]
