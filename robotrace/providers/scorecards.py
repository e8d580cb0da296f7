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


class MonthTable:
    """The (provider, month) figures as arrays: one row per provider-month, the counts in
    an int64 matrix, the answer times in one flat array tagged with their row. Quarters and
    all time are then numpy group sums and one sort per level for the medians, instead of
    tens of thousands of Python objects merged one by one."""

    def __init__(self) -> None:
        self.index: dict[tuple[int, str], int] = {}
        self.pids: list[int] = []
        self.months: list[str] = []
        self.counts = np.zeros((0, len(COUNT_FIELDS)), dtype=np.int64)
        self.answers = np.zeros(0, dtype=np.int64)  # answer seconds
        self.answer_row = np.zeros(0, dtype=np.int64)  # their provider-month row
        self.originating: dict[int, set[int]] = {}
        self.poe: dict[int, set[int]] = {}

    def row(self, pid: int, month: str) -> int:
        i = self.index.get((pid, month))
        if i is None:
            i = self.index[(pid, month)] = len(self.pids)
            self.pids.append(pid)
            self.months.append(month)
        return i

    def grow(self) -> None:
        if len(self.counts) < len(self.pids):
            extra = np.zeros((len(self.pids) - len(self.counts), len(COUNT_FIELDS)), dtype=np.int64)
            self.counts = np.concatenate([self.counts, extra])


def _hop_counts(cur: Any, now: datetime, since: datetime, table: MonthTable, window: dict[int, WindowStats]) -> None:
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
            SELECT h.provider_id, {mk} AS mk, (h.received_at >= %s) AS in_window,
                   COUNT(*),
                   COUNT(h.answered_at),
                   SUM(CASE WHEN h.answered_at <= h.due_at THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at > h.due_at THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at IS NULL AND h.due_at < %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at IS NULL AND h.due_at >= %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.response = 'no_record' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.customer_action = 'warned' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.customer_action IN ('terminated', 'suspended') THEN 1 ELSE 0 END),
                   {answer_seconds_agg()}
            FROM {full_scan(t['hop'], 'h')}
            WHERE h.status <> 'cancelled'
            -- Splitting each group at the window's start (only the month the window starts
            -- in gets two parts) gives the rules' window figures from the same counts,
            -- instead of four more conditional sums evaluated on every hop.
            GROUP BY 1, 2, 3
            """,
            [s, n, n],
        )
        rows = cur.fetchall()
    finally:
        if pg:
            cur.execute("RESET work_mem; RESET enable_sort; RESET enable_indexscan")
    if not rows:
        return
    names = ("notices", "answered", "answered_on_time", "answered_late", "never_answered", "open_notices", "no_record", "customers_warned", "customers_terminated")
    slots = [IDX[name] for name in names]
    # The hop rows come first: one table row per (provider, month), two SQL rows for the
    # month the window starts in (before and inside the window), added together here.
    assert not table.pids
    row_idx = np.fromiter((table.row(row[0], row[1]) for row in rows), dtype=np.int64, count=len(rows))
    block = np.array([row[3:12] for row in rows], dtype=object)
    block[block == None] = 0  # noqa: E711 - elementwise: SUM over no rows is NULL
    block = block.astype(np.int64)
    table.grow()
    np.add.at(table.counts, (row_idx[:, None], np.array(slots)[None, :]), block)
    # Answer times ride along as one aggregated value per group (group_concat text on
    # SQLite, an int array on PostgreSQL), so medians need no second pass over the hops.
    lists = [row[12] for row in rows]
    if pg:
        sizes = np.fromiter((len(v) if v else 0 for v in lists), dtype=np.int64, count=len(lists))
        values = np.fromiter(chain.from_iterable(v for v in lists if v), dtype=np.int64, count=int(sizes.sum()))
    else:
        sizes = np.fromiter((v.count(",") + 1 if v else 0 for v in lists), dtype=np.int64, count=len(lists))
        joined = ",".join(v for v in lists if v)
        values = np.array(joined.split(",") if joined else [], dtype=np.int64)
    table.answers = values
    table.answer_row = np.repeat(row_idx, sizes)
    # The rules' window: notices due = answered + never answered (disjoint by definition).
    answered, never, no_record = block[:, 1], block[:, 4], block[:, 6]
    in_window = np.fromiter((bool(row[2]) for row in rows), dtype=bool, count=len(rows))
    for i in np.flatnonzero(in_window & (((answered + never) > 0) | (no_record > 0))).tolist():
        w = window.setdefault(rows[i][0], WindowStats())
        a, nv, nr = int(answered[i]), int(never[i]), int(no_record[i])
        w.notices_due += a + nv
        w.answered += a
        w.never += nv
        w.no_record += nr


def _traceback_roles(cur: Any, since: datetime, table: MonthTable, window: dict[int, WindowStats]) -> None:
    t = _tables()
    mk = month_expr("t.created_at")
    illegal = f"(c.status = 'confirmed' OR {json_nonempty_expr('t.legal_basis')})"
    s = db_time(since)
    adds: list[tuple[int, int, int]] = []  # (row, slot, amount), applied in one numpy call
    for column, counter, campaigns, w_attr in (
        ("originating_provider_id", "originating", table.originating, "originating"),
        ("point_of_entry_provider_id", "point_of_entry", table.poe, "gateway"),
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
        row_of = table.row
        for pid, key, campaign_id, n, n_illegal, w_n, w_illegal in cur.fetchall():
            i = row_of(pid, key)
            adds.append((i, traced_i, int(n)))
            if n_illegal:
                adds.append((i, illegal_i, int(n_illegal)))
            if campaign_id is not None:
                campaigns.setdefault(i, set()).add(int(campaign_id))
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
        adds.append((table.row(pid, key), stopped, int(n)))
    table.grow()
    if adds:
        a = np.array(adds, dtype=np.int64)
        np.add.at(table.counts, (a[:, 0], a[:, 1]), a[:, 2])


def _group_medians(values: np.ndarray, groups: np.ndarray, n_groups: int) -> list[float | None]:
    """Exact median of `values` per group id (None for an empty group): one sort by
    (group, value), then the middle element(s) of each group's run."""
    out: list[float | None] = [None] * n_groups
    if not len(values):
        return out
    if values.min() >= 0 and values.max() < (1 << 31) and n_groups < (1 << 31):
        # One int64 key (group, value) sorts several times faster than a two-key lexsort.
        v = (np.sort((groups.astype(np.int64) << 32) | values) & 0xFFFFFFFF).astype(np.float64)
    else:
        v = values[np.lexsort((values, groups))].astype(np.float64)
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    has = np.flatnonzero(sizes)
    lo = starts[has] + (sizes[has] - 1) // 2
    hi = starts[has] + sizes[has] // 2
    med = (v[lo] + v[hi]) / 2
    for g, m in zip(has.tolist(), med.tolist(), strict=True):
        out[g] = round(m, 1)
    return out


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


