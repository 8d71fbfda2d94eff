"""The webhook's "Rejecting" status reads the latest rejected delivery that carried a signature
of Digistore24's form, no longer any rejection. Existing webhooks start without one: a webhook
that Digistore24 is failing to reach shows "Rejecting" again at its next retry."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0006_event_email_normalized'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhook',
            name='last_signature_failure',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last signed delivery rejected'),
        ),
    ]
