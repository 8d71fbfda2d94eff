"""The REST API over webhooks and the event log (/api/v1/events/, /api/v1/webhooks/)."""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from api.fields import IntegerField
from api.filters import DateTimeFilter, KnownParameters
from api.lookups import UUID_PATTERN
from api.pages import OldestFirst, Pages
from webhooks import follow, ipn
from webhooks.models import MIN_ID_PREFIX, MIN_NAME_PREFIX, Event, Webhook
from webhooks.serializers import EventSerializer, FollowPageSerializer, WebhookSerializer

FOLLOW_LIMIT_DEFAULT, FOLLOW_LIMIT_MAX = 50, 500


class EventFilter(filters.FilterSet):
    """Every filter is an exact match, a prefix or a range on an indexed column
    (Event.Meta.indexes)."""

    event = filters.MultipleChoiceFilter(
        choices=ipn.event_choices(),
        help_text="Event type; repeat for several (event=on_payment&event=on_refund).",
    )
    webhook = filters.UUIDFilter(field_name="webhook__public_id", help_text="Webhook id.")
    kind = filters.ChoiceFilter(field_name="webhook__kind", choices=Webhook.Kind.choices)
    received_after = DateTimeFilter(field_name="received", lookup_expr="gte")
    received_before = DateTimeFilter(field_name="received", lookup_expr="lt")
    order_id = filters.CharFilter(help_text="Exactly this order id.")
    order_id_prefix = filters.CharFilter(
        field_name="order_id",
        lookup_expr="prefix",
        min_length=MIN_ID_PREFIX,
        help_text=f"Order ids starting with this (at least {MIN_ID_PREFIX} characters).",
    )
    transaction_id = filters.CharFilter(help_text="Exactly this transaction id.")
    transaction_id_prefix = filters.CharFilter(
        field_name="transaction_id",
        lookup_expr="prefix",
        min_length=MIN_ID_PREFIX,
        help_text=f"Transaction ids starting with this (at least {MIN_ID_PREFIX} characters).",
    )
    email = filters.CharFilter(
        method="filter_email", help_text="The buyer's e-mail address, in any case."
    )
    buyer = filters.CharFilter(
        method="filter_buyer",
        help_text="The start of the buyer's name (shorter than "
        f"{MIN_NAME_PREFIX} characters: the whole name), in any case: first name first "
        "('jörg', 'Jörg Müller'), or the last name ('müller'), or 'Müller, Jörg'.",
    )
    product_id = filters.CharFilter()
    eticket_id = filters.CharFilter()
    affiliate_name = filters.CharFilter()
    mode = filters.ChoiceFilter(
        field_name="api_mode", choices=[("live", "live"), ("test", "test")], help_text="live/test"
    )

    class Meta:
        model = Event
        fields = []

    def filter_email(self, queryset, name, value):
        return queryset.for_email(value)

    def filter_buyer(self, queryset, name, value):
        return queryset.for_buyer(value)


def _without_renderer_context(response):
    """A rendered response's context is done with: the view, the request, the response."""
    response.renderer_context = None
    return response


class NewestFirst(Pages):
    ordering = "-received"

    def paginate_queryset(self, queryset, request, view=None):
        """A page's keys (id and `received`) first, then its rows by id. The database sorts
        the matches of a filter that is not in `received` order (a name's prefix) by reading
        each one in full; their keys alone come from the index (Event.Meta.indexes), and then
        only the page's rows are read. An event pruned between the two is left out."""
        keys = super().paginate_queryset(
            queryset.prefetch_related(None).values("pk", "received"), request, view
        )
        rows = queryset.in_bulk([key["pk"] for key in keys])
        return [rows[key["pk"]] for key in keys if key["pk"] in rows]


class FollowQuery(serializers.Serializer):
    cursor = serializers.CharField(required=False, help_text="From the previous answer.")
    start = serializers.ChoiceField(
        choices=["beginning", "latest"],
        default="beginning",
        help_text="Without a cursor: follow from the first event, or only new ones.",
    )
    limit = IntegerField(min_value=1, max_value=FOLLOW_LIMIT_MAX, default=FOLLOW_LIMIT_DEFAULT)


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The event log, newest first; `follow` reads it oldest first from a cursor."""

    # A page has up to 500 events and a handful of webhooks: one Webhook per distinct id
    # (prefetch) rather than one per row (a join) halves the time to load a page of 500.
    queryset = Event.objects.prefetch_related("webhook")
    serializer_class = EventSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filterset_class = EventFilter
    filter_backends = [KnownParameters, filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["received"]
    pagination_class = NewestFirst
    query_parameters = ()  # an action's own, besides filters and pages (KnownParameters)

    # DRF ties each response into reference cycles: the view keeps it, and its renderer
    # context holds the view and, once rendered, the response. They kept each page's data (a
    # list per payload pair: thousands a page) in memory until the garbage collector's next
    # full pass, which then had several pages of them to walk, in the slowest requests of a
    # run of 500-event pages. Without the cycles, a page is freed as soon as it is sent.
    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        self.response = None
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.add_post_render_callback(_without_renderer_context)
        return response

    @extend_schema(
        filters=True,  # the list's filters apply here too
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("start", OpenApiTypes.STR, enum=["beginning", "latest"]),
            OpenApiParameter("limit", OpenApiTypes.INT),
        ],
        responses=FollowPageSerializer,
    )
    @action(
        detail=False,
        filter_backends=[KnownParameters, filters.DjangoFilterBackend],
        pagination_class=None,
        query_parameters=list(FollowQuery().fields),
    )
    def follow(self, request):
        """Events after `cursor`, oldest first, at most `limit`. Never skips an event and
        never repeats one, even when deliveries commit out of order; filters apply as on the
        list. Keep the returned cursor and ask again (at once when `more`, else after a while).
        """
        query = FollowQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = self.filter_queryset(self.get_queryset())
        if "cursor" in query.validated_data:
            try:
                position = follow.Position.decode(query.validated_data["cursor"])
                follow.check_position(position)
            except follow.InvalidCursor as exc:
                raise serializers.ValidationError({"cursor": [str(exc)]}) from None
        elif query.validated_data["start"] == "latest":
            position = follow.latest_position(Event.objects.all())
        else:
            position = follow.START
        limit = query.validated_data["limit"]
        page = follow.events_after(events, position, limit)
        if page:
            position = follow.position_of(page[-1])
        data = {
            "results": self.represent(page),
            "cursor": position.encode(),
            "more": len(page) == limit,
        }
        return Response(data)

    # After follow, whose decorator calls the built-in list(), which this name hides below.
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.represent(page))

    def represent(self, events):
        """The events as the API shows them, by one serializer without an instance. A
        ListSerializer and its child point at each other, and the serializer at its events:
        a cycle that kept each page's events (up to 500, with their rows) in memory until the
        garbage collector's next full pass, which then had several pages of them to walk (the
        slowest requests of a run of 500-event pages). These are freed as soon as shown."""
        serializer = self.get_serializer()
        return [serializer.to_representation(event) for event in events]


class WebhookViewSet(viewsets.ReadOnlyModelViewSet):
    """Webhooks, oldest first. Never the passphrase."""

    queryset = Webhook.objects.with_activity().select_related("connection")
    serializer_class = WebhookSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filter_backends = [KnownParameters]
    pagination_class = OldestFirst
