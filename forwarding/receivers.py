from django.dispatch import receiver

from forwarding.services import deliveries_create
from webhooks.signals import event_stored


@receiver(event_stored, dispatch_uid="forwarding.route_event")
def route_event(sender, event, **kwargs):
    deliveries_create(event=event)
