"""The FCC 24-hour clock of a hop request, with the business-hours rule.

A request received during the provider's business hours starts the clock at once. One
received outside them (evening, night, weekend) starts it at the opening hour of the next
business day in the provider's own time zone. The hop is due `RESPONSE_HOURS` after that.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from robotrace.tracebacks import conf


class BusinessHours(Protocol):
    timezone: str
    business_hours_start: int
    business_hours_end: int
    business_days: list[int]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        # A provider record with a bad zone must not stop the traceback; Eastern time is
        # where the consortium works and the safest reading.
        return ZoneInfo("America/New_York")


def _days(provider: BusinessHours) -> set[int]:
    days = {int(d) for d in (provider.business_days or []) if str(d).isdigit() and 1 <= int(d) <= 7}
    return days or {1, 2, 3, 4, 5}


def is_business_time(provider: BusinessHours, at: datetime) -> bool:
    local = at.astimezone(_zone(provider.timezone))
    start, end = provider.business_hours_start, provider.business_hours_end
    if local.isoweekday() not in _days(provider):
        return False
    if start >= end:  # 0-24 style "always open" or a misconfigured window: treat as open all day
        return True
    return start <= local.hour < end


def clock_start(provider: BusinessHours, received_at: datetime) -> datetime:
    """When the 24-hour clock starts for a request received at `received_at`."""
    if not conf.BUSINESS_HOURS_RULE or is_business_time(provider, received_at):
        return received_at
    zone = _zone(provider.timezone)
    local = received_at.astimezone(zone)
    days = _days(provider)
    start_hour = provider.business_hours_start if provider.business_hours_start < 24 else 8
    day = local.date()
    # Before opening on a business day: the clock starts at today's opening hour.
    if not (local.isoweekday() in days and local.hour < start_hour):
        day = day + timedelta(days=1)
        while day.isoweekday() not in days:
            day = day + timedelta(days=1)
    return datetime.combine(day, time(start_hour), tzinfo=zone)


def due_at(provider: BusinessHours, received_at: datetime) -> tuple[datetime, datetime]:
    """(clock start, deadline) for a request received at `received_at`."""
    # Elapsed hours, not wall-clock hours: add them in UTC so a DST change is counted right.
    start = clock_start(provider, received_at).astimezone(UTC)
    return start, start + timedelta(hours=conf.RESPONSE_HOURS)
