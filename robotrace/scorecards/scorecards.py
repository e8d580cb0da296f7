"""Provider scorecards, computed in bulk from tracebacks and hops.

One GROUP BY pass over the hops by (provider, month) gives every count, the answer times
for the medians and the rules' window figures with their evidence; one read of the
tracebacks gives the illegal-campaign roles. Quarters and all time are rolled up from the
months with numpy (counts add up; medians are recomputed from the answer times, because
medians do not add up). The result replaces the ProviderScorecard table in one
transaction, so pages read precomputed rows.

Definitions (the same everywhere, documented on the scorecard page):
- a notice is a hop request addressed to the provider (cancelled hops are not notices);
- answered on time: answered at or before the 24-hour clock's `due_at`; late: after it;
- never answered: unanswered and past `due_at`; open: unanswered, not yet due;
- answer time: whole seconds from receipt to answer; the median is over the answered hops;
- no-record share: "no record" answers over all answers;
- illegal campaign: the traceback's campaign is confirmed illegal, or the traceback itself
  carries a legal basis ("..._illegal"); "..._traced" counts every traceback naming the
  provider in that role (the consortium traces only calls it judged illegal), and the
  campaign lists cover those;
- customers warned / terminated: the provider's own answers that report the action
  (suspended counts as terminated, as the ITG's "warned or terminated" metric does).
"""

from __future__ import annotations

import functools
import json
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from robotrace.core.sql import db_time, month_key
from robotrace.providers import queries as registry
from robotrace.scorecards.conf import Thresholds
from robotrace.scorecards.models import Period, ProviderScorecard
from robotrace.shaken.facade import provider_signing_stats
from robotrace.tracebacks import queries as tracebacks
from robotrace.tracebacks.queries import FLAG_BITS, HOP_FLAGS, MONTH_BITS

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
IDX = {name: i for i, name in enumerate(COUNT_FIELDS)}

# A provider-month (tracebacks.queries.hop_columns) is one int64: provider id above
# MONTH_BITS bits of (year * 12 + month - 1).
MONTH_MASK = (1 << MONTH_BITS) - 1
NO_IDS = np.zeros(0, dtype=np.int64)


def period_start(period: str, key: str) -> date | None:
    if period == Period.MONTH:
        y, m = key.split("-")
        return date(int(y), int(m), 1)
    if period == Period.QUARTER:
        y, q = key.split("-Q")
        return date(int(y), (int(q) - 1) * 3 + 1, 1)
    return None


@dataclass
class WindowStats:
    """One provider's figures over the rules' look-back window (criteria.py), gathered in
    the same passes as the scorecards so the rules need no pass of their own, with the
    evidence: the tracebacks behind each figure."""

    notices_due: int = 0
    answered: int = 0
    never: int = 0
    no_record: int = 0
    originating: int = 0
    originating_illegal: int = 0
    gateway: int = 0
    gateway_illegal: int = 0
    # traceback id * 4 + 1 if never answered + 2 if "no record", one per hop in the window;
    # decoded only for the providers a rule names (hop_evidence()).
    hop_codes: list[np.ndarray] = field(default_factory=list)
    # Sorted traceback ids per role (all, and illegal only); lists are made only for the
    # providers a rule names.
    originating_ids: np.ndarray = field(default_factory=lambda: NO_IDS)
    originating_illegal_ids: np.ndarray = field(default_factory=lambda: NO_IDS)
    gateway_ids: np.ndarray = field(default_factory=lambda: NO_IDS)
    gateway_illegal_ids: np.ndarray = field(default_factory=lambda: NO_IDS)

    def hop_evidence(self) -> tuple[list[int], list[int], list[int]]:
        """(never answered, "no record", any notice) traceback ids, sorted and distinct."""
        if not self.hop_codes:
            return [], [], []
        # One sort: the codes order by traceback id, so every subset below is sorted too and
        # only needs its repeats dropped (np.unique would sort each of the three again).
        codes = np.sort(np.concatenate(self.hop_codes))
        ids = codes >> 2
        return (
            _distinct_sorted(ids[(codes & 1) == 1]).tolist(),
            _distinct_sorted(ids[(codes & 2) == 2]).tolist(),
            _distinct_sorted(ids).tolist(),
        )


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


