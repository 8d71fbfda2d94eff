"""The dashboard's figures and chart data, read from the daily roll-up (DailyTotal): a fixed
number of queries over at most 30 days of totals, however many events there are.

Which events count as what derives from the event registry (webhooks/ipn.py): money events
move revenue, with a sign from their Digistore24 transaction type (a payment adds, a refund or
chargeback subtracts); the figures count the money events and each trigger's own events.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Case, F, Max, Q, Sum, When
from django.urls import reverse
from django.utils import timezone

from dashboard.models import DailyTotal
from webhooks import ipn

LIVE = "live"
DAYS = 30  # the charts' span and the longest period
PERIODS = (("today", "Today", 1), ("7d", "7 days", 7), ("30d", "30 days", 30))
TOP_PRODUCTS = 10

# +1 for money in, -1 for money going back.
REVENUE_SIGN = {
    name: 1 if event.ds24_transaction == "payment" else -1
    for name, event in ipn.EVENT_TYPES.items()
    if event.money
}
# The events counted at the top: the money events, and the events of the e-ticket and
# affiliation triggers.
COUNTED_EVENTS = tuple(
    name
    for name, event in ipn.EVENT_TYPES.items()
    if event.money or event.kind in (ipn.KIND_ETICKETS, ipn.KIND_AFFILIATIONS)
)


@dataclass
class Cell:
    value: object
    url: str


@dataclass
class Row:
    label: str
    cells: list[Cell]


@dataclass
class Figures:
    today: date
    periods: list[tuple[str, date]]  # (label, first day)
    revenue: list[Row]  # one per currency
    counts: list[Row]  # one per counted event type
    revenue_per_day: dict[str, list[tuple[date, Decimal]]]  # currency -> each of the 30 days
    events_per_day: list[tuple[date, dict[str, int]]]  # each day -> event -> count
    top_products: list[dict] = field(default_factory=list)


def events_list_url(*, since: date, until: date, proxy: str = "event", **filters) -> str:
    """The admin's event list (or a trigger's list) filtered to the days `since`..`until`,
    with the list's own filter parameters (webhooks/admin/filters.py)."""
    query = {**filters, "received_from": since.isoformat(), "received_to": until.isoformat()}
    return f"{reverse(f'admin:webhooks_{proxy}_changelist')}?{urlencode(query)}"


def dashboard_figures(*, today: date | None = None) -> Figures:
    """Revenue per currency (live money events, signed), the counted live events per period,
    and the charts' series, for the `DAYS` days up to `today` (site time zone). Two queries."""
    today = today or timezone.localdate()
    first = today - timedelta(days=DAYS - 1)
    periods = [(label, today - timedelta(days=days - 1)) for _key, label, days in PERIODS]
    rows = (
        DailyTotal.objects.filter(day__gte=first, day__lte=today)
        .values("day", "event", "currency", "api_mode")
        .annotate(total_count=Sum("count"), total_amount=Sum("amount"))
        .order_by()
    )
    revenue = defaultdict(lambda: defaultdict(Decimal))  # currency -> day -> amount
    counts = defaultdict(lambda: defaultdict(int))  # event -> day -> count
    per_day = defaultdict(lambda: defaultdict(int))  # day -> event -> count
    for row in rows:
        day, event = row["day"], row["event"]
        per_day[day][event] += row["total_count"]
        live = row["api_mode"] == LIVE
        if event in REVENUE_SIGN and live:
            revenue[row["currency"]][day] += REVENUE_SIGN[event] * row["total_amount"]
        # Test purchases (and test e-tickets and affiliations) count nowhere; the linked
        # lists filter on mode=live the same way.
        if event in COUNTED_EVENTS and live:
            counts[event][day] += row["total_count"]

    def in_period(by_day, since, zero):
        return sum((value for day, value in by_day.items() if day >= since), zero)

    revenue_rows = [
        Row(
            currency or "(no currency)",
            [
                Cell(
                    in_period(revenue[currency], since, Decimal(0)),
                    events_list_url(since=since, until=today, proxy="paymentevent", mode=LIVE),
                )
                for _label, since in periods
            ],
        )
        for currency in sorted(revenue)
    ]
    count_rows = []
    for event in COUNTED_EVENTS:
        filters = {"event": event, "mode": LIVE}
        count_rows.append(
            Row(
                ipn.EVENT_TYPES[event].label,
                [
                    Cell(
                        in_period(counts[event], since, 0),
                        events_list_url(since=since, until=today, **filters),
                    )
                    for _label, since in periods
                ],
            )
        )
    days = [first + timedelta(days=n) for n in range(DAYS)]
    return Figures(
        today=today,
        periods=periods,
        revenue=revenue_rows,
        counts=count_rows,
        revenue_per_day={
            currency: [(day, revenue[currency][day]) for day in days] for currency in revenue
        },
        events_per_day=[(day, dict(per_day[day])) for day in days],
        top_products=top_products(since=first, until=today),
    )


def top_products(*, since: date, until: date) -> list[dict]:
    """The products with the most live revenue in the days `since`..`until`, per currency
    (product id, name, currency, revenue), best first. One query."""
    signed = Case(
        When(event__in=[e for e, sign in REVENUE_SIGN.items() if sign > 0], then=F("amount")),
        default=-F("amount"),
    )
    return list(
        DailyTotal.objects.filter(
            Q(day__gte=since, day__lte=until, api_mode=LIVE, event__in=REVENUE_SIGN)
            & ~Q(product_id="")
        )
        .values("product_id", "currency")
        .annotate(revenue=Sum(signed), name=Max("product_name"))
        .order_by("-revenue", "product_id", "currency")[:TOP_PRODUCTS]
    )
