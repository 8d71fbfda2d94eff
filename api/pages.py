"""Page classes every API view shares: cursor pages, ordered by a date-time column."""

from base64 import b64decode
from urllib.parse import parse_qs

from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.pagination import Cursor, CursorPagination

from ds24site import numbers
from ds24site.datetimes import in_utc


class Pages(CursorPagination):
    """Cursor pages: no COUNT, no OFFSET, stable while rows arrive. A cursor this API did not
    give out, or a page size that is not a whole number from 1, is a bad parameter (400), not
    a missing page or the default size. Numbers are ASCII digits (ds24site.numbers), where
    DRF's int() would take any script's."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        try:
            size = numbers.parse_int(text, minimum=1)
        except ValueError:
            message = f"A whole number from 1 (at most {self.max_page_size} are given)."
            raise serializers.ValidationError({self.page_size_query_param: [message]}) from None
        return min(size, self.max_page_size)

    def decode_cursor(self, request):
        """DRF's decoding, with its numbers in ASCII digits and the position checked to be a
        date-time that exists in UTC: it goes into a filter on a date-time column, so a forged
        cursor is a 400 rather than an error in the database."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii")).decode("ascii")
            tokens = parse_qs(querystring, keep_blank_values=True)
            offset = numbers.parse_int(tokens.get("o", ["0"])[0], minimum=0)
            reverse = numbers.parse_int(tokens.get("r", ["0"])[0], minimum=0, maximum=1)
            position = tokens.get("p", [None])[0]
            if position is not None:
                moment = parse_datetime(position) if position.isascii() else None
                if moment is None or moment.tzinfo is None:
                    raise ValueError(position)
                position = in_utc(moment).isoformat()
        except (TypeError, ValueError, OverflowError):  # binascii.Error is a ValueError
            raise serializers.ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
        return Cursor(
            offset=min(offset, self.offset_cutoff), reverse=bool(reverse), position=position
        )


class OldestFirst(Pages):
    """For the small tables (webhooks, connections)."""

    ordering = "created"
