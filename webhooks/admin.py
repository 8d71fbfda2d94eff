from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from webhooks import ipn
from webhooks.models import Event, RejectedDelivery, Webhook


class CopyableTextInput(forms.TextInput):
    """A text input with a Copy button next to it (for the passphrase)."""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        element_id = (attrs or {}).get("id", f"id_{name}")
        button = format_html(
            ' <button type="button" class="button" data-copy-from="{}">Copy</button>', element_id
        )
        return html + button


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in ipn.KNOWN_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Left empty, the kind's defaults are used. Ignored for 'All events'.",
    )

    class Meta:
        model = Webhook
        fields = ["name", "kind", "events", "passphrase", "accept_unsigned", "active"]
        widgets = {
            "passphrase": CopyableTextInput(attrs={"size": 64, "autocomplete": "off"}),
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind and not cleaned.get("events"):
            cleaned["events"] = list(ipn.KIND_DEFAULT_EVENTS[kind])
        return cleaned


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "kind", "active", "last_received", "event_count", "rejected_count"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    readonly_fields = [
        "receive_url",
        "created",
        "updated",
        "last_received",
        "event_count",
        "rejected_count",
    ]
    list_select_related = []
    fieldsets = [
        (None, {"fields": ["name", "kind", "events", "active"]}),
        ("Digistore24 IPN settings", {"fields": ["receive_url", "passphrase", "accept_unsigned"]}),
        (
            "Activity",
            {"fields": ["last_received", "event_count", "rejected_count", "created", "updated"]},
        ),
    ]
    actions = ["regenerate_receive_url"]

    @admin.display(description="Receive URL")
    def receive_url(self, webhook):
        if webhook.pk is None:
            return "Shown after saving."
        url = webhook.get_receive_url()
        return format_html(
            '<code>{}</code> <button type="button" class="button" data-copy="{}">Copy</button>',
            url,
            url,
        )

    @admin.action(description="Regenerate receive URL (the old URL stops working)")
    def regenerate_receive_url(self, request, queryset):
        count = 0
        for webhook in queryset:
            webhook.regenerate_token()
            count += 1
        self.message_user(
            request,
            f"New receive URL for {count} webhook(s); enter it in Digistore24's IPN settings.",
            messages.WARNING,
        )


class EventTypeFilter(admin.SimpleListFilter):
    """Event types from the known list: the alternative, SELECT DISTINCT over the whole event
    table, grows with it."""

    title = "event type"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return [(name, name) for name in ipn.KNOWN_EVENTS]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(event=self.value())
        return queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Log tables are append-only: viewable, never added or edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "received",
        "event",
        "order_id",
        "email",
        "amount_display",
        "webhook",
        "signature",
        "delivery_count",
    ]
    list_filter = ["webhook", EventTypeFilter, "scope", "signature"]
    # Exact matches only, each served by its own index (see Event.Meta.indexes).
    search_fields = ["order_id__exact", "transaction_id__exact", "email__exact"]
    search_help_text = "Exact order id, transaction id or email."
    list_select_related = ["webhook"]
    show_full_result_count = False
    readonly_fields = ["payload_table"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "webhook",
                    "event",
                    "scope",
                    "signature",
                    "received",
                    "last_delivered",
                    "delivery_count",
                    "sender_ip",
                    "business_key",
                ]
            },
        ),
        (
            "Order",
            {
                "fields": [
                    "order_id",
                    "transaction_id",
                    "product_id",
                    "product_name",
                    "email",
                    "amount",
                    "currency",
                    "billing_type",
                    "pay_sequence_no",
                    "affiliate_name",
                    "eticket_id",
                    "api_mode",
                ]
            },
        ),
        ("Payload as received", {"fields": ["payload_table"]}),
        ("Receiver errors", {"fields": ["signal_error"]}),
    ]

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, event):
        if event.amount is None:
            return "—"
        # The column keeps 4 places; show the 2 that money normally has unless more are used.
        amount = event.amount.normalize()
        shown = f"{amount:.2f}" if amount.as_tuple().exponent >= -2 else f"{amount:f}"
        return f"{shown} {event.currency or ''}".strip()

    @admin.display(description="Parameters")
    def payload_table(self, event):
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", event.payload)
        return format_html("<table>{}</table>", rows)


@admin.register(RejectedDelivery)
class RejectedDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["received", "webhook", "status_code", "reason", "sender_ip"]
    list_filter = ["webhook", "status_code"]
    search_fields = []
    list_select_related = ["webhook"]
    show_full_result_count = False
    readonly_fields = ["body_text"]
    fields = [
        "webhook",
        "received",
        "sender_ip",
        "status_code",
        "reason",
        "content_type",
        "body_text",
    ]

    @admin.display(description="Body")
    def body_text(self, rejected):
        return format_html("<pre>{}</pre>", bytes(rejected.body).decode("utf-8", "replace"))
