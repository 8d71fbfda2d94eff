"""Rejected deliveries: what the receiver refused, with the body as received, and re-verify."""

from django.contrib import admin
from django.utils.html import format_html

from webhooks.admin.actions import WebhookLogAdmin, reverify
from webhooks.models import RejectedDelivery


@admin.register(RejectedDelivery)
class RejectedDeliveryAdmin(WebhookLogAdmin):
    list_display = ["received", "webhook", "sender_ip", "status_code", "reason"]
    list_filter = ["webhook", "status_code"]
    search_fields = []
    list_select_related = ["webhook"]
    sortable_by = []
    readonly_fields = ["body_text"]
    fields = [
        "webhook",
        "received",
        "sender_ip",
        "status_code",
        "reason",
        "method",
        "content_type",
        "body_text",
    ]
    actions = [reverify]

    def get_queryset(self, request):
        # Bodies can be 256 KiB each: the list does not need them; the detail page loads one.
        return super().get_queryset(request).defer("body")

    @admin.display(description="Body as received")
    def body_text(self, rejected):
        return format_html("<pre>{}</pre>", bytes(rejected.body).decode("utf-8", "replace"))
