"""The event log: its list, search, filters and CSV export, each event's page, the replay
action, and the trigger lists (payments, e-tickets, affiliations)."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ds24site.admin_cells import marks, stacked, when
from ds24site.admin_tools import badge, change_url
from ds24site.csv_export import CsvExportMixin
from webhooks import ipn
from webhooks.admin import export
from webhooks.admin.actions import WebhookLogAdmin, replay
from webhooks.admin.filters import EventTypeFilter, KindFilter, ModeFilter, ReceivedFilter
from webhooks.models import AffiliationEvent, ETicketEvent, Event, PaymentEvent


@admin.register(Event)
class EventAdmin(CsvExportMixin, WebhookLogAdmin):
    # Six cells that fit 1280 px with the sidebar and filters open (one field a column did not).
    list_display = [
        "received_time",
        "event_cell",
        "amount_display",
        "product",
        "buyer",
        "webhook_cell",
    ]
    list_filter = [
        "webhook",
        KindFilter,
        EventTypeFilter,
        "signature",
        ModeFilter,
        "scope",
        ReceivedFilter,
    ]
    # What EventQuerySet.search reads, each column through its own index (Event.Meta.indexes);
    # the list enables the search box.
    search_fields = [
        *["order_id", "transaction_id", "eticket_id", "affiliate_name", "email_normalized"],
        *["buyer_name_normalized", "buyer_last_name_normalized"],
    ]
    search_help_text = (
        "An e-mail address (any case); the start of an order or transaction id; an exact "
        "e-ticket id or affiliate name; or the start of the buyer's name (Jörg Müller, müller)."
    )
    list_select_related = ["webhook"]
    sortable_by = ["received_time"]  # the one order an index serves at any size
    readonly_fields = [
        *["event_badge", "amount_display", "payload_table", "payload_table_without_signature"],
        *["revisions", "same_order"],
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "event_badge",
                    "webhook",
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
            "Typed fields",
            {
                "fields": [
                    "order_id",
                    "transaction_id",
                    "product_id",
                    "product_name",
                    "email",
                    "buyer_first_name",
                    "buyer_last_name",
                    "amount_display",
                    "billing_type",
                    "pay_sequence_no",
                    "affiliate_name",
                    "eticket_id",
                    "api_mode",
                ]
            },
        ),
        ("Related events", {"fields": ["revisions", "same_order"]}),
        ("Payload as received", {"fields": ["payload_table"]}),
        ("Receiver errors", {"fields": ["signal_error"]}),
    ]
    actions = [replay]
    change_list_template = "admin/webhooks/event/change_list.html"
    csv_fields = export.CSV_FIELDS
    csv_header = export.CSV_HEADER
    csv_row = staticmethod(export.csv_row)

    def get_fieldsets(self, request, obj=None):
        """The signature only for those who may change webhooks: with it, an event can be
        replayed to another webhook that shares the passphrase (Event.payload_without_signature)."""
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm("webhooks.change_webhook"):
            return fieldsets
        swap = {"payload_table": "payload_table_without_signature"}
        return [
            (name, {**options, "fields": [swap.get(f, f) for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("webhook")
        if events := getattr(self.model, "EVENTS", None):
            qs = qs.filter(event__in=events)
        earlier = Event.objects.filter(
            webhook=OuterRef("webhook"),
            business_key=OuterRef("business_key"),
            received__lt=OuterRef("received"),
        ).exclude(business_key="")
        return qs.annotate(has_earlier=Exists(earlier))

    def get_search_results(self, request, queryset, search_term):
        """The whole term, read for what it looks like (EventQuerySet.search). (Django's own
        search splits the term into words and ORs every word over every field: a long term
        would make a query too large to plan, and its icontains scans the table.)"""
        return queryset.search(search_term), False

    @admin.display(description="Event", ordering="event")
    def event_badge(self, event):
        known = ipn.EVENT_TYPES.get(event.event)
        if known is None:
            return badge("", event.event or "(none)", "Not a registered Digistore24 event")
        # The readable name; the code Digistore24 sent (what filters and the API use) on hover.
        return badge(known.badge, known.label, known.name)

    @admin.display(description="Amount")
    def amount_display(self, event):
        if event.amount is None:
            return "—"
        # The column keeps 4 places; show the 2 that money normally has unless more are used.
        amount = event.amount.normalize()
        shown = f"{amount:.2f}" if amount.as_tuple().exponent >= -2 else f"{amount:f}"
        return f"{shown} {event.currency}".strip()

    @admin.display(description="Received", ordering="received")
    def received_time(self, event):
        return when(event.received)

    @admin.display(description="Event")
    def event_cell(self, event):
        order = event.order_id and format_html('<span title="Order id">{}</span>', event.order_id)
        transaction = event.transaction_id and format_html(
            '<span title="Transaction id">tx {}</span>', event.transaction_id
        )
        return stacked(self.event_badge(event), order, transaction)

    @admin.display(description="Product")
    def product(self, event):
        return stacked(event.product_name or "—", event.product_id and f"#{event.product_id}")

    @admin.display(description="Buyer")
    def buyer(self, event):
        name = " ".join(filter(None, [event.buyer_first_name, event.buyer_last_name]))
        # A narrow column breaks an address before its @ rather than anywhere.
        local, at, domain = event.email.partition("@")
        email = format_html("{}<wbr>{}{}", local, at, domain) if at else event.email
        if name and event.email:
            return stacked(name, email)
        return name or email or "—"

    @admin.display(description="Webhook")
    def webhook_cell(self, event):
        """The webhook, and what is unusual about the delivery: unsigned, not an accepted
        event, delivered more than once (\u00d7N), a revision of an earlier event."""
        return stacked(
            event.webhook.name,
            marks(
                ("warn", "unsigned") if event.signature == Event.Signature.UNSIGNED else None,
                ("", event.get_scope_display()) if event.scope != Event.Scope.ACCEPTED else None,
                ("", f"\u00d7{event.delivery_count}") if event.delivery_count > 1 else None,
                ("", "revision") if event.has_earlier else None,
            ),
        )

    @admin.display(description="Parameters")
    def payload_table(self, event):
        return parameter_table(event.payload)

    @admin.display(description="Parameters (without the signature)")
    def payload_table_without_signature(self, event):
        return parameter_table(event.payload_without_signature)

    def _event_links(self, events):
        if not events:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a> {} {} <small>({})</small>',
            (
                (
                    change_url(e),
                    e.received.strftime("%Y-%m-%d %H:%M:%S"),
                    e.event,
                    e.order_id,
                    e.webhook.name,
                )
                for e in events
            ),
        )

    @admin.display(description="Other revisions of this object")
    def revisions(self, event):
        if not event.business_key:
            return "—"
        others = (
            Event.objects.filter(webhook=event.webhook_id, business_key=event.business_key)
            .exclude(pk=event.pk)
            .select_related("webhook")
            .order_by("received")[:50]
        )
        return self._event_links(others)

    @admin.display(description="Other events of this order")
    def same_order(self, event):
        if not event.order_id:
            return "—"
        others = (
            Event.objects.filter(order_id=event.order_id)
            .exclude(pk=event.pk)
            .select_related("webhook")
            .order_by("received")[:50]
        )
        return self._event_links(others)


def parameter_table(pairs) -> str:
    rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", pairs)
    return format_html('<table class="ds24-payload">{}</table>', rows)


@admin.register(PaymentEvent)
class PaymentEventAdmin(EventAdmin):
    list_display = ["received_time", "event_cell", "payment", "product", "buyer", "webhook_cell"]

    @admin.display(description="Amount")
    def payment(self, event):
        """The amount, and under it how it was paid: billing type, which payment, method."""
        sequence = event.pay_sequence_no is not None and f"payment no. {event.pay_sequence_no}"
        how = ", ".join(filter(None, [event.billing_type, sequence]))
        return stacked(self.amount_display(event), how, event.params.get("pay_method"))


@admin.register(ETicketEvent)
class ETicketEventAdmin(EventAdmin):
    list_display = ["received_time", "ticket", "date_and_location", "buyer", "webhook_cell"]

    @admin.display(description="E-ticket")
    def ticket(self, event):
        action = event.params.get("action")
        return stacked(event.eticket_id or "—", action and f"action: {action}")

    @admin.display(description="Date and location")
    def date_and_location(self, event):
        params = event.params
        return stacked(params.get("eticket_date") or "—", params.get("location_name"))


@admin.register(AffiliationEvent)
class AffiliationEventAdmin(EventAdmin):
    list_display = ["received_time", "affiliate_name", "product", "buyer", "webhook_cell"]
