"""Digistore24's date and time parameters (shared/digistore24.md §5.2, "special data types"):
`2026-02-28`, `2026-02-28 23:11:24`, `now`, `today`, relative `-7d`, `24h`, `-30m`, `6M`, `2Y`,
or ISO 8601 with a zone. The stand-in's clock is UTC, as its envelope says.
"""

import re
from calendar import monthrange
from datetime import UTC, datetime, timedelta

FORMAT = "%Y-%m-%d %H:%M:%S"
RELATIVE = re.compile(r"^([+-]?)(\d{1,6})([smhdwMY])$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse(value: str, *, now: datetime, end_of_day: bool = False) -> datetime:
    """The moment `value` names, in UTC. A bare date (and `today`) is the start of that day, or
    its last second with `end_of_day` - so `to=2026-02-28` includes the 28th, as a person means
    it. Raises ValueError with a message for anything else."""
    text = value.strip()
    if text == "now":
        return now
    if text == "today":
        return _day(now, end_of_day)
    match = RELATIVE.match(text)
    if match:
        sign, amount, unit = match.groups()
        amount = -int(amount) if sign == "-" else int(amount)
        if unit in SECONDS:
            return now + timedelta(seconds=amount * SECONDS[unit])
        return _add_months(now, amount * (12 if unit == "Y" else 1))
    try:
        if len(text) == 10:
            return _day(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC), end_of_day)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"Invalid date '{value}': use 2026-02-28, 2026-02-28 23:11:24, now, today "
            "or a relative time such as -7d, -24h, 6M."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(FORMAT)


def read(text: str) -> datetime:
    """A timestamp the stand-in wrote with format()."""
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)


def _day(moment: datetime, end_of_day: bool) -> datetime:
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return start + timedelta(days=1, seconds=-1) if end_of_day else start


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))
