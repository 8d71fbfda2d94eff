"""Keeping the roll-up (DailyTotal, and its per-webhook level WebhookTotal) current, and
recomputing it from the events."""

import functools
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.db.models.functions import Abs, TruncDate
from django.utils import timezone

from dashboard.models import DailyTotal, WebhookTotal
from webhooks.models import Event

# What a total counts; each key has up to DailyTotal.SLOTS rows, one per slot.
KEY = ("day", "event", "currency", "api_mode", "product_id", "webhook_pk")
# In the order dailytotal_add's statement locks them, so that rebuilding cannot deadlock it.
TOTALS = (DailyTotal, WebhookTotal)


def dailytotal_add(*, event: Event) -> None:
    """Count a newly stored event in its day's total and its webhook's: INSERT … ON CONFLICT
    DO UPDATE into each, run in the caller's transaction so the counts commit or roll back
    with the event. One statement on PostgreSQL (one round trip), two on SQLite. Concurrent
    events of the same key and slot queue on the row lock for the rest of their short storing
    transactions; nothing can be lost or counted twice, which a read-modify-write in Python
    could not promise."""
    slot = event.pk % DailyTotal.SLOTS
    # As the ORM would store it: SQLite compares the stored text in the upsert's max().
    received = connection.ops.adapt_datetimefield_value(event.received)
    amount = abs(event.amount) if event.amount is not None else 0
    daily = [
        timezone.localdate(event.received),
        event.event,
        event.currency,
        event.api_mode,
        event.product_id,
        event.webhook_id,
        slot,
        amount,
        event.product_name,
        received,
    ]
    webhook = [event.webhook_id, slot, received]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_upsert_sql(connection.vendor), [*daily, *webhook])
        else:
            daily_sql, webhook_sql = _upsert_sql(connection.vendor)
            cursor.execute(daily_sql, daily)
            cursor.execute(webhook_sql, webhook)


@functools.cache
def _upsert_sql(vendor: str) -> str | tuple[str, str]:
    """dailytotal_add's SQL, built once per vendor (it runs for every stored IPN; quoting is
    the same for every connection of a vendor): on PostgreSQL one statement, the daily upsert
    in a WITH (which runs whether or not it is read); elsewhere the two upserts."""
    quote = connection.ops.quote_name
    # SQLite's max() is NULL when an argument is; a row's last_received may be (see models).
    largest = "MAX" if vendor == "sqlite" else "GREATEST"

    def upsert(model, key, summed=(), replaced=()):
        """INSERT … ON CONFLICT (key) DO UPDATE of a total: its count + 1, the `summed` columns
        plus the new values, the `replaced` ones the new values, last_received the later."""
        table = quote(model._meta.db_table)
        given = [*key, *summed, *replaced, "last_received"]
        count, last = quote("count"), quote("last_received")
        updates = [f"{count} = {table}.{count} + 1"]
        updates += [f"{c} = {table}.{c} + excluded.{c}" for c in map(quote, summed)]
        updates += [f"{c} = excluded.{c}" for c in map(quote, replaced)]
        updates.append(
            f"{last} = {largest}(COALESCE({table}.{last}, excluded.{last}), excluded.{last})"
        )
        return (
            f"INSERT INTO {table} ({', '.join(map(quote, given))}, {count}) "  # noqa: S608 (names from the models, values as parameters)
            f"VALUES ({', '.join(['%s'] * len(given))}, 1) "
            f"ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET {', '.join(updates)}"
        )

    daily = upsert(DailyTotal, [*KEY, "slot"], summed=["amount"], replaced=["product_name"])
    webhook = upsert(WebhookTotal, ["webhook_pk", "slot"])
    if vendor == "postgresql":
        return f"WITH daily AS ({daily}) {webhook}"
    return daily, webhook


def dailytotals_rebuild(*, since: date | None = None) -> tuple[date | None, int]:
    """Recompute the totals of every day from `since` on from the stored events; returns the
    first day recomputed (None when there was nothing to do) and the number of rows written.

    Days before `since` are kept: their events may have been pruned, and the roll-up is the
    only history left of them. Without `since`, recomputing starts at the day of the oldest
    stored event, or the day after it when the roll-up knows earlier days (the events were
    pruned, most likely in the middle of that day, so it is no longer complete). Each key
    gets one row, in slot 0; slots only spread the receiver's concurrent writes. The webhooks'
    totals are then summed from all days' totals.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Stored events wait for their upsert until this commits, so each is counted once:
            # either it committed before the lock and this counts it, or it adds itself after.
            # (On SQLite the DELETE below takes the database's one write lock.)
            with connection.cursor() as cursor:
                tables = (connection.ops.quote_name(m._meta.db_table) for m in TOTALS)
                cursor.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        since = since or _first_complete_day()
        if since is None:
            return None, 0
        DailyTotal.objects.filter(day__gte=since).delete()
        zone = timezone.get_current_timezone()
        rows = (
            Event.objects.filter(received__gte=datetime.combine(since, time(), zone))
            .order_by()
            .annotate(day=TruncDate("received", tzinfo=zone), webhook_pk=F("webhook_id"))
            .values(*KEY)
            .annotate(
                total_count=Count("id"),
                total_amount=Sum(Abs("amount")),
                name=Max("product_name"),
                newest=Max("received"),
            )
        )
        totals = [
            DailyTotal(
                **{key: row[key] for key in KEY},
                product_name=row["name"],
                count=row["total_count"],
                amount=row["total_amount"] or 0,
                last_received=row["newest"],
            )
            for row in rows.iterator()
        ]
        DailyTotal.objects.bulk_create(totals, batch_size=1000)
        webhooks = DailyTotal.objects.values("webhook_pk").annotate(
            total=Sum("count"), newest=Max("last_received")
        )
        WebhookTotal.objects.all().delete()
        WebhookTotal.objects.bulk_create(
            WebhookTotal(
                webhook_pk=row["webhook_pk"], count=row["total"], last_received=row["newest"]
            )
            for row in webhooks.order_by()
        )
    return since, len(totals)


def _first_complete_day() -> date | None:
    oldest = Event.objects.order_by("received").values_list("received", flat=True).first()
    if oldest is None:
        return None
    day = timezone.localdate(oldest)
    if DailyTotal.objects.filter(day__lt=day).exists():
        day += timedelta(days=1)
    return day
