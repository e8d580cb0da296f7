"""What a production or an evidence package contains, gathered from the apps that keep it
(tracebacks, providers, campaigns, call reports) through their queries, for the organisation
producing it: the consortium, which sees every row. What leaves the platform is decided by
the request's accepted targets. Every list comes back sorted, so the tables built from them
are deterministic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from robotrace.accounts import queries as accounts
from robotrace.campaigns import queries as campaigns
from robotrace.ingest import queries as reports
from robotrace.ingest.queries import ReportSelector
from robotrace.legal import conf
from robotrace.providers import queries as registry
from robotrace.tracebacks import queries as tracebacks

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


def producer() -> Organisation:
    """Productions and packages are the consortium's work, read with its scope."""
    org = accounts.consortium()
    if org is None:
        raise LookupError("no consortium organisation: nothing produces legal records")
    return org


def day_start(d: date | None) -> datetime | None:
    return datetime.combine(d, time.min, tzinfo=UTC) if d else None


def day_end(d: date | None) -> datetime | None:
    return datetime.combine(d + timedelta(days=1), time.min, tzinfo=UTC) if d else None


@dataclass
class RecordSet:
    """Everything selected for one bundle; tables are built from it. Call reports are kept
    as selectors (a campaign can have millions), resolved once when the tables are built."""

    org: Organisation
    traceback_ids: set[int] = field(default_factory=set)
    campaign_ids: set[int] = field(default_factory=set)
    provider_ids: set[int] = field(default_factory=set)
    report_selectors: list[ReportSelector] = field(default_factory=list)


def select_for_targets(targets: list[Any], *, default_from: date | None, default_to: date | None) -> RecordSet:
    """Resolve `LegalTarget`s marked produce into the rows to produce."""
    out = RecordSet(producer())
    for t in targets:
        start, end = day_start(t.date_from or default_from), day_end(t.date_to or default_to)
        if t.kind == "phone":
            num = t.phone_e164
            out.traceback_ids.update(tracebacks.ids_for_number(out.org, num, start=start, end=end))
            out.report_selectors.append(ReportSelector(number=num, start=start, end=end))
        elif t.kind == "campaign" and t.campaign_id:
            out.campaign_ids.add(t.campaign_id)
            out.traceback_ids.update(tracebacks.ids_for_campaign(out.org, t.campaign_id, start=start, end=end))
            out.report_selectors.append(ReportSelector(campaign_id=t.campaign_id, start=start, end=end))
        elif t.kind == "traceback" and t.traceback_id:
            out.traceback_ids.update(i for i, _ in tracebacks.campaigns_of(out.org, [t.traceback_id]))
        elif t.kind == "provider" and t.provider_id:
            out.provider_ids.add(t.provider_id)
            out.traceback_ids.update(tracebacks.ids_through_provider(out.org, t.provider_id, start=start, end=end))
    return out


def select_for_package(*, campaign_id: int | None, traceback_ids: list[int]) -> RecordSet:
    out = RecordSet(producer())
    if campaign_id:
        out.campaign_ids.add(campaign_id)
        out.traceback_ids.update(tracebacks.ids_for_campaign(out.org, campaign_id))
        out.report_selectors.append(ReportSelector(campaign_id=campaign_id))
    if traceback_ids:
        found = tracebacks.campaigns_of(out.org, traceback_ids)
        out.traceback_ids.update(i for i, _ in found)
        if not campaign_id:
            # Packages for a set of tracebacks describe the campaigns those calls belong to.
            out.campaign_ids.update(c for _, c in found if c)
    return out


# --- tables -------------------------------------------------------------------------------------


def provider_role(hop: Any, last_seq: int) -> str:
    if hop.response == "originated":
        return "originating"
    if hop.response == "foreign_upstream":
        return "gateway (US point of entry)"
    if hop.status == "non_responsive" or hop.response == "refused":
        return "non-responsive"
    if hop.sequence == 1:
        return "terminating"
    return "transit" if hop.sequence < last_seq or hop.response == "upstream" else "last reached"


def _hours(a: datetime | None, b: datetime | None) -> str:
    if not a or not b:
        return ""
    return f"{(b - a).total_seconds() / 3600:.1f}"


@dataclass
class Tables:
    tracebacks: list[list[Any]]
    hops: list[list[Any]]
    providers: list[list[Any]]
    customers: list[list[Any]]
    campaigns: list[list[Any]]
    reports: list[list[Any]]
    provider_roles: dict[int, set[str]]
    chains: dict[int, list[Any]]  # traceback id -> hops in order
    truncated_reports: bool = False


TRACEBACK_HEADER = ["traceback", "campaign", "call_started_utc", "caller_id", "called_number", "status", "outcome", "originating_provider", "originating_customer", "opened_utc", "completed_utc", "shaken_attestation"]
HOP_HEADER = ["traceback", "hop", "provider", "provider_ocns", "provider_frn", "role", "named_by", "request_received_utc", "due_utc", "answered_utc", "hours_to_answer", "status", "response", "upstream_named", "attestation_seen", "customer", "customer_action", "rmd_status"]
PROVIDER_HEADER = ["provider_id", "name", "dba_names", "frn", "ocns", "country", "roles_in_these_records", "rmd_status", "contact_name", "contact_email", "contact_phone", "fallback_contact_email"]
CUSTOMER_HEADER = ["traceback", "provider", "customer", "customer_action"]
CAMPAIGN_HEADER = ["campaign", "name", "category", "status", "legal_basis", "first_seen_utc", "last_seen_utc", "reports", "caller_ids", "states", "representative_transcript"]
REPORT_HEADER = ["report_id", "reporter_type", "call_started_utc", "received_utc", "caller_id", "caller_id_e164", "called_number", "called_state", "duration_seconds", "caller_name", "shaken_attest", "campaign", "transcript"]