Card = tuple[int, str, str, list[int], float | None, set[int], set[int]]


def collect(now: datetime | None = None, since: datetime | None = None) -> tuple[list[Card], dict[int, WindowStats]]:
    """Every scorecard as (provider id, period, period key, counts in COUNT_FIELDS order,
    median answer seconds, originating campaign ids, point-of-entry campaign ids), and each
    provider's figures since `since` (the rules' window), from the current tracebacks."""
    now = now or timezone.now()
    if since is None:
        from robotrace.providers.conf import Thresholds

        since = now - timedelta(days=Thresholds.from_env().window_days)
    table = MonthTable()
    window: dict[int, WindowStats] = {}
    with connection.cursor() as cur:
        _hop_counts(cur, now, since, table, window)
        _traceback_roles(cur, since, table, window)
    cards: list[Card] = []
    n = len(table.pids)
    if not n:
        return cards, window
    empty: set[int] = set()
    # Month level: the table itself.
    medians = _group_medians(table.answers, table.answer_row, n)
    counts = table.counts.tolist()
    for i in range(n):
        cards.append((table.pids[i], Period.MONTH, table.months[i], counts[i], medians[i], table.originating.get(i, empty), table.poe.get(i, empty)))
    # Quarters and all time: counts add up; medians are recomputed from the answer times.
    quarter_cache: dict[str, str] = {}
    for period in (Period.QUARTER, Period.ALL):
        group_of: dict[tuple[int, str], int] = {}
        gid = np.empty(n, dtype=np.int64)
        for i, (pid, month) in enumerate(zip(table.pids, table.months, strict=True)):
            if period == Period.QUARTER:
                key = quarter_cache.get(month)
                if key is None:
                    key = quarter_cache[month] = quarter_of(month)
            else:
                key = "all"
            gid[i] = group_of.setdefault((pid, key), len(group_of))
        g = len(group_of)
        sums = np.zeros((g, len(COUNT_FIELDS)), dtype=np.int64)
        np.add.at(sums, gid, table.counts)
        g_medians = _group_medians(table.answers, gid[table.answer_row], g)
        originating: dict[int, set[int]] = {}
        poe: dict[int, set[int]] = {}
        for source, target in ((table.originating, originating), (table.poe, poe)):
            for i, ids in source.items():
                target.setdefault(int(gid[i]), set()).update(ids)
        g_counts = sums.tolist()
        for (pid, key), j in group_of.items():
            cards.append((pid, period, key, g_counts[j], g_medians[j], originating.get(j, empty), poe.get(j, empty)))
    return cards, window


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
    # The same text json.dumps gives for a list of ints, without the encoder per call.
    return "[" + ", ".join(map(str, sorted(ids))) + "]" if ids else "[]"


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
    cards, window = collect(now, since)
    providers = dict(
        Provider.objects.exclude(status=Provider.Status.MERGED).values_list("id", "rmd_status")
    )
    signing = _signing_stats(list(providers))
    # Every registry provider gets an all-time row, even with no notices (RMD status alone
    # is part of the scorecard).
    with_all = {card[0] for card in cards if card[1] == Period.ALL}
    zero = [0] * len(COUNT_FIELDS)
    cards.extend((pid, Period.ALL, "all", zero, None, set(), set()) for pid in providers if pid not in with_all)
    columns = [
        "provider_id", "period", "period_key", "period_start", *COUNT_FIELDS, "median_answer_seconds",
        "originating_campaign_ids", "point_of_entry_campaign_ids", "attestation", "rmd_status", "computed_at",
    ]
    at = db_time(now)
    date_value = (lambda d: d) if connection.vendor == "postgresql" else (lambda d: d.isoformat() if d else None)
    starts: dict[tuple[str, str], Any] = {}
    rows: list[tuple[Any, ...]] = []
    for pid, period, key, counts, median, originating, poe in cards:
        if pid not in providers:
            continue  # a merged provider's hops are moved by the merge; skip stragglers
        start = starts.get((period, key), starts)
        if start is starts:
            start = starts[(period, key)] = date_value(period_start(period, key))
        rows.append((
            pid, str(period), key, start, *counts,
            median,
            _ids_json(originating), _ids_json(poe),
            json.dumps(signing[pid], default=str) if period == Period.ALL and pid in signing else "{}",
            providers[pid], at,
        ))
    with transaction.atomic():
        _write(rows, columns)
    return Result(providers=len(providers), rows=len(rows), seconds=round(time.perf_counter() - started, 3), window=window, since=since)
