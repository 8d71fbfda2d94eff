"""Payments webhooks accept on_payment_subscription_signup.

It is a payment, shown in the Payments list, but the payments kind's defaults lacked it, so a
payments webhook stored it as ignored. Webhooks that still carry the old default set get it;
one whose events were chosen by hand is left as chosen. The sets are frozen here: the registry
(webhooks/ipn.py) moves on, this migration must not.
"""

from django.db import migrations

SIGNUP = "on_payment_subscription_signup"
OLD_DEFAULTS = frozenset(
    {
        "on_payment",
        "on_refund",
        "on_chargeback",
        "on_payment_missed",
        "payment_denial",
        "on_rebill_cancelled",
        "on_rebill_resumed",
        "last_paid_day",
    }
)


def _has_exactly(events, names) -> bool:
    # events is a JSON value the database does not constrain: not necessarily a list of strings.
    return (
        isinstance(events, list)
        and all(isinstance(name, str) for name in events)
        and set(events) == names
    )


def add_signup(apps, schema_editor):
    Webhook = apps.get_model("webhooks", "Webhook")
    for webhook in Webhook.objects.filter(kind="payments").only("events").iterator():
        if _has_exactly(webhook.events, OLD_DEFAULTS):
            # After on_payment, where the registry lists it.
            at = webhook.events.index("on_payment") + 1
            webhook.events = [*webhook.events[:at], SIGNUP, *webhook.events[at:]]
            webhook.save(update_fields=["events"])


def remove_signup(apps, schema_editor):
    Webhook = apps.get_model("webhooks", "Webhook")
    for webhook in Webhook.objects.filter(kind="payments").only("events").iterator():
        if _has_exactly(webhook.events, OLD_DEFAULTS | {SIGNUP}):
            webhook.events = [name for name in webhook.events if name != SIGNUP]
            webhook.save(update_fields=["events"])


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0003_rejecteddelivery_method"),
    ]

    operations = [
        migrations.RunPython(add_signup, remove_signup),
    ]
