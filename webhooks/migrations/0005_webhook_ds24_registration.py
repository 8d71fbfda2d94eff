"""Webhooks remember their registration in Digistore24 (ipnSetup): the domain id it is kept
under there, the connection (API key) that registered it, when, and Digistore24's IPN id; and
the products a registration asks Digistore24 to send IPNs for.

The domain id is unique where set; it is set at the first registration, so existing webhooks
start without one.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0001_initial'),
        ('webhooks', '0004_payments_subscription_signup'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhook',
            name='ds24_connection',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='registered_webhooks', to='connections.connection', verbose_name='registered with'),
        ),
        migrations.AddField(
            model_name='webhook',
            name='ds24_domain_id',
            field=models.CharField(blank=True, editable=False, max_length=40, verbose_name='Digistore24 domain id'),
        ),
        migrations.AddField(
            model_name='webhook',
            name='ds24_ipn_id',
            field=models.CharField(blank=True, editable=False, max_length=32, verbose_name='Digistore24 IPN id'),
        ),
        migrations.AddField(
            model_name='webhook',
            name='ds24_registered',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='registered in Digistore24'),
        ),
        migrations.AddField(
            model_name='webhook',
            name='product_ids',
            field=models.CharField(blank=True, help_text='Digistore24 product ids, comma-separated, that Digistore24 sends IPNs for when it registers this webhook; empty: all products.', max_length=255, verbose_name='products'),
        ),
        migrations.AddConstraint(
            model_name='webhook',
            constraint=models.UniqueConstraint(condition=models.Q(('ds24_domain_id', ''), _negated=True), fields=('ds24_domain_id',), name='webhook_unique_ds24_domain_id'),
        ),
    ]
