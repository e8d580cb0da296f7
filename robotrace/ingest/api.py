"""Ingest API beside the hot path: a reporter's uploads, and report search for the consortium.

`POST /api/v1/reports` itself is a plain Django view (api_urls.py) so it can stream.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from robotrace.accounts.apiauth import ApiKeyAuth, principal_of
from robotrace.core.problems import ApiProblem
from robotrace.ingest import queries, services
from robotrace.ingest.models import CallReport

router = Router()

uploads_auth = ApiKeyAuth(scope="ingest", kinds=("reporter", "consortium"))
search_auth = ApiKeyAuth(kinds=("consortium", "reporter"))


class UploadOut(Schema):
    upload_id: int
    reporter: str
    source: str
    format: str
    filename: str
    received_at: datetime
    status: str
    lines: int
    accepted: int
    duplicates: int
    rejected: int
    rejects: list[dict[str, Any]]
    rejects_url: str | None


def _upload_out(upload: Any) -> dict[str, Any]:
    out = services.answer(upload)
    out.update(reporter=upload.reporter.slug, source=upload.source, format=upload.format, filename=upload.filename, received_at=upload.received_at)
    return out


@router.get("/uploads", response=list[UploadOut], auth=uploads_auth, summary="Your uploads, newest first")
def list_uploads(request: HttpRequest, limit: int = 50) -> list[dict[str, Any]]:
    org = principal_of(request).organisation
    return [_upload_out(u) for u in queries.uploads_for(org)[: max(1, min(limit, 500))]]


@router.get("/uploads/{upload_id}", response=UploadOut, auth=uploads_auth, summary="One upload's counts and first rejects")
def get_upload(request: HttpRequest, upload_id: int) -> dict[str, Any]:
    upload = queries.upload_for(principal_of(request).organisation, upload_id)
    if upload is None:
        raise ApiProblem(404, "Not found")
    return _upload_out(upload)


class ReportOut(Schema):
    id: int
    reporter: str
    source_report_id: str
    report_type: str
    call_started_at: datetime
    received_at: datetime
    calling_number: str
    calling_number_e164: str
    called_number: str
    called_state: str
    duration_seconds: int | None
    caller_name: str
    transcript: str
    recording_url: str
    recording_sha256: str
    callback_numbers: list[str]
    category: str
    upstream_provider: str
    identity_header: str
    shaken_attest: str
    shaken_origid: str
    subject: str
    consumer_state: str
    consumer_city: str
    is_robocall: bool | None
    is_calling_number_invalid: bool
    is_called_number_dnc: bool
    campaign_id: int | None
    upload_id: int | None

    @staticmethod
    def resolve_reporter(obj: CallReport) -> str:
        return obj.reporter.slug


class SearchIn(Schema):
    number: str = ""
    since: date | None = None
    until: date | None = None
    state: str = ""
    text: str = ""
    reporter: int | None = None
    report_type: str = ""
    limit: int = 100
    before_id: int | None = None


@router.get("/reports/search", response=list[ReportOut], auth=search_auth, summary="Search call reports")
def search_reports(request: HttpRequest, filters: Query[SearchIn]) -> Any:
    """Consortium: every report; a reporter: its own. Newest call first; page with before_id."""
    org = principal_of(request).organisation
    f = queries.SearchFilters(number=filters.number, since=filters.since, until=filters.until, state=filters.state,
                              text=filters.text, reporter_id=filters.reporter, report_type=filters.report_type)  # fmt: skip
    qs = queries.search(org, f).order_by("-id")
    if filters.before_id:
        qs = qs.filter(id__lt=filters.before_id)
    return list(qs[: max(1, min(filters.limit, 1000))])


@router.get("/reports/{report_id}", response=ReportOut, auth=search_auth, summary="One call report")
def get_report(request: HttpRequest, report_id: int) -> Any:
    report = queries.report_for(principal_of(request).organisation, report_id)
    if report is None:
        raise ApiProblem(404, "Not found")
    return report
