"""A provider's call records and the answer they give to a hop request.

`load_records` reads them (CSV, SQLite or a PostgreSQL table), tolerating column names, clock
skew and number formats; `CallRecords.answer_for(hop)` is the body the agent posts:

- a record with an ingress trunk or upstream → `upstream`, naming the provider the trunk maps
  to (the `upstream_provider` column; `upstream_country` other than US → `foreign_upstream`);
- a record with a customer and no upstream → `originated`, with the customer;
- no record → `no_record`, saying how wide the search was.

The matching has no I/O of its own, so the simulator and the tests reuse it.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from robotrace.core.phones import national

# Column names a provider's export may use, by meaning.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "started_at", "call_started_at", "start_time", "timestamp", "date_time", "setup_time"),
    "from": ("from", "calling_number", "ani", "caller", "src", "from_number"),
    "to": ("to", "called_number", "dnis", "callee", "dst", "to_number"),
    "trunk": ("ingress_trunk", "trunk", "ingress", "upstream_trunk"),
    "upstream": ("upstream_provider", "upstream", "upstream_provider_name", "carrier_in"),
    "upstream_id": ("upstream_provider_id",),
    "upstream_country": ("upstream_country", "ingress_country"),
    "customer": ("customer", "customer_name", "account_name"),
    "customer_account": ("customer_account", "account_id", "customer_id"),
    "customer_address": ("customer_address",),
    "customer_phone": ("customer_phone",),
    "customer_email": ("customer_email",),
    "attest": ("attest", "attestation", "shaken_attest"),
}


def parse_time(value: str, default_zone: str = "UTC") -> datetime | None:
    """ISO 8601 (with or without offset, 'Z'), epoch seconds, or 'YYYY-MM-DD HH:MM:SS'."""
    from zoneinfo import ZoneInfo

    raw = (value or "").strip()
    if not raw:
        return None
    if raw.replace(".", "", 1).isdigit() and len(raw) >= 9:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y/%m/%d %H:%M:%S"):
            try:
                dt = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        else:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(default_zone))
    return dt.astimezone(UTC)


@dataclass
class CallRecord:
    at: datetime
    calling: str  # national digits
    called: str
    trunk: str = ""
    upstream: str = ""
    upstream_id: int | None = None
    upstream_country: str = ""
    customer: dict[str, str] = field(default_factory=dict)
    attest: str = ""


def _pick(row: dict[str, Any], meaning: str) -> str:
    for name in ALIASES[meaning]:
        value = row.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def record_from_row(row: dict[str, Any], *, default_zone: str = "UTC") -> CallRecord | None:
    row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    at = parse_time(_pick(row, "time"), default_zone)
    called = national(_pick(row, "to"))
    if at is None or not called:
        return None
    customer = {}
    if _pick(row, "customer"):
        customer["name"] = _pick(row, "customer")
        for key, meaning in (("account_id", "customer_account"), ("address", "customer_address"), ("phone", "customer_phone"), ("email", "customer_email")):
            if _pick(row, meaning):
                customer[key] = _pick(row, meaning)
    uid = _pick(row, "upstream_id")
    return CallRecord(
        at=at,
        calling=national(_pick(row, "from")),
        called=called,
        trunk=_pick(row, "trunk"),
        upstream=_pick(row, "upstream"),
        upstream_id=int(uid) if uid.isdigit() else None,
        upstream_country=_pick(row, "upstream_country").upper(),
        customer=customer,
        attest=_pick(row, "attest").upper()[:1],
    )


class CallRecords:
    """An in-memory index of call records by called number and time."""

    def __init__(self, records: Iterable[CallRecord] = (), *, skew: timedelta = timedelta(minutes=5)):
        self.skew = skew
        self._by_called: dict[str, list[CallRecord]] = defaultdict(list)
        self._sorted = True
        self.count = 0
        self._lock = threading.Lock()
        for r in records:
            self.add(r)

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._by_called[record.called].append(record)
            self._sorted = False
            self.count += 1

    def _ensure_sorted(self) -> None:
        if not self._sorted:
            for rows in self._by_called.values():
                rows.sort(key=lambda r: r.at)
            self._sorted = True

    def prune(self, *, before: datetime, since: datetime | None = None) -> int:
        """Forget records older than `before` (and not older than `since`): a long-running
        simulation keeps memory flat the way a provider's retention policy does."""
        removed = 0
        with self._lock:
            for called, rows in list(self._by_called.items()):
                keep = [r for r in rows if not (r.at < before and (since is None or r.at >= since))]
                removed += len(rows) - len(keep)
                if keep:
                    self._by_called[called] = keep
                else:
                    del self._by_called[called]
            self.count -= removed
        return removed

    def find(self, *, at: datetime, calling: str, called: str) -> CallRecord | None:
        """The record of this call: same called number, within the skew window, the calling
        number matching if any record's does, and the closest in time."""
        with self._lock:
            self._ensure_sorted()
            rows = self._by_called.get(national(called), [])
            times = [r.at for r in rows]
            lo, hi = bisect_left(times, at - self.skew), bisect_right(times, at + self.skew)
            window = rows[lo:hi]
        if not window:
            return None
        want = national(calling)
        same_caller = [r for r in window if r.calling == want]
        pool = same_caller or window
        return min(pool, key=lambda r: abs((r.at - at).total_seconds()))

    def answer_for(self, hop: dict[str, Any]) -> dict[str, Any]:
        """The API answer for a hop request (the JSON of GET /api/v1/hops/{id})."""
        call = hop["call"]
        if hop.get("kind") == "trace_forward" and call.get("callback_number"):
            return self._trace_forward(call["callback_number"])
        at = parse_time(call["started_at"]) or datetime.now(UTC)
        rec = self.find(at=at, calling=call.get("calling_number", ""), called=call["called_number"])
        if rec is None:
            minutes = int(self.skew.total_seconds() // 60)
            return {"response": "no_record", "no_record_reason": f"no call to {call['called_number']} within ±{minutes} min of {at:%Y-%m-%d %H:%M} UTC in our CDRs"}
        body: dict[str, Any] = {"attestation_seen": rec.attest} if rec.attest in ("A", "B", "C") else {}
        if rec.upstream or rec.upstream_id or rec.trunk:
            foreign = bool(rec.upstream_country) and rec.upstream_country != "US"
            body["response"] = "foreign_upstream" if foreign else "upstream"
            if rec.upstream_id:
                body["upstream_provider_id"] = rec.upstream_id
            body["upstream"] = rec.upstream or f"trunk {rec.trunk}"
            body["notes"] = f"ingress trunk {rec.trunk}" if rec.trunk else ""
            return body
        if rec.customer:
            return {**body, "response": "originated", "customer": rec.customer, "customer_action": "warned"}
        return {**body, "response": "no_record", "no_record_reason": "call found but neither the ingress nor the customer is recorded"}

    def _trace_forward(self, number: str) -> dict[str, Any]:
        # The holder of a callback number answers with the customer the number is assigned to:
        # any originated record whose calling number is that DID names that customer.
        want = national(number)
        with self._lock:
            for rows in self._by_called.values():
                for r in rows:
                    if r.calling == want and r.customer:
                        return {"response": "originated", "customer": r.customer, "customer_action": "suspended"}
        return {"response": "no_record", "no_record_reason": f"{number} is not assigned to a customer in our records"}


# --- record sources ----------------------------------------------------------------------


def load_records(source: str, *, skew_minutes: int = 5, default_zone: str = "UTC") -> CallRecords:
    """CSV path, sqlite:///path?table=T, or postgresql://…?table=T."""
    rows: Iterable[dict[str, Any]]
    if source.startswith("sqlite://"):
        parsed = urlparse(source)
        table = parse_qs(parsed.query).get("table", ["calls"])[0]
        _check_table(table)
        path = parsed.path if not parsed.netloc else f"/{parsed.netloc}{parsed.path}"
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in conn.execute(f'SELECT * FROM "{table}"')]  # noqa: S608 - name checked above
        finally:
            conn.close()
    elif source.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg.rows import dict_row

        parsed = urlparse(source)
        query = parse_qs(parsed.query)
        table = query.pop("table", ["calls"])[0]
        _check_table(table)
        dsn = parsed._replace(query="&".join(f"{k}={v[0]}" for k, v in query.items())).geturl()
        with psycopg.connect(dsn, row_factory=dict_row) as pg:
            rows = [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in pg.execute(f'SELECT * FROM "{table}"')]  # noqa: S608
    else:
        records_file = Path(source)
        if not records_file.exists():
            raise FileNotFoundError(f"call records file {source} does not exist")
        with records_file.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    records = CallRecords(skew=timedelta(minutes=skew_minutes))
    for row in rows:
        rec = record_from_row(row, default_zone=default_zone)
        if rec is not None:
            records.add(rec)
    return records


def _check_table(name: str) -> None:
    if not name.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"table name {name!r} is not a plain identifier")
