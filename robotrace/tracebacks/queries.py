"""Reads for the tracebacks app. Providers only ever get their own hops from here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from robotrace.core.sql import db_time, full_scan, json_nonempty_expr, month_number_expr
from robotrace.tracebacks.models import Hop, Traceback, TracebackEvent

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation

OPEN = (Hop.Status.REQUESTED, Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE)


def hops_for_provider(org: Organisation, *, open_only: bool = True) -> QuerySet[Hop]:
    """The organisation's own hop requests (never anyone else's)."""
    qs = Hop.objects.for_org(org).filter(provider__organisation=org) if not org.is_consortium else Hop.objects.for_org(org)
    if open_only:
        qs = qs.filter(status__in=OPEN)
    return qs.select_related("traceback", "provider", "named_by")


def own_hop(org: Organisation, hop_id: int) -> Hop | None:
    if not org.is_provider:
        return None
    return hops_for_provider(org, open_only=False).filter(id=hop_id).first()


def tracebacks_for(org: Organisation) -> QuerySet[Traceback]:
    """Tracebacks an organisation may read in full: consortium all, agencies their entitled ones.
    Providers never read whole tracebacks (they read their hop)."""
    if org.is_provider or org.is_reporter:
        return Traceback.objects.none()
    return Traceback.objects.for_org(org).distinct()


def board_stats(org: Organisation) -> dict[str, Any]:
    now = timezone.now()
    tbs = Traceback.objects.for_org(org)
    hops = Hop.objects.for_org(org)
    open_tbs = tbs.filter(status=Traceback.Status.IN_PROGRESS)
    day = now - timedelta(hours=24)
    return {
        "open": open_tbs.count(),
        "overdue_hops": hops.filter(status=Hop.Status.OVERDUE).count(),
        "non_responsive_hops": hops.filter(status=Hop.Status.NON_RESPONSIVE).count(),
        "due_soon": hops.filter(status=Hop.Status.REQUESTED, due_at__lte=now + timedelta(hours=4)).count(),
        "completed_24h": tbs.filter(status=Traceback.Status.COMPLETED, completed_at__gte=day).count(),
        "shaken_mismatch": tbs.filter(shaken_mismatch=True).count(),
    }


def outcome_counts(org: Organisation) -> list[tuple[str, str, int]]:
    rows = dict(Traceback.objects.for_org(org).values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    return [(value, label, rows.get(value, 0)) for value, label in Traceback.Outcome.choices]


def open_by_provider(org: Organisation, limit: int = 15) -> list[dict[str, Any]]:
    return list(
        Hop.objects.for_org(org).filter(status__in=OPEN).values("provider_id", "provider__name")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(status__in=[Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE])))
        .order_by("-overdue", "-open")[:limit]
    )


def open_by_campaign(org: Organisation, limit: int = 15) -> list[dict[str, Any]]:
    return list(
        Traceback.objects.for_org(org).filter(campaign__isnull=False).values("campaign_id", "campaign__name")
        .annotate(open=Count("id", filter=Q(status=Traceback.Status.IN_PROGRESS)), total=Count("id"),
                  completed=Count("id", filter=Q(status=Traceback.Status.COMPLETED)))
        .order_by("-open", "-total")[:limit]
    )


def escalations(org: Organisation, limit: int = 20) -> QuerySet[Hop]:
    return Hop.objects.for_org(org).filter(status__in=[Hop.Status.OVERDUE, Hop.Status.NON_RESPONSIVE]).select_related(
        "traceback", "provider").order_by("due_at")[:limit]


def timeline(tb: Traceback) -> QuerySet[TracebackEvent]:
    return tb.events.all()


def chain(tb: Traceback) -> list[Hop]:
    """The hop path in order, the parallel signer request last."""
    # Sorted here, so no ORDER BY: the model's default ordering goes through the traceback's
    # own ordering, which costs a join and most of the query's compile time.
    hops = list(tb.hops.select_related("provider", "upstream_provider", "named_by").order_by())
    path = [h for h in hops if not (h.is_direct_signer_request and h.named_by_id is None)]
    parallel = [h for h in hops if h.is_direct_signer_request and h.named_by_id is None]
    return sorted(path, key=lambda h: h.sequence) + parallel


# --- Bulk reads for provider scorecards and the non-cooperation rules ------------------------
# Passes over every hop and traceback, written as SQL because per-row objects would cost more
# than the work (scorecards app: about 1M hops per run). The scorecards app reads them only
# through these functions; what each returns is spelled out in its docstring.


@dataclass(frozen=True)
class ColumnsSql:
    """An integer-column read: SELECT `exprs` FROM `source` WHERE `where` (with `params`),
    split into ranges of the id of `source`'s first alias (a row of `table`)."""

    table: str
    source: str
    exprs: tuple[str, ...]
    where: str
    params: tuple[Any, ...]


