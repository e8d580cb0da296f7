"""Provider scorecards, computed in bulk from tracebacks and hops.

One GROUP BY pass over hops by (provider, month) gives every count; tracebacks give the
illegal-campaign roles; answer times ride along as one aggregated list per group for the medians. Quarters and all time
are rolled up from the months in Python (counts add up; medians are recomputed from the
answer times, because medians do not add up). The result replaces the ProviderScorecard
table in one transaction, so pages read precomputed rows.

Definitions (the same everywhere, documented on the scorecard page):
- a notice is a hop request addressed to the provider (cancelled hops are not notices);
- answered on time: answered at or before the 24-hour clock's `due_at`; late: after it;
- never answered: unanswered and past `due_at`; open: unanswered, not yet due;
- no-record share: "no record" answers over all answers;
- illegal campaign: the traceback's campaign is confirmed illegal, or the traceback itself
  carries a legal basis ("..._illegal"); "..._traced" counts every traceback naming the
  provider in that role (the consortium traces only calls it judged illegal), and the
  campaign lists cover those;
- customers warned / terminated: the provider's own answers that report the action
  (suspended counts as terminated, as the ITG's "warned or terminated" metric does).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from robotrace.providers.models import Period, Provider, ProviderScorecard

COUNT_FIELDS = (
    "notices",
    "answered",
    "answered_on_time",
    "answered_late",
    "never_answered",
    "open_notices",
    "no_record",
    "customers_warned",
    "customers_terminated",
    "originating_illegal",
    "originating_traced",
    "point_of_entry_illegal",
    "point_of_entry_traced",
    "chain_stopped",
)


def _tables() -> dict[str, str]:
    from robotrace.campaigns.models import Campaign
    from robotrace.tracebacks.models import Hop, Traceback

    return {"hop": Hop._meta.db_table, "tb": Traceback._meta.db_table, "campaign": Campaign._meta.db_table}


def month_expr(column: str) -> str:
    """SQL for the 'YYYY-MM' key of a UTC timestamp column."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"
    # Django stores SQLite datetimes as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    return f"substr({column}, 1, 7)"


