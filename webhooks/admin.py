from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from connections import client as ds24
from ds24site.admin_cells import marks, stacked, when
from ds24site.admin_tools import ObjectActionsMixin, ReadOnlyAdmin, SafeChangeListMixin
from ds24site.csv_export import SEPARATORS, csv_lines, money
from webhooks import ipn, samples
from webhooks.admin_filters import EventTypeFilter, KindFilter, ModeFilter, ReceivedFilter
from webhooks.models import (
    AffiliationEvent,
    ETicketEvent,
    Event,
    PaymentEvent,
    RejectedDelivery,
    Webhook,
)
from webhooks.services import (
    NotRegistrable,
    delivery_reverify,
    event_notify_later,
    webhook_register,
    webhook_register_problem,
    webhook_registration,
    webhook_send_test,
    webhook_unregister,
    webhook_unregister_problem,
)
from webhooks.setup_guide import receive_url_warning, setup_steps


def badge(css_class: str, label: str, title: str = ""):
    if title:
        return format_html(
            '<span class="ds24-badge {}" title="{}">{}</span>', css_class, title, label
        )
    return format_html('<span class="ds24-badge {}">{}</span>', css_class, label)


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# --- Webhooks -----------------------------------------------------------------------------------


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
        # Connection tests are always stored (marked as tests), so they are not a choice.
        choices=ipn.event_choices(name for name in ipn.KNOWN_EVENTS if name != ipn.CONNECTION_TEST),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Left empty, the kind's defaults are used. Ignored for 'All events'.",
    )

    class Meta:
        model = Webhook
        fields = [
            "name",
            "kind",
            "connection",
            "events",
            "product_ids",
            "passphrase",
            "accept_unsigned",
            "active",
        ]
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
class WebhookAdmin(SafeChangeListMixin, ObjectActionsMixin, admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name_and_kind", "connection", "status_cell", "last_24h", "event_count"]
    list_filter = ["kind", "active", "connection"]
    search_fields = ["name"]
    list_select_related = ["connection"]
    readonly_fields = [
        "receive_url",
        "created",
        "updated",
        "last_received",
        "last_rejected",
        "event_count",
        "rejected_count",
        "registration",
    ]
    fieldsets = [
        (None, {"fields": ["name", "kind", "connection", "events", "product_ids", "active"]}),
        (
            "Digistore24 IPN settings",
            {"fields": ["receive_url", "passphrase", "accept_unsigned", "registration"]},
        ),
        (
            "Activity",
            {
                "fields": [
                    "last_received",
                    "last_rejected",
                    "event_count",
                    "rejected_count",
                    "created",
                    "updated",
                ]
            },
        ),
    ]
    change_form_template = "admin/webhooks/webhook/change_form.html"

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Bulk delete would list every protected event of every selected webhook.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        """A webhook with events cannot be deleted (they are kept); deactivate it instead.
        Refusing here also spares the delete page from listing millions of events. Nor can a
        webhook registered in Digistore24, which would go on posting to its dead URL."""
        if obj is not None and (obj.registered or obj.event_set.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        """Adds the last 24 hours' activity: one subquery per webhook, each an index range scan
        of (webhook, received)."""
        since = timezone.now() - Webhook.SILENT_AFTER

        def recent(model):
            rows = model.objects.filter(webhook=OuterRef("pk"), received__gte=since)
            return Coalesce(
                Subquery(rows.order_by().values("webhook").annotate(n=Count("pk")).values("n")),
                0,
            )

        latest_reason = RejectedDelivery.objects.filter(webhook=OuterRef("pk")).order_by("-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                events_24h=recent(Event),
                rejections_24h=recent(RejectedDelivery),
                latest_rejection=Subquery(latest_reason.values("reason")[:1]),
            )
        )

    @admin.display(description="Name", ordering="name")
    def name_and_kind(self, webhook):
        return stacked(webhook.name, webhook.get_kind_display())

    @admin.display(description="Status", ordering="last_received")
    def status_cell(self, webhook):
        badge_html = badge(webhook.status, Webhook.Status(webhook.status).label)
        last = webhook.last_received
        return stacked(badge_html, last and f"last event {timezone.localtime(last):%Y-%m-%d %H:%M}")

    @admin.display(description="Last 24 h", ordering="events_24h")
    def last_24h(self, webhook):
        events = f"{webhook.events_24h} events"
        if not webhook.rejections_24h:
            return events
        rejections = f"{webhook.rejections_24h} rejected (latest: {webhook.latest_rejection})"
        return stacked(events, rejections)

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

    @admin.display(description="Registered in Digistore24")
    def registration(self, webhook):
        if not webhook.registered:
            return "No" if webhook.pk else "—"
        return format_html(
            "Yes, with the connection <strong>{}</strong> on {} (IPN id {}, domain id <code>{}"
            "</code>). Registering again updates it there.",
            webhook.ds24_connection,
            timezone.localtime(webhook.ds24_registered).strftime("%Y-%m-%d %H:%M"),
            webhook.ds24_ipn_id or "?",
            webhook.ds24_domain_id,
        )

    def get_fieldsets(self, request, obj=None):
        """The passphrase is enough to forge IPNs: only those who may change the webhook see it."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "passphrase"]})
            for name, options in fieldsets
        ]

    def response_add(self, request, obj, post_url_continue=None):
        """A new webhook's next step is setting it up in Digistore24: land on its page, where
        the set-up panel and the receive URL are (not on the list)."""
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"Added the webhook \u201c{obj}\u201d. Now set it up in Digistore24: see "
            "Set up in Digistore24 below.",
        )
        return redirect(change_url(obj))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            reveal = self.has_change_permission(request, obj)
            context["setup_steps"] = setup_steps(obj, reveal_passphrase=reveal)
            context["receive_url_warning"] = receive_url_warning(obj)
            context["sample_event"] = samples.SAMPLE_FOR_KIND[obj.kind].__name__
            context["register_problem"] = webhook_register_problem(
                webhook=obj, connection=obj.connection
            )
            context["unregister_problem"] = obj.registered and webhook_unregister_problem(
                webhook=obj
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            *self.object_urls(
                ("send-test", "send_test", self.send_test_view),
                ("regenerate-url", "regenerate_url", self.regenerate_url_view),
                ("rotate-passphrase", "rotate_passphrase", self.rotate_passphrase_view),
                ("register", "register", self.register_view),
                ("check-registration", "check_registration", self.check_registration_view),
                ("remove-from-ds24", "remove_from_ds24", self.remove_from_ds24_view),
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def send_test_view(self, request, object_id):
        webhook = self.changeable_object(request, object_id)
        result = webhook_send_test(webhook=webhook, sample=request.POST.get("sample") == "1")
        level = messages.SUCCESS if result.ok else messages.ERROR
        self.message_user(request, send_test_report(result), level)
        return redirect(change_url(webhook))

    def regenerate_url_view(self, request, object_id):
        return self._confirm(
            request,
            object_id,
            title="Regenerate the receive URL?",
            explanation="The current URL stops working at once: Digistore24's deliveries to it "
            "get 404 (and are retried) until you enter the new URL in its IPN settings.",
            button="Yes, regenerate the URL",
            perform=Webhook.regenerate_token,
            done="New receive URL; enter it as Webhook URL in Digistore24's IPN settings.",
        )

    def rotate_passphrase_view(self, request, object_id):
        return self._confirm(
            request,
            object_id,
            title="Rotate the IPN passphrase?",
            explanation="A new passphrase is generated. Deliveries signed with the old one are "
            "rejected (you can re-verify them later) until you enter the new passphrase in "
            "Digistore24's IPN settings.",
            button="Yes, rotate the passphrase",
            perform=Webhook.rotate_passphrase,
            done="New passphrase; enter it as IPN passphrase in Digistore24's IPN settings.",
        )

    def _confirm(self, request, object_id, *, title, explanation, button, perform, done):
        """A confirmation page (GET) for an action that breaks the Digistore24 side until the
        vendor updates it; the action itself happens on POST."""
        webhook = self.changeable_object(request, object_id)
        if request.method == "POST":
            perform(webhook)
            self.log_change(request, webhook, title.removesuffix("?"))
            self.message_user(request, done, messages.WARNING)
            return redirect(change_url(webhook))
        return self._confirmation_page(
            request, webhook, title=title, explanation=explanation, button=button
        )

    def _confirmation_page(self, request, webhook, **context):
        context = {
            **self.admin_site.each_context(request),
            **context,
            "opts": self.opts,
            "original": webhook,
        }
        return TemplateResponse(request, "admin/webhooks/webhook/confirm.html", context)

    # Registration in Digistore24: each button calls Digistore24 once while the person waits
    # (webhooks.services), and says the outcome, or Digistore24's refusal, in one message.

    def register_view(self, request, object_id):
        webhook = self.changeable_object(request, object_id)
        connection = webhook.connection
        if problem := webhook_register_problem(webhook=webhook, connection=connection):
            self.message_user(request, f"Not registered: {problem}", messages.ERROR)
            return redirect(change_url(webhook))
        if request.method != "POST":
            categories, transactions = ipn.ipn_setup_scope(webhook.kind, webhook.events)
            scope = ", ".join(categories)
            if transactions:
                scope += f" (order events: {', '.join(transactions)})"
            products = f"products {webhook.product_ids}" if webhook.product_ids else "all products"
            return self._confirmation_page(
                request,
                webhook,
                title="Update the registration in Digistore24?"
                if webhook.registered
                else "Register in Digistore24?",
                explanation=f"With the connection \u201c{connection}\u201d, Digistore24 is "
                f"asked (ipnSetup) to post the IPNs for {scope} of {products} to "
                f"{webhook.get_receive_url()}, signed with this webhook's passphrase. "
                "Digistore24 first checks that the URL answers.",
                button="Yes, register it",
                offer_random_passphrase=True,
            )
        try:
            outcome = webhook_register(
                webhook=webhook,
                connection=connection,
                random_passphrase=request.POST.get("random_passphrase") == "1",
            )
        except (NotRegistrable, ds24.Ds24Error) as exc:
            self.message_user(request, f"Not registered: {refusal(exc)}", messages.ERROR)
            return redirect(change_url(webhook))
        self.log_change(request, webhook, "Registered in Digistore24")
        done = "Registered in" if outcome.created else "Updated the registration in"
        passphrase = (
            " Digistore24 generated a new passphrase; it is stored here."
            if outcome.passphrase_changed
            else ""
        )
        self.message_user(
            request,
            f"{done} Digistore24 (IPN id {outcome.ipn_id or '?'}): its IPNs for this webhook "
            f"now arrive here.{passphrase}",
            messages.SUCCESS,
        )
        return redirect(change_url(webhook))

    @method_decorator(require_POST)
    def check_registration_view(self, request, object_id):
        webhook = self.changeable_object(request, object_id)
        try:
            info = webhook_registration(webhook=webhook)
        except (NotRegistrable, ds24.Ds24Error) as exc:
            self.message_user(request, f"Could not check: {refusal(exc)}", messages.ERROR)
            return redirect(change_url(webhook))
        details = "; ".join(f"{key}: {value}" for key, value in info.details.items())
        if not info.registered:
            self.message_user(
                request,
                f"Digistore24 has no IPN connection for this webhook (domain id "
                f"{webhook.ds24_domain_id}): it was removed there, or registered with another "
                "key. Register it again.",
                messages.WARNING,
            )
        elif info.url_current is False:
            self.message_user(
                request,
                f"Digistore24 has this webhook's IPN connection, but posts to another URL than "
                f"its receive URL (regenerated since?): register it again. {details}",
                messages.WARNING,
            )
        else:
            changed = ""
            if webhook.ds24_registered:
                when = timezone.localtime(webhook.ds24_registered)
                changed = f" Last registered from here: {when:%Y-%m-%d %H:%M}."
            self.message_user(
                request, f"Digistore24 has this webhook's IPN connection.{changed} {details}"
            )
        return redirect(change_url(webhook))

    def remove_from_ds24_view(self, request, object_id):
        webhook = self.changeable_object(request, object_id)
        if problem := webhook_unregister_problem(webhook=webhook):
            self.message_user(request, f"Not removed: {problem}", messages.ERROR)
            return redirect(change_url(webhook))
        if request.method != "POST":
            return self._confirmation_page(
                request,
                webhook,
                title="Remove from Digistore24?",
                explanation="Digistore24 deletes this webhook's IPN connection (ipnDelete) and "
                "stops sending IPNs to it. The webhook itself stays here and keeps its events.",
                button="Yes, remove it from Digistore24",
            )
        try:
            existed = webhook_unregister(webhook=webhook)
        except (NotRegistrable, ds24.Ds24Error) as exc:
            self.message_user(request, f"Not removed: {refusal(exc)}", messages.ERROR)
            return redirect(change_url(webhook))
        self.log_change(request, webhook, "Removed from Digistore24")
        if existed:
            self.message_user(
                request, "Removed from Digistore24: it sends this webhook no more IPNs."
            )
        else:
            self.message_user(
                request,
                "Digistore24 had no IPN connection for this webhook under this key (removed "
                "there already?); the registration is forgotten here.",
                messages.WARNING,
            )
        return redirect(change_url(webhook))


def send_test_report(result) -> str:
    """What Send test IPN found, with a link to the event it made."""
    sent = f"Sent a signed {result.event} to {result.url}"
    if result.error:
        return f"{sent}: {result.error}."
    answer = f"HTTP {result.status}: \u201c{result.body}\u201d"
    if result.ok:
        return format_html(
            '{}; it answered {} and is stored here: <a href="{}">the test event</a>.',
            sent,
            answer,
            change_url(result.stored),
        )
    if result.answered_elsewhere:
        return (
            f"{sent}; another server answered ({answer}): this server has not received the "
            "test. SITE_URL points elsewhere: set it to this server's address."
        )
    return f"{sent}; it answered {answer}."


def refusal(exc: Exception) -> str:
    """Why a registration call did not happen or failed, in one sentence for the vendor."""
    # The client's messages already say who refused what ("Digistore24 refused the parameters
    # of ipnSetup: ..."), in the connection's language.
    message = str(exc).rstrip(".") + "."
    if isinstance(exc, ds24.PermissionDenied):
        message += " The connection's key is read-only (now recorded); this needs full access."
    return message


# --- Events -------------------------------------------------------------------------------------


class WebhookLogAdmin(ReadOnlyAdmin):
    def has_webhook_change_permission(self, request):
        """For actions that act on the webhook's behalf (replay, re-verify)."""
        return request.user.has_perm("webhooks.change_webhook")


# The export's columns: (header, how to get it from a row's CSV_FIELDS); amounts and times
# are formatted here, what came from the payload is made formula-safe by csv_lines.
CSV_FIELDS = [
    "id",
    "received",
    "event",
    "scope",
    "webhook__name",
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
    "signature",
    "delivery_count",
    "last_delivered",
    "business_key",
    "payload",
]


def csv_time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def csv_param_amount(params: dict, *keys: str, separator: str) -> str:
    """An amount from the payload, as money when it is a number, else as received."""
    value = next((params[key] for key in keys if params.get(key)), "")
    try:
        return money(Decimal(value), separator)
    except (InvalidOperation, ValueError):
        return value


def csv_row(row: dict, separator: str) -> list:
    params = dict(row["payload"])
    buyer = [params.get("address_first_name"), params.get("address_last_name")]
    if not any(buyer):
        buyer = [params.get("buyer_first_name"), params.get("buyer_last_name")]
    return [
        row["id"],
        csv_time(row["received"]),
        row["event"],
        row["scope"],
        row["webhook__name"],
        row["order_id"],
        row["transaction_id"],
        row["product_id"],
        row["product_name"],
        " ".join(filter(None, buyer)),
        row["email"],
        params.get("address_country") or params.get("country", ""),
        money(row["amount"], separator),
        csv_param_amount(params, "amount_netto", separator=separator),
        csv_param_amount(params, "amount_vat", "vat_amount", separator=separator),
        row["currency"],
        row["billing_type"],
        row["pay_sequence_no"],
        row["affiliate_name"],
        row["eticket_id"],
        row["api_mode"],
        row["signature"],
        row["delivery_count"],
        csv_time(row["last_delivered"]),
        row["business_key"],
    ]


CSV_HEADER = [
    "id",
    "received",
    "event",
    "scope",
    "webhook",
    "order_id",
    "transaction_id",
    "product_id",
    "product_name",
    "buyer_name",
    "email",
    "country",
    "amount",
    "net",
    "vat",
    "currency",
    "billing_type",
    "pay_sequence_no",
    "affiliate_name",
    "eticket_id",
    "api_mode",
    "signature",
    "delivery_count",
    "last_delivered",
    "business_key",
]
REPLAY_MAX = 1000


def newest_first_in_batches(rows, size=2000):
    """All rows of a values_list (starting with id, received), newest first, read in batches
    by keyset: each batch is a short indexed query, so an export of millions of rows holds no
    long transaction, no server-side cursor and no more than one batch in memory."""
    rows = rows.order_by("-received", "-id")
    batch = list(rows[:size])
    while batch:
        yield from batch
        last_id, last_received = batch[-1][:2]
        # received <= last is what the index can seek to; the exclude drops what was sent.
        rest = rows.filter(received__lte=last_received).exclude(
            received=last_received, id__gte=last_id
        )
        batch = list(rest[:size])


@admin.register(Event)
class EventAdmin(WebhookLogAdmin):
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
    actions = ["replay"]
    change_list_template = "admin/webhooks/event/change_list.html"

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

    @admin.action(
        description="Run the ipn_received receivers (your code) again for the selected events",
        permissions=["webhook_change"],
    )
    def replay(self, request, queryset):
        events = list(queryset[: REPLAY_MAX + 1])
        if len(events) > REPLAY_MAX:
            self.message_user(
                request, f"Replay at most {REPLAY_MAX} events at a time.", messages.ERROR
            )
            return
        with transaction.atomic():
            for event in events:
                event_notify_later(event=event)
        self.message_user(
            request,
            f"Queued {len(events)} event(s) for the ipn_received receivers; a worker sends them, "
            "and what a receiver raises is recorded on its event.",
        )

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        export = path(
            "export/", self.admin_site.admin_view(self.export_view), name=f"{prefix}_export"
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The current filtered list as CSV, newest first, streamed as it is read, so the
        size of the list does not matter. `?sep=semicolon` for Excel in German locales."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Not a filter: taken out before the changelist reads the query string.
        request.GET = request.GET.copy()
        sep_name = request.GET.pop("sep", ["comma"])[-1]
        if sep_name not in SEPARATORS:
            return HttpResponseBadRequest(
                f"sep must be one of: {', '.join(SEPARATORS)}", content_type="text/plain"
            )
        separator = SEPARATORS[sep_name]
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters as exc:
            return HttpResponseBadRequest(f"Bad filter: {exc}", content_type="text/plain")
        rows = newest_first_in_batches(changelist.queryset.values_list(*CSV_FIELDS))
        lines = csv_lines(
            CSV_HEADER,
            (csv_row(dict(zip(CSV_FIELDS, row, strict=True)), separator) for row in rows),
            separator,
        )
        name = f"{slugify(self.opts.verbose_name_plural)}-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


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


# --- Rejected deliveries ------------------------------------------------------------------------


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
    actions = ["reverify"]

    def get_queryset(self, request):
        # Bodies can be 256 KiB each: the list does not need them; the detail page loads one.
        return super().get_queryset(request).defer("body")

    @admin.display(description="Body as received")
    def body_text(self, rejected):
        return format_html("<pre>{}</pre>", bytes(rejected.body).decode("utf-8", "replace"))

    @admin.action(
        description="Re-verify with the current passphrase", permissions=["webhook_change"]
    )
    def reverify(self, request, queryset):
        stored, still_failing = 0, {}
        for delivery in queryset.defer(None).select_related("webhook").order_by("id"):
            rejection = delivery_reverify(delivery=delivery)
            if rejection is None:
                stored += 1
            else:
                still_failing[str(rejection)] = still_failing.get(str(rejection), 0) + 1
        if stored:
            self.message_user(request, f"{stored} deliveries now verify and are stored as events.")
        for reason, count in still_failing.items():
            self.message_user(request, f"{count} still rejected: {reason}.", messages.WARNING)
