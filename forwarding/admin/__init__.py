"""The forwarding admin, by concern: destinations, and the delivery log (with the deliveries
section of each event's page)."""

from forwarding.admin import deliveries, destinations  # noqa: F401 - they register the admins
