"""Non-cooperative provider rules. Each rule is named, has thresholds (conf.Thresholds) and
produces its evidence: the ids of the tracebacks behind it.

`evaluate()` runs every rule over every provider in a few GROUP BY queries over the look-back
window, then fetches evidence only for the providers that meet a rule. `apply()` turns the
result into ProviderFlag rows (new, still met, cleared), tells newly flagged providers and
records a FlagRun for the trend.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from robotrace.audit import services as audit
from robotrace.core.sql import db_time
from robotrace.providers import queries as registry
from robotrace.scorecards import services
from robotrace.scorecards.conf import Thresholds, evidence_limit
from robotrace.scorecards.models import FlagRun, ProviderFlag
from robotrace.scorecards.scorecards import WindowStats, compute_all
from robotrace.tracebacks import queries as tracebacks

Rule = ProviderFlag.Rule


@dataclass
class Finding:
    provider_id: int
    rule: str
    detail: str
    evidence_ids: list[int] = field(default_factory=list)


# Above this many providers to show evidence for, one scan of the window's hops beats an
# index walk per provider.
SCAN_ABOVE = 200


def evaluate(
    *, thresholds: Thresholds | None = None, now: datetime | None = None, window: dict[int, WindowStats] | None = None
) -> list[Finding]:
    """Which providers meet which rules now, with evidence. Reads only.

    `window`: per-provider figures over the look-back window already gathered by the
    scorecard pass (scorecards.compute_all with the same `now` and window); without it the
    rules read the hops and tracebacks themselves."""
    th = thresholds or Thresholds.from_env()
    now = now or timezone.now()
    since = now - timedelta(days=th.window_days)
    period = f"in the last {th.window_days} days"
    confirmed = th.illegal_scope == "confirmed"
    providers = {p.id: p for p in registry.rule_facts()}
    findings: list[Finding] = []
    if window is None:
        stats = tracebacks.hop_counts_by_provider(since=since, now=now)
        originating = tracebacks.role_counts(column="originating_provider_id", since=since, confirmed_only=confirmed)
        gateway = tracebacks.role_counts(column="point_of_entry_provider_id", since=since, confirmed_only=confirmed)
    else:
        stats = {
            pid: tracebacks.HopCounts(w.notices_due, w.answered, w.never, w.no_record)
            for pid, w in window.items() if w.notices_due or w.no_record
        }
        originating = {pid: (w.originating_illegal if confirmed else w.originating) for pid, w in window.items()}
        gateway = {pid: (w.gateway_illegal if confirmed else w.gateway) for pid, w in window.items()}

    non_participation: dict[int, str] = {}
    non_responsive: dict[int, str] = {}
    no_records: dict[int, str] = {}
    for pid, s in stats.items():
        p = providers.get(pid)
        if p is None:
            continue
        unreachable = p.organisation_id is None and (p.contacts_unreachable_at is not None or not (p.contact_email or p.fallback_contact_email))
        if s.answered == 0 and s.notices_due >= th.non_participation_min_notices:
            non_participation[pid] = f"{s.notices_due} notices {period}, none answered"
        elif s.answered == 0 and unreachable and s.notices_due >= 1:
            non_participation[pid] = f"{s.notices_due} notices {period}; no platform account and no reachable contact"
        if s.never >= th.non_responsive_min:
            non_responsive[pid] = f"{s.never} notices never answered {period}"
        if s.no_record >= th.no_records_min and s.answered and s.no_record / s.answered >= th.no_records_share:
            no_records[pid] = f"{s.no_record} of {s.answered} answers were 'no record' {period}"

    absent = {pid: p for pid, p in providers.items() if p.rmd_status in (registry.RmdStatus.NOT_LISTED, registry.RmdStatus.REMOVED)}
    never_ids, no_record_ids, any_ids = set(non_participation) | set(non_responsive), set(no_records), set(absent)
    if window is not None:
        # The scorecard pass kept each provider's window hops as evidence codes.
        ev_never, ev_rec, ev_rmd = {}, {}, {}
        for pid in never_ids | no_record_ids | any_ids:
            w = window.get(pid)
            if w is not None:
                ev_never[pid], ev_rec[pid], ev_rmd[pid] = w.hop_evidence()
        ev_np = ev_nr = ev_never
    elif len(never_ids) + len(no_record_ids) + len(any_ids) > SCAN_ABOVE:
        # Many providers to show evidence for (a first run over a long history).
        ev_never, ev_rec, ev_rmd = tracebacks.hop_evidence_scan(
            since=since, now=now, never_ids=never_ids, no_record_ids=no_record_ids, any_ids=any_ids
        )
        ev_np = ev_nr = ev_never
    else:
        ev_np = tracebacks.hop_evidence(provider_ids=sorted(non_participation), kind="never", since=since, now=now)
        ev_nr = tracebacks.hop_evidence(provider_ids=sorted(non_responsive), kind="never", since=since, now=now)
        ev_rec = tracebacks.hop_evidence(provider_ids=sorted(no_records), kind="no_record", since=since, now=now)
        ev_rmd = tracebacks.hop_evidence(provider_ids=sorted(absent), kind="any", since=since, now=now)
    for src, rule, ev in (
        (non_participation, Rule.NON_PARTICIPATION, ev_np),
        (non_responsive, Rule.NON_RESPONSIVE, ev_nr),
        (no_records, Rule.NO_RECORDS, ev_rec),
    ):
        findings.extend(Finding(pid, rule, detail, ev.get(pid, [])) for pid, detail in src.items())

    for counts, column, rule, minimum, what in (
        (originating, "originating_provider_id", Rule.ORIGINATES_ILLEGAL, th.originates_illegal_min, "originating provider"),
        (gateway, "point_of_entry_provider_id", Rule.FOREIGN_GATEWAY, th.foreign_gateway_min, "US point of entry"),
    ):
        met = sorted(pid for pid, n in counts.items() if n >= minimum and pid in providers)
        if window is not None:
            attr = f"{'originating' if rule == Rule.ORIGINATES_ILLEGAL else 'gateway'}{'_illegal' if confirmed else ''}_ids"
            ev = {pid: getattr(window[pid], attr).tolist() for pid in met}
        else:
            ev = tracebacks.role_evidence(column=column, provider_ids=met, since=since, confirmed_only=confirmed)
        kind = "tracebacks of confirmed illegal campaigns" if confirmed else "tracebacks of illegal calls"
        findings.extend(Finding(pid, rule, f"{what} on {counts[pid]} {kind} {period}", ev.get(pid, [])) for pid in met)

    for pid, p in absent.items():
        detail = (
            f"removed from the RMD on {p.rmd_removed_at:%Y-%m-%d}" if p.rmd_status == registry.RmdStatus.REMOVED and p.rmd_removed_at
            else "not listed in the latest RMD export"
        )
        findings.append(Finding(pid, Rule.RMD_ABSENT, detail, ev_rmd.get(pid, [])))
    return findings


@dataclass
class NewFlag:
    """A flag row to insert: a first run over a long history raises thousands, and model
    instances (with their init signals) cost more than the insert itself."""

    provider_id: int
    rule: str
    first_flagged_at: datetime
    flagged_at: datetime
    last_evaluated_at: datetime
    detail: str
    evidence_ids: list[int]
    evidence_count: int
    history: list[Any]
    active: bool = True
    cleared_at: datetime | None = None
    dismissed_evidence_ids: list[int] = field(default_factory=list)


def _write_flags(to_create: list[NewFlag], to_update: list[ProviderFlag]) -> None:
    """Plain executemany (COPY for new rows on PostgreSQL): the ORM's bulk_update builds a
    CASE per column per batch, which costs seconds for a few thousand flags."""
    table = ProviderFlag._meta.db_table
    j = json.dumps
    adapted: dict[datetime, Any] = {}

    def when(value: datetime | None) -> Any:
        if value is None:
            return None
        if value not in adapted:
            adapted[value] = db_time(value)
        return adapted[value]

    columns = ("provider_id, rule, active, first_flagged_at, flagged_at, last_evaluated_at, cleared_at, detail, "
               "evidence_ids, evidence_count, dismissed_evidence_ids, history")
    new_rows = [
        (f.provider_id, f.rule, f.active, when(f.first_flagged_at), when(f.flagged_at), when(f.last_evaluated_at),
         when(f.cleared_at), f.detail, j(f.evidence_ids), f.evidence_count, j(f.dismissed_evidence_ids or []), j(f.history))
        for f in to_create
    ]
    with connection.cursor() as cur:
        if new_rows and connection.vendor == "postgresql":
            # COPY: thousands of new flags on a first run, one round trip instead of one each.
            with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in new_rows:
                    copy.write_row(row)
        elif new_rows:
            cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(new_rows[0]))})", new_rows)
        if to_update:
            cur.executemany(
                f"""UPDATE {table} SET active = %s, flagged_at = %s, cleared_at = %s, last_evaluated_at = %s, detail = %s,
                    evidence_ids = %s, evidence_count = %s, history = %s WHERE id = %s""",
                [
                    (f.active, when(f.flagged_at), when(f.cleared_at), when(f.last_evaluated_at), f.detail, j(f.evidence_ids),
                     f.evidence_count, j(f.history), f.pk)
                    for f in to_update
                ],
            )


@dataclass
class ApplyResult:
    active: int
    newly_flagged: list[int]
    cleared: int
    seconds: float
    per_rule: dict[str, int]


@dataclass
class FlagPlan:
    """The flag changes `findings` call for, read and decided before anything is written."""

    now: datetime
    started: float
    to_create: list[NewFlag]
    to_update: list[ProviderFlag]
    newly: list[NewFlag | ProviderFlag]
    cleared: list[ProviderFlag]


def apply(findings: list[Finding], *, now: datetime | None = None, notify: bool = True) -> ApplyResult:
    """Bring ProviderFlag in line with `findings`; tell newly flagged providers."""
    return write_plan(plan(findings, now=now), notify=notify)


def plan(findings: list[Finding], *, now: datetime | None = None) -> FlagPlan:
    """Read the current flags and decide what `findings` change. Reads only, so refresh()
    runs it while the scorecards are still being written."""
    started = time.perf_counter()
    now = now or timezone.now()
    today = now.date().isoformat()
    limit = evidence_limit()
    existing = {(f.provider_id, f.rule): f for f in ProviderFlag.objects.unscoped(reason="flag evaluation")}
    met_keys = set()
    to_create: list[NewFlag] = []
    to_update: list[ProviderFlag] = []
    newly: list[NewFlag | ProviderFlag] = []

    def _history(flag: ProviderFlag, count: int) -> list[Any]:
        hist = [h for h in (flag.history or []) if h[0] != today]
        hist.append([today, count])
        return hist[-180:]

    for f in findings:
        key = (f.provider_id, f.rule)
        met_keys.add(key)
        evidence = f.evidence_ids[:limit]
        flag = existing.get(key)
        if flag is None:
            new = NewFlag(
                provider_id=f.provider_id, rule=f.rule, first_flagged_at=now, flagged_at=now, last_evaluated_at=now,
                detail=f.detail[:300], evidence_ids=evidence, evidence_count=len(f.evidence_ids),
                history=[[today, len(f.evidence_ids)]],
            )
            to_create.append(new)
            newly.append(new)
            continue
        if not flag.active:
            dismissed = set(flag.dismissed_evidence_ids or [])
            if dismissed and set(f.evidence_ids) <= dismissed:
                # A dispute was upheld against exactly this evidence; nothing new happened.
                flag.last_evaluated_at = now
                to_update.append(flag)
                continue
            flag.active, flag.flagged_at, flag.cleared_at = True, now, None
            newly.append(flag)
        flag.last_evaluated_at = now
        flag.detail = f.detail[:300]
        flag.evidence_ids = evidence
        flag.evidence_count = len(f.evidence_ids)
        flag.history = _history(flag, len(f.evidence_ids))
        to_update.append(flag)

    cleared: list[ProviderFlag] = []
    for key, flag in existing.items():
        if key in met_keys:
            continue
        if flag.active:
            flag.active, flag.cleared_at = False, now
            cleared.append(flag)
        flag.last_evaluated_at = now
        flag.history = _history(flag, 0)
        to_update.append(flag)
    return FlagPlan(now=now, started=started, to_create=to_create, to_update=to_update, newly=newly, cleared=cleared)


def write_plan(flag_plan: FlagPlan, *, notify: bool = True) -> ApplyResult:
    """Write a plan's flags, notify newly flagged providers, record the run: one transaction."""
    now, to_create, to_update = flag_plan.now, flag_plan.to_create, flag_plan.to_update
    newly, cleared = flag_plan.newly, flag_plan.cleared
    with transaction.atomic():
        _write_flags(to_create, to_update)
        newly_by_provider: dict[int, list[str]] = defaultdict(list)
        for flag in newly:
            newly_by_provider[flag.provider_id].append(flag.rule)
        if notify and newly_by_provider:
            services.notify_flagged(flagged=dict(newly_by_provider), now=now)
        written: list[NewFlag | ProviderFlag] = [*to_create, *to_update]
        active = [f for f in written if f.active]
        per_rule: dict[str, int] = defaultdict(int)
        for f in active:
            per_rule[f.rule] += 1
        seconds = round(time.perf_counter() - flag_plan.started, 3)
        run = FlagRun.objects.create(
            at=now, active_flags=len(active), flagged_providers=len({f.provider_id for f in active}),
            newly_flagged=len(newly), cleared=len(cleared), per_rule=dict(per_rule), seconds=seconds,
        )
        # One event per evaluation naming every flag raised or cleared: the first run over a
        # large history raises thousands at once, and the chain is appended one row at a time.
        audit.record(
            action="provider.flags_evaluated",
            obj=run,
            data={
                "flagged": [[f.provider_id, f.rule, f.detail] for f in newly],
                "cleared": [[f.provider_id, f.rule] for f in cleared],
                "active": len(active),
            },
        )
    return ApplyResult(active=len(active), newly_flagged=sorted(newly_by_provider), cleared=len(cleared), seconds=seconds, per_rule=dict(per_rule))