@dataclass
class HopPass:
    keys: np.ndarray  # provider-month of each group (groups split at the window's start)
    counts: np.ndarray  # per group: notices, answered, on time, never, no record, warned, terminated
    answers: np.ndarray  # every answer time, flat
    answer_group: np.ndarray  # the group of each


# Small enough that the two connections get an even share of the work.
READ_CHUNK = 100_000


@dataclass
class ColumnsQuery:
    """An integer-column read (tracebacks.queries.ColumnsSql) done in id ranges."""

    table: str
    source: str  # FROM clause; its first alias owns the id that ranges split on
    exprs: list[str]
    where: str
    params: list[Any]

    @classmethod
    def of(cls, sql: tracebacks.ColumnsSql) -> ColumnsQuery:
        return cls(sql.table, sql.source, list(sql.exprs), sql.where, list(sql.params))

    def read(self, lo: int, hi: int) -> list[np.ndarray]:
        """Rows with lo <= id < hi as one int64 array per column: the database joins each
        column into one text (group_concat / string_agg) that numpy parses in place, so no
        Python object is made per row (a binary COPY hands Python one block per row) and
        memory stays bounded per range."""
        alias = self.source.split()[1]
        if connection.vendor == "postgresql":
            select = ", ".join(f"string_agg(({e})::text, ',')" for e in self.exprs)
        else:
            select = ", ".join(f"group_concat({e})" for e in self.exprs)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {select} FROM {self.source} WHERE ({self.where}) AND {alias}.id >= %s AND {alias}.id < %s",
                [*self.params, lo, hi],
            )
            texts = cur.fetchone()
        if not texts[0]:
            return [np.zeros(0, dtype=np.int64) for _ in self.exprs]
        return [np.fromstring(x, dtype=np.int64, sep=",") for x in texts]

    def ranges(self) -> list[tuple[int, int]]:
        with connection.cursor() as cur:
            cur.execute(f"SELECT MIN(id), MAX(id) FROM {self.table}")
            lo, hi = cur.fetchone()
        if lo is None:
            return []
        return [(start, start + READ_CHUNK) for start in range(lo, hi + 1, READ_CHUNK)]


def _in_own_connection(jobs: list[tuple[ColumnsQuery, int, int]]) -> list[list[np.ndarray]]:
    try:
        return [query.read(lo, hi) for query, lo, hi in jobs]
    finally:
        connections.close_all()  # this thread's connections only


def _read_columns(queries: list[ColumnsQuery]) -> list[list[np.ndarray]]:
    """Every query's columns. A database runs one aggregate on one core (PostgreSQL's
    parallel workers do not take string_agg); the id ranges are split between this thread
    and a second one on its own connection (readers do not block each other), so both cores
    read. Inside a transaction (tests, callers mid-change) another connection would not see
    its rows, so it reads alone."""
    jobs = [(q, lo, hi) for q in queries for lo, hi in q.ranges()]
    if connection.in_atomic_block or len(jobs) < 2:
        results = [q.read(lo, hi) for q, lo, hi in jobs]
    else:
        # Alternate ranges so both halves get a similar share of every table.
        mine, theirs = jobs[0::2], jobs[1::2]
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(_in_own_connection, theirs)
            first = [q.read(lo, hi) for q, lo, hi in mine]
            second = future.result()
        results = [None] * len(jobs)  # type: ignore[list-item]  # every slot is filled below
        results[0::2], results[1::2] = first, second
    out: list[list[np.ndarray]] = []
    for q in queries:
        parts = [r for (job_q, _, _), r in zip(jobs, results, strict=True) if job_q is q]
        if not parts:
            out.append([np.zeros(0, dtype=np.int64) for _ in q.exprs])
        else:
            out.append([np.concatenate(column) for column in zip(*parts, strict=True)])
    return out


# Above this many (provider, month, window) cells, group by sorting instead.
DENSE_CELLS = 1 << 24