def seconds_expr(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        # date_part gives a double; EXTRACT gives numeric, several times slower per row.
        return f"date_part('epoch', {later} - {earlier})"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def json_nonempty_expr(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(jsonb_typeof({column}) = 'array' AND jsonb_array_length({column}) > 0)"
    return f"(json_valid({column}) AND json_type({column}) = 'array' AND json_array_length({column}) > 0)"


def full_scan(table: str, alias: str) -> str:
    """FROM clause that reads the table front to back. SQLite otherwise walks the
    provider_id index and looks up every row out of order, twice as slow for a pass that
    touches every row anyway."""
    return f"{table} {alias} NOT INDEXED" if connection.vendor == "sqlite" else f"{table} {alias}"


def answer_seconds_agg() -> str:
    """Whole seconds from receipt to answer of every answered hop in the group."""
    secs = seconds_expr("h.answered_at", "h.received_at")
    if connection.vendor == "postgresql":
        return f"array_agg(GREATEST(ROUND({secs}), 0)::integer) FILTER (WHERE h.answered_at IS NOT NULL)"
    return f"group_concat(CASE WHEN h.answered_at IS NOT NULL THEN MAX(CAST(ROUND({secs}) AS INTEGER), 0) END)"


def db_time(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def quarter_of(month_key: str) -> str:
    year, month = month_key.split("-")
    return f"{year}-Q{(int(month) - 1) // 3 + 1}"


def period_start(period: str, key: str) -> date | None:
    if period == Period.MONTH:
        y, m = key.split("-")
        return date(int(y), int(m), 1)
    if period == Period.QUARTER:
        y, q = key.split("-Q")
        return date(int(y), (int(q) - 1) * 3 + 1, 1)
    return None


@dataclass
class Figures:
    counts: list[int] = field(default_factory=lambda: [0] * len(COUNT_FIELDS))
    originating_campaigns: set[int] = field(default_factory=set)
    poe_campaigns: set[int] = field(default_factory=set)
    answer_seconds: list[float] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.originating_campaigns |= other.originating_campaigns
        self.poe_campaigns |= other.poe_campaigns
        self.answer_seconds.extend(other.answer_seconds)


IDX = {name: i for i, name in enumerate(COUNT_FIELDS)}


@dataclass
class WindowStats:
    """One provider's figures over the rules' look-back window (criteria.py), gathered in
    the same passes as the scorecards so the rules need no pass of their own."""

    notices_due: int = 0
    answered: int = 0
    never: int = 0
    no_record: int = 0
    originating: int = 0
    originating_illegal: int = 0
    gateway: int = 0
    gateway_illegal: int = 0


def _hop_counts(cur: Any, now: datetime, since: datetime, months: dict[tuple[int, str], Figures], window: dict[int, WindowStats]) -> None:
    t = _tables()
    mk = month_expr("h.received_at")
    n, s = db_time(now), db_time(since)
    pg = connection.vendor == "postgresql"
    if pg:
        # array_agg's memory estimate makes the planner sort all hops by provider (via the
        # index) instead of hashing ~50k groups: 2-3x slower. Hash it, for this query only.
        cur.execute("SET work_mem = '256MB'; SET enable_sort = off; SET enable_indexscan = off")
    try:
        cur.execute(
            f"""
            SELECT h.provider_id, {mk} AS mk,
                   COUNT(*),
                   COUNT(h.answered_at),
                   SUM(CASE WHEN h.answered_at <= h.due_at THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at > h.due_at THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at IS NULL AND h.due_at < %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at IS NULL AND h.due_at >= %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.response = 'no_record' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.customer_action = 'warned' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.customer_action IN ('terminated', 'suspended') THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.received_at >= %s AND (h.answered_at IS NOT NULL OR h.due_at < %s) THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.received_at >= %s AND h.answered_at IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.received_at >= %s AND h.answered_at IS NULL AND h.due_at < %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.received_at >= %s AND h.response = 'no_record' THEN 1 ELSE 0 END),
                   {answer_seconds_agg()}
            FROM {full_scan(t['hop'], 'h')}
            WHERE h.status <> 'cancelled'
            GROUP BY h.provider_id, {mk}
            """,
            [n, n, s, n, s, s, n, s],
        )
        rows = cur.fetchall()
    finally:
        if pg:
            cur.execute("RESET work_mem; RESET enable_sort; RESET enable_indexscan")
    names = ("notices", "answered", "answered_on_time", "answered_late", "never_answered", "open_notices", "no_record", "customers_warned", "customers_terminated")
    slots = [IDX[name] for name in names]
    for row in rows:
        fig = months.setdefault((row[0], row[1]), Figures())
        counts = fig.counts
        for slot, value in zip(slots, row[2:11], strict=True):
            counts[slot] += int(value or 0)
        if row[15]:
            # Answer times ride along as one aggregated value per group, so medians need no
            # second pass over the hops.
            fig.answer_seconds = row[15] if isinstance(row[15], list) else list(map(int, row[15].split(",")))
        if row[11] or row[13] or row[14]:
            w = window.setdefault(row[0], WindowStats())
            w.notices_due += int(row[11] or 0)
            w.answered += int(row[12] or 0)
            w.never += int(row[13] or 0)
            w.no_record += int(row[14] or 0)


def _traceback_roles(cur: Any, since: datetime, months: dict[tuple[int, str], Figures], window: dict[int, WindowStats]) -> None:
    t = _tables()
    mk = month_expr("t.created_at")
    illegal = f"(c.status = 'confirmed' OR {json_nonempty_expr('t.legal_basis')})"
    s = db_time(since)
    for column, counter, campaigns_attr, w_attr in (
        ("originating_provider_id", "originating", "originating_campaigns", "originating"),
        ("point_of_entry_provider_id", "point_of_entry", "poe_campaigns", "gateway"),
    ):
        cur.execute(
            f"""
            SELECT t.{column}, {mk}, t.campaign_id, COUNT(*), SUM(CASE WHEN {illegal} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN t.created_at >= %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN t.created_at >= %s AND {illegal} THEN 1 ELSE 0 END)
            FROM {full_scan(t['tb'], 't')} LEFT JOIN {t['campaign']} c ON c.id = t.campaign_id
            WHERE t.{column} IS NOT NULL AND t.status <> 'cancelled'
            GROUP BY t.{column}, {mk}, t.campaign_id
            """,
            [s, s],
        )
        traced_i, illegal_i = IDX[f"{counter}_traced"], IDX[f"{counter}_illegal"]
        for pid, key, campaign_id, n, n_illegal, w_n, w_illegal in cur.fetchall():
            fig = months.setdefault((pid, key), Figures())
            fig.counts[traced_i] += int(n)
            fig.counts[illegal_i] += int(n_illegal or 0)
            if campaign_id is not None:
                getattr(fig, campaigns_attr).add(int(campaign_id))
            if w_n:
                w = window.setdefault(pid, WindowStats())
                setattr(w, w_attr, getattr(w, w_attr) + int(w_n))
                setattr(w, f"{w_attr}_illegal", getattr(w, f"{w_attr}_illegal") + int(w_illegal or 0))
    cur.execute(
        f"""
        SELECT t.non_responsive_provider_id, {mk}, COUNT(*)
        FROM {t['tb']} t
        WHERE t.non_responsive_provider_id IS NOT NULL AND t.status <> 'cancelled'
        GROUP BY t.non_responsive_provider_id, {mk}
        """
    )
    stopped = IDX["chain_stopped"]
    for pid, key, n in cur.fetchall():
        months.setdefault((pid, key), Figures()).counts[stopped] += int(n)


def _signing_stats(provider_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Attestation on traced calls each provider signed, from the STIR/SHAKEN app when it
    offers it; scorecards work without it."""
    try:
        from robotrace.shaken.facade import provider_signing_stats  # type: ignore[import-not-found,attr-defined]
    except (ImportError, AttributeError):
        return {}
    try:
        stats = provider_signing_stats(provider_ids=provider_ids)
    except TypeError:
        try:
            stats = provider_signing_stats()
        except Exception:  # noqa: BLE001 - another app's code must not stop scorecards
            return {}
    except Exception:  # noqa: BLE001
        return {}
    out: dict[int, dict[str, Any]] = {}
    for key, value in dict(stats or {}).items():
        try:
            out[int(key)] = dict(value) if not isinstance(value, dict) else value
        except (TypeError, ValueError):
            continue
    return out


def collect(now: datetime | None = None, since: datetime | None = None) -> tuple[dict[tuple[int, str, str], Figures], dict[int, WindowStats]]:
    """Every (provider id, period, period key) -> Figures, and each provider's figures
    since `since` (the rules' window), from the current tracebacks."""
    now = now or timezone.now()
    if since is None:
        from robotrace.providers.conf import Thresholds

        since = now - timedelta(days=Thresholds.from_env().window_days)
    months: dict[tuple[int, str], Figures] = {}
    window: dict[int, WindowStats] = {}
    with connection.cursor() as cur:
        _hop_counts(cur, now, since, months, window)
        _traceback_roles(cur, since, months, window)
    by_provider: dict[int, list[tuple[str, Figures]]] = defaultdict(list)
    for (pid, mk), fig in months.items():
        by_provider[pid].append((mk, fig))
    out: dict[tuple[int, str, str], Figures] = {}
    for pid, items in by_provider.items():
        groups: dict[tuple[str, str], list[Figures]] = defaultdict(list)
        for mk, fig in items:
            out[(pid, Period.MONTH, mk)] = fig
            groups[(Period.QUARTER, quarter_of(mk))].append(fig)
            groups[(Period.ALL, "all")].append(fig)
        for (period, key), figs in groups.items():
            agg = Figures(counts=[sum(col) for col in zip(*(f.counts for f in figs), strict=True)])
            for f in figs:
                agg.originating_campaigns |= f.originating_campaigns
                agg.poe_campaigns |= f.poe_campaigns
            agg.answer_seconds = list(chain.from_iterable(f.answer_seconds for f in figs))
            out[(pid, period, key)] = agg
    return out, window


@dataclass
class Result:
    providers: int
    rows: int
    seconds: float
    window: dict[int, WindowStats] = field(default_factory=dict)
    since: datetime | None = None


def _median(values: list[float]) -> float | None:
    n = len(values)
    if not n:
        return None
    if n < 256:
        # Most groups are a month of one provider: a few dozen answers, where sorting in
        # Python beats numpy's per-call overhead.
        v = sorted(values)
        m = n // 2
        return round(float(v[m] if n % 2 else (v[m - 1] + v[m]) / 2), 1)
    # numpy partitions instead of sorting; all-time lists reach tens of thousands.
    return round(float(np.median(np.asarray(values, dtype=np.float64))), 1)


def _ids_json(ids: set[int]) -> str:
    return json.dumps(sorted(ids)) if ids else "[]"


def _write(rows: list[tuple[Any, ...]], columns: list[str]) -> None:
    """Replace the scorecard table. Plain multi-row inserts (COPY on PostgreSQL): the ORM's
    bulk_create spends most of its time preparing values we already have in db form."""
    table = ProviderScorecard._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table}")
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            for start in range(0, len(rows), 5000):
                cur.executemany(sql, rows[start : start + 5000])


def compute_all(*, now: datetime | None = None, since: datetime | None = None) -> Result:
    """Recompute every scorecard. Safe to run while pages read: the swap is one
    transaction."""
    started = time.perf_counter()
    now = now or timezone.now()
    if since is None:
        from robotrace.providers.conf import Thresholds

        since = now - timedelta(days=Thresholds.from_env().window_days)
    figures, window = collect(now, since)
    providers = dict(
        Provider.objects.exclude(status=Provider.Status.MERGED).values_list("id", "rmd_status")
    )
    signing = _signing_stats(list(providers))
    # Every registry provider gets an all-time row, even with no notices (RMD status alone
    # is part of the scorecard).
    for pid in providers:
        figures.setdefault((pid, Period.ALL, "all"), Figures())
    columns = [
        "provider_id", "period", "period_key", "period_start", *COUNT_FIELDS, "median_answer_seconds",
        "originating_campaign_ids", "point_of_entry_campaign_ids", "attestation", "rmd_status", "computed_at",
    ]
    at = db_time(now)
    date_value = (lambda d: d) if connection.vendor == "postgresql" else (lambda d: d.isoformat() if d else None)
    rows: list[tuple[Any, ...]] = []
    for (pid, period, key), fig in figures.items():
        if pid not in providers:
            continue  # a merged provider's hops are moved by the merge; skip stragglers
        counts = fig.counts
        rows.append((
            pid, str(period), key, date_value(period_start(period, key)), *counts,
            _median(fig.answer_seconds),
            _ids_json(fig.originating_campaigns), _ids_json(fig.poe_campaigns),
            json.dumps(signing[pid], default=str) if period == Period.ALL and pid in signing else "{}",
            providers[pid], at,
        ))
    with transaction.atomic():
        _write(rows, columns)
    return Result(providers=len(providers), rows=len(rows), seconds=round(time.perf_counter() - started, 3), window=window, since=since)