def mask_number(num: str) -> str:
    """Called numbers belong to consumers: court filings show only the last four digits."""
    if len(num) <= 4:
        return num
    return "•" * (len(num) - 4) + num[-4:]


def build_tables(rs: RecordSet, *, mask_called: bool = False, include_reports: bool = True) -> Tables:
    tbs, hops = tracebacks.production_records(rs.org, rs.traceback_ids)
    chains: dict[int, list[Any]] = defaultdict(list)
    for h in hops:
        chains[h.traceback_id].append(h)
    roles: dict[int, set[str]] = defaultdict(set)
    hop_rows, customer_rows = [], []
    for h in hops:
        last = chains[h.traceback_id][-1].sequence
        role = provider_role(h, last)
        roles[h.provider_id].add(role)
        hop_rows.append([
            h.traceback_ref, h.sequence, h.provider, h.provider_ocns, h.provider_frn, role, h.named_by,
            h.received_at, h.due_at, h.answered_at, _hours(h.received_at, h.answered_at), h.status, h.response,
            h.upstream, h.attestation_seen, h.customer, h.customer_action, h.provider_rmd_status,
        ])
        if h.customer:
            customer_rows.append([h.traceback_ref, h.provider, h.customer, h.customer_action])
    tb_rows = []
    for t in tbs:
        called = mask_number(t.called_number) if mask_called else t.called_number
        tb_rows.append([
            t.ref, f"C-{t.campaign_id}" if t.campaign_id else "", t.call_started_at, t.calling_number, called,
            t.status, t.outcome, t.originating_provider, t.originating_customer, t.created_at, t.completed_at, t.shaken_attest,
        ])
        if t.originating_customer and not any(h.customer for h in chains[t.id]):
            customer_rows.append([t.ref, t.originating_provider, t.originating_customer, ""])
    provider_ids = set(rs.provider_ids) | {h.provider_id for h in hops}
    provider_rows = [
        [p.id, p.name, p.dba_names, p.frn, p.ocns, p.country, sorted(roles.get(p.id, set())), p.rmd_status,
         p.contact_name, p.contact_email, p.contact_phone, p.fallback_contact_email]
        for p in registry.records(provider_ids)
    ]
    campaign_rows = [
        [c.ref, c.name, c.category_label, c.status, c.legal_basis, c.first_seen_at, c.last_seen_at,
         c.report_count, c.caller_id_count, c.state_count, c.representative_transcript]
        for c in campaigns.records(rs.org, rs.campaign_ids)
    ]
    report_rows: list[list[Any]] = []
    truncated = False
    if include_reports:
        rows = reports.report_records(rs.org, rs.report_selectors, limit=conf.MAX_REPORT_ROWS + 1)
        truncated = len(rows) > conf.MAX_REPORT_ROWS
        report_rows = [
            [r.id, r.report_type, r.call_started_at, r.received_at, r.calling_number, r.calling_number_e164,
             mask_number(r.called_number) if mask_called else r.called_number, r.called_state, r.duration_seconds,
             r.caller_name, r.shaken_attest, f"C-{r.campaign_id}" if r.campaign_id else "", (r.transcript or "")[:500]]
            for r in rows[: conf.MAX_REPORT_ROWS]
        ]
    customer_rows.sort(key=lambda r: (r[0], r[1]))
    return Tables(tb_rows, hop_rows, provider_rows, customer_rows, campaign_rows, report_rows, roles, dict(chains), truncated)


NOTICE_HEADER = ["provider", "traceback", "campaign", "call_started_utc", "notice_received_utc", "reminded_utc", "escalated_utc", "answered_utc", "status", "response"]


def notice_history(org: Organisation, provider_ids: set[int], *, through: datetime | None) -> list[list[Any]]:
    """Every traceback request each provider received (any campaign): the on-notice proof."""
    return tracebacks.notice_rows(org, provider_ids, through=through)


def volume(rs: RecordSet) -> tuple[list[tuple[str, int]], list[tuple[str, int]], dict[str, Any]]:
    """Daily volume, called states and short-call analytics over the selected call reports."""
    rows = reports.report_volume_rows(rs.org, rs.report_selectors)
    days: Counter[str] = Counter()
    states: Counter[str] = Counter()
    short = dnc = 0
    callers: set[str] = set()
    sources: Counter[str] = Counter()
    for started, state, duration, is_dnc, caller, source in rows:
        sources[source] += 1
        days[started.astimezone(UTC).date().isoformat()] += 1
        states[state or "unknown"] += 1
        if duration is not None and duration < 15:
            short += 1
        if is_dnc:
            dnc += 1
        if caller:
            callers.add(caller)
    total = len(rows)
    analytics = {
        "reports": total,
        "short_calls_under_15s": short,
        "do_not_call_numbers": dnc,
        "distinct_caller_ids": len(callers),
        "distinct_called_states": len([s for s in states if s != "unknown"]),
    }
    # Exhibit D corroboration: where the reports came from (complaints vs. network data).
    for source, n in sorted(sources.items()):
        analytics[f"reports_from_{source}"] = n
    # Every day between the first and the last, so quiet days show as zero bars.
    if days:
        first = date.fromisoformat(min(days))
        last = date.fromisoformat(max(days))
        series = []
        d = first
        while d <= last:
            series.append((d.isoformat(), days.get(d.isoformat(), 0)))
            d += timedelta(days=1)
    else:
        series = []
    return series, sorted(states.items(), key=lambda kv: (-kv[1], kv[0])), analytics
