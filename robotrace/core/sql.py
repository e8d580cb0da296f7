"""SQL spellings that differ between SQLite and PostgreSQL, for the few reads written as raw
SQL (bulk passes over whole tables, where the ORM's per-row objects cost more than the work)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection


def month_expr(column: str) -> str:
    """SQL for the 'YYYY-MM' key of a UTC timestamp column."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"
    # Django stores SQLite datetimes as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    return f"substr({column}, 1, 7)"


def month_number_expr(column: str) -> str:
    """SQL for year * 12 + month - 1 of a UTC timestamp column: an integer sorts and hashes
    faster than the 'YYYY-MM' text."""
    if connection.vendor == "postgresql":
        utc = f"{column} AT TIME ZONE 'UTC'"
        return f"(date_part('year', {utc})::int * 12 + date_part('month', {utc})::int - 1)"
    return f"(CAST(substr({column}, 1, 4) AS INTEGER) * 12 + CAST(substr({column}, 6, 2) AS INTEGER) - 1)"


def month_key(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def json_nonempty_expr(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(jsonb_typeof({column}) = 'array' AND jsonb_array_length({column}) > 0)"
    return f"(json_valid({column}) AND json_type({column}) = 'array' AND json_array_length({column}) > 0)"


def full_scan(table: str, alias: str) -> str:
    """FROM clause that reads the table front to back. SQLite otherwise walks an index (say
    provider_id) and looks up every row out of order, twice as slow for a pass that touches
    every row anyway."""
    return f"{table} {alias} NOT INDEXED" if connection.vendor == "sqlite" else f"{table} {alias}"


def db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)
