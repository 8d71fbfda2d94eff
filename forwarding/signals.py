from django.dispatch import Signal

# Sent once when a destination is disabled for failing too long, after the change is committed,
# with `destination` and `reason` (notifications to admins connect here).
destination_disabled = Signal()
