from django.dispatch import receiver

from dashboard.services import dailytotals_add
from webhooks.signals import events_stored


@receiver(events_stored, dispatch_uid="dashboard.count_events")
def count_events(sender, events, **kwargs):
    dailytotals_add(events=events)
