"""Page classes every API view shares: cursor pages, ordered by a date-time column."""

from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from ds24site.datetimes import in_utc


class Pages(CursorPagination):
    """Cursor pages: no COUNT, no OFFSET, stable while rows arrive. A cursor this API did not
    give out is a bad parameter (400), not a missing page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
        # The position goes into a filter on a date-time column: check it is one (and exists
        # in UTC), so a forged cursor is a 400 rather than an error in the database.
        if cursor is not None and cursor.position is not None:
            moment = parse_datetime(cursor.position)
            try:
                if moment is None or moment.tzinfo is None:
                    raise ValueError(cursor.position)
                cursor = cursor._replace(position=in_utc(moment).isoformat())
            except (ValueError, OverflowError):
                cursor = None
        if cursor is None and request.query_params.get(self.cursor_query_param):
            raise serializers.ValidationError({"cursor": [self.invalid_cursor_message]})
        return cursor


class OldestFirst(Pages):
    """For the small tables (webhooks, connections)."""

    ordering = "created"
