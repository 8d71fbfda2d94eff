"""Destinations: health in the list, recent deliveries and attempts on the change page, and the
buttons that act on one destination (send a test event, replay, reveal and rotate the secret)."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from ds24site.admin_cells import stacked
from ds24site.admin_tools import ObjectActionsMixin, SafeChangeListMixin, change_url
from forwarding.admin.badges import delivery_badge, destination_badge
from forwarding.models import Attempt, Delivery, Destination
from forwarding.services import (
    REPLAY_MAX,
    destination_enable,
    destination_replay,
    destination_send_test,
)
from webhooks import ipn

# The window of the list's success rate.
SUCCESS_WINDOW = timedelta(days=7)
# Rows in the change page's recent deliveries and attempts.
RECENT = 20


class DestinationForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",  # forwarding sends to https only
        widget=forms.URLInput(attrs={"size": 80}),
        help_text=Destination._meta.get_field("url").help_text,
    )
    event_types = forms.MultipleChoiceField(
        # Connection tests are never forwarded (only accepted events are), so not a choice.
        choices=ipn.event_choices(name for name in ipn.KNOWN_EVENTS if name != ipn.CONNECTION_TEST),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Left empty, every event is forwarded.",
    )

    class Meta:
        model = Destination
        fields = ["name", "url", "webhook", "event_types", "mode", "active"]


class ReplayForm(forms.Form):
    since = forms.SplitDateTimeField(
        label="From", widget=admin.widgets.AdminSplitDateTime, help_text="Received at or after."
    )
    until = forms.SplitDateTimeField(
        label="Until", widget=admin.widgets.AdminSplitDateTime, help_text="Received before."
    )
    resend_delivered = forms.BooleanField(
        label="Also send events it already received",
        required=False,
        help_text="Otherwise only events it never got, or whose delivery failed, are sent.",
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            raise forms.ValidationError("“From” must be before “Until”.")
        return cleaned


@admin.register(Destination)
class DestinationAdmin(SafeChangeListMixin, ObjectActionsMixin, admin.ModelAdmin):
    form = DestinationForm
    # Five cells that fit 1280 px with the sidebar and filters open (the URL wraps).
    list_display = ["name_and_url", "webhook", "status_badge", "success_rate", "last_delivery"]
    list_filter = ["active", "mode", "webhook"]
    search_fields = ["name", "url"]
    list_select_related = ["webhook"]
    readonly_fields = [
        "status_badge",
        "secret_hint",
        "previous_secret_until",
        "failing_since",
        "disabled_reason",
        "disabled_at",
        "recent_deliveries",
        "recent_attempts",
        "created",
        "updated",
    ]
    fieldsets = [
        (None, {"fields": ["name", "url", "webhook", "event_types", "mode", "active"]}),
        ("Signing secret", {"fields": ["secret_hint", "previous_secret_until"]}),
        (
            "Health",
            {"fields": ["status_badge", "failing_since", "disabled_reason", "disabled_at"]},
        ),
        ("Recent activity", {"fields": ["recent_deliveries", "recent_attempts"]}),
        ("Record", {"fields": ["created", "updated"]}),
    ]
    change_form_template = "admin/forwarding/destination/change_form.html"

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Bulk delete would list every delivery and attempt of every selected destination.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        """A destination with deliveries is kept (its log would go with it, and the delete page
        would list all of it); disable it instead."""
        if obj is not None and obj.deliveries.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # the secret is made on saving, and shown then
            return self.fieldsets[:1]
        return self.fieldsets

    def get_queryset(self, request):
        """Adds the success rate and the latest delivery: subqueries per destination, each an
        index range scan of (destination, created)."""
        since = timezone.now() - SUCCESS_WINDOW
        recent = Delivery.objects.filter(destination=OuterRef("pk"), created__gte=since)

        def count(rows):
            counted = rows.order_by().values("destination").annotate(n=Count("pk")).values("n")
            return Coalesce(Subquery(counted), 0)

        latest = Delivery.objects.filter(destination=OuterRef("pk")).order_by("-created")
        return (
            super()
            .get_queryset(request)
            .annotate(
                succeeded_recently=count(recent.filter(status=Delivery.Status.SUCCEEDED)),
                failed_recently=count(recent.filter(status=Delivery.Status.FAILED)),
                latest_status=Subquery(latest.values("status")[:1]),
                latest_created=Subquery(latest.values("created")[:1]),
            )
        )

    @admin.display(description="Name", ordering="name")
    def name_and_url(self, destination):
        return stacked(destination.name, destination.url)

    @admin.display(description="Status")
    def status_badge(self, destination):
        return destination_badge(destination)

    @admin.display(description="Success (7 days)")
    def success_rate(self, destination):
        finished = destination.succeeded_recently + destination.failed_recently
        if not finished:
            return "—"
        rate = 100 * destination.succeeded_recently / finished
        return format_html(
            '{}% <small title="succeeded / finished deliveries">({}/{})</small>',
            f"{rate:.0f}" if rate in (0, 100) else f"{rate:.1f}",
            destination.succeeded_recently,
            finished,
        )

    @admin.display(description="Last delivery", ordering="latest_created")
    def last_delivery(self, destination):
        if destination.latest_status is None:
            return "—"
        return stacked(
            delivery_badge(destination.latest_status),
            f"{timezone.localtime(destination.latest_created):%Y-%m-%d %H:%M}",
        )

    @admin.display(description="Secret")
    def secret_hint(self, destination):
        return destination.secret_hint

    @admin.display(description=f"Latest {RECENT} deliveries")
    def recent_deliveries(self, destination):
        deliveries = destination.deliveries.select_related("event").order_by("-created")[:RECENT]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    change_url(d),
                    d.created.strftime("%Y-%m-%d %H:%M:%S"),
                    d.event,
                    delivery_badge(d.status),
                    d.attempts,
                    d.last_status_code or d.last_error[:80] or "",
                )
                for d in deliveries
            ),
        )
        if not rows:
            return "None yet."
        return format_html(
            '<table class="ds24-recent"><tr><th>Created</th><th>Event</th><th>Status</th>'
            "<th>Attempts</th><th>Last answer</th></tr>{}</table>",
            rows,
        )

    @admin.display(description=f"Latest {RECENT} attempts")
    def recent_attempts(self, destination):
        # Among the latest deliveries only: attempts have no destination column, and this keeps
        # the query to an index range scan however long the destination's history is.
        latest_deliveries = destination.deliveries.order_by("-created").values("pk")[:100]
        attempts = (
            Attempt.objects.filter(delivery__in=latest_deliveries)
            .select_related("delivery")
            .order_by("-started")[:RECENT]
        )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>#{}</td><td>{}</td><td>{}&nbsp;ms</td>'
            "<td>{}</td></tr>",
            (
                (
                    change_url(a.delivery),
                    a.started.strftime("%Y-%m-%d %H:%M:%S"),
                    a.number,
                    a.status_code or "—",
                    a.duration_ms,
                    a.error[:120] or a.response_excerpt[:120],
                )
                for a in attempts
            ),
        )
        if not rows:
            return "None yet."
        return format_html(
            '<table class="ds24-recent"><tr><th>Started</th><th>Attempt</th><th>HTTP</th>'
            "<th>Took</th><th>Error or answer</th></tr>{}</table>",
            rows,
        )

    def save_model(self, request, obj, form, change):
        reenabled = change and "active" in form.changed_data and obj.active
        super().save_model(request, obj, form, change)
        if reenabled:
            destination_enable(destination=obj)
            self.message_user(
                request,
                f"{obj.name} is enabled again. Events it missed while disabled can be sent "
                "with Replay.",
            )

    def response_add(self, request, obj, post_url_continue=None):
        """Show the new secret on a page of its own, once (not through the messages
        framework, whose cookie would carry it)."""
        return self._secret_page(
            request,
            obj,
            title="Destination created",
            intro="Its signing secret, for the receiver to verify deliveries with. Copy it now: "
            "it is shown only this once (staff who may change the destination can reveal it "
            "later).",
        )

    def get_urls(self):
        return [
            *self.object_urls(
                ("send-test", "send_test", self.send_test_view),
                ("replay", "replay", self.replay_view),
                ("reveal-secret", "reveal_secret", self.reveal_secret_view),
                ("rotate-secret", "rotate_secret", self.rotate_secret_view),
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def send_test_view(self, request, object_id):
        destination = self.changeable_object(request, object_id)
        result = destination_send_test(destination=destination)
        if result.error:
            self.message_user(
                request,
                f"Sent a test {result.event} to {destination.url}: {result.error}.",
                messages.ERROR,
            )
        else:
            self.message_user(
                request,
                f"Sent a signed test {result.event} to {destination.url}; it answered "
                f"HTTP {result.status}: \u201c{result.excerpt}\u201d.",
                messages.SUCCESS if result.ok else messages.ERROR,
            )
        return redirect(change_url(destination))

    def replay_view(self, request, object_id):
        destination = self.changeable_object(request, object_id)
        form = ReplayForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            outcome = destination_replay(destination=destination, **form.cleaned_data)
            if outcome.refused:
                form.add_error(None, outcome.refused)
            else:
                self.log_change(request, destination, "Replayed events")
                self.message_user(
                    request,
                    f"Replay to {destination.name}: {outcome.created} new deliveries, "
                    f"{outcome.requeued} sent again, {outcome.left_alone} already delivered or "
                    "under way left alone.",
                )
                return redirect(change_url(destination))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Replay events to {destination.name}",
            "form": form,
            "media": self.media + form.media,
            "replay_max": REPLAY_MAX,
            "opts": self.opts,
            "original": destination,
        }
        return TemplateResponse(request, "admin/forwarding/destination/replay.html", context)

    def reveal_secret_view(self, request, object_id):
        """The secret, on purpose: a button (GET) and the page showing it (POST), logged."""
        destination = self.changeable_object(request, object_id)
        if request.method == "POST":
            self.log_change(request, destination, "Revealed the signing secret")
            self.message_user(request, "Revealed the signing secret; the reveal is logged.")
            return self._secret_page(
                request,
                destination,
                title=f"Signing secret of {destination.name}",
                intro="The receiver verifies deliveries with this secret. Keep it secret.",
            )
        return self._confirm_page(
            request,
            destination,
            title="Reveal the signing secret?",
            explanation="Anyone who has the secret can sign fake deliveries that the receiver "
            "accepts. The reveal is recorded in the destination's history.",
            button="Yes, show the secret",
        )

    def rotate_secret_view(self, request, object_id):
        destination = self.changeable_object(request, object_id)
        grace_hours = Destination.ROTATION_GRACE.total_seconds() / 3600
        if request.method == "POST":
            destination.rotate_secret()
            self.log_change(request, destination, "Rotated the signing secret")
            self.message_user(
                request,
                f"New signing secret; the old one keeps signing for {grace_hours:g} hours.",
                messages.WARNING,
            )
            return self._secret_page(
                request,
                destination,
                title=f"New signing secret of {destination.name}",
                intro=f"Deliveries carry a signature with this secret and, for the next "
                f"{grace_hours:g} hours, one with the old secret too. Give the receiver the new "
                "secret within that time.",
            )
        return self._confirm_page(
            request,
            destination,
            title="Rotate the signing secret?",
            explanation=f"A new secret is generated. For {grace_hours:g} hours deliveries are "
            "signed with both the old and the new secret; after that only with the new one, and "
            "a receiver still verifying with the old one rejects them.",
            button="Yes, rotate the secret",
        )

    def _confirm_page(self, request, destination, *, title, explanation, button):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "button": button,
            "opts": self.opts,
            "original": destination,
        }
        return TemplateResponse(request, "admin/webhooks/webhook/confirm.html", context)

    def _secret_page(self, request, destination, *, title, intro):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "secret": destination.secret,
            "opts": self.opts,
            "original": destination,
        }
        # Admin views are never_cache (no-store): the page is not kept by a browser or proxy.
        return TemplateResponse(request, "admin/forwarding/destination/secret.html", context)
