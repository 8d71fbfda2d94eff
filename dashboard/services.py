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
# In the order dailytotals_add locks them, so that rebuilding cannot deadlock it.
TOTALS = (DailyTotal, WebhookTotal)


def dailytotals_add(*, events: list[Event]) -> None:
    """Count newly stored events in their days' totals and their webhooks': one
    INSERT … ON CONFLICT DO UPDATE per key, adding the batch's count and amounts, run in the
    caller's transaction (the events' follow-up, webhooks.services.events_follow_up) so the
    counts commit with it, once. Rows are written in key order, so that concurrent batches
    lock them in the same order and wait for each other rather than deadlock; a batch writes
    all its rows in one slot (its first event's id modulo SLOTS), so that they rarely wait."""
    if not events:
        return
    slot = events[0].pk % DailyTotal.SLOTS
    daily: dict[tuple, list] = {}
    webhooks: dict[tuple, list] = {}
    for event in events:
        key = (
            timezone.localdate(event.received),
            event.event,
            event.currency,
            event.api_mode,
            event.product_id,
            event.webhook_id,
            slot,
        )
        # count, amount, the product's latest name, the newest received
        total = daily.setdefault(key, [0, 0, event.product_name, event.received])
        total[0] += 1
        total[1] += abs(event.amount) if event.amount is not None else 0
        if event.received >= total[3]:
            total[2], total[3] = event.product_name, event.received
        webhook = webhooks.setdefault((event.webhook_id, slot), [0, event.received])
        webhook[0] += 1
        webhook[1] = max(webhook[1], event.received)
    # As the ORM would store it: SQLite compares the stored text in the upsert's max().
    stored = connection.ops.adapt_datetimefield_value
    daily_sql, webhook_sql = _upsert_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.executemany(
            daily_sql,
            [
                [*key, count, amount, name, stored(newest)]
                for key, (count, amount, name, newest) in sorted(daily.items())
            ],
        )
        cursor.executemany(
            webhook_sql,
            [[*key, count, stored(newest)] for key, (count, newest) in sorted(webhooks.items())],
        )


@functools.cache
def _upsert_sql(vendor: str) -> tuple[str, str]:
    """dailytotals_add's two statements, built once per vendor (quoting is the same for every
    connection of a vendor)."""
    quote = connection.ops.quote_name
    # SQLite's max() is NULL when an argument is; a row's last_received may be (see models).
    largest = "MAX" if vendor == "sqlite" else "GREATEST"

    def upsert(model, key, replaced=()):
        """INSERT … ON CONFLICT (key) DO UPDATE of a total: its count and amount plus the
        given ones, the `replaced` columns the new values, last_received the later."""
        table = quote(model._meta.db_table)
        summed = ["count", "amount"] if model is DailyTotal else ["count"]
        given = [*key, *summed, *replaced, "last_received"]
        last = quote("last_received")
        updates = [f"{c} = {table}.{c} + excluded.{c}" for c in map(quote, summed)]
        updates += [f"{c} = excluded.{c}" for c in map(quote, replaced)]
        updates.append(
            f"{last} = {largest}(COALESCE({table}.{last}, excluded.{last}), excluded.{last})"
        )
        return (
            f"INSERT INTO {table} ({', '.join(map(quote, given))}) "  # noqa: S608 (names from the models, values as parameters)
            f"VALUES ({', '.join(['%s'] * len(given))}) "
            f"ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET {', '.join(updates)}"
        )

    return (
        upsert(DailyTotal, [*KEY, "slot"], replaced=["product_name"]),
        upsert(WebhookTotal, ["webhook_pk", "slot"]),
    )


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
            # Events are counted in the transaction that puts them in the log (their follow-up,
            # dailytotals_add), which waits for this lock until this commits, so each is
            # counted once: either it committed before the lock and this counts it, or it
            # adds itself after. (On SQLite the DELETE below takes the database's one write
            # lock.)
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
