"""The database side of the campaign engine: campaign ids are Campaign rows, the index is
persisted in CampaignText / CampaignExemplar / CampaignLink, and a process-wide `Engine`
(the same class the `cluster` command and the benchmarks use) is rebuilt from those tables
on start and whenever another process changed them (EngineState.version).

Every batch runs in one transaction holding the EngineState row lock, so two workers (or a
worker and an analyst's merge) never interleave; if the transaction fails, the in-memory
engine is thrown away, because it may hold state the database rolled back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from robotrace.campaigns import conf, events
from robotrace.campaigns.categories import categorise
from robotrace.campaigns.engine import Assignment, Engine, ReportIn
from robotrace.campaigns.models import (
    Campaign,
    CampaignChange,
    CampaignExemplar,
    CampaignLink,
    CampaignText,
    EngineState,
)
from robotrace.ingest import services as ingest
from robotrace.ingest.queries import all_reports

logger = logging.getLogger("robotrace.campaigns")

_lock = threading.RLock()
_engine: DbEngine | None = None


def report_input(report: Any) -> ReportIn:
    """A CallReport as the engine sees it."""
    return ReportIn(
        id=report.pk,
        transcript=report.transcript or "",
        calling_number=report.calling_number_e164 or report.calling_number or "",
        called_number=report.called_number or "",
        called_state=report.called_state or "",
        call_started_at=report.call_started_at,
        callback_numbers=list(report.callback_numbers or []),
        recording_sha256=report.recording_sha256 or "",
    )


def auto_name(category: str, text: str, method: str = "text", caller: str = "") -> str:
    from robotrace.campaigns.models import Category

    label = Category(category).label if category in Category.values else "Campaign"
    if method == "burst" and caller:
        return f"Burst from {caller}"
    words = " ".join(text.split()[:9])
    return f"{label}: “{words}…”"[:200] if words else label


class DbEngine:
    def __init__(self) -> None:
        self.engine = Engine(self._new_campaign)
        self.version: int | None = None
        self.created: list[int] = []

    # --- loading -----------------------------------------------------------------------
    def rebuild(self) -> None:
        self.engine = Engine(self._new_campaign)
        eng = self.engine
        merged = Campaign.objects.unscoped(reason="campaign engine rebuild").filter(merged_into__isnull=False).values_list("pk", "merged_into_id")
        for from_id, to_id in merged:
            eng.redirect[from_id] = to_id
        for key, cid, text in CampaignExemplar.objects.order_by("pk").values_list("key", "campaign_id", "text").iterator(chunk_size=2000):
            eng.load_exemplar(key, cid, text)
        for key, cid in CampaignText.objects.values_list("key", "campaign_id").iterator(chunk_size=20000):
            eng.load_text(key, cid)
        for kind, value, cid in CampaignLink.objects.values_list("kind", "value", "campaign_id").iterator(chunk_size=20000):
            eng.load_link(kind, value, cid)

    def sync(self, state: EngineState) -> None:
        if self.version != state.version:
            self.rebuild()
            self.version = state.version

    # --- writing -------------------------------------------------------------------------
    def _new_campaign(self, report: ReportIn, method: str) -> int:
        at = report.call_started_at or timezone.now()
        campaign = Campaign.objects.create(
            name=auto_name("unknown", report.transcript, method, report.calling_number),
            representative_transcript=report.transcript or "",
            first_seen_at=at,
            last_seen_at=at,
        )
        CampaignChange.objects.create(
            kind=CampaignChange.Kind.OPENED, to_campaign=campaign, at=timezone.now(), actor_label="engine",
            reason="burst of one caller ID" if method == "burst" else "no existing campaign matched",
            data={"method": method, "seed_report_id": report.id},
        )
        events.emit(campaign, "opened", "opened", {"method": method})
        self.created.append(campaign.pk)
        return campaign.pk

    def flush(self) -> None:
        """Persist the index rows the engine created in this batch."""
        pending = self.engine.pending
        if pending.texts:
            CampaignText.objects.bulk_create(
                [CampaignText(key=k, campaign_id=c) for k, c in pending.texts.items()],
                update_conflicts=True, unique_fields=["key"], update_fields=["campaign"], batch_size=2000,
            )
        if pending.exemplars:
            CampaignExemplar.objects.bulk_create(
                [CampaignExemplar(key=e.key, campaign_id=e.campaign_id, text=e.text) for e in pending.exemplars],
                ignore_conflicts=True, batch_size=500,
            )
        if pending.links:
            CampaignLink.objects.bulk_create(
                [CampaignLink(kind=k, value=v, campaign_id=c) for (k, v), c in pending.links.items()],
                update_conflicts=True, unique_fields=["kind", "value"], update_fields=["campaign", "updated_at"], batch_size=2000,
            )
        pending.clear()


def get_engine() -> DbEngine:
    global _engine
    if _engine is None:
        _engine = DbEngine()
    return _engine


def reset_engine() -> None:
    """Forget the in-memory index (after a failed batch, or in tests)."""
    global _engine
    _engine = None


def lock_state() -> EngineState:
    EngineState.objects.get_or_create(pk=1)
    return EngineState.objects.select_for_update().get(pk=1)


def bump_version(state: EngineState | None = None) -> EngineState:
    """Tell every process's in-memory engine to rebuild (merges and splits call this)."""
    state = state or lock_state()
    state.version += 1
    state.save(update_fields=["version", "updated_at"])
    return state


