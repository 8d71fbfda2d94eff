"""The check every date-time from outside (a filter, a cursor, a query parameter) passes
before it reaches the database."""

from datetime import UTC, datetime


def in_utc(moment: datetime) -> datetime:
    """An aware date-time in UTC, where the database compares it. OverflowError where it does
    not exist there (year 1 at +14:00), so that fails here with a clear error rather than in
    the database; and in UTC, as PostgreSQL refuses offsets past ±15:59 that Python accepts."""
    return moment.astimezone(UTC)