def _group_keys(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for keys of provider << (MONTH_BITS + 1) |
    month-and-window, without sorting a million keys: the providers present are numbered
    densely, so each key is a cell of a providers x months grid that bincount fills (about
    ten times faster than the sort while the grid stays small)."""
    pids = values >> (MONTH_BITS + 1)
    rest = values & ((1 << (MONTH_BITS + 1)) - 1)
    lo_p, lo_r = int(pids.min()), int(rest.min())
    seen = np.zeros(int(pids.max()) - lo_p + 1, dtype=bool)
    seen[pids - lo_p] = True
    n_p, span = int(seen.sum()), int(rest.max()) - lo_r + 1
    if n_p * span > DENSE_CELLS:
        return np.unique(values, return_inverse=True)
    cell = (np.cumsum(seen) - 1)[pids - lo_p] * span + (rest - lo_r)
    present = np.bincount(cell, minlength=n_p * span) > 0
    group = (np.cumsum(present) - 1)[cell]
    pos = np.flatnonzero(present)
    keys = ((np.flatnonzero(seen) + lo_p)[pos // span] << (MONTH_BITS + 1)) | (pos % span + lo_r)
    return keys, group


def _hop_groups_from_columns(packed: np.ndarray, secs_all: np.ndarray, tb_all: np.ndarray) -> tuple[np.ndarray, ...]:
    if not len(packed):
        keys, group = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    else:
        keys, group = _group_keys(packed >> FLAG_BITS)
    m = len(keys)
    bits = packed & ((1 << FLAG_BITS) - 1)
    counts = np.empty((m, 1 + FLAG_BITS), dtype=np.int64)
    counts[:, 0] = np.bincount(group, minlength=m)
    for j in range(FLAG_BITS):
        counts[:, 1 + j] = np.bincount(group[((bits >> j) & 1).astype(bool)], minlength=m)
    answered = secs_all >= 0
    in_window = tb_all > 0
    codes = tb_all[in_window] * 4 + ((bits[in_window] >> 2) & 1) + 2 * ((bits[in_window] >> 3) & 1)
    return keys, counts, secs_all[answered], group[answered], codes, group[in_window]


def _hop_pass(groups: tuple[np.ndarray, ...], window: dict[int, WindowStats]) -> HopPass:
    keys, counts, answers, answer_group, codes, code_group = groups
    # The rules' window: each group splits at the window's start (only the month the window
    # starts in gets two parts), so the window figures are sums of the same counts; notices
    # due = answered + never answered (disjoint by definition).
    order = np.argsort(code_group, kind="stable")
    codes = codes[order]
    code_sizes = np.bincount(code_group, minlength=len(keys))
    code_ends = np.cumsum(code_sizes)
    for i in np.flatnonzero(keys & 1).tolist():
        w = window.setdefault(int(keys[i] >> (MONTH_BITS + 1)), WindowStats())
        answered, never, no_record = int(counts[i, 1]), int(counts[i, 3]), int(counts[i, 4])
        w.notices_due += answered + never
        w.answered += answered
        w.never += never
        w.no_record += no_record
        if code_sizes[i]:
            w.hop_codes.append(codes[code_ends[i] - code_sizes[i] : code_ends[i]])
    return HopPass(keys=keys >> 1, counts=counts, answers=np.maximum(answers, 0), answer_group=answer_group)


@dataclass
class TracebackPass:
    ids: np.ndarray
    originating: np.ndarray  # provider ids, 0 = none
    point_of_entry: np.ndarray
    non_responsive: np.ndarray
    month: np.ndarray
    campaign: np.ndarray  # 0 = none
    illegal: np.ndarray
    in_window: np.ndarray


def _traceback_pass(columns: list[np.ndarray], window: dict[int, WindowStats]) -> TracebackPass:
    tp = TracebackPass(*columns)
    for column, attr in ((tp.originating, "originating"), (tp.point_of_entry, "gateway")):
        sel = np.flatnonzero((column != 0) & (tp.in_window == 1))
        if not len(sel):
            continue
        order = sel[np.lexsort((tp.ids[sel], column[sel]))]
        pids = column[order]
        bounds = np.flatnonzero(np.diff(pids)) + 1
        for chunk in np.split(order, bounds):
            w = window.setdefault(int(column[chunk[0]]), WindowStats())
            ids = tp.ids[chunk]
            legal = ids[tp.illegal[chunk] == 1]
            setattr(w, attr, len(ids))
            setattr(w, f"{attr}_illegal", len(legal))
            setattr(w, f"{attr}_ids", ids)
            setattr(w, f"{attr}_illegal_ids", legal)
    return tp


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
    med = np.round((v[lo] + v[hi]) / 2, 1)
    for g, m in zip(has.tolist(), med.tolist(), strict=True):
        out[g] = m
    return out


def _id_lists(groups: np.ndarray, ids: np.ndarray, n_groups: int) -> list[str]:
    """Each group's distinct ids as the JSON list json.dumps would write ("[]" if none)."""
    out = ["[]"] * n_groups
    if not len(ids):
        return out
    order = np.lexsort((ids, groups))
    g, v = groups[order], ids[order]
    keep = np.ones(len(g), dtype=bool)
    keep[1:] = (g[1:] != g[:-1]) | (v[1:] != v[:-1])
    g, v = g[keep], v[keep]
    bounds = np.flatnonzero(np.diff(g)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(g)]
    values = v.tolist()
    for group, s, e in zip(g[starts].tolist(), starts, ends, strict=True):
        out[group] = "[" + ", ".join(map(str, values[s:e])) + "]"
    return out


@dataclass
class Level:
    """The scorecards of one period kind, as parallel columns."""

    period: str
    pids: np.ndarray
    keys: list[str]
    counts: np.ndarray  # one row per scorecard, COUNT_FIELDS order
    medians: list[float | None]
    originating: list[str]
    point_of_entry: list[str]


@dataclass
class MonthTable:
    """Every provider-month's counts, with the answer times and campaigns that quarters and
    all time are rolled up from."""

    keys: np.ndarray  # provider id << MONTH_BITS | month number, sorted
    counts: np.ndarray  # one row per key, COUNT_FIELDS order
    answers: np.ndarray
    answer_row: np.ndarray
    campaigns: dict[str, tuple[np.ndarray, np.ndarray]]  # role -> (row, campaign id) pairs


def _month_table(now: datetime, since: datetime) -> tuple[MonthTable, dict[int, WindowStats]]:
    window: dict[int, WindowStats] = {}
    hop_columns, tb_columns = _read_columns(
        [ColumnsQuery.of(tracebacks.hop_columns(now=now, since=since)), ColumnsQuery.of(tracebacks.traceback_role_columns(since=since))]
    )
    hp = _hop_pass(_hop_groups_from_columns(*hop_columns), window)
    tp = _traceback_pass(tb_columns, window)
    roles = ((tp.originating, "originating"), (tp.point_of_entry, "point_of_entry"), (tp.non_responsive, None))
    role_keys = [(column << MONTH_BITS) | tp.month for column, _ in roles]
    role_rows = [column != 0 for column, _ in roles]
    keys = np.unique(np.concatenate([hp.keys, *(k[m] for k, m in zip(role_keys, role_rows, strict=True))]))
    n = len(keys)
    counts = np.zeros((n, len(COUNT_FIELDS)), dtype=np.int64)
    hop_row = np.searchsorted(keys, hp.keys)
    slots = [IDX[x] for x in ("notices", *HOP_FLAGS)]  # the columns of hp.counts
    for j, slot in enumerate(slots):
        counts[:, slot] = np.bincount(hop_row, weights=hp.counts[:, j], minlength=n).astype(np.int64)
    counts[:, IDX["answered_late"]] = counts[:, IDX["answered"]] - counts[:, IDX["answered_on_time"]]
    counts[:, IDX["open_notices"]] = counts[:, IDX["notices"]] - counts[:, IDX["answered"]] - counts[:, IDX["never_answered"]]
    campaigns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for (_, name), k, m in zip(roles, role_keys, role_rows, strict=True):
        row = np.searchsorted(keys, k[m])
        if name is None:
            counts[:, IDX["chain_stopped"]] = np.bincount(row, minlength=n)
            continue
        counts[:, IDX[f"{name}_traced"]] = np.bincount(row, minlength=n)
        counts[:, IDX[f"{name}_illegal"]] = np.bincount(row, weights=tp.illegal[m], minlength=n).astype(np.int64)
        with_campaign = tp.campaign[m] != 0
        campaigns[name] = (row[with_campaign], tp.campaign[m][with_campaign])
    table = MonthTable(keys=keys, counts=counts, answers=hp.answers, answer_row=hop_row[hp.answer_group], campaigns=campaigns)
    return table, window


def _level(table: MonthTable, period: str) -> Level:
    """One period kind's scorecards from the months: counts add up; medians are recomputed
    from the answer times; campaign lists are unions."""
    keys, n = table.keys, len(table.keys)
    pids = keys >> MONTH_BITS
    if period == Period.MONTH:
        gid, g = np.arange(n), n
        group_keys = keys
    else:
        sub = (keys & MONTH_MASK) // 3 if period == Period.QUARTER else np.zeros(n, dtype=np.int64)
        group_keys, gid = np.unique((pids << MONTH_BITS) | sub, return_inverse=True)
        g = len(group_keys)
    if period == Period.MONTH:
        sums = table.counts
    else:
        sums = np.zeros((g, len(COUNT_FIELDS)), dtype=np.int64)
        np.add.at(sums, gid, table.counts)
    labels = {
        x: (month_key(x) if period == Period.MONTH else f"{x // 4:04d}-Q{x % 4 + 1}" if period == Period.QUARTER else "all")
        for x in np.unique(group_keys & MONTH_MASK).tolist()
    }
    originating, poe = table.campaigns["originating"], table.campaigns["point_of_entry"]
    return Level(
        period=period,
        pids=group_keys >> MONTH_BITS,
        keys=[labels[x] for x in (group_keys & MONTH_MASK).tolist()],
        counts=sums,
        medians=_group_medians(table.answers, gid[table.answer_row], g),
        originating=_id_lists(gid[originating[0]], originating[1], g),
        point_of_entry=_id_lists(gid[poe[0]], poe[1], g),
    )


def _window_start(now: datetime, since: datetime | None) -> datetime:
    if since is not None:
        return since
    return now - timedelta(days=Thresholds.from_env().window_days)


def collect(now: datetime | None = None, since: datetime | None = None) -> tuple[list[Level], dict[int, WindowStats]]:
    """Every scorecard, month, quarter and all time, and each provider's figures since
    `since` (the rules' window), from the current hops and tracebacks."""
    now = now or timezone.now()
    table, window = _month_table(now, _window_start(now, since))
    if not len(table.keys):
        return [], window
    return [_level(table, period) for period in (Period.MONTH, Period.QUARTER, Period.ALL)], window


def _signing_stats(provider_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Attestation on traced calls each provider signed, from the STIR/SHAKEN app. A fault
    there raises rather than silently dropping the columns from every scorecard."""
    return provider_signing_stats(provider_ids=provider_ids)


@dataclass
class Result:
    providers: int
    rows: int
    seconds: float
    window: dict[int, WindowStats] = field(default_factory=dict)
    since: datetime | None = None
    during: Any = None  # what compute_all's while_writing returned


SCORECARD_COLUMNS = [
    "provider_id", "period", "period_key", "period_start", *COUNT_FIELDS, "median_answer_seconds",
    "originating_campaign_ids", "point_of_entry_campaign_ids", "attestation", "rmd_status", "computed_at",
]


# A chunk of scorecards as columns in SCORECARD_COLUMNS order: numpy arrays for the
# counts and provider ids, lists for the rest (None for NULL).
Columns = list[Any]


@functools.cache
def _small_numbers() -> np.ndarray:
    return np.array([str(i) for i in range(1 << 16)], dtype=object)


def _texts(values: np.ndarray) -> list[str]:
    """str() of each integer, looked up instead of formatted (a tenth of the cost of str()
    per value, which the COPY text of 68,000 rows x 15 integers would spend): counts from a
    table of small numbers, anything else by formatting each distinct value once."""
    if not len(values):
        return []
    if values.min() >= 0 and values.max() < (1 << 16):
        return _small_numbers()[values].tolist()
    distinct, index = np.unique(values, return_inverse=True)
    return np.array(list(map(str, distinct.tolist())), dtype=object)[index].tolist()


def _copy_text(columns: Columns) -> str:
    """The chunk in COPY's text format: _columns gives every text column as str (or None)
    already, so only the integers and the medians are converted here. Only the
    attestation JSON can hold a backslash (its string escapes); the other text columns are
    codes, labels, dates and lists of integers."""
    cells: list[list[str]] = []
    for name, column in zip(SCORECARD_COLUMNS, columns, strict=True):
        if isinstance(column, np.ndarray):
            cells.append(_texts(column))
        elif name == "median_answer_seconds":
            cells.append([r"\N" if x is None else str(x) for x in column])
        elif name == "attestation":
            cells.append([x.replace("\\", "\\\\") if "\\" in x else x for x in column])
        elif None in column:
            cells.append([r"\N" if x is None else x for x in column])
        else:
            cells.append(column)
    return "".join(line + "\n" for line in map("\t".join, zip(*cells, strict=True)))


def _insert(columns: Columns) -> None:
    """Plain multi-row inserts (COPY on PostgreSQL, its text built column by column): the
    ORM's bulk_create spends most of its time preparing values we already have in db
    form, and psycopg's write_row formats one row at a time."""
    table = ProviderScorecard._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({', '.join(SCORECARD_COLUMNS)}) FROM STDIN") as copy:
                copy.write(_copy_text(columns))
        else:
            rows = list(zip(*(c.tolist() if isinstance(c, np.ndarray) else c for c in columns), strict=True))
            sql = f"INSERT INTO {table} ({', '.join(SCORECARD_COLUMNS)}) VALUES ({', '.join(['%s'] * len(SCORECARD_COLUMNS))})"
            for start in range(0, len(rows), 5000):
                cur.executemany(sql, rows[start : start + 5000])


_DONE = object()


# How long the rewrite waits for readers before it empties the table row by row instead.
TRUNCATE_LOCK_TIMEOUT = "2s"


def _empty_table(cur: Any, *, exclusive: bool) -> None:
    """Remove the previous scorecards inside the rewrite's transaction.

    On PostgreSQL a DELETE leaves every old row in the unique index until commit, and each
    new row's uniqueness check then visits the dead ones: TRUNCATE (new, empty files,
    dropped again on rollback) makes the rewrite's COPY about a third cheaper. It locks the
    table against readers until commit, so it is only taken in the rewrite's own short
    transaction (`exclusive`), and given up for DELETE if a reader holds the table longer
    than TRUNCATE_LOCK_TIMEOUT. Pages then wait for the commit instead of reading the old
    rows; a concurrent rewrite waits for the first one instead of failing on the index."""
    table = ProviderScorecard._meta.db_table
    if exclusive and connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                cur.execute(f"SET LOCAL lock_timeout = '{TRUNCATE_LOCK_TIMEOUT}'")
                cur.execute(f"TRUNCATE {table}")
                cur.execute("SET LOCAL lock_timeout = DEFAULT")
            return
        except OperationalError:
            pass  # lock_timeout: the savepoint rolled back; fall through to DELETE
    cur.execute(f"DELETE FROM {table}")


def _write_from_queue(batches: queue.Queue[Any], *, exclusive: bool = False) -> None:
    """Replace the scorecard table in one transaction, one batch of rows at a time as the
    caller computes them. A batch that is an exception rolls everything back. The old
    rows are removed when the first batch is ready, so a TRUNCATE's lock is held only
    while rows are written."""
    batch = batches.get()
    if isinstance(batch, BaseException):
        raise batch
    with transaction.atomic():
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # Derived data, recomputed by the next run: the commit need not wait for its
                # ~20 MB of WAL to reach the disk (a crash right after it keeps the previous
                # scorecards, never a partial table). Nothing else commits in this transaction.
                cur.execute("SET LOCAL synchronous_commit = off")
            _empty_table(cur, exclusive=exclusive)
        while batch is not _DONE:
            if isinstance(batch, BaseException):
                raise batch
            _insert(batch)
            batch = batches.get()


def _write_in_own_connection(batches: queue.Queue[Any]) -> None:
    try:
        _write_from_queue(batches, exclusive=True)
    finally:
        connections.close_all()  # this thread's connections only


ROW_BATCH = 8_000


def _columns(
    level: Level, providers: dict[int, str], signing: dict[int, dict[str, Any]], at: Any, with_all: set[int]
) -> Iterator[Columns]:
    """The level's table rows as columns, in chunks, so the writer starts on the first
    while the rest are built."""
    pids, counts, medians, originating, poe, keys = (
        level.pids, level.counts, level.medians, level.originating, level.point_of_entry, level.keys
    )
    pid_list = pids.tolist()
    rmd = [providers.get(pid) for pid in pid_list]
    if None in rmd:
        # A merged provider's hops are moved by the merge; skip stragglers.
        keep = [i for i, status in enumerate(rmd) if status is not None]
        pids, counts = pids[keep], counts[keep]
        pid_list, rmd = pids.tolist(), [rmd[i] for i in keep]
        medians, originating, poe, keys = ([column[i] for i in keep] for column in (medians, originating, poe, keys))  # type: ignore[assignment]  # each column keeps its own type
    starts: dict[str, str | None] = {}
    for key in set(keys):
        day = period_start(level.period, key)
        starts[key] = None if day is None else day.isoformat()
    n = len(pid_list)
    attestation = ["{}"] * n
    if level.period == Period.ALL:
        with_all.update(pid_list)
        attestation = [json.dumps(signing[pid], default=str) if pid in signing else "{}" for pid in pid_list]
    columns: Columns = [
        pids, [str(level.period)] * n, keys, [starts[key] for key in keys], *counts.T, medians, originating, poe,
        attestation, rmd, [at] * n,
    ]  # `at` is text: COPY takes it as it is, and so does SQLite
    for start in range(0, n, ROW_BATCH):
        yield [column[start : start + ROW_BATCH] for column in columns]


def compute_all(
    *, now: datetime | None = None, since: datetime | None = None, while_writing: Callable[[dict[int, WindowStats]], Any] | None = None
) -> Result:
    """Recompute every scorecard. Safe to run while pages read: the swap is one
    transaction (on PostgreSQL pages wait for its commit while the rows are written,
    about half a second; see _empty_table).

    `while_writing(window)` runs once every row is computed, while the last ones are
    still being written (criteria.refresh evaluates the rules there); its result is
    Result.during. It is not run if computing the rows failed.

    Outside a transaction the rows are written on a second connection while the next period
    kind is computed (SQLite and PostgreSQL do the insert work without holding Python's
    lock); inside one (tests, a caller mid-change) they are written on the caller's
    connection at the end."""
    started = time.perf_counter()
    now = now or timezone.now()
    since = _window_start(now, since)
    table, window = _month_table(now, since)
    providers = registry.rmd_statuses()
    at = str(db_time(now))
    batches: queue.Queue[Any] = queue.Queue()
    background = not connection.in_atomic_block
    pool = ThreadPoolExecutor(max_workers=1) if background else None
    writer = pool.submit(_write_in_own_connection, batches) if pool else None
    n_rows, computed, during = 0, False, None
    try:
        with_all: set[int] = set()
        periods = (Period.MONTH, Period.QUARTER, Period.ALL) if len(table.keys) else ()
        signing: dict[int, dict[str, Any]] = {}  # only all-time rows carry the attestation
        for period in periods:
            if period == Period.ALL:
                signing = _signing_stats(list(providers))  # read while the months are written
            for chunk in _columns(_level(table, period), providers, signing, at, with_all):
                n_rows += len(chunk[0])
                batches.put(chunk)
        if not periods:
            signing = _signing_stats(list(providers))
        # Every registry provider gets an all-time row, even with no notices (RMD status
        # alone is part of the scorecard).
        quiet = np.array([pid for pid in providers if pid not in with_all], dtype=np.int64)
        m = len(quiet)
        empty = Level(
            period=Period.ALL, pids=quiet, keys=["all"] * m, counts=np.zeros((m, len(COUNT_FIELDS)), dtype=np.int64),
            medians=[None] * m, originating=["[]"] * m, point_of_entry=["[]"] * m,
        )
        for chunk in _columns(empty, providers, signing, at, with_all):
            n_rows += len(chunk[0])
            batches.put(chunk)
        if not n_rows:
            batches.put([[] for _ in SCORECARD_COLUMNS])  # the writer empties the table on its first chunk
        batches.put(_DONE)
        computed = True
    except BaseException as error:
        batches.put(error)
        raise
    finally:
        if writer is not None and pool is not None:
            try:
                # The rows are still being written: the caller's follow-up (the rules) runs
                # meanwhile. The writer is awaited whatever it does.
                during = while_writing(window) if while_writing is not None and computed else None
            finally:
                try:
                    writer.result()
                finally:
                    pool.shutdown()
    if writer is None:
        _write_from_queue(batches)
        during = while_writing(window) if while_writing is not None else None
    return Result(
        providers=len(providers), rows=n_rows, seconds=round(time.perf_counter() - started, 3), window=window,
        since=since, during=during,
    )
