from django.dispatch import receiver

from forwarding.services import deliveries_create, destination_notify_disabled
from forwarding.signals import destination_disabled
from webhooks.signals import event_stored


@receiver(event_stored, dispatch_uid="forwarding.route_event")
def route_event(sender, event, **kwargs):
    deliveries_create(event=event)


@receiver(destination_disabled, dispatch_uid="forwarding.tell_admins")
def tell_admins(sender, destination, reason, **kwargs):
    destination_notify_disabled(destination=destination, reason=reason)