# The flag bits of hop_columns' key, lowest first after the window bit.
HOP_FLAGS = ("answered", "answered_on_time", "never_answered", "no_record", "customers_warned", "customers_terminated")
FLAG_BITS = len(HOP_FLAGS)
# A provider-month is one int64: provider id above MONTH_BITS bits of (year * 12 + month - 1).
MONTH_BITS = 18
# The provider columns of a traceback that name a provider in a role.
ROLE_COLUMNS = ("originating_provider_id", "point_of_entry_provider_id", "non_responsive_provider_id")


def _tables() -> dict[str, str]:
    campaign = Traceback._meta.get_field("campaign").related_model
    return {"hop": Hop._meta.db_table, "tb": Traceback._meta.db_table, "campaign": campaign._meta.db_table}  # type: ignore[union-attr]  # a foreign key's model is never None


def illegal_traceback_expr() -> str:
    """SQL: the traceback `t` (its campaign joined as `c`) is of an illegal campaign: the
    campaign is confirmed illegal, or the traceback itself carries a legal basis."""
    return f"(c.status = 'confirmed' OR {json_nonempty_expr('t.legal_basis')})"


def _illegal(confirmed_only: bool) -> str:
    return illegal_traceback_expr() if confirmed_only else "1 = 1"


def hop_columns(*, now: datetime, since: datetime) -> ColumnsSql:
    """Every hop that is a notice (not cancelled) as three integers:
    1. ((((provider << MONTH_BITS | month number) << 1 | received since `since`) << FLAG_BITS) | flags),
       the flags being HOP_FLAGS (bit 0 first) as of `now`;
    2. the answer time in whole seconds, -1 if unanswered;
    3. its traceback if received since `since`, else 0."""
    t = _tables()
    n, s = db_time(now), db_time(since)
    mn = month_number_expr("h.received_at")
    if connection.vendor == "postgresql":
        as_int, on_time = "::int", "COALESCE(h.answered_at <= h.due_at, false)::int"
        # Not COALESCE(GREATEST(...)): GREATEST ignores NULLs, so an unanswered hop would read 0.
        secs = "CASE WHEN h.answered_at IS NULL THEN -1 ELSE GREATEST(ROUND(date_part('epoch', h.answered_at - h.received_at)), 0)::bigint END"
    else:
        as_int, on_time = "", "((h.answered_at <= h.due_at) IS 1)"
        secs = "COALESCE(MAX(CAST(ROUND((julianday(h.answered_at) - julianday(h.received_at)) * 86400.0) AS INTEGER), 0), -1)"
    flags = " | ".join([
        f"(h.answered_at IS NOT NULL){as_int}",
        f"({on_time} << 1)",
        f"((h.answered_at IS NULL AND h.due_at < %s){as_int} << 2)",
        f"((h.response = 'no_record'){as_int} << 3)",
        f"((h.customer_action = 'warned'){as_int} << 4)",
        f"((h.customer_action IN ('terminated', 'suspended')){as_int} << 5)",
    ])
    key = f"((((((h.provider_id << {MONTH_BITS}) | {mn}) << 1) | (h.received_at >= %s){as_int}) << {FLAG_BITS}) | {flags})"
    in_window_tb = "CASE WHEN h.received_at >= %s THEN h.traceback_id ELSE 0 END"
    return ColumnsSql(t["hop"], full_scan(t["hop"], "h"), (key, secs, in_window_tb), "h.status <> 'cancelled'", (s, n, s))


