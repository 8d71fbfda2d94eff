"""The webhooks admin, by concern: webhooks (with their set-up and registration views), the
event log (with its trigger lists and CSV export), and rejected deliveries."""

from webhooks.admin import events, rejected, webhooks  # noqa: F401 - they register the admins
