from rest_framework import viewsets

from api.filters import KnownParameters
from api.lookups import UUID_PATTERN
from api.pages import OldestFirst
from connections.models import Connection
from connections.serializers import ConnectionSerializer


class ConnectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Connections (named API keys), oldest first. The key only as `123-…wxyz`."""

    queryset = Connection.objects.all()
    serializer_class = ConnectionSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filter_backends = [KnownParameters]
    pagination_class = OldestFirst
