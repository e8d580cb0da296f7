"""Reads for the ingest app. Everything goes through `for_org`, so another organisation's
uploads and reports are simply not there (pages answer 404, never 403-with-a-hint)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from robotrace.core import phones
from robotrace.ingest.models import CallReport, Upload

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


def uploads_for(org: Organisation) -> QuerySet[Upload]:
    return Upload.objects.for_org(org).select_related("reporter", "api_key")


def upload_for(org: Organisation, upload_id: int) -> Upload | None:
    return uploads_for(org).filter(id=upload_id).first()


def upload_by_idempotency_key(org: Organisation, key: str) -> Upload | None:
    return Upload.objects.for_org(org).filter(reporter=org, idempotency_key=key).first()


def rejects_file(upload: Upload) -> Path | None:
    if not upload.rejects_path:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / upload.rejects_path).resolve()
    # rejects_path is ours, but never follow it outside MEDIA_ROOT.
    if root not in path.parents or not path.is_file():
        return None
    return path


def reports_for(org: Organisation) -> QuerySet[CallReport]:
    return CallReport.objects.for_org(org)


def report_for(org: Organisation, report_id: int) -> CallReport | None:
    return reports_for(org).select_related("reporter").filter(id=report_id).first()


@dataclass
class SearchFilters:
    number: str = ""
    since: date | None = None
    until: date | None = None
    state: str = ""
    text: str = ""
    reporter_id: int | None = None
    report_type: str = ""

    def as_query(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("number", "state", "text", "report_type"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.since:
            out["since"] = self.since.isoformat()
        if self.until:
            out["until"] = self.until.isoformat()
        if self.reporter_id:
            out["reporter"] = self.reporter_id
        return out


def callback_q(e164: str) -> Q:
    """Reports that gave this callback number: `@>` on the GIN index on PostgreSQL; a text
    match on SQLite, whose JSON columns have no containment lookup."""
    if connection.vendor == "postgresql":
        return Q(callback_numbers__contains=[e164])
    return Q(callback_numbers__icontains=f'"{e164}"')


def search(org: Organisation, f: SearchFilters) -> QuerySet[CallReport]:
    """Reports matching every given filter, newest call first. A number matches the calling
    number, the called number or a callback number, in any written form."""
    qs = reports_for(org).select_related("reporter")
    if f.number:
        e164 = phones.normalise(f.number) or f.number.strip()
        qs = qs.filter(Q(calling_number_e164=e164) | Q(called_number=e164) | callback_q(e164))
    tz = timezone.get_current_timezone()
    if f.since:
        qs = qs.filter(call_started_at__gte=datetime.combine(f.since, time.min, tzinfo=tz))
    if f.until:
        qs = qs.filter(call_started_at__lt=datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=tz))
    if f.state:
        qs = qs.filter(called_state=f.state.upper()[:2])
    if f.text:
        qs = qs.filter(Q(transcript__icontains=f.text) | Q(subject__icontains=f.text) | Q(caller_name__icontains=f.text) | Q(category__icontains=f.text))
    if f.reporter_id:
        qs = qs.filter(reporter_id=f.reporter_id)
    if f.report_type:
        qs = qs.filter(report_type=f.report_type)
    return qs.order_by("-call_started_at", "-id")


def intake_by_reporter(org: Organisation, *, days: int = 14, hourly: bool = False) -> dict[str, Any]:
    """Accepted reports per reporter per day (or hour), from Upload counts (cheap: one row
    per upload rather than per report), shaped for a Chart.js stacked bar chart."""
    since = timezone.now() - timedelta(days=days)
    trunc = TruncHour if hourly else TruncDay
    rows = (
        uploads_for(org)
        .filter(received_at__gte=since)
        .annotate(bucket=trunc("received_at"))
        .values("bucket", "reporter__name")
        .annotate(n=Sum("accepted"))
        .order_by("bucket")
    )
    labels: list[str] = []
    series: dict[str, dict[str, int]] = {}
    fmt = "%m-%d %H:00" if hourly else "%Y-%m-%d"
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    start = timezone.localtime(since).replace(minute=0, second=0, microsecond=0)
    if not hourly:
        start = start.replace(hour=0)
    cursor = start
    end = timezone.localtime()
    while cursor <= end:
        labels.append(cursor.strftime(fmt))
        cursor += step
    for row in rows:
        label = timezone.localtime(row["bucket"]).strftime(fmt)
        series.setdefault(row["reporter__name"], {})[label] = (series.get(row["reporter__name"], {}).get(label, 0)) + (row["n"] or 0)
    datasets = [{"label": name, "data": [points.get(label, 0) for label in labels]} for name, points in sorted(series.items())]
    return {"labels": labels, "datasets": datasets}


def intake_totals(org: Organisation, *, hours: int = 24) -> dict[str, int]:
    since = timezone.now() - timedelta(hours=hours)
    # Aliases must differ from the field names, or SQL ends up aggregating the aggregate.
    agg = Upload.objects.for_org(org).filter(received_at__gte=since).order_by().aggregate(
        n_uploads=Count("id"), n_accepted=Sum("accepted"), n_duplicates=Sum("duplicates"), n_rejected=Sum("rejected"),
        n_reporters=Count("reporter", distinct=True),
    )  # fmt: skip
    return {k.removeprefix("n_"): v or 0 for k, v in agg.items()}


def flagged_share(org: Organisation, *, hours: int = 24) -> dict[str, int]:
    since = timezone.now() - timedelta(hours=hours)
    agg = reports_for(org).filter(received_at__gte=since).order_by().aggregate(
        total=Count("id"),
        invalid_caller=Count("id", filter=Q(is_calling_number_invalid=True)),
        dnc=Count("id", filter=Q(is_called_number_dnc=True)),
    )
    return {k: v or 0 for k, v in agg.items()}


# --- Legal productions and evidence packages (legal.records) ---------------------------------


@dataclass(frozen=True)
class ReportSelector:
    """Call reports from or to a number, or of a campaign, placed in [start, end)."""

    number: str = ""
    campaign_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None

    def q(self) -> Q:
        q = Q(calling_number_e164=self.number) | Q(called_number=self.number) if self.number else Q(campaign_id=self.campaign_id)
        if self.start:
            q &= Q(call_started_at__gte=self.start)
        if self.end:
            q &= Q(call_started_at__lt=self.end)
        return q


def _selected(org: Organisation, selectors: list[ReportSelector]) -> QuerySet[CallReport]:
    if not selectors:
        return CallReport.objects.for_org(org).none()
    combined = selectors[0].q()
    for s in selectors[1:]:
        combined |= s.q()
    return CallReport.objects.for_org(org).filter(combined)


@dataclass(frozen=True)
class ReportRecord:
    id: int
    report_type: str
    call_started_at: datetime
    received_at: datetime
    calling_number: str
    calling_number_e164: str
    called_number: str
    called_state: str
    duration_seconds: int | None
    caller_name: str
    shaken_attest: str
    campaign_id: int | None
    transcript: str


def report_records(org: Organisation, selectors: list[ReportSelector], *, limit: int) -> list[ReportRecord]:
    """The first `limit` selected reports by call time (ask for one more to learn whether
    there are more)."""
    fields = [f.name for f in dataclasses.fields(ReportRecord)]
    rows = _selected(org, selectors).order_by("call_started_at", "id").values_list(*fields)[:limit]
    return [ReportRecord(*row) for row in rows]


def report_volume_rows(org: Organisation, selectors: list[ReportSelector]) -> list[tuple[Any, ...]]:
    """(call started, called state, duration, called number on the DNC list, caller ID E.164,
    report type) of every selected report."""
    return list(
        _selected(org, selectors)
        .values_list("call_started_at", "called_state", "duration_seconds", "is_called_number_dnc", "calling_number_e164", "report_type")
    )


@dataclass(frozen=True)
class HoldFacts:
    """What decides whether a preservation hold (legal) covers a call report."""

    campaign_id: int | None
    numbers: tuple[str, ...]  # caller ID (E.164) and called number, those given
    call_started_at: datetime


def hold_facts(report_id: int) -> HoldFacts | None:
    r = (
        CallReport.objects.unscoped(reason="retention: preservation holds apply to every organisation's records")
        .filter(pk=report_id).values("campaign_id", "calling_number_e164", "called_number", "call_started_at").first()
    )
    if r is None:
        return None
    numbers = tuple(n for n in (r["calling_number_e164"], r["called_number"]) if n)
    return HoldFacts(r["campaign_id"], numbers, r["call_started_at"])


def all_reports(*, reason: str) -> QuerySet[CallReport]:
    """Every call report, for system work that scans them whoever reported them (the campaign
    engine, alert evaluation, STIR/SHAKEN verification, the simulator's scoring). Say why: the
    reason is logged. Pages and the API read through reports_for(org) instead."""
    return CallReport.objects.unscoped(reason=reason)
