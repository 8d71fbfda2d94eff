from django.dispatch import receiver

from forwarding.services import deliveries_create, destination_notify_disabled
from forwarding.signals import destination_disabled
from webhooks.signals import events_stored


@receiver(events_stored, dispatch_uid="forwarding.route_events")
def route_events(sender, events, **kwargs):
    deliveries_create(events=events)


@receiver(destination_disabled, dispatch_uid="forwarding.tell_admins")
def tell_admins(sender, destination, reason, **kwargs):
    destination_notify_disabled(destination=destination, reason=reason)
