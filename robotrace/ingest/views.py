"""Pages: a reporter's uploads, and for the consortium report search and intake over time."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from robotrace.accounts import queries as accounts
from robotrace.core.access import require_kind
from robotrace.ingest import queries, services
from robotrace.ingest.models import CallReport

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


def _org(request: HttpRequest) -> Organisation:
    return request.user.organisation  # type: ignore[union-attr,return-value]  # request.user is a signed-in User here


@require_kind("reporter", "consortium")
def uploads(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    qs = queries.uploads_for(org)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "ingest/uploads.html", {
        "org": org,
        "page": page,
        "totals": queries.intake_totals(org, hours=24 * 30),
        "chart": queries.intake_by_reporter(org, days=30),
    })  # fmt: skip


@require_kind("reporter", "consortium")
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = _org(request)
    upload = queries.upload_for(org, pk)
    if upload is None:
        raise Http404
    sample = queries.reports_for(org).filter(upload_id=upload.id).select_related("reporter").order_by("id")[:25]
    return render(request, "ingest/upload_detail.html", {"upload": upload, "sample": sample, "answer": json.dumps(services.answer(upload), indent=2)})


@require_kind("reporter", "consortium")
def upload_rejects(request: HttpRequest, pk: int) -> HttpResponseBase:
    org = _org(request)
    upload = queries.upload_for(org, pk)
    path = queries.rejects_file(upload) if upload is not None else None
    if upload is None or path is None:
        raise Http404
    services.record_rejects_download(actor=request.user, organisation=org, upload=upload, request=request)  # type: ignore[arg-type]  # request.user is a signed-in User here
    return FileResponse(path.open("rb"), content_type="application/x-ndjson", as_attachment=True, filename=f"upload-{upload.id}-rejects.ndjson")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_kind("consortium")
def search(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    g = request.GET
    try:
        reporter_id = int(g.get("reporter") or 0) or None
    except ValueError:
        reporter_id = None
    f = queries.SearchFilters(
        number=g.get("number", "").strip()[:40],
        since=_date(g.get("since")),
        until=_date(g.get("until")),
        state=g.get("state", "").strip()[:2],
        text=g.get("text", "").strip()[:200],
        reporter_id=reporter_id,
        report_type=g.get("report_type", "") if g.get("report_type") in CallReport.ReportType.values else "",
    )
    page = Paginator(queries.search(org, f), 50).get_page(g.get("page"))
    reporters = accounts.organisations_of_kind("reporter")
    return render(request, "ingest/search.html", {
        "page": page,
        "f": f,
        "query": f.as_query(),
        "reporters": reporters,
        "types": CallReport.ReportType.choices,
        "flags": queries.flagged_share(org),
    })  # fmt: skip


@require_kind("consortium", "reporter")
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = queries.report_for(_org(request), pk)
    if report is None:
        raise Http404
    fields: list[tuple[str, Any]] = []
    for field in CallReport._meta.concrete_fields:
        if field.name in ("id", "transcript", "identity_header", "reporter", "upload", "campaign"):
            continue
        value = getattr(report, field.attname)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        fields.append((field.verbose_name.capitalize(), value))
    return render(request, "ingest/report_detail.html", {"report": report, "fields": fields})


@require_kind("consortium")
def intake(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    hourly = request.GET.get("by") == "hour"
    days = 2 if hourly else 30
    return render(request, "ingest/intake.html", {
        "chart": queries.intake_by_reporter(org, days=days, hourly=hourly),
        "hourly": hourly,
        "totals": queries.intake_totals(org),
        "flags": queries.flagged_share(org),
    })  # fmt: skip