def traceback_role_columns(*, since: datetime) -> ColumnsSql:
    """Every traceback (not cancelled) that names a provider in a role, read once: id, the
    three ROLE_COLUMNS (0 for none), month number of creation, campaign (0 for none), 1 if
    of an illegal campaign (illegal_traceback_expr), 1 if created since `since`."""
    t = _tables()
    illegal = illegal_traceback_expr()
    columns = (
        "t.id", "COALESCE(t.originating_provider_id, 0)", "COALESCE(t.point_of_entry_provider_id, 0)",
        "COALESCE(t.non_responsive_provider_id, 0)", month_number_expr("t.created_at"), "COALESCE(t.campaign_id, 0)",
        f"CASE WHEN {illegal} THEN 1 ELSE 0 END", "CASE WHEN t.created_at >= %s THEN 1 ELSE 0 END",
    )
    where = (
        "t.status <> 'cancelled' AND (t.originating_provider_id IS NOT NULL"
        " OR t.point_of_entry_provider_id IS NOT NULL OR t.non_responsive_provider_id IS NOT NULL)"
    )
    source = f"{full_scan(t['tb'], 't')} LEFT JOIN {t['campaign']} c ON c.id = t.campaign_id"
    return ColumnsSql(t["tb"], source, columns, where, (db_time(since),))


@dataclass(frozen=True)
class HopCounts:
    """One provider's notices received since a date, as of a moment."""

    notices_due: int  # answered, or unanswered past due
    answered: int
    never: int  # unanswered past due
    no_record: int


def hop_counts_by_provider(*, since: datetime, now: datetime) -> dict[int, HopCounts]:
    t = _tables()
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT h.provider_id,
                   SUM(CASE WHEN h.answered_at IS NOT NULL OR h.due_at < %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at IS NOT NULL THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.answered_at IS NULL AND h.due_at < %s THEN 1 ELSE 0 END),
                   SUM(CASE WHEN h.response = 'no_record' THEN 1 ELSE 0 END)
            FROM {t['hop']} h
            WHERE h.status <> 'cancelled' AND h.received_at >= %s
            GROUP BY h.provider_id
            """,
            [db_time(now), db_time(now), db_time(since)],
        )
        return {pid: HopCounts(int(a or 0), int(b or 0), int(c or 0), int(d or 0)) for pid, a, b, c, d in cur.fetchall()}


def _role_column(column: str) -> str:
    if column not in ROLE_COLUMNS:
        raise ValueError(f"not a provider role of a traceback: {column}")
    return column


def role_counts(*, column: str, since: datetime, confirmed_only: bool) -> dict[int, int]:
    """Tracebacks (not cancelled) created since `since` per provider named in `column` (one of
    ROLE_COLUMNS), of illegal campaigns only if `confirmed_only`."""
    t, column = _tables(), _role_column(column)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT t.{column}, COUNT(*)
            FROM {t['tb']} t LEFT JOIN {t['campaign']} c ON c.id = t.campaign_id
            WHERE t.{column} IS NOT NULL AND t.status <> 'cancelled' AND t.created_at >= %s
              AND {_illegal(confirmed_only)}
            GROUP BY t.{column}
            """,
            [db_time(since)],
        )
        return {pid: int(n) for pid, n in cur.fetchall()}


def _in_clause(ids: list[int]) -> str:
    # Ids are integers; inlining them avoids the parameter limits of SQLite.
    return ",".join(str(int(i)) for i in ids) or "NULL"


def _tracebacks_by_provider(provider_ids: list[int], sql: Callable[[str], str], params: list[Any]) -> dict[int, list[int]]:
    """The (provider id, traceback id) rows of `sql`, grouped by provider in the order the
    query returns them. `sql` takes the providers' inlined id list and is run for 500
    providers at a time, so each query stays an index walk of a bounded size."""
    out: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cur:
        for start in range(0, len(provider_ids), 500):
            cur.execute(sql(_in_clause(provider_ids[start : start + 500])), params)
            for pid, tid in cur.fetchall():
                out[pid].append(int(tid))
    return out


