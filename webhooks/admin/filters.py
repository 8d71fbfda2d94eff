"""List filters for the event log. Each one's choices are fixed or come from the small webhook
table; none runs a DISTINCT or a COUNT over the event table."""

from datetime import datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone
from django.utils.dateparse import parse_date

from ds24site.admin_tools import ExactFilter
from ds24site.datetimes import in_utc
from webhooks import ipn
from webhooks.models import Webhook


class EventTypeFilter(ExactFilter):
    title = "event type"
    parameter_name = field = "event"

    def lookups(self, request, model_admin):
        # The trigger lists (proxy models) offer only their own events.
        return ipn.event_choices(getattr(model_admin.model, "EVENTS", ipn.KNOWN_EVENTS))


class KindFilter(ExactFilter):
    title = "webhook kind"
    parameter_name = "kind"
    options = Webhook.Kind.choices

    def queryset(self, request, queryset):
        """The events of the webhooks of that kind, by their ids, read first from the small
        webhook table. `webhook IN (…)` is served by the (webhook, received) index; a join on
        the kind made SQLite walk the log newest first, looking up each event's webhook, until
        the list's capped count (CappedCountPaginator) had its 10,001 rows: most of the
        page's 200 ms at a million events (EXPLAIN QUERY PLAN, bench/seed.py's log)."""
        if self.value():
            kind_ids = Webhook.objects.filter(kind=self.value()).values_list("id", flat=True)
            return queryset.filter(webhook__in=list(kind_ids))
        return queryset


class ModeFilter(ExactFilter):
    title = "live / test"
    parameter_name = "mode"
    field = "api_mode"
    options = [("live", "Live"), ("test", "Test")]


class ReceivedFilter(admin.ListFilter):
    """Received today / in the last 7 or 30 days, or between two dates (both inclusive)."""

    title = "received"
    template = "admin/webhooks/received_filter.html"
    period_param = "received"
    since_param = "received_from"
    until_param = "received_to"
    PERIODS = {"today": ("Today", 0), "7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30)}

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {
            name: params.pop(name)[-1] for name in self.expected_parameters() if name in params
        }
        # For the custom-range form: the other filters and the search stay applied.
        self.other_params = [
            (key, value)
            for key, values in request.GET.lists()
            if key not in self.expected_parameters() and key != "p"
            for value in values
        ]

    def expected_parameters(self):
        return [self.period_param, self.since_param, self.until_param]

    def has_output(self):
        return True

    @property
    def since(self):
        return self.values.get(self.since_param, "")

    @property
    def until(self):
        return self.values.get(self.until_param, "")

    def _dates(self):
        period = self.values.get(self.period_param)
        if period:
            if period not in self.PERIODS:
                raise IncorrectLookupParameters(f"unknown period {period!r}")
            return timezone.localdate() - timedelta(days=self.PERIODS[period][1]), None
        dates = []
        for text in (self.since, self.until):
            try:
                # ASCII only: Django's parse_date reads any script's digits as a date.
                date = parse_date(text) if text and text.isascii() else None
            except ValueError:
                date = None
            if text and date is None:
                raise IncorrectLookupParameters(f"not a date: {text!r}")
            dates.append(date)
        return dates

    def queryset(self, request, queryset):
        since, until = self._dates()
        zone = timezone.get_current_timezone()
        try:
            if since:
                start = datetime.combine(since, time(), zone)
                in_utc(start)  # the database compares in UTC: it must exist there
                queryset = queryset.filter(received__gte=start)
            if until:
                next_day = datetime.combine(until + timedelta(days=1), time(), zone)
                in_utc(next_day)
                queryset = queryset.filter(received__lt=next_day)
        except OverflowError:
            raise IncorrectLookupParameters("date out of range") from None
        return queryset

    def choices(self, changelist):
        current = self.values.get(self.period_param)
        remove = self.expected_parameters()
        yield {
            "selected": not self.values,
            "query_string": changelist.get_query_string(remove=remove),
            "display": "Any time",
        }
        for key, (label, _days) in self.PERIODS.items():
            yield {
                "selected": current == key,
                "query_string": changelist.get_query_string({self.period_param: key}, remove),
                "display": label,
            }
