"""The event log: its list, search, filters and CSV export, each event's page, the replay
action, and the trigger lists (payments, e-tickets, affiliations)."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ds24site.admin_tools import badge, change_url
from ds24site.csv_export import CsvExportMixin
from webhooks import ipn
from webhooks.admin import export
from webhooks.admin.actions import WebhookLogAdmin, replay
from webhooks.admin.filters import EventTypeFilter, KindFilter, ModeFilter, ReceivedFilter
from webhooks.models import AffiliationEvent, ETicketEvent, Event, PaymentEvent


def payload_column(key: str, description: str):
    """A list column showing one payload parameter as received (no typed column for it)."""

    @admin.display(description=description)
    def column(event):
        return event.params.get(key, "")

    column.__name__ = key
    return column


@admin.register(Event)
class EventAdmin(CsvExportMixin, WebhookLogAdmin):
    list_display = [
        "received",
        "event_badge",
        "order_id",
        "email",
        "amount_display",
        "product_name",
        "webhook",
        "signature",
        "deliveries",
        "revision",
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
    sortable_by = ["received"]  # the one order an index serves at any size
    readonly_fields = ["event_badge", "amount_display", "payload_table", "revisions", "same_order"]
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

    @admin.display(description="Deliveries")
    def deliveries(self, event):
        return f"\u00d7{event.delivery_count}" if event.delivery_count > 1 else ""  # "times N"

    @admin.display(description="Revision")
    def revision(self, event):
        return "revision" if event.has_earlier else ""

    @admin.display(description="Parameters")
    def payload_table(self, event):
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", event.payload)
        return format_html('<table class="ds24-payload">{}</table>', rows)

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


@admin.register(PaymentEvent)
class PaymentEventAdmin(EventAdmin):
    list_display = [
        "received",
        "event_badge",
        "order_id",
        "amount_display",
        "billing_type",
        "pay_sequence_no",
        payload_column("pay_method", "Pay method"),
        "email",
        "product_name",
        "deliveries",
        "revision",
    ]


@admin.register(ETicketEvent)
class ETicketEventAdmin(EventAdmin):
    list_display = [
        "received",
        "eticket_id",
        payload_column("eticket_date", "Date"),
        payload_column("location_name", "Location"),
        "buyer",
        payload_column("action", "Action"),
        "deliveries",
        "revision",
    ]

    @admin.display(description="Buyer")
    def buyer(self, event):
        params = event.params
        name = " ".join(
            filter(None, [params.get("buyer_first_name"), params.get("buyer_last_name")])
        )
        return f"{name} <{event.email}>" if name and event.email else name or event.email


@admin.register(AffiliationEvent)
class AffiliationEventAdmin(EventAdmin):
    list_display = [
        "received",
        "affiliate_name",
        "product_id",
        "product_name",
        "email",
        "webhook",
        "deliveries",
        "revision",
    ]
