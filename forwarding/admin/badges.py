"""Status badges of destinations and deliveries, in the colours of the admin's other badges."""

from ds24site.admin_tools import badge
from forwarding.models import Delivery, Destination

# Status -> the badge style (static/ds24site/admin.css) of the webhook status that looks alike.
DESTINATION_STYLE = {
    Destination.Status.HEALTHY: "receiving",
    Destination.Status.FAILING: "paused",
    Destination.Status.DISABLED: "rejecting",
}
DELIVERY_STYLE = {
    Delivery.Status.SUCCEEDED: "receiving",
    Delivery.Status.PENDING: "silent",
    Delivery.Status.FAILED: "rejecting",
}


def destination_badge(destination: Destination):
    status = Destination.Status(destination.status)
    why = destination.disabled_reason if status == Destination.Status.DISABLED else ""
    return badge(DESTINATION_STYLE[status], status.label, why)


def delivery_badge(status: str):
    status = Delivery.Status(status)
    return badge(DELIVERY_STYLE[status], status.label)