def _write_assignments(results: Sequence[Assignment]) -> set[int]:
    by_campaign: dict[int, list[Any]] = {}
    for a in results:
        if a.campaign_id is not None:
            by_campaign.setdefault(a.campaign_id, []).append(a.report_id)
    for cid, ids in by_campaign.items():
        ingest.assign_to_campaign(report_ids=ids, campaign_id=cid)
    return set(by_campaign)


def _describe(campaign: Campaign) -> None:
    """Representative transcript, category and automatic name from the exemplars."""
    texts = list(CampaignExemplar.objects.filter(campaign=campaign).order_by("pk").values_list("text", flat=True)[:20])
    if not texts:
        return
    # The longest rendition: fragments are common, the full message tells most.
    campaign.representative_transcript = max(texts, key=len)
    if campaign.category_source != Campaign.CategorySource.ANALYST:
        category, source, _ = categorise(texts)
        campaign.category, campaign.category_source = category, source
    if campaign.name_is_auto:
        campaign.name = auto_name(campaign.category, campaign.representative_transcript)


def refresh_campaigns(campaign_ids: Iterable[int], *, check_events: bool = True) -> None:
    """Recompute counters from all of a campaign's reports (after merges and splits), then
    its description and threshold events. Routine batches use `_apply_batch` instead."""
    reports = all_reports(reason="campaign counters")
    for campaign in Campaign.objects.unscoped(reason="campaign counters").filter(pk__in=list(campaign_ids)):
        agg = reports.filter(campaign_id=campaign.pk).aggregate(
            n=Count("id"),
            callers=Count("calling_number_e164", distinct=True, filter=~Q(calling_number_e164="")),
            first=Min("call_started_at"),
            last=Max("call_started_at"),
        )
        states = sorted(set(reports.filter(campaign_id=campaign.pk).exclude(called_state="").values_list("called_state", flat=True).distinct()))
        campaign.report_count = agg["n"] or 0
        campaign.caller_id_count = agg["callers"] or 0
        campaign.called_states = states
        campaign.state_count = len(states)
        campaign.first_seen_at = agg["first"] or campaign.first_seen_at
        campaign.last_seen_at = agg["last"] or campaign.last_seen_at
        _describe(campaign)
        campaign.save()
        if check_events:
            events.check_thresholds(campaign)


def _apply_batch(new_reports: dict[int, list[Any]], described: set[int]) -> None:
    """Update counters incrementally from this batch's reports only, so a batch costs the
    same whether its campaigns hold ten reports or ten million. Distinct caller IDs are
    checked against earlier reports through the (calling number, time) index."""
    reports = all_reports(reason="campaign counters")
    for campaign in Campaign.objects.unscoped(reason="campaign counters").filter(pk__in=list(new_reports)):
        if campaign.state_count and not campaign.called_states:
            # Counted before called_states existed (migration 0003): recount once from all reports.
            refresh_campaigns([campaign.pk])
            continue
        rows = new_reports[campaign.pk]
        ids = [r.pk for r in rows]
        campaign.report_count += len(rows)
        times = [r.call_started_at for r in rows]
        campaign.first_seen_at = min([t for t in (campaign.first_seen_at, *times) if t is not None])
        campaign.last_seen_at = max([t for t in (campaign.last_seen_at, *times) if t is not None])
        states = set(campaign.called_states or []) | {r.called_state for r in rows if r.called_state}
        campaign.called_states = sorted(states)
        campaign.state_count = len(states)
        numbers = {r.calling_number_e164 for r in rows if r.calling_number_e164}
        if numbers:
            seen: set[str] = set()
            batch = sorted(numbers)
            for i in range(0, len(batch), 500):
                seen.update(
                    reports.filter(calling_number_e164__in=batch[i : i + 500], campaign_id=campaign.pk)
                    .exclude(pk__in=ids).values_list("calling_number_e164", flat=True).distinct()
                )
            campaign.caller_id_count += len(numbers - seen)
        if campaign.pk in described:
            _describe(campaign)
        campaign.save()
        events.check_thresholds(campaign)


# A gap is dropped once no transaction that could fill it is running, and not before this
# many seconds: covers the instant between a COPY row taking its id and its transaction id.
GAP_SETTLE_SECONDS = 60


