"""Actions of the event log and the rejected deliveries: they act on the webhook's behalf, so
they need the permission to change webhooks."""

from django.contrib import admin, messages
from django.db import transaction

from ds24site.admin_tools import ReadOnlyAdmin
from webhooks.services import delivery_reverify, event_notify_later

REPLAY_MAX = 1000


class WebhookLogAdmin(ReadOnlyAdmin):
    def has_webhook_change_permission(self, request):
        """For actions that act on the webhook's behalf (replay, re-verify)."""
        return request.user.has_perm("webhooks.change_webhook")


@admin.action(
    description="Run the ipn_received receivers (your code) again for the selected events",
    permissions=["webhook_change"],
)
def replay(modeladmin, request, queryset):
    events = list(queryset[: REPLAY_MAX + 1])
    if len(events) > REPLAY_MAX:
        modeladmin.message_user(
            request, f"Replay at most {REPLAY_MAX} events at a time.", messages.ERROR
        )
        return
    with transaction.atomic():
        for event in events:
            event_notify_later(event=event)
    modeladmin.message_user(
        request,
        f"Queued {len(events)} event(s) for the ipn_received receivers; a worker sends them, "
        "and what a receiver raises is recorded on its event.",
    )


@admin.action(description="Re-verify with the current passphrase", permissions=["webhook_change"])
def reverify(modeladmin, request, queryset):
    stored, still_failing = 0, {}
    for delivery in queryset.defer(None).select_related("webhook").order_by("id"):
        rejection = delivery_reverify(delivery=delivery)
        if rejection is None:
            stored += 1
        else:
            still_failing[str(rejection)] = still_failing.get(str(rejection), 0) + 1
    if stored:
        modeladmin.message_user(
            request,
            f"{stored} deliveries now verify and are received: a worker puts them in the "
            "event log within a second or two.",
        )
    for reason, count in still_failing.items():
        modeladmin.message_user(request, f"{count} still rejected: {reason}.", messages.WARNING)
