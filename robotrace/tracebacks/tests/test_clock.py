from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from robotrace.tracebacks import clock, conf

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")


@dataclass
class Hours:
    timezone: str = "America/New_York"
    business_hours_start: int = 8
    business_hours_end: int = 17
    business_days: list[int] = field(default_factory=list)


def test_it_starts_the_clock_at_once_during_business_hours() -> None:
    received = datetime(2026, 11, 18, 10, 30, tzinfo=NY)  # Wednesday
    start, due = clock.due_at(Hours(), received)
    assert start == received and due == received + timedelta(hours=24)


def test_it_counts_a_friday_evening_request_from_monday_eight() -> None:
    received = datetime(2026, 11, 20, 18, 5, tzinfo=NY)  # Friday 18:05
    start, due = clock.due_at(Hours(), received)
    assert start == datetime(2026, 11, 23, 8, 0, tzinfo=NY)
    assert due == datetime(2026, 11, 24, 8, 0, tzinfo=NY)


def test_it_counts_a_weekend_request_from_monday_eight() -> None:
    received = datetime(2026, 11, 22, 12, 0, tzinfo=NY)  # Sunday noon
    assert clock.clock_start(Hours(), received) == datetime(2026, 11, 23, 8, 0, tzinfo=NY)


def test_it_counts_an_early_morning_request_from_the_same_day() -> None:
    received = datetime(2026, 11, 18, 6, 0, tzinfo=NY)  # Wednesday 06:00
    assert clock.clock_start(Hours(), received) == datetime(2026, 11, 18, 8, 0, tzinfo=NY)


def test_it_uses_the_providers_own_zone() -> None:
    # 19:00 in New York is 16:00 in Los Angeles: still business hours there.
    received = datetime(2026, 11, 18, 19, 0, tzinfo=NY)
    assert clock.clock_start(Hours(timezone="America/Los_Angeles"), received) == received
    # 22:00 UTC on a Friday is 14:00 in LA (open) but 18:00 in NY (closed).
    friday = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    assert clock.clock_start(Hours(timezone="America/Los_Angeles"), friday) == friday
    assert clock.clock_start(Hours(), friday) == datetime(2026, 11, 23, 8, 0, tzinfo=NY)


def test_it_honours_custom_business_days_and_hours() -> None:
    hours = Hours(business_days=[1, 2, 3, 4, 5, 6], business_hours_start=9)
    saturday_evening = datetime(2026, 11, 21, 20, 0, tzinfo=NY)
    assert clock.clock_start(hours, saturday_evening) == datetime(2026, 11, 23, 9, 0, tzinfo=NY)
    friday_evening = datetime(2026, 11, 20, 20, 0, tzinfo=NY)
    assert clock.clock_start(hours, friday_evening) == datetime(2026, 11, 21, 9, 0, tzinfo=NY)


def test_it_counts_24_elapsed_hours_across_a_dst_change() -> None:
    received = datetime(2026, 10, 31, 12, 0, tzinfo=NY)  # Saturday before DST ends; open every day
    hours = Hours(business_days=[1, 2, 3, 4, 5, 6, 7])
    _, due = clock.due_at(hours, received)
    assert due - received.astimezone(UTC) == timedelta(hours=24)


def test_it_can_switch_the_business_hours_rule_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conf, "BUSINESS_HOURS_RULE", False)
    received = datetime(2026, 11, 22, 3, 0, tzinfo=NY)
    assert clock.clock_start(Hours(), received) == received


def test_it_survives_a_bad_zone_name() -> None:
    received = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    assert clock.clock_start(Hours(timezone="Mars/Olympus"), received).tzinfo is not None