# Which notices hop_evidence returns.
HOP_EVIDENCE = {
    "never": ("h.answered_at IS NULL AND h.due_at < %s", True),  # never answered (past due at `now`)
    "no_record": ("h.response = 'no_record'", False),
    "any": ("1 = 1", False),
}


def hop_evidence(*, provider_ids: list[int], kind: str, since: datetime, now: datetime) -> dict[int, list[int]]:
    """The tracebacks (sorted, distinct) of each provider's notices since `since` of the
    HOP_EVIDENCE `kind`, by an index walk per provider: for a few providers."""
    if not provider_ids:
        return {}
    condition, uses_now = HOP_EVIDENCE[kind]
    params = [db_time(now)] if uses_now else []
    t = _tables()
    return _tracebacks_by_provider(
        provider_ids,
        lambda ids: f"""
            SELECT DISTINCT h.provider_id, h.traceback_id FROM {t['hop']} h
            WHERE h.provider_id IN ({ids}) AND h.status <> 'cancelled'
              AND h.received_at >= %s AND {condition}
            ORDER BY h.provider_id, h.traceback_id
            """,
        [db_time(since), *params],
    )


def hop_evidence_scan(
    *, since: datetime, now: datetime, never_ids: set[int], no_record_ids: set[int], any_ids: set[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]], dict[int, list[int]]]:
    """hop_evidence's "never", "no_record" and "any" for the providers of each set, in one scan
    of the notices since `since`: for many providers (a first run over a long history)."""
    t = _tables()
    never: dict[int, set[int]] = defaultdict(set)
    no_record: dict[int, set[int]] = defaultdict(set)
    anything: dict[int, set[int]] = defaultdict(set)
    with connection.cursor() as cur:
        cur.execute(
            f"""
            SELECT h.provider_id, h.traceback_id,
                   CASE WHEN h.answered_at IS NULL AND h.due_at < %s THEN 1 ELSE 0 END,
                   CASE WHEN h.response = 'no_record' THEN 1 ELSE 0 END
            FROM {full_scan(t['hop'], 'h')}
            WHERE h.status <> 'cancelled' AND h.received_at >= %s
            """,
            [db_time(now), db_time(since)],
        )
        while True:
            rows = cur.fetchmany(50_000)
            if not rows:
                break
            for pid, tid, is_never, is_no_record in rows:
                if is_never and pid in never_ids:
                    never[pid].add(tid)
                if is_no_record and pid in no_record_ids:
                    no_record[pid].add(tid)
                if pid in any_ids:
                    anything[pid].add(tid)
    return (
        {k: sorted(v) for k, v in never.items()},
        {k: sorted(v) for k, v in no_record.items()},
        {k: sorted(v) for k, v in anything.items()},
    )


def role_evidence(*, column: str, provider_ids: list[int], since: datetime, confirmed_only: bool) -> dict[int, list[int]]:
    """The tracebacks role_counts counted, sorted, for the given providers."""
    if not provider_ids:
        return {}
    t, column = _tables(), _role_column(column)
    return _tracebacks_by_provider(
        provider_ids,
        lambda ids: f"""
            SELECT t.{column}, t.id FROM {t['tb']} t LEFT JOIN {t['campaign']} c ON c.id = t.campaign_id
            WHERE t.{column} IN ({ids}) AND t.status <> 'cancelled' AND t.created_at >= %s
              AND {_illegal(confirmed_only)}
            ORDER BY t.{column}, t.id
            """,
        [db_time(since)],
    )


def notice_history(provider_id: int) -> list[dict[str, Any]]:
    """Every traceback notice (hop request, cancelled ones aside) the provider received,
    oldest first, with the campaign it concerned: the exhibit showing it was on notice."""
    hops = (
        Hop.objects.unscoped(reason="notice-history letter for one provider")
        .filter(provider_id=provider_id)
        .exclude(status="cancelled")
        .select_related("traceback", "traceback__campaign")
        .order_by("received_at", "id")
    )
    out = []
    for h in hops.iterator(chunk_size=2000):
        tb = h.traceback
        out.append(
            {
                "traceback": tb.ref,
                "received_at": h.received_at,
                "due_at": h.due_at,
                "answered_at": h.answered_at,
                "status": h.get_status_display(),
                "response": h.get_response_display() if h.response else "",
                "call_at": tb.call_started_at,
                "campaign": f"{tb.campaign.ref} {tb.campaign.name}" if tb.campaign_id else "",
            }
        )
    return out


