"""Digistore24's date forms, as the stand-in reads them in from/to and other date parameters."""

from datetime import UTC, datetime

import pytest

from ds24standin.dates import parse

NOW = datetime(2026, 3, 31, 14, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("now", False, NOW),
        ("today", False, datetime(2026, 3, 31, tzinfo=UTC)),
        ("today", True, datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)),
        ("-7d", False, datetime(2026, 3, 24, 14, 30, 15, tzinfo=UTC)),
        ("-24h", False, datetime(2026, 3, 30, 14, 30, 15, tzinfo=UTC)),
        ("24h", False, datetime(2026, 4, 1, 14, 30, 15, tzinfo=UTC)),
        ("-10m", False, datetime(2026, 3, 31, 14, 20, 15, tzinfo=UTC)),
        ("-30s", False, datetime(2026, 3, 31, 14, 29, 45, tzinfo=UTC)),
        ("-1M", False, datetime(2026, 2, 28, 14, 30, 15, tzinfo=UTC)),  # no 31 February
        ("6M", False, datetime(2026, 9, 30, 14, 30, 15, tzinfo=UTC)),
        ("2Y", False, datetime(2028, 3, 31, 14, 30, 15, tzinfo=UTC)),
        ("2026-02-28", False, datetime(2026, 2, 28, tzinfo=UTC)),
        ("2026-02-28", True, datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC)),
        ("2026-02-28 23:11:24", True, datetime(2026, 2, 28, 23, 11, 24, tzinfo=UTC)),
        ("2026-02-28T23:11:24+01:00", False, datetime(2026, 2, 28, 22, 11, 24, tzinfo=UTC)),
    ],
)
def test_forms(text, end_of_day, expected):
    assert parse(text, now=NOW, end_of_day=end_of_day) == expected


@pytest.mark.parametrize("text", ["yesterday", "-7x", "2026-02-30", "", "7 days ago"])
def test_anything_else_is_refused_with_the_forms(text):
    with pytest.raises(ValueError, match="use 2026-02-28, 2026-02-28 23:11:24, now, today"):
        parse(text, now=NOW)
