"""The insights' date range as the console's form sends it: defaults, each bad value by its
field, the longest range, and how a range is bucketed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.services.console_insights import MAX_DAYS, DateRange, bucket_label, read_range
from tests.helpers import FakeClock

CLOCK = FakeClock(datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC))
WEEK = DateRange(date(2026, 2, 24), date(2026, 3, 2))


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (("", ""), WEEK),
        (("2026-03-01", ""), DateRange(date(2026, 3, 1), date(2026, 3, 2))),
        (("2026-04-01", ""), DateRange(date(2026, 4, 1), date(2026, 4, 1))),
        (("", "2026-01-07"), DateRange(date(2026, 1, 1), date(2026, 1, 7))),
        ((" 2026-01-01 ", "2026-01-01"), DateRange(date(2026, 1, 1), date(2026, 1, 1))),
    ],
)
def test_a_range_and_its_defaults(sent: tuple[str, str], expected: DateRange) -> None:
    assert read_range(CLOCK, *sent) == (expected, {})


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        (("soon", ""), "from"),
        (("", "2026-13-01"), "to"),
        (("2026-1-1", ""), "from"),
        (("2026-03-02", "2026-03-01"), "to"),
        (("1969-12-31", ""), "from"),
        (("", "3000-01-01"), "to"),
        (("2024-01-01", "2026-01-01"), "from"),
        (("2025-02-28", "2026-03-01"), "from"),  # 367 days
    ],
)
def test_a_bad_range_names_its_field_and_falls_back_to_the_week(
    sent: tuple[str, str], field: str
) -> None:
    found, errors = read_range(CLOCK, *sent)
    assert list(errors) == [field]
    assert found == WEEK


def test_the_longest_range_and_its_buckets() -> None:
    longest, errors = read_range(CLOCK, "2025-03-01", "2026-03-01")
    assert errors == {}
    assert longest.days == MAX_DAYS
    assert longest.group_by == "week"
    assert DateRange(date(2026, 3, 1), date(2026, 3, 2)).group_by == "hour"
    assert WEEK.group_by == "day"
    assert WEEK.end == datetime(2026, 3, 3, tzinfo=UTC)


def test_bucket_labels() -> None:
    assert bucket_label("2026-03-02T14:00:00+00:00", "hour") == "Mar 2 14:00"
    assert bucket_label("2026-03-02T00:00:00+00:00", "day") == "Mar 2"