# --- What a traceback found, for subscribers of traceback events (tracebacks.events) ---------


@dataclass(frozen=True)
class Outcome:
    """A traceback's result as plain values. Provider and customer are names ("" when none);
    `status` and `outcome` are the model's choice values, `outcome_label` its wording."""

    id: int
    ref: str
    campaign_id: int | None
    status: str
    outcome: str
    outcome_label: str
    originating_provider_id: int | None
    originating_provider: str
    originating_customer: str
    point_of_entry_provider: str
    completed_at: datetime | None

    @property
    def is_completed(self) -> bool:
        return self.status == Traceback.Status.COMPLETED


def _outcomes(qs: QuerySet[Traceback]) -> list[Outcome]:
    labels = dict(Traceback.Outcome.choices)
    rows = qs.values_list("id", "campaign_id", "status", "outcome", "originating_provider_id", "originating_provider__name",
                          "originating_customer", "point_of_entry_provider__name", "completed_at")
    return [
        Outcome(id=pk, ref=f"TB-{pk:06d}", campaign_id=campaign_id, status=status, outcome=outcome, outcome_label=str(labels.get(outcome, outcome)),
                originating_provider_id=origin_id, originating_provider=origin or "", originating_customer=str((customer or {}).get("name") or ""),
                point_of_entry_provider=entry or "", completed_at=completed_at)
        for pk, campaign_id, status, outcome, origin_id, origin, customer, entry, completed_at in rows
    ]


def outcome(traceback_id: int) -> Outcome | None:
    """One traceback's result now (system read: the subscriber decides who sees it)."""
    found = _outcomes(Traceback.objects.unscoped(reason="traceback outcome for an event subscriber").filter(id=traceback_id).order_by())
    return found[0] if found else None


def completed_outcomes(campaign_id: int, *, limit: int = 100) -> list[Outcome]:
    """A campaign's completed tracebacks, the latest first (system read, as `outcome`)."""
    return _outcomes(
        Traceback.objects.unscoped(reason="completed tracebacks of a campaign for an event subscriber")
        .filter(campaign_id=campaign_id, status=Traceback.Status.COMPLETED).order_by("-completed_at")[:limit]
    )


def hop_view(hop: Hop) -> dict[str, Any]:
    """A provider's view of its own hop: the call, who named it and its clock; never the rest
    of the chain. Shared by the API and the webhook payload so the two cannot drift apart."""
    tb = hop.traceback
    return {
        "traceback": tb.ref,
        "kind": tb.kind,
        "status": hop.status,
        "call": {
            "started_at": tb.call_started_at.isoformat(),
            "timezone": tb.call_timezone,
            "calling_number": tb.calling_number,
            "called_number": tb.called_number,
            "callback_number": tb.callback_number,
        },
        "named_by": hop.named_by.name if hop.named_by else None,
        "direct_signer_request": hop.is_direct_signer_request and hop.named_by_id is None,
        "received_at": hop.received_at.isoformat(),
        "due_at": hop.due_at.isoformat(),
    }


def any_hops() -> bool:
    return Hop.objects.unscoped(reason="is there anything to score?").exists()


# --- The campaigns' ecosystem graph (campaigns.ecosystem.TracedSource) ------------------------
# Whole-platform rows for the consortium's picture: the campaigns app asks with the ids of the
# campaigns its viewer may see.


def campaign_hop_counts(campaign_ids: list[int]) -> list[tuple[str, int, int]]:
    """(provider name, campaign id, hops through the provider) over the campaigns' tracebacks."""
    rows = (
        Hop.objects.unscoped(reason="ecosystem: hops of campaigns the viewer may see")
        .filter(traceback__campaign_id__in=campaign_ids)
        .values("provider__name", "traceback__campaign_id").annotate(n=Count("id"))
    )
    return [(r["provider__name"], r["traceback__campaign_id"], r["n"]) for r in rows]