def _snapshot() -> tuple[int, int] | None:
    """(oldest running transaction id, next transaction id) on PostgreSQL. None on SQLite:
    one writer at a time, so report ids become visible in order and no gap can fill later."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text, pg_snapshot_xmax(pg_current_snapshot())::text")
        xmin, xmax = cur.fetchone()
    return int(xmin), int(xmax)


def find_gaps(after: int, ids: Sequence[int], upto: int | None = None) -> list[tuple[int, int]]:
    """The id ranges missing from sorted `ids` between `after` (exclusive) and `upto`
    (inclusive; the last id if not given)."""
    gaps: list[tuple[int, int]] = []
    prev = after
    for pk in ids:
        if pk > prev + 1:
            gaps.append((prev + 1, pk - 1))
        prev = max(prev, pk)
    if upto is not None and upto > prev:
        gaps.append((prev + 1, upto))
    return gaps


def _recheck_gaps(state: EngineState, qs: Any, before: tuple[int, int] | None) -> list[int]:
    """Reports that appeared in the cursor's open gaps since the last sweep (unassigned ones
    are returned for assignment); the gaps shrink to what is still missing, and a gap is
    closed once every transaction that could have held its ids had ended before this sweep
    read it (`before` is the snapshot taken before reading)."""
    if not state.open_gaps:
        return []
    todo: list[int] = []
    still: list[list[int]] = []
    now = int(time.time())
    for lo, hi, horizon, seen in state.open_gaps:
        rows = list(qs.filter(pk__gte=lo, pk__lte=hi).order_by("pk").values_list("pk", "campaign_id"))
        todo += [pk for pk, cid in rows if cid is None]
        settled = before is None or (before[0] >= horizon and now - seen >= GAP_SETTLE_SECONDS)
        if not settled:
            still += [[a, b, horizon, seen] for a, b in find_gaps(lo - 1, [pk for pk, _ in rows], hi)]
    state.open_gaps = still
    return todo


def assign_reports(report_ids: Sequence[int] | None = None, *, advance_cursor: bool = False, limit: int | None = None) -> dict[str, Any]:
    """Assign reports to campaigns in one transaction.

    With `report_ids`, those reports (if still unassigned). Otherwise the next `limit`
    reports after the durable cursor, which then advances past them (the catch-up sweep).
    """
    limit = limit or conf.BATCH_SIZE
    with _lock:
        try:
            with transaction.atomic():
                state = lock_state()
                db = get_engine()
                db.sync(state)
                db.created = []
                qs = all_reports(reason="campaign engine")
                if report_ids is not None:
                    batch = list(qs.filter(pk__in=list(report_ids), campaign__isnull=True).order_by("call_started_at", "pk"))
                    scanned_max = 0
                else:
                    before = _snapshot()
                    todo = _recheck_gaps(state, qs, before)
                    ids = list(qs.filter(pk__gt=state.last_report_id).order_by("pk").values_list("pk", "campaign_id")[:limit])
                    scanned_max = ids[-1][0] if ids else 0
                    todo += [pk for pk, cid in ids if cid is None]
                    after = _snapshot()
                    if advance_cursor and after is not None and ids:
                        # Ids the cursor is about to pass that are not visible: an upload
                        # still committing (or one rolled back). Re-read until settled.
                        state.open_gaps += [
                            [lo, hi, after[1], int(time.time())] for lo, hi in find_gaps(state.last_report_id, [pk for pk, _ in ids])
                        ]
                    batch = list(qs.filter(pk__in=todo).order_by("call_started_at", "pk")) if todo else []
                results = db.engine.assign_batch(report_input(r) for r in batch)
                described = {e.campaign_id for e in db.engine.pending.exemplars} | set(db.created)
                db.flush()
                _write_assignments(results)
                if advance_cursor and scanned_max:
                    state.last_report_id = scanned_max
                state.version += 1
                state.save(update_fields=["version", "last_report_id", "open_gaps", "updated_at"])
                db.version = state.version
                by_id = {r.pk: r for r in batch}
                new_reports: dict[int, list[Any]] = {}
                recount: set[int] = set()
                for a in results:
                    if a.campaign_id is None:
                        continue
                    if a.report_id in by_id:
                        new_reports.setdefault(a.campaign_id, []).append(by_id[a.report_id])
                    else:
                        recount.add(a.campaign_id)  # a burst claimed reports of earlier batches
                for cid in db.created:
                    new_reports.setdefault(cid, [])
                for cid in recount:
                    new_reports.pop(cid, None)
                if new_reports:
                    _apply_batch(new_reports, described)
                if recount:
                    refresh_campaigns(recount)
                return {
                    "scanned": len(ids) if report_ids is None else len(batch),
                    "assigned": sum(1 for a in results if a.campaign_id is not None),
                    "created": len(db.created),
                    "cursor": state.last_report_id,
                    "more": report_ids is None and len(ids) == limit,
                }
        except Exception:
            reset_engine()
            raise


def catch_up(*, max_batches: int = 1000) -> dict[str, int]:
    """Run the cursor sweep until it reaches the newest report."""
    totals = {"scanned": 0, "assigned": 0, "created": 0, "batches": 0}
    for _ in range(max_batches):
        r = assign_reports(advance_cursor=True)
        totals["batches"] += 1
        for k in ("scanned", "assigned", "created"):
            totals[k] += r[k]
        if not r["more"]:
            break
    return totals
