"""The delivery log (read-only, with each delivery's attempts), Retry now, and the deliveries
section of each event's page."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ds24site.admin_cells import stacked, when
from ds24site.admin_tools import ObjectActionsMixin, ReadOnlyAdmin, change_url
from forwarding.admin.badges import delivery_badge
from forwarding.models import Attempt, Delivery
from forwarding.services import deliveries_retry
from webhooks.admin.events import EventAdmin

# Most deliveries one Retry now queues; the rest are better retried after these went out.
RETRY_MAX = 1000


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ["number", "started", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-started"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Attempts are part of their delivery: who may see the delivery sees them.
        return request.user.has_perm("forwarding.view_delivery")


@admin.register(Delivery)
class DeliveryAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    # Four cells that fit 1280 px with the sidebar and filters open.
    list_display = ["created_time", "event_link", "destination", "outcome"]
    # Each served by an index: (status, created), (destination, created); message_id is unique.
    list_filter = ["status", "destination"]
    search_fields = ["message_id"]
    search_help_text = "Exact webhook-id (msg_…), as the receiver logged it."
    list_select_related = ["event", "destination"]
    sortable_by = ["created_time"]
    readonly_fields = ["event_link", "status_badge", "last_answer"]
    fields = [
        "event_link",
        "destination",
        "message_id",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "last_answer",
        "created",
        "finished",
    ]
    inlines = [AttemptInline]
    actions = ["retry_now"]
    change_form_template = "admin/forwarding/delivery/change_form.html"

    def has_destination_change_permission(self, request, obj=None):
        """For acting on the destination's behalf (Retry now): the log itself stays read-only."""
        return request.user.has_perm("forwarding.change_destination")

    def get_search_results(self, request, queryset, search_term):
        """The whole term, exactly (the unique index on message_id serves it)."""
        term = search_term.strip()
        return (queryset.filter(message_id=term) if term else queryset), False

    @admin.display(description="Event")
    def event_link(self, delivery):
        return format_html('<a href="{}">{}</a>', change_url(delivery.event), delivery.event)

    @admin.display(description="Status")
    def status_badge(self, delivery):
        return delivery_badge(delivery.status)

    @admin.display(description="Created", ordering="created")
    def created_time(self, delivery):
        return when(delivery.created)

    @admin.display(description="Status")
    def outcome(self, delivery):
        """The status, the attempts and the last answer, and when it finished or goes next."""
        attempts = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
        if delivery.finished:
            timing = f"finished {timezone.localtime(delivery.finished):%Y-%m-%d %H:%M:%S}"
        elif delivery.next_attempt_at:
            timing = f"next {timezone.localtime(delivery.next_attempt_at):%Y-%m-%d %H:%M:%S}"
        else:
            timing = ""
        return stacked(
            self.status_badge(delivery), f"{attempts}: {self.last_answer(delivery)}", timing
        )

    @admin.display(description="Last answer")
    def last_answer(self, delivery):
        if delivery.last_status_code:
            return f"HTTP {delivery.last_status_code}"
        return delivery.last_error[:120] or "—"

    @admin.action(description="Retry now", permissions=["destination_change"])
    def retry_now(self, request, queryset):
        deliveries = list(queryset.order_by("-created")[: RETRY_MAX + 1])
        if len(deliveries) > RETRY_MAX:
            self.message_user(
                request, f"Retry at most {RETRY_MAX} deliveries at a time.", messages.ERROR
            )
            return
        retried = deliveries_retry(deliveries=deliveries)
        skipped = len(deliveries) - retried
        message = f"Queued {retried} failed deliveries to be sent now."
        if skipped:
            message += f" {skipped} left alone: they succeeded or are still under way."
        self.message_user(request, message, messages.WARNING if skipped else messages.SUCCESS)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["may_retry"] = (
            obj is not None
            and obj.status == Delivery.Status.FAILED
            and self.has_destination_change_permission(request, obj)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [*self.object_urls(("retry", "retry", self.retry_view)), *super().get_urls()]

    @method_decorator(require_POST)
    def retry_view(self, request, object_id):
        delivery = self.get_object(request, object_id)
        if delivery is None:
            raise Http404("No such delivery")
        if not self.has_destination_change_permission(request, delivery):
            raise PermissionDenied
        if deliveries_retry(deliveries=[delivery]):
            self.message_user(request, f"Delivery {delivery} is queued to be sent now.")
        else:
            self.message_user(
                request,
                f"Delivery {delivery} was left alone: it succeeded or is still under way.",
                messages.WARNING,
            )
        return redirect(change_url(delivery))


class DeliveryInline(admin.TabularInline):
    """An event's deliveries (one per destination it went to), read-only, on the event page."""

    model = Delivery
    fields = ["destination", "status_badge", "attempts", "last_answer", "next_attempt_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "forwarded to"

    status_badge = DeliveryAdmin.status_badge
    last_answer = DeliveryAdmin.last_answer

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("destination")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The event pages (webhooks' admin) show where each event was forwarded. Attached from here
# because webhooks/ sits below forwarding/ and does not import it; the event-type lists
# (PaymentEventAdmin and the others) inherit it.
EventAdmin.inlines = [*EventAdmin.inlines, DeliveryInline]
