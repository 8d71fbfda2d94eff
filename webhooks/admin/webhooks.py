"""Webhooks: the list with the last 24 hours' activity, and each webhook's page with its set-up
panel and buttons: send a test IPN, regenerate the URL, rotate the passphrase, register in
Digistore24, check the registration, remove it there."""

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from connections import client as ds24
from ds24site.admin_cells import stacked
from ds24site.admin_tools import ObjectActionsMixin, SafeChangeListMixin, badge, change_url
from webhooks import ipn, samples
from webhooks.admin.forms import WebhookForm
from webhooks.models import (
    MIN_PASSPHRASE_LENGTH,
    Event,
    RejectedDelivery,
    Webhook,
    passphrase_problem,
)
from webhooks.services import (
    NotRegistrable,
    webhook_register,
    webhook_register_problem,
    webhook_registration,
    webhook_send_test,
    webhook_unregister,
    webhook_unregister_problem,
)
from webhooks.setup_guide import receive_url_warning, setup_steps


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
        "last_signature_failure",
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
                "description": "The event count is of the events stored, not their redeliveries; "
                "last received is when the newest of them arrived.",
                "fields": [
                    "last_received",
                    "last_rejected",
                    "last_signature_failure",
                    "event_count",
                    "rejected_count",
                    "created",
                    "updated",
                ],
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
        """Adds the activity (Webhook.objects.with_activity) and the last 24 hours': one
        subquery per webhook each, an index range scan."""
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
            .with_activity()
            .annotate(
                events_24h=recent(Event),
                rejections_24h=recent(RejectedDelivery),
                latest_rejection=Subquery(latest_reason.values("reason")[:1]),
            )
        )

    @admin.display(description="Name", ordering="name")
    def name_and_kind(self, webhook):
        return stacked(webhook.name, webhook.get_kind_display())

    # Never received sorts as the oldest on every database (PostgreSQL sorts NULL as largest).
    @admin.display(description="Status", ordering=F("last_received").asc(nulls_first=True))
    def status_cell(self, webhook):
        badge_html = badge(webhook.status, Webhook.Status(webhook.status).label)
        last = webhook.last_received
        return stacked(badge_html, last and f"last event {timezone.localtime(last):%Y-%m-%d %H:%M}")

    @admin.display(description="Last received")
    def last_received(self, webhook):
        # The add page's unsaved webhook has no activity (get_queryset did not load it).
        return None if webhook.pk is None else webhook.last_received

    @admin.display(description="Event count", ordering="event_count")
    def event_count(self, webhook):
        return 0 if webhook.pk is None else webhook.event_count

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

    # Only those who may change a webhook see these: the passphrase signs IPNs, and for an
    # unsigned webhook the receive URL is enough to post fake ones.
    secret_fields = ("receive_url", "passphrase")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": [f for f in options["fields"] if f not in self.secret_fields],
                },
            )
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
            context["setup_steps"] = setup_steps(obj, reveal_secrets=reveal)
            context["receive_url_warning"] = receive_url_warning(obj)
            # Set before passphrases had to be 16 characters: still checked, but guessable.
            context["weak_passphrase"] = (
                reveal and bool(obj.passphrase) and passphrase_problem(obj.passphrase) is not None
            )
            context["min_passphrase_length"] = MIN_PASSPHRASE_LENGTH
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
