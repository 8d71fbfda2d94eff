from django.dispatch import receiver

from dashboard.services import dailytotal_add
from webhooks.signals import event_stored


@receiver(event_stored, dispatch_uid="dashboard.count_event")
def count_event(sender, event, **kwargs):
    dailytotal_add(event=event)
