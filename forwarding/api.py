"""The REST API over forwarding (/api/v1/destinations/, /api/v1/deliveries/)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from api.filters import DateTimeFilter, KnownParameters
from api.lookups import UUID_PATTERN
from api.pages import OldestFirst, Pages
from forwarding.models import Delivery, Destination
from forwarding.serializers import (
    DeliverySerializer,
    DestinationCreatedSerializer,
    DestinationSerializer,
)
from forwarding.services import destination_enable


class DestinationViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Destinations, oldest first. The signing secret only in the answer to creating one."""

    queryset = Destination.objects.select_related("webhook")
    serializer_class = DestinationSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filter_backends = [KnownParameters]
    pagination_class = OldestFirst

    @extend_schema(responses={201: DestinationCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """A new destination; the answer carries its `secret`, which is never shown again."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = serializer.save()
        answer = DestinationCreatedSerializer(destination, context=self.get_serializer_context())
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        was_active = serializer.instance.active
        destination = serializer.save()
        if destination.active and not was_active:
            destination_enable(destination=destination)


class DeliveryFilter(filters.FilterSet):
    """Every filter is served by an index (Delivery.Meta)."""

    status = filters.ChoiceFilter(choices=Delivery.Status.choices)
    destination = filters.UUIDFilter(
        field_name="destination__public_id", help_text="Destination id."
    )
    event = filters.UUIDFilter(field_name="event__public_id", help_text="Event id.")
    created_after = DateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created", lookup_expr="lt")

    class Meta:
        model = Delivery
        fields = []


class NewestCreatedFirst(Pages):
    ordering = "-created"


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """Deliveries of events to destinations, newest first."""

    queryset = Delivery.objects.select_related("event", "destination")
    serializer_class = DeliverySerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filterset_class = DeliveryFilter
    filter_backends = [KnownParameters, filters.DjangoFilterBackend]
    pagination_class = NewestCreatedFirst