def campaign_upstream_pairs(campaign_ids: list[int]) -> list[tuple[str, str, int]]:
    """(provider name, name of the upstream it named, hops) over the campaigns' tracebacks."""
    rows = (
        Hop.objects.unscoped(reason="ecosystem chains").filter(traceback__campaign_id__in=campaign_ids, upstream_provider__isnull=False)
        .values("provider__name", "upstream_provider__name").annotate(n=Count("id"))
    )
    return [(r["provider__name"], r["upstream_provider__name"], r["n"]) for r in rows]


def campaign_customers(campaign_ids: list[int]) -> list[tuple[int, str, str]]:
    """(campaign id, originating provider name, customer name) of the campaigns' tracebacks
    that named a customer at the origin."""
    tbs = (
        Traceback.objects.unscoped(reason="ecosystem customers").filter(campaign_id__in=campaign_ids, originating_provider__isnull=False)
        .select_related("originating_provider").only("campaign_id", "originating_customer", "originating_provider__name")
    )
    out = []
    for tb in tbs:
        name = (tb.originating_customer or {}).get("name")
        if name:
            out.append((tb.campaign_id, tb.originating_provider.name, name))
    return out


# --- Legal productions and evidence packages (legal.records) ---------------------------------
# Read for the organisation producing them (the consortium, which sees every traceback), in
# plain records so the legal app builds its tables without the models.


def _in_range(q: Q, field_name: str, start: datetime | None, end: datetime | None) -> Q:
    if start:
        q &= Q(**{f"{field_name}__gte": start})
    if end:
        q &= Q(**{f"{field_name}__lt": end})
    return q


def ids_for_number(org: Organisation, number: str, *, start: datetime | None, end: datetime | None) -> set[int]:
    """Tracebacks of calls from or to `number` placed in [start, end)."""
    q = _in_range(Q(calling_number=number) | Q(called_number=number), "call_started_at", start, end)
    return set(Traceback.objects.for_org(org).filter(q).values_list("id", flat=True))


def ids_for_campaign(org: Organisation, campaign_id: int, *, start: datetime | None = None, end: datetime | None = None) -> set[int]:
    q = _in_range(Q(campaign_id=campaign_id), "call_started_at", start, end)
    return set(Traceback.objects.for_org(org).filter(q).values_list("id", flat=True))


def ids_through_provider(org: Organisation, provider_id: int, *, start: datetime | None, end: datetime | None) -> set[int]:
    """Tracebacks with a hop to the provider, of calls placed in [start, end)."""
    q = _in_range(Q(provider_id=provider_id), "traceback__call_started_at", start, end)
    return set(Hop.objects.for_org(org).filter(q).values_list("traceback_id", flat=True))


def campaigns_of(org: Organisation, traceback_ids: list[int]) -> list[tuple[int, int | None]]:
    """(traceback id, campaign id or None) of those of the tracebacks that exist."""
    return list(Traceback.objects.for_org(org).filter(pk__in=traceback_ids).values_list("id", "campaign_id"))


@dataclass(frozen=True)
class TracebackRecord:
    id: int
    ref: str
    campaign_id: int | None
    call_started_at: datetime
    calling_number: str
    called_number: str
    status: str
    outcome: str
    originating_provider: str  # name, "" if none
    originating_customer: Any
    created_at: datetime
    completed_at: datetime | None
    shaken_attest: str


@dataclass(frozen=True)
class HopRecord:
    traceback_id: int
    traceback_ref: str
    sequence: int
    provider_id: int
    provider: str
    provider_ocns: list[str]
    provider_frn: str
    provider_rmd_status: str
    named_by: str  # name, "" if none
    received_at: datetime
    due_at: datetime | None
    answered_at: datetime | None
    status: str
    response: str
    upstream: str  # the registry name of the upstream provider named, else what the answer said
    attestation_seen: str
    customer: Any
    customer_action: str