def run(*, thresholds: Thresholds | None = None, now: datetime | None = None, notify: bool = True) -> ApplyResult:
    """Evaluate every rule and update the flags, the rules reading the hops and tracebacks
    themselves. The periodic task runs refresh(), which feeds them from the scorecard pass."""
    now = now or timezone.now()
    return apply(evaluate(thresholds=thresholds, now=now), now=now, notify=notify)


def refresh(*, now: datetime | None = None, notify: bool = True, thresholds: Thresholds | None = None) -> tuple[Any, ApplyResult]:
    """Scorecards and flags together: one pass over hops and tracebacks feeds both."""
    th = thresholds or Thresholds.from_env()
    now = now or timezone.now()
    # The rules are evaluated, and the current flags read, while the scorecard rows are still
    # being written on the other connection. PostgreSQL writes the flags meanwhile too
    # (separate tables, separate transactions); SQLite has one writer at a time, so there
    # the flags wait their turn.
    both_write = connection.vendor == "postgresql"

    def follow_up(window: dict[int, WindowStats]) -> Any:
        flag_plan = plan(evaluate(thresholds=th, now=now, window=window), now=now)
        return write_plan(flag_plan, notify=notify) if both_write else flag_plan

    cards = compute_all(now=now, since=now - timedelta(days=th.window_days), while_writing=follow_up)
    return cards, cards.during if both_write else write_plan(cards.during, notify=notify)
