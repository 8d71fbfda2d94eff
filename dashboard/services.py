"""Keeping the daily roll-up (DailyTotal) current, and recomputing it from the events."""

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.db.models.functions import Abs, TruncDate
from django.utils import timezone

from dashboard.models import DailyTotal
from webhooks.models import Event

KEY = ("day", "event", "currency", "api_mode", "product_id", "webhook_pk")


def dailytotal_add(*, event: Event) -> None:
    """Count a newly stored event in its day's total: one INSERT … ON CONFLICT DO UPDATE (the
    same statement on SQLite and PostgreSQL), run in the caller's transaction so the count
    commits or rolls back with the event. Concurrent events of the same key (and so of the
    same webhook, whose counter row they queue on anyway) queue on the row lock for the rest
    of their short storing transactions; nothing can be lost or counted twice, which a
    read-modify-write in Python could not promise."""
    table = connection.ops.quote_name(DailyTotal._meta.db_table)
    columns = [*KEY, "product_name", "count", "amount"]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    amount = abs(event.amount) if event.amount is not None else 0
    values = [
        timezone.localdate(event.received),
        event.event,
        event.currency,
        event.api_mode,
        event.product_id,
        event.webhook_id,
        event.product_name,
        1,
        amount,
    ]
    target = ", ".join(connection.ops.quote_name(column) for column in KEY)
    count, total, name = (connection.ops.quote_name(c) for c in ("count", "amount", "product_name"))
    sql = (
        f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608 (names from the model, values as parameters)
        f"ON CONFLICT ({target}) DO UPDATE SET {count} = {table}.{count} + 1, "
        f"{total} = {table}.{total} + excluded.{total}, {name} = excluded.{name}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def dailytotals_rebuild(*, since: date | None = None) -> tuple[date | None, int]:
    """Recompute the totals of every day from `since` on from the stored events; returns the
    first day recomputed (None when there was nothing to do) and the number of rows written.

    Days before `since` are kept: their events may have been pruned, and the roll-up is the
    only history left of them. Without `since`, recomputing starts at the day of the oldest
    stored event, or the day after it when the roll-up knows earlier days (the events were
    pruned, most likely in the middle of that day, so it is no longer complete).
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Stored events wait for their upsert until this commits, so each is counted once:
            # either it committed before the lock and this counts it, or it adds itself after.
            # (On SQLite the DELETE below takes the database's one write lock.)
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(DailyTotal._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
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
            )
        )
        totals = [
            DailyTotal(
                **{key: row[key] for key in KEY},
                product_name=row["name"],
                count=row["total_count"],
                amount=row["total_amount"] or 0,
            )
            for row in rows.iterator()
        ]
        DailyTotal.objects.bulk_create(totals, batch_size=1000)
    return since, len(totals)


def _first_complete_day() -> date | None:
    oldest = Event.objects.order_by("received").values_list("received", flat=True).first()
    if oldest is None:
        return None
    day = timezone.localdate(oldest)
    if DailyTotal.objects.filter(day__lt=day).exists():
        day += timedelta(days=1)
    return day