def production_records(org: Organisation, traceback_ids: set[int]) -> tuple[list[TracebackRecord], list[HopRecord]]:
    """The tracebacks (by call time) and their hops (by call time, then in order)."""
    tracebacks = [
        TracebackRecord(
            t.id, t.ref, t.campaign_id, t.call_started_at, t.calling_number, t.called_number, t.status, t.outcome,
            t.originating_provider.name if t.originating_provider else "", t.originating_customer, t.created_at,
            t.completed_at, t.shaken_attest,
        )
        for t in Traceback.objects.for_org(org).filter(pk__in=sorted(traceback_ids)).select_related("originating_provider")
        .order_by("call_started_at", "id")
    ]
    hops = (
        Hop.objects.for_org(org).filter(traceback_id__in=[t.id for t in tracebacks])
        .select_related("provider", "named_by", "upstream_provider", "traceback")
        .order_by("traceback__call_started_at", "traceback_id", "sequence", "id")
    )
    hop_records = [
        HopRecord(
            h.traceback_id, h.traceback.ref, h.sequence, h.provider_id, h.provider.name, h.provider.ocns, h.provider.frn,
            h.provider.rmd_status, h.named_by.name if h.named_by else "", h.received_at, h.due_at, h.answered_at, h.status,
            h.response, h.upstream_provider.name if h.upstream_provider else h.upstream_detail, h.attestation_seen,
            h.customer, h.customer_action,
        )
        for h in hops
    ]
    return tracebacks, hop_records


def notice_rows(org: Organisation, provider_ids: set[int], *, through: datetime | None) -> list[list[Any]]:
    """Every traceback request each provider received (any campaign), up to `through`:
    [provider, traceback, campaign, call_started, received, reminded, escalated, answered,
    status, response], by provider name, then as received."""
    q = Q(provider_id__in=sorted(provider_ids))
    if through is not None:
        q &= Q(received_at__lte=through)
    hops = Hop.objects.for_org(org).filter(q).select_related("provider", "traceback").order_by("provider__name", "provider_id", "received_at", "id")
    return [
        [h.provider.name, h.traceback.ref, f"C-{h.traceback.campaign_id}" if h.traceback.campaign_id else "",
         h.traceback.call_started_at, h.received_at, h.reminded_at, h.escalated_at, h.answered_at, h.status, h.response]
        for h in hops.iterator()
    ]


@dataclass(frozen=True)
class HoldFacts:
    """What decides whether a preservation hold (legal) covers a traceback."""

    campaign_id: int | None
    numbers: tuple[str, ...]  # calling and called, those given
    call_started_at: datetime
    provider_ids: frozenset[int]  # every provider it reached


def hold_facts(traceback_id: int) -> HoldFacts | None:
    reason = "retention: preservation holds apply to every organisation's records"
    tb = Traceback.objects.unscoped(reason=reason).filter(pk=traceback_id).values("campaign_id", "calling_number", "called_number", "call_started_at").first()
    if tb is None:
        return None
    providers = Hop.objects.unscoped(reason=reason).filter(traceback_id=traceback_id).values_list("provider_id", flat=True)
    numbers = tuple(n for n in (tb["calling_number"], tb["called_number"]) if n)
    return HoldFacts(tb["campaign_id"], numbers, tb["call_started_at"], frozenset(providers))


# --- The simulator's view: how many tracebacks are moving, and what completed ones found ------


Source = Traceback.Source  # how a traceback came to be opened (services.open_traceback's source)


def any_tracebacks() -> bool:
    return Traceback.objects.unscoped(reason="simulator: is there any history?").exists()


def in_progress_count() -> int:
    return Traceback.objects.unscoped(reason="simulator: tracebacks in motion").filter(status=Traceback.Status.IN_PROGRESS).count()


def completed_samples(*, limit: int) -> list[tuple[int, str, int | None, int | None]]:
    """(sample report, outcome, originating provider, point of entry) of the newest completed
    tracebacks opened on a report."""
    done = Traceback.objects.unscoped(reason="simulator accuracy").filter(status=Traceback.Status.COMPLETED, sample_report_id__isnull=False)
    return list(done.values_list("sample_report_id", "outcome", "originating_provider_id", "point_of_entry_provider_id").order_by("-id")[:limit])


def newest_requested_hop(traceback: Traceback) -> Hop | None:
    """The hop of the traceback now waiting for its provider's answer."""
    return traceback.hops.filter(status=Hop.Status.REQUESTED).order_by("-sequence").first()
